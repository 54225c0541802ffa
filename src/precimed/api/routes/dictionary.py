"""The data dictionary, from ``precimed.standard`` (the single source of names and rules)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from precimed.api.deps import require
from precimed.errors import NotFound
from precimed.ops.accounts import Principal
from precimed.standard import (
    EXPOSURES,
    LAKE_TABLES,
    listing,
    vocabularies,
)

router = APIRouter(prefix="/dictionary", tags=["dictionary"])


@router.get("", summary="The standard: version, tables, catalogues and vocabularies")
def overview(_: Principal = Depends(require("dictionary.read"))) -> dict:
    return listing.overview()


@router.get("/tables/{name}", summary="One table's fields")
def table(name: str, _: Principal = Depends(require("dictionary.read"))) -> dict:
    if name not in LAKE_TABLES:
        raise NotFound(f"No table {name!r} in the standard", where="table",
                       hint="Tables: " + ", ".join(LAKE_TABLES))
    return listing.table_dict(name)


@router.get("/measurements", summary="The measurement catalogue with units and ranges")
def measurements(_: Principal = Depends(require("dictionary.read"))) -> list:
    return listing.measurements()


@router.get("/exposures", summary="The exposure catalogue")
def exposures(_: Principal = Depends(require("dictionary.read"))) -> list:
    return [{"code": e.code, "zh": e.zh, "en": e.en, "category": e.category, "kind": e.kind,
             "unit": e.unit, "categories": {k: list(v) for k, v in e.categories.items()}}
            for e in EXPOSURES]


@router.get("/vocabularies/{name}", summary="One vocabulary's codes with zh/en labels")
def vocabulary(name: str, _: Principal = Depends(require("dictionary.read"))) -> dict:
    known = vocabularies()
    if name not in known:
        raise NotFound(f"No vocabulary {name!r}", where="vocabulary",
                       hint="Vocabularies: " + ", ".join(known))
    v = known[name]
    return {"name": v.name, "zh": v.zh, "en": v.en, "source": v.source,
            "codes": [{"code": c, "zh": zh, "en": en} for c, (zh, en) in v.codes.items()]}
