"""Consent on every read of the lake: who a snapshot leaves out, and who an older release
still holds but may no longer give out (the rule: :mod:`precimed.standard.consent`).

A release's own participant table says who had withdrawn when it was made; every read
of the release (:meth:`Snapshot.connect`, :meth:`Snapshot.database`,
:meth:`Snapshot.to_arrow`) leaves those people out of every table, so counts, extracts,
survival and incidence all inherit it and a frozen release always answers the same. A
person who withdraws (or is erased) later is still counted in older releases, which are
therefore marked (:func:`withdrawn_since`), and an extract cut from an older release
leaves them out too (:meth:`Lake.extract_snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from precimed.standard import LAKE_TABLES
from precimed.standard.consent import EXCLUDED_EVERYWHERE, EXCLUDED_FROM_GENETICS

if TYPE_CHECKING:
    from precimed.lake.store import Lake, Snapshot

PARTICIPANT = "participant"
PSEUDONYM = "pseudonym"
SCOPE = "consent_scope"


def personal(table: str) -> bool:
    """Whether ``table`` has one person per row (a ``pseudonym`` field)."""
    return PSEUDONYM in LAKE_TABLES[table].field_names


def with_scope(snapshot: Snapshot, scopes: Iterable[str]) -> frozenset[str]:
    """Pseudonyms whose consent scope in ``snapshot``'s participant table is in ``scopes``
    (read from the Delta table itself, nobody left out)."""
    if PARTICIPANT not in snapshot.tables:
        return frozenset()
    rows = snapshot.delta(PARTICIPANT).to_pyarrow_table(columns=[PSEUDONYM, SCOPE])
    chosen = rows.filter(pc.is_in(rows[SCOPE], value_set=pa.array(sorted(scopes),
                                                                    pa.string())))
    return frozenset(chosen.column(PSEUDONYM).to_pylist())


def withdrawn(snapshot: Snapshot) -> frozenset[str]:
    """Who ``snapshot``'s own participant table records as withdrawn."""
    return with_scope(snapshot, EXCLUDED_EVERYWHERE)


def without_genetics(snapshot: Snapshot) -> frozenset[str]:
    """Who ``snapshot``'s participant table keeps out of genotype datasets."""
    return with_scope(snapshot, EXCLUDED_FROM_GENETICS)


def leave_out(data: pa.Table, people: frozenset[str]) -> pa.Table:
    """``data`` without the rows of ``people`` (a table with a ``pseudonym`` column)."""
    if not people or PSEUDONYM not in data.column_names:
        return data
    keep = pc.invert(pc.is_in(data[PSEUDONYM], value_set=pa.array(sorted(people), pa.string())))
    return data.filter(keep)


def withdrawn_since(lake: Lake, release: str) -> frozenset[str]:
    """People a release includes whom no new output may hold: withdrawn in the lake's
    current state, or erased from it since the release was made."""
    return _since(lake.snapshot(release), _allowed_now(lake))


def withdrawn_since_each(lake: Lake) -> dict[str, int]:
    """For every release, how many of the people it includes have withdrawn or been
    erased since (0: nothing to mark)."""
    allowed = _allowed_now(lake)
    return {name: len(_since(lake.snapshot(name), allowed))
            for name in lake.catalog().releases}


def _allowed_now(lake: Lake) -> frozenset[str]:
    now = lake.snapshot()
    return frozenset(now.to_arrow(PARTICIPANT, columns=[PSEUDONYM]).column(PSEUDONYM)
                     .to_pylist())


def _since(frozen: Snapshot, allowed_now: frozenset[str]) -> frozenset[str]:
    held = frozen.to_arrow(PARTICIPANT, columns=[PSEUDONYM]).column(PSEUDONYM).to_pylist()
    return frozenset(held) - allowed_now
