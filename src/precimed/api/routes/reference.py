"""The population reference database: search by variant, rsID, gene or region; allele
frequencies by sub-population, as published through disclosure control."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, Query, Request

from precimed.api.deps import platform, require
from precimed.api.routes.common import records
from precimed.errors import NotFound
from precimed.ops.accounts import Principal

router = APIRouter(prefix="/reference", tags=["reference"])
_LOCK = threading.Lock()  # the summary's DuckDB connection answers one query at a time


def database(request: Request):
    from precimed.reference import ReferenceDatabase

    p = platform(request)
    path = p.settings.home / "reference"
    if not (path / "manifest.json").exists():
        # nothing to search yet is a missing resource, not a server fault
        raise NotFound("No reference summary is served yet", where="reference",
                             hint="An administrator builds one: precimed genomics summarise.")
    return p.cached(("reference", (path / "manifest.json").stat().st_mtime),
                    lambda: ReferenceDatabase.open(path), seconds=86400)


@router.get("/search", summary="Variants matching chrom-pos-ref-alt, rsID, gene or region, "
                               "with published allele frequencies")
def search(request: Request, q: str = Query(min_length=2, max_length=100),
           limit: int = Query(50, ge=1, le=500),
           _: Principal = Depends(require("dictionary.read"))) -> dict:
    db = database(request)
    with _LOCK:
        found = db.find(q).head(limit)
        frequencies = db.frequencies(found["variant_index"], policy=platform(request).policy)
    return {"query": q, "variants": records(found), "frequencies": records(frequencies),
            "threshold": platform(request).policy.threshold}
