"""Project extracts on a real release (precimed.sharing.extract)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from platform_home import settings_for
from precimed.deid import Policy
from precimed.deid.kanonymity import smallest_class
from precimed.deid.project import ProjectKey
from precimed.errors import UserError
from precimed.lake import Lake
from precimed.query import compile as engine
from precimed.query.model import CohortDefinition
from precimed.sharing.extract import ID, ExtractTerms, cut, sha256_of, write

EVERYONE = CohortDefinition.from_dict({"format": "precimed-cohort", "version": 1,
                                       "name": "everyone", "criteria": []})
VARIABLES = ("sex", "age", "enrolment_date", "consent_date", "SBP")


@pytest.fixture(scope="module")
def release(released_home):
    settings = settings_for(released_home)
    con = Lake(settings.lake_dir).snapshot("r1").database(settings.cache_dir)
    yield settings, con
    con.disconnect()


def _terms(**changes) -> ExtractTerms:
    base = dict(request_id="req1", release="r1", definition=EVERYONE, variables=VARIABLES,
                date_handling="shifted", coarsen_allowed=True)
    return ExtractTerms(**{**base, **changes})


def test_two_projects_extracts_share_no_id_and_no_platform_pseudonym(release, tmp_path):
    _, con = release
    one = cut(con, _terms(), key=ProjectKey.create(tmp_path, "a"), k=5, policy=Policy())
    two = cut(con, _terms(), key=ProjectKey.create(tmp_path, "b"), k=5, policy=Policy())
    platform = set(engine.members(con, EVERYONE))
    assert one.people == two.people == len(one.frame) > 100
    assert not set(one.frame[ID]) & set(two.frame[ID])
    assert not set(one.frame[ID]) & platform
    assert "pseudonym" not in one.frame.columns
    assert list(one.frame[ID]) == sorted(one.frame[ID])  # ordered by the project's own ID


def test_shifted_dates_keep_intervals_and_age_exact(release, tmp_path):
    _, con = release
    truth = engine.extract(con, EVERYONE, ["age", "enrolment_date", "consent_date"])
    key = ProjectKey.create(tmp_path, "a")
    terms = _terms(coarsen_allowed=False, variables=("age", "enrolment_date", "consent_date"))
    got = cut(con, terms, key=key, k=1, policy=Policy()).frame  # nothing coarsened
    truth[ID] = truth.pseudonym.map(key.participant_id)
    both = truth.merge(got, on=ID, suffixes=("_true", ""))
    assert len(both) == len(got)
    gap = lambda f, s: (pd.to_datetime(f[f"consent_date{s}"])  # noqa: E731
                        - pd.to_datetime(f[f"enrolment_date{s}"]))
    assert (gap(both, "") == gap(both, "_true")).all()
    moved = (pd.to_datetime(both.enrolment_date)
             - pd.to_datetime(both.enrolment_date_true)).dt.days
    assert (moved != 0).all() and moved.abs().max() <= 180
    # age is computed before the shift: exactly the platform's
    assert (both.age == both.age_true).all()


def test_year_month_reduces_dates_and_the_plan_coarsens_them(release, tmp_path):
    _, con = release
    terms = _terms(date_handling="year_month", variables=("sex", "enrolment_date", "SBP"))
    got = cut(con, terms, key=ProjectKey.create(tmp_path, "a"), k=5, policy=Policy())
    assert smallest_class(got.frame, ["sex", "enrolment_date"]) >= 5
    # a month of enrolment is too rare for some people: it went to the year
    assert got.coarsened == [{"column": "enrolment_date", "to": "year only", "code": "year"}]
    assert got.frame.enrolment_date.str.fullmatch(r"\d{4}").all()


def test_without_coarsening_allowed_the_extract_is_refused_naming_columns(release, tmp_path):
    _, con = release
    with pytest.raises(UserError) as refused:
        cut(con, _terms(date_handling="year_month", coarsen_allowed=False),
            key=ProjectKey.create(tmp_path, "a"), k=5, policy=Policy())
    assert "anonymous" in refused.value.what
    assert refused.value.where.startswith("variables: ")
    assert "Coarsen" in refused.value.hint or "leave out" in refused.value.hint


def test_written_extract_has_manifest_with_checksums(release, tmp_path):
    _, con = release
    extract = cut(con, _terms(), key=ProjectKey.create(tmp_path, "a"), k=5, policy=Policy())
    folder = tmp_path / "x1"
    manifest = write(extract, folder, extract_id="x1", actor="researcher")
    assert manifest["rows"] == len(extract.frame) and manifest["release"] == "r1"
    for name, digest in manifest["files"].items():
        assert sha256_of(folder / name) == digest
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    back = pd.read_parquet(folder / "data.parquet")
    assert list(back.columns) == list(extract.frame.columns)
    with pytest.raises(FileExistsError):
        write(extract, folder, extract_id="x1", actor="researcher")
