"""The population reference database: search by variant, rsID, gene or region; allele
frequencies by sub-population, as published through disclosure control."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, Query, Request

from precimed.api.deps import platform, require
from precimed.ops.accounts import Principal
from precimed.workflows.published import records

router = APIRouter(prefix="/reference", tags=["reference"])
_LOCK = threading.Lock()  # the summary's DuckDB connection answers one query at a time


@router.get("/search", summary="Variants matching chrom-pos-ref-alt, rsID, gene or region, "
                               "with published allele frequencies")
def search(request: Request, q: str = Query(min_length=2, max_length=100),
           limit: int = Query(50, ge=1, le=500),
           _: Principal = Depends(require("dictionary.read"))) -> dict:
    db = platform(request).reference_database()
    with _LOCK:
        found = db.find(q).head(limit)
        frequencies = db.frequencies(found["variant_index"], policy=platform(request).policy)
    return {"query": q, "variants": records(found), "frequencies": records(frequencies),
            "threshold": platform(request).policy.threshold}
