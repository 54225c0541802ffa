"""k-anonymity on quasi-identifiers and the coarsening ladder (precimed.deid.kanonymity)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from precimed.deid.kanonymity import age_band, plan, smallest_class


def _people(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(40, 75, n),
        "sex": rng.choice(["1", "2"], n),
        "native_province": rng.choice(["31", "32", "33", "37"], n),
        "region": "east",
        "SBP": rng.normal(130, 15, n),
    })


def test_an_extract_of_broad_classes_passes():
    frame = _people().assign(age=lambda f: f.age // 20 * 20)
    result = plan(frame, k=5)
    assert result.ok and result.steps == ()
    assert set(result.quasi_identifiers) == {"age", "sex", "native_province", "region"}


def test_below_k_names_the_columns_to_coarsen_and_coarsening_reaches_k():
    frame = _people()
    assert smallest_class(frame, ["age", "sex", "native_province", "region"]) < 5
    result = plan(frame, k=5)
    assert not result.ok and result.reaches_k
    assert "age" in result.columns_to_coarsen
    assert "SBP" not in result.columns_to_coarsen
    coarse = result.apply(frame)
    assert smallest_class(coarse, [c for c in result.quasi_identifiers
                                   if c in coarse.columns]) >= 5
    assert len(coarse) == len(frame)  # coarsening never drops people


def test_dates_published_unshifted_are_quasi_identifiers_and_go_to_the_year():
    frame = _people(60).assign(age=50, native_province="31")
    frame["enrolment_date"] = [dt.date(2019, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    assert plan(frame, k=5, dates=()).ok  # shifted: not a quasi-identifier
    result = plan(frame, k=5, dates=["enrolment_date"])
    assert result.columns_to_coarsen == ["enrolment_date"] and result.reaches_k
    assert set(result.apply(frame).enrolment_date) == {"2019"}


def test_a_rare_ethnicity_cannot_be_coarsened_away():
    frame = _people(50).assign(age=50, native_province="31", ethnicity="01")
    frame.loc[0, "ethnicity"] = "20"
    result = plan(frame, k=5)
    assert not result.ok and not result.reaches_k


def test_age_bands_of_five_then_ten_years():
    five = age_band(pd.Series([40, 44, 45, None]))
    assert five.tolist()[:3] == ["40-44", "40-44", "45-49"] and pd.isna(five[3])
    assert age_band(five, width=10).tolist()[:3] == ["40-49"] * 3


def test_age_goes_to_ten_year_bands_when_five_are_not_enough():
    frame = pd.DataFrame({"age": [40, 41, 42, 45, 46, 50, 51, 52, 55, 56]})
    result = plan(frame, k=5)
    assert [s.description for s in result.steps] == ["5-year bands", "10-year bands"]
    assert result.columns_to_coarsen == ["age"] and result.reaches_k
