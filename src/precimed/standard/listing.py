"""The standard as JSON-able listings (tables and fields, catalogues, vocabularies), for
the dictionary API and page."""

from __future__ import annotations

from precimed.standard import (
    DERIVED_TABLES,
    LAKE_TABLES,
    MEASUREMENTS,
    STANDARD_VERSION,
    vocabularies,
)


def table_dict(name: str) -> dict:
    table = LAKE_TABLES[name]
    return {"name": table.name, "zh": table.zh, "en": table.en,
            "description": table.description, "key": list(table.key),
            "computed": name in DERIVED_TABLES,
            "fields": [{"name": f.name, "type": f.type, "zh": f.zh, "en": f.en,
                        "description": f.description, "required": f.required,
                        "vocabulary": f.vocabulary, "derived": f.derived, "min": f.min,
                        "max": f.max} for f in table.fields]}


def overview() -> dict:
    """The standard's version, tables and vocabularies, with sizes."""
    return {"version": STANDARD_VERSION,
            "tables": [{"name": t.name, "zh": t.zh, "en": t.en, "fields": len(t.fields),
                        "computed": t.name in DERIVED_TABLES}
                       for t in LAKE_TABLES.values()],
            "vocabularies": [{"name": v.name, "zh": v.zh, "en": v.en, "codes": len(v.codes)}
                             for v in vocabularies().values()]}


def measurements() -> list[dict]:
    """The measurement catalogue with units and ranges."""
    return [{"code": m.code, "zh": m.zh, "en": m.en, "category": m.category, "unit": m.unit,
             "other_units": sorted(m.other_units), "limits": list(m.limits),
             "plausible": list(m.plausible)} for m in MEASUREMENTS]
