from __future__ import annotations

import pytest

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
from precimed.standard.icd10 import (
    NAMED_DISEASES,
    UnknownIcd10,
    chapter_of,
    in_range,
    normalise_selection,
    parse_icd10,
    selection_prefixes,
    selects,
)
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


@pytest.mark.parametrize("written, canonical, prefixes", [
    ("i10", "I10", ("I10",)),
    ("I639", "I63.9", ("I63.9",)),
    ("I21.X", "I21", ("I21",)),
    ("i21x", "I21", ("I21",)),
    ("Ｉ６３．９", "I63.9", ("I63.9",)),  # full-width, as typed with a Chinese IME
    ("C16-C22", "C16-C22", ("C16", "C17", "C18", "C19", "C20", "C21", "C22")),
    ("c16 – c22", "C16-C22", ("C16", "C17", "C18", "C19", "C20", "C21", "C22")),
    ("I63.0-I63.5", "I63.0-I63.5", ("I63.0", "I63.1", "I63.2", "I63.3", "I63.4", "I63.5")),
    ("I6", "I6", ("I6",)),
    ("I21.900x001", "I21.900X001", ("I21.900X001",)),
])
def test_one_normaliser_for_every_way_a_code_is_written(written, canonical, prefixes):
    assert normalise_selection(written) == canonical
    assert selection_prefixes(written) == prefixes


def test_a_range_selects_its_children_and_nothing_outside():
    assert selects("C18.900X001", ("C16-C22",)) and selects("C22", ("C16-C22",))
    assert not selects("C23", ("C16-C22",)) and not selects("C15.9", ("C16-C22",))
    assert selects("I63.5", ("I63.0-I63.5",)) and not selects("I63.6", ("I63.0-I63.5",))
    assert not selects(None, ("I21",)) and not selects("", ("I21",))


def test_every_range_the_dictionary_names_is_a_selection():
    for spec in NAMED_DISEASES:
        assert selection_prefixes(spec), spec


@pytest.mark.parametrize("bad, hint", [
    ("I63.7", "I63.0, I63.1"), ("I99.9", "use I99"), ("C22-C16", "C16-C22"),
    ("C16-C18.2", "I63.0-I63.5"), ("Z", "C16-C22"), ("1-2-3", "C16-C22"), ("", "C16-C22"),
])
def test_an_unknown_selection_is_refused_with_a_hint(bad, hint):
    with pytest.raises(UnknownIcd10) as caught:
        normalise_selection(bad)
    assert hint in caught.value.hint
