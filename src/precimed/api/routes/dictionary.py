"""The data dictionary, from ``precimed.standard`` (the single source of names and rules)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from precimed.api.deps import require
from precimed.errors import NotFound
from precimed.ops.accounts import Principal
from precimed.standard import (
    DERIVED_TABLES,
    EXPOSURES,
    LAKE_TABLES,
    MEASUREMENTS,
    STANDARD_VERSION,
    vocabularies,
)

router = APIRouter(prefix="/dictionary", tags=["dictionary"])


def table_dict(name: str) -> dict:
    table = LAKE_TABLES[name]
    return {"name": table.name, "zh": table.zh, "en": table.en,
            "description": table.description, "key": list(table.key),
            "computed": name in DERIVED_TABLES,
            "fields": [{"name": f.name, "type": f.type, "zh": f.zh, "en": f.en,
                        "description": f.description, "required": f.required,
                        "vocabulary": f.vocabulary, "derived": f.derived, "min": f.min,
                        "max": f.max} for f in table.fields]}


@router.get("", summary="The standard: version, tables, catalogues and vocabularies")
def overview(_: Principal = Depends(require("dictionary.read"))) -> dict:
    return {"version": STANDARD_VERSION,
            "tables": [{"name": t.name, "zh": t.zh, "en": t.en, "fields": len(t.fields),
                        "computed": t.name in DERIVED_TABLES}
                       for t in LAKE_TABLES.values()],
            "vocabularies": [{"name": v.name, "zh": v.zh, "en": v.en, "codes": len(v.codes)}
                             for v in vocabularies().values()]}


@router.get("/tables/{name}", summary="One table's fields")
def table(name: str, _: Principal = Depends(require("dictionary.read"))) -> dict:
    if name not in LAKE_TABLES:
        raise NotFound(f"No table {name!r} in the standard", where="table",
                       hint="Tables: " + ", ".join(LAKE_TABLES))
    return table_dict(name)


@router.get("/measurements", summary="The measurement catalogue with units and ranges")
def measurements(_: Principal = Depends(require("dictionary.read"))) -> list:
    return [{"code": m.code, "zh": m.zh, "en": m.en, "category": m.category, "unit": m.unit,
             "other_units": sorted(m.other_units), "limits": list(m.limits),
             "plausible": list(m.plausible)} for m in MEASUREMENTS]


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
