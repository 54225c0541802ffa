from __future__ import annotations

import datetime as dt

import pyarrow as pa

from precimed.ingest.parse import parse_dates, parse_integers, parse_numbers


def test_every_date_form_centres_use():
    forms = ["2019-03-05", "2019/3/5", "20190305", "2019年3月5日", "43529", "2019.03.05",
             "2019-3-5 08:30:00"]
    assert parse_dates(pa.array(forms)).to_pylist() == [dt.date(2019, 3, 5)] * len(forms)


def test_impossible_and_garbage_dates_are_null():
    bad = ["2019-02-30", "2019-13-01", "2019-00-10", "yesterday", "190305", None]
    assert parse_dates(pa.array(bad)).to_pylist() == [None] * len(bad)


def test_leap_day_is_kept():
    assert parse_dates(pa.array(["2020-02-29"])).to_pylist() == [dt.date(2020, 2, 29)]


def test_lab_numbers_with_flags_limits_and_decimal_commas():
    values, qualifiers = parse_numbers(pa.array(["5.6", "5,6", "5.6↑", "<44", "> 100", "阴性",
                                                 ".5", "-1e2", None]))
    assert values.to_pylist() == [5.6, 5.6, 5.6, 44.0, 100.0, None, 0.5, -100.0, None]
    assert qualifiers.to_pylist() == [None, None, None, "<", ">", None, None, None, None]


def test_integers_refuse_fractions():
    assert parse_integers(pa.array(["3", "3.0", "3.5", "x"])).to_pylist() == [3, 3, None, None]
