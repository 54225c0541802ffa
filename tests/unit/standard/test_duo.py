"""The DUO terms in the standard: real IDs, labels in both languages, parsing."""

from __future__ import annotations

import pytest

from precimed.errors import UserError
from precimed.standard import vocabulary
from precimed.standard.duo import DUO_TERMS, parse_condition, parse_conditions

# IDs as published in the GA4GH Data Use Ontology (EBISPOT/DUO)
KNOWN = {"NRES": "DUO:0000004", "GRU": "DUO:0000042", "HMB": "DUO:0000006",
         "DS": "DUO:0000007", "POA": "DUO:0000011", "NMDS": "DUO:0000015",
         "GSO": "DUO:0000016", "NPUNCU": "DUO:0000018", "PUB": "DUO:0000019",
         "COL": "DUO:0000020", "IRB": "DUO:0000021", "GS": "DUO:0000022",
         "MOR": "DUO:0000024", "TS": "DUO:0000025", "US": "DUO:0000026",
         "PS": "DUO:0000027", "IS": "DUO:0000028", "RTN": "DUO:0000029",
         "NPOA": "DUO:0000044", "NPU": "DUO:0000045", "NCU": "DUO:0000046"}


def test_every_term_has_its_real_id_and_both_labels():
    assert {code: t.id for code, t in DUO_TERMS.items()} == KNOWN
    for term in DUO_TERMS.values():
        assert term.en and term.zh and term.kind in {"permission", "modifier"}
    assert {t.code for t in DUO_TERMS.values() if t.kind == "permission"} == {
        "NRES", "GRU", "HMB", "DS", "POA"}
    assert vocabulary("duo").codes["NCU"] == ("仅限非商业用途（DUO:0000046）",
                                              "non-commercial use only (DUO:0000046)")


def test_conditions_parse_with_values_and_ids():
    parsed = parse_conditions(["DS:i21", "DUO:0000046", "TS:2027-12-31", "GS:CN"])
    assert [str(c) for c in parsed] == ["DS:I21", "NCU", "TS:2027-12-31", "GS:CN"]
    assert parse_condition("DUO:0000007:E11").value == "E11"
    assert parse_condition("DS:MONDO:0005068").value == "MONDO:0005068"


@pytest.mark.parametrize("texts, words", [
    (["XYZ"], "Unknown DUO code"),
    (["DS"], "needs a disease"),
    (["DS:notacode"], "Not an ICD-10 code"),
    (["TS:2027/01/01"], "needs a date"),
    (["NCU:x"], "takes no value"),
    (["GRU", "HMB"], "exactly one DUO permission"),
    (["GRU", "NCU", "NCU"], "given twice"),
])
def test_bad_conditions_are_refused_by_name(texts, words):
    with pytest.raises(UserError) as caught:
        parse_conditions(texts)
    assert words in caught.value.what
