"""What a server process holds: settings, the ops database, the lake, the disclosure
policy, and read-only query databases of releases: each release's DuckDB file is opened
once per process, and each request thread queries it through its own cursor, so counts
run concurrently. Attrition counts of a release are memoised: releases are frozen, so a
definition's counts on one never change."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ibis

from precimed.deid import EXACT, PERTURBED, Policy, cellkey
from precimed.errors import NotFound
from precimed.lake import Lake
from precimed.ops import OpsDatabase
from precimed.ops.audit import Anchor
from precimed.settings import Settings

CACHE_SECONDS = 300  # aggregates of the live lake (dashboard, retention) are this fresh


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        anchor = Anchor.of(settings)
        anchor.create_key()  # a home made before the audit key gets one (kept if there)
        self.ops = OpsDatabase(settings.database_url, audit_anchor=anchor)
        self.lake = Lake(settings.lake_dir)
        self.policy = Policy.from_settings(settings)
        self._databases: dict[str, ibis.BaseBackend] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._attrition: OrderedDict[tuple, list] = OrderedDict()
        self._record_keys: dict[str, Any] = {}
        self._secret: bytes | None = None

    def policy_for(self, principal) -> Policy:
        """The disclosure tier of a signed-in person: exact counts for those who may read
        participant rows anyway (cohorts.extract), perturbed counts for everyone else."""
        tier = EXACT if principal.can("cohorts.extract") else PERTURBED
        return Policy.for_tier(self.settings, tier)

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = cellkey.platform_secret(self.settings)
        return self._secret

    def releases(self) -> list[dict]:
        """Releases, newest first; ``holds_withdrawn`` marks one that still holds people
        who withdrew or were erased since it was made (it gives no extract of them)."""
        from precimed.lake.consent import withdrawn_since_each

        catalog = self.lake.catalog()
        marked = self.cached(("withdrawn_since",), lambda: withdrawn_since_each(self.lake))
        return sorted(({"name": r.name, "created_at": r.created_at,
                        "description": r.description, "standard_version": r.standard_version,
                        "holds_withdrawn": marked.get(r.name, 0) > 0}
                       for r in catalog.releases.values()),
                      key=lambda r: r["created_at"], reverse=True)

    def release(self, name: str | None) -> str:
        """The named release, or the newest; NotFound if there is none."""
        known = [r["name"] for r in self.releases()]
        if name is None:
            if not known:
                raise NotFound("No release yet", where="lake",
                               hint="An administrator creates one: precimed release create.")
            return known[0]
        if name not in known:
            raise NotFound(f"No release named {name!r}", where="release",
                           hint="Known releases: " + (", ".join(known) or "none yet"))
        return name

    @contextmanager
    def query_database(self, release: str) -> Iterator[ibis.BaseBackend]:
        with self._lock:
            if release not in self._databases:
                self._databases[release] = self.lake.snapshot(release).database(
                    self.settings.cache_dir)
            base = self._databases[release]
        mine = self._local.__dict__.setdefault("backends", {})
        if release not in mine:  # this thread's cursor on the shared read-only database
            cursor = ibis.duckdb.from_connection(base.con.cursor())
            cellkey.register(cursor, self.record_keys(release, cursor))
            mine[release] = cursor
        yield mine[release]

    def record_keys(self, release: str, con: ibis.BaseBackend):
        """The release's record-key table (computed once per process and release)."""
        with self._lock:
            table = self._record_keys.get(release)
        if table is None:
            table = cellkey.keys_of(con, self.secret())
            with self._lock:
                self._record_keys[release] = table
        return table

    def attrition(self, release: str, definition) -> list:
        """The definition's attrition on a release with each step's cell key, memoised
        (at most 4,096 kept)."""
        from precimed.query import compile as engine

        key = (release, definition)
        with self._lock:
            if key in self._attrition:
                self._attrition.move_to_end(key)
                return self._attrition[key]
        with self.query_database(release) as con:
            rows = engine.attrition(con, definition, keys=cellkey.RECORD_KEY_TABLE)
        with self._lock:
            self._attrition[key] = rows
            while len(self._attrition) > 4096:
                self._attrition.popitem(last=False)
        return rows

    @contextmanager
    def live(self) -> Iterator[ibis.BaseBackend]:
        """The lake as it is now (Parquet views); for follow-up and endpoint work."""
        con = self.lake.snapshot().connect()
        try:
            yield con
        finally:
            con.disconnect()

    def as_of(self) -> dt.date | None:
        """The as-of date of results on the live lake: the ``as_of`` setting if given,
        else the lake's data cut (its latest observation date); None while the lake holds
        no dated data. Never today: the same data give the same answer any day."""
        if self.settings.as_of_given is not None:
            return self.settings.as_of_given
        return self.cached("data_cut", lambda: self.lake.snapshot().data_cut)

    def cached(self, key: Any, compute: Callable[[], Any], *,
               seconds: float = CACHE_SECONDS) -> Any:
        """Memoise an expensive aggregate per catalog version, for a few minutes."""
        full = (key, self.lake.catalog().version)
        hit = self._cache.get(full)
        if hit is not None and time.monotonic() - hit[0] < seconds:
            return hit[1]
        value = compute()
        if len(self._cache) > 256:  # bounded: keys include request bodies
            self._cache.clear()
        self._cache[full] = (time.monotonic(), value)
        return value

    def reference_database(self):
        """The served reference summary (``HOME/reference``), opened once per version;
        NotFound until one is built."""
        from precimed.reference import ReferenceDatabase

        path = self.settings.home / "reference"
        if not (path / "manifest.json").exists():
            # nothing to search yet is a missing resource, not a server fault
            raise NotFound("No reference summary is served yet", where="reference",
                           hint="An administrator builds one: precimed genomics summarise.")
        return self.cached(("reference", (path / "manifest.json").stat().st_mtime),
                           lambda: ReferenceDatabase.open(path), seconds=86400)

    def forget(self) -> None:
        self._cache.clear()

    def close(self) -> None:
        for con in self._databases.values():
            con.disconnect()
        self._databases.clear()
        self.ops.dispose()
