from __future__ import annotations

import pytest

from precimed.standard.identity import (
    InvalidResidentId,
    ResidentId,
    check_character,
    resident_id_problem,
)

# A number from the GB 11643-1999 standard's own worked example.
STANDARD_EXAMPLE = "11010519491231002X"


def test_check_character_matches_the_standards_example():
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"
    assert resident_id_problem(STANDARD_EXAMPLE) is None


def test_parse_normalises_lower_case_x_and_full_width_digits():
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    assert ResidentId.parse(full_width).value == STANDARD_EXAMPLE
    assert ResidentId.parse(STANDARD_EXAMPLE.lower()).value == STANDARD_EXAMPLE


def test_parse_exposes_birth_date_sex_and_province():
    rid = ResidentId.parse(STANDARD_EXAMPLE)
    assert str(rid.birth_date) == "1949-12-31"
    assert rid.sex == "2"  # sequence 002 is even
    assert rid.province == "11"


@pytest.mark.parametrize(("value", "reason"), [
    ("11010519491231002", "17 characters"),
    ("110105194912310021", "check digit"),
    ("99010519491231002X", "province"),
    ("11010519490231002X", "birth date"),
    ("1101051949123100AX", "17 digits"),
])
def test_invalid_numbers_say_why_without_repeating_the_number(value, reason):
    with pytest.raises(InvalidResidentId) as caught:
        ResidentId.parse(value)
    assert reason.split()[-1] in str(caught.value) or reason in str(caught.value)
    assert value not in str(caught.value)


def test_repr_never_shows_the_number():
    rid = ResidentId.parse(STANDARD_EXAMPLE)
    assert STANDARD_EXAMPLE not in repr(rid)
    assert STANDARD_EXAMPLE not in str(rid)
