from __future__ import annotations

from precimed.standard import (
    CENTRES,
    COHORTS,
    EXPOSURE_ITEMS,
    MEASUREMENT_ITEMS,
    REGIONS,
    TABLES,
    vocabularies,
    vocabulary,
)
from precimed.standard.icd10 import chapter_of, in_range, parse_icd10
from precimed.standard.regions import region_of


def test_regions_follow_the_programme_guideline():
    assert set(REGIONS["east"].provinces) == {"31", "32", "33", "37"}
    assert set(REGIONS["northeast"].provinces) == {"21", "22", "23", "15"}
    assert region_of("54") == "southwest"  # Tibet
    assert region_of("11") is None  # Beijing belongs to no regional cohort


def test_every_cohort_of_the_seeds_is_declared_with_a_centre():
    regional = [c for c in COHORTS.values() if c.kind == "regional"]
    disease = [c for c in COHORTS.values() if c.kind == "disease"]
    assert len(regional) == 5 and len(disease) == 8
    assert {c.cohort for c in CENTRES.values()} == set(COHORTS)


def test_catalogues_are_large_enough_and_consistent():
    assert len(MEASUREMENT_ITEMS) >= 40
    assert len(EXPOSURE_ITEMS) >= 30
    for item in MEASUREMENT_ITEMS.values():
        low, high = item.limits
        assert low <= item.plausible[0] < item.plausible[1] <= high, item.code


def test_glucose_converts_from_mg_per_dl():
    glucose = MEASUREMENT_ITEMS["GLU_FAST"]
    assert abs(99 * glucose.factor("mg/dl") - 5.495) < 0.01
    assert glucose.factor("mmol/L") == 1.0
    assert glucose.factor("g/L") is None


def test_every_field_vocabulary_resolves():
    names = set(vocabularies()) | {"icd10"}
    for table in TABLES.values():
        for field in table.fields:
            assert field.vocabulary is None or field.vocabulary in names, field.name


def test_sex_accepts_chinese_labels():
    sex = vocabulary("sex")
    assert sex.code_for("男") == "1" and sex.code_for("女") == "2"
    assert sex.code_for("x") is None


def test_icd10_validation_and_chinese_clinical_suffixes():
    assert parse_icd10("I219").value == "I21.9"
    assert parse_icd10("i21.9").value == "I21.9"
    assert parse_icd10("I21.900x001").value.startswith("I21.9")
    assert parse_icd10("I99.9") is None
    assert parse_icd10("hello") is None
    assert in_range("C18.9", "C18-C20") and not in_range("C21", "C18-C20")
    assert chapter_of("I21.9")[0] == "IX"
