"""Cell-key perturbation (the ABS TableBuilder method): the same people, the same noise.

Every participant gets a *record key*: a keyed HMAC-SHA256 of their pseudonym under a
secret derived from the platform's pseudonymisation key, read as a whole number in
``[0, 2**32)``. The key cannot be computed outside the platform (whoever holds a list
of pseudonyms still lacks the secret), and it does not change between releases, so
asking again never draws new noise to average away.

A published cell's *cell key* is the sum of its members' record keys modulo ``2**32``:
it depends only on the set of people in the cell, so two queries worded differently but
selecting the same people get the same key, while two sets that differ in one person
get unrelated keys. It is computed inside the count query (a ``SUM`` in DuckDB) or from
a table of members; margins get the sum of their cells' keys.

The fixed perturbation table :data:`NOISE` maps the cell key's position in ``[0, 1)`` to
a small whole-number noise. :meth:`precimed.deid.disclosure.Policy.publish` adds it to a
count that passed suppression, then rounds; zeros and suppressed cells get no noise.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    import ibis

    from precimed.settings import Settings

KEY_SPACE = 2 ** 32
RECORD_KEY_TABLE = "record_key"  # the name a registered record-key table is queried by

# The perturbation table: (upper bound of the cell key / 2**32, noise), in order. The
# noise is symmetric around 0 (mean 0, variance 1.2) and never more than NOISE_MAX.
NOISE: tuple[tuple[float, int], ...] = (
    (0.10, -2), (0.30, -1), (0.70, 0), (0.90, 1), (1.00, 2),
)
NOISE_MAX = max(abs(n) for _, n in NOISE)

_CONTEXT = b"precimed cell-key record keys v1"


def platform_secret(settings: Settings) -> bytes:
    """The record-key secret of a platform home (from its pseudonymisation key)."""
    from precimed.deid.pseudonym import load_key

    return derive_secret(load_key(settings.pseudonym_key_file))


def register(con: ibis.BaseBackend, table: pa.Table) -> None:
    """Make ``table`` (:func:`record_key_table`) queryable on ``con`` as RECORD_KEY_TABLE."""
    con.con.register(RECORD_KEY_TABLE, table)


def keys_of(con: ibis.BaseBackend, secret: bytes) -> pa.Table:
    """The record-key table of every participant in ``con``'s participant table."""
    people = con.table("participant")
    pseudonyms = con.execute(people.select("pseudonym")).pseudonym.tolist()
    return record_key_table(pseudonyms, secret)


def derive_secret(pseudonym_key: bytes) -> bytes:
    """The record-key secret: bound to the platform's key, but not the key itself, so a
    record key reveals nothing about pseudonyms and vice versa."""
    return hmac.new(pseudonym_key, _CONTEXT, hashlib.sha256).digest()


def record_keys(pseudonyms: Iterable[str], secret: bytes) -> np.ndarray:
    """Each pseudonym's record key, a uint32 (HMAC-SHA256 under ``secret``)."""
    out = [int.from_bytes(hmac.new(secret, p.encode("ascii"), hashlib.sha256).digest()[:4],
                          "big") for p in pseudonyms]
    return np.array(out, dtype=np.uint32)


def record_key_table(pseudonyms: list[str], secret: bytes) -> pa.Table:
    """An Arrow table (pseudonym, record_key) to register beside a release's tables."""
    return pa.table({"pseudonym": pa.array(pseudonyms, pa.string()),
                     "record_key": pa.array(record_keys(pseudonyms, secret), pa.uint32())})


def cell_key(keys: Iterable[int] | np.ndarray) -> int:
    """The cell key of a set of people from their record keys (0 for nobody)."""
    return int(np.asarray(list(keys) if not isinstance(keys, np.ndarray) else keys,
                          dtype=np.uint64).sum(dtype=np.uint64) % KEY_SPACE)


def combine(keys: Iterable[int]) -> int:
    """The cell key of a union of disjoint cells: the sum of their keys, mod 2**32."""
    return int(sum(int(k) for k in keys) % KEY_SPACE)


def noise(key: int) -> int:
    """The perturbation the table assigns to a cell key."""
    position = (int(key) % KEY_SPACE) / KEY_SPACE
    for bound, value in NOISE:
        if position < bound:
            return value
    return NOISE[-1][1]
