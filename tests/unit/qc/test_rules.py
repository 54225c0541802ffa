"""Rule sets: the built-in ones load, extend, and a bad file says what and where."""

from __future__ import annotations

import pytest

from precimed.errors import NotFound, UserError
from precimed.qc import available, load_ruleset
from precimed.qc.checks import CHECK_TYPES
from precimed.qc.rules import CATEGORIES


def test_the_base_rule_set_covers_every_kahn_category_and_check_type():
    ruleset = load_ruleset("1.0")
    assert {(c.category, c.subcategory) for c in ruleset.checks.values()} == {
        (category, sub) for category, subs in CATEGORIES.items() for sub in subs}
    assert {c.type for c in ruleset.checks.values()} == {"ingest", *CHECK_TYPES}


def test_an_extending_rule_set_changes_only_what_it_says():
    base, highland = load_ruleset("1.0"), load_ruleset("1.1")
    assert highland.checks == base.checks
    assert [r.item for r in highland.ranges] == ["HB", "HB"]
    assert highland.digest() != base.digest()


def write(tmp_path, version: str, text: str):
    (tmp_path / f"{version}.toml").write_text(f'version = "{version}"\n' + text, "utf-8")
    return tmp_path


@pytest.mark.parametrize("text, said", [
    ('extends = "1.0"\n[checks.x]\ntype = "nonsense"\ncategory = "completeness"\n',
     "Unknown check type 'nonsense'"),
    ('extends = "1.0"\n[checks.required]\nthreshold = 1.5\n', "not a share between 0 and 1"),
    ('extends = "1.0"\n[[override]]\ncheck = "required"\ncentres = ["XX01"]\n',
     "Unknown centre 'XX01'"),
    ('extends = "1.0"\n[[override]]\ncheck = "nope"\n', "Override of unknown check"),
    ('extends = "1.0"\n[[range]]\nitem = "HB"\nlow = 200\nhigh = 100\n', "low < high"),
    ('extends = "9.9"\n', "extends unknown rule set '9.9'"),
    ('extends = "1.0"\n[checks.not_null_x]\ntype = "not_null"\ncategory = "completeness"\n'
     'params = { table = "participant", fields = ["colour"] }\n', "has no field 'colour'"),
    ('extends = "1.0"\nbogus = 1\n', "Unknown key 'bogus'"),
])
def test_a_bad_rule_set_says_what_and_where(tmp_path, text, said):
    directory = write(tmp_path, "2.0", text)
    with pytest.raises(UserError) as caught:
        load_ruleset("2.0", directory)
    assert said in caught.value.what and "2.0.toml" in caught.value.where


def test_a_platform_rule_set_adds_a_check_without_code(tmp_path):
    directory = write(tmp_path, "2.0", 'extends = "1.1"\n[checks.phone_contact]\n'
                      'type = "not_null"\ncategory = "completeness"\nseverity = "warning"\n'
                      'threshold = 0.2\nparams = { table = "specimen", '
                      'fields = ["storage_location"] }\n')
    ruleset = load_ruleset("2.0", directory)
    assert ruleset.checks["phone_contact"].params["fields"] == ["storage_location"]
    assert len(ruleset.ranges) == 2  # inherited through 1.1
    assert set(available(directory)) == {"1.0", "1.1", "2.0"}


def test_an_unknown_version_lists_the_known_ones():
    with pytest.raises(NotFound) as caught:
        load_ruleset("7")
    assert "1.0" in caught.value.hint and "1.1" in caught.value.hint
