"""The unified data standard of the precision-medicine programme, as code.

Tables and fields (:mod:`.tables`), value types (:mod:`.identity`, :mod:`.icd10`),
vocabularies and catalogues. Everything else in precimed reads names and rules from
here; :func:`vocabulary` resolves the vocabulary a field names.
"""

from __future__ import annotations

from functools import cache

from precimed.standard.cohorts import CENTRES, COHORTS
from precimed.standard.duo import DUO_TERMS
from precimed.standard.ethnicity import ETHNICITIES
from precimed.standard.exposures import EXPOSURES
from precimed.standard.measurements import MEASUREMENTS
from precimed.standard.regions import PROVINCES, REGIONS
from precimed.standard.sharing import (
    ACCESS_TIER,
    DATASET_KIND,
    DATE_HANDLING,
    HGR_STATE,
    MATCH_RESULT,
    REQUEST_STATUS,
    VOTE,
)
from precimed.standard.tables import (
    CONFIRMED_ENDPOINT,
    DERIVED_TABLES,
    IDENTIFYING_FIELDS,
    LAKE_TABLES,
    SYSTEM_FIELDS,
    TABLES,
    Field,
    Table,
)
from precimed.standard.vocabularies import (
    ASSAY_TYPE,
    CONSENT_SCOPE,
    CONTACT_METHOD,
    CONTACT_OUTCOME,
    EVENT_SOURCE,
    GENOME_BUILD,
    GENOTYPE_DATASET_KIND,
    QUALITATIVE_RESULT,
    SEX,
    SPECIMEN_TYPE,
    SURVIVAL_ENDPOINT,
    VALUE_QUALIFIER,
    VISIT_TYPE,
    Vocabulary,
)

STANDARD_VERSION = "1.0.0"

MEASUREMENT_ITEMS = {m.code: m for m in MEASUREMENTS}
EXPOSURE_ITEMS = {e.code: e for e in EXPOSURES}

# ICD-10 is validated by rule (precimed.standard.icd10), not listed.
RULE_VOCABULARIES = {"icd10": "WHO ICD-10 (2019), Chinese clinical-edition suffixes allowed"}


@cache
def vocabularies() -> dict[str, Vocabulary]:
    listed = (SEX, CONSENT_SCOPE, CONTACT_METHOD, CONTACT_OUTCOME, EVENT_SOURCE,
              QUALITATIVE_RESULT, SPECIMEN_TYPE, ASSAY_TYPE, VALUE_QUALIFIER, VISIT_TYPE,
              GENOME_BUILD, GENOTYPE_DATASET_KIND, ACCESS_TIER, DATASET_KIND,
              REQUEST_STATUS, VOTE, DATE_HANDLING, MATCH_RESULT, HGR_STATE,
              SURVIVAL_ENDPOINT)
    derived = (
        Vocabulary("province", "省级行政区", "Province",
                   {p.code: (p.zh, p.en) for p in PROVINCES.values()}, source="GB/T 2260",
                   synonyms={p.zh: p.code for p in PROVINCES.values()}),
        Vocabulary("region", "区域", "Region",
                   {r.code: (r.zh, r.en) for r in REGIONS.values()}),
        Vocabulary("ethnicity", "民族", "Ethnicity", dict(ETHNICITIES), source="GB 3304",
                   synonyms={zh: code for code, (zh, _) in ETHNICITIES.items()}),
        Vocabulary("cohort", "队列", "Cohort",
                   {c.code: (c.zh, c.en) for c in COHORTS.values()}),
        Vocabulary("centre", "中心", "Centre",
                   {c.code: (c.zh, c.en) for c in CENTRES.values()}),
        Vocabulary("measurement", "测量项目", "Measurement item",
                   {m.code: (m.zh, m.en) for m in MEASUREMENTS}),
        Vocabulary("exposure", "暴露项目", "Exposure item",
                   {e.code: (e.zh, e.en) for e in EXPOSURES}),
        Vocabulary("duo", "数据使用条件（GA4GH DUO）", "Data use conditions (GA4GH DUO)",
                   {t.code: (f"{t.zh}（{t.id}）", f"{t.en} ({t.id})")
                    for t in DUO_TERMS.values()}, source="GA4GH Data Use Ontology"),
    )
    return {v.name: v for v in (*listed, *derived)}


def vocabulary(name: str) -> Vocabulary:
    return vocabularies()[name]


__all__ = [
    "CENTRES",
    "COHORTS",
    "CONFIRMED_ENDPOINT",
    "DERIVED_TABLES",
    "EXPOSURE_ITEMS",
    "IDENTIFYING_FIELDS",
    "LAKE_TABLES",
    "MEASUREMENT_ITEMS",
    "PROVINCES",
    "REGIONS",
    "RULE_VOCABULARIES",
    "STANDARD_VERSION",
    "SYSTEM_FIELDS",
    "TABLES",
    "Field",
    "Table",
    "Vocabulary",
    "vocabularies",
    "vocabulary",
]
