"""Project-specific IDs and date offsets (precimed.deid.project)."""

from __future__ import annotations

import datetime as dt
import stat

import pandas as pd
import pytest

from precimed.deid.project import (
    MAX_SHIFT_DAYS,
    ProjectKey,
    key_path,
    reduce_to_year_month,
    shift_dates,
    shift_year_months,
)
from precimed.errors import NotInitialised, UserError

PSEUDONYMS = [f"{i:032x}" for i in range(2000)]


def test_key_is_owner_only_outside_the_lake_and_stable(tmp_path):
    keys = tmp_path / "keys"
    a = ProjectKey.create(keys, "p1")
    assert stat.S_IMODE(key_path(keys, "p1").stat().st_mode) == 0o600
    assert ProjectKey.create(keys, "p1").secret == a.secret  # never replaced
    assert "secret" not in repr(a) or "<secret>" in repr(a)
    assert a.secret.hex() not in repr(a)


def test_a_missing_key_or_a_bad_project_id_is_a_user_error(tmp_path):
    with pytest.raises(NotInitialised):
        ProjectKey.load(tmp_path, "p2")
    with pytest.raises(UserError):
        key_path(tmp_path, "../escape")


def test_two_projects_share_no_participant_id(tmp_path):
    one = ProjectKey.create(tmp_path, "one")
    two = ProjectKey.create(tmp_path, "two")
    ids_one = {one.participant_id(p) for p in PSEUDONYMS}
    ids_two = {two.participant_id(p) for p in PSEUDONYMS}
    assert len(ids_one) == len(ids_two) == len(PSEUDONYMS)  # one ID per person
    assert not ids_one & ids_two
    assert not ids_one & set(PSEUDONYMS)
    assert one.participant_id(PSEUDONYMS[0]) == ProjectKey.load(tmp_path, "one") \
        .participant_id(PSEUDONYMS[0])


def test_offsets_are_non_zero_within_range_spread_and_per_project(tmp_path):
    one = ProjectKey.create(tmp_path, "one")
    two = ProjectKey.create(tmp_path, "two")
    offsets = [one.date_offset(p) for p in PSEUDONYMS]
    assert all(1 <= abs(d) <= MAX_SHIFT_DAYS for d in offsets)
    assert min(offsets) < -150 and max(offsets) > 150
    assert 0.4 < sum(d > 0 for d in offsets) / len(offsets) < 0.6
    assert offsets != [two.date_offset(p) for p in PSEUDONYMS]


def test_intervals_survive_a_shift_exactly(tmp_path):
    key = ProjectKey.create(tmp_path, "p")
    frame = pd.DataFrame({
        "enrolment_date": [dt.date(2019, 3, 5), dt.date(2020, 12, 30), None],
        "event_date": [dt.date(2023, 1, 1), dt.date(2021, 2, 28), dt.date(2022, 1, 1)],
    })
    offsets = pd.Series([key.date_offset(p) for p in PSEUDONYMS[:3]])
    shifted = shift_dates(frame, offsets=offsets)
    assert shifted.enrolment_date[2] is None or pd.isna(shifted.enrolment_date[2])
    for i in range(2):
        before = frame.event_date[i] - frame.enrolment_date[i]
        assert shifted.event_date[i] - shifted.enrolment_date[i] == before
        assert shifted.enrolment_date[i] != frame.enrolment_date[i]
        assert (shifted.enrolment_date[i] - frame.enrolment_date[i]).days == offsets[i]


def test_birth_months_move_with_the_person_and_year_month_keeps_no_day():
    months = pd.Series(["1960-01", "1975-12", None])
    moved = shift_year_months(months, offsets=pd.Series([-20, 20, 5]))
    assert moved.tolist()[:2] == ["1959-12", "1976-01"] and moved[2] is None
    reduced = reduce_to_year_month(pd.DataFrame({"d": [dt.date(2019, 3, 5), None]}))
    assert reduced.d[0] == "2019-03" and reduced.d[1] is None
