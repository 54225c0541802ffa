"""Each check type on small hand-written tables, through the real runner and DuckDB."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from precimed.lake import Lake
from precimed.lake.rows import with_row_keys
from precimed.qc import evaluate, load_ruleset
from precimed.qc.rules import CheckSpec
from precimed.qc.runner import rescore_results, status_of
from precimed.qc.stage import staged_data
from precimed.reports.problems import Report
from precimed.standard import TABLES

D = dt.date
ENROLLED = D(2015, 6, 1)


def table(name: str, rows: list[dict]) -> pa.Table:
    schema = TABLES[name].arrow_schema()
    columns = {f.name: pa.array([r.get(f.name) for r in rows], f.type)
               for f in schema if f.name != "row_key"}
    columns["centre"] = pa.array(["SH01"] * len(rows))
    columns["_file"] = pa.array([f"{name}.csv"] * len(rows))
    columns["_row"] = pa.array(range(2, len(rows) + 2), pa.int64())
    con = ibis.duckdb.connect()
    return with_row_keys(name, pa.table(columns), con)


def person(pseudonym: str, *, sex="1", born="1960-05", province="31",
           enrolled=ENROLLED) -> dict:
    return {"pseudonym": pseudonym, "cohort": "NP-EAST", "sex": sex, "birth_year_month": born,
            "native_province": province, "region": "east", "enrolment_date": enrolled}


def measure(pseudonym: str, code: str, value: float, unit: str, on=ENROLLED,
            wave=0) -> dict:
    return {"pseudonym": pseudonym, "code": code, "value": value, "unit": unit,
            "submitted_unit": unit, "measured_on": on, "wave": wave}


def score(home, tables: dict[str, list[dict]], rules: str = "1.0", *, not_read=None):
    ruleset = load_ruleset(rules, home.qc_rules_dir)
    staged = {name: table(name, rows) for name, rows in tables.items()}
    report = Report("test", "SH01", "hand-written")
    con = ibis.duckdb.connect()
    data = staged_data(con, staged, Lake(home.lake_dir).snapshot(), "SH01", ruleset)
    outcome = evaluate(ruleset, "SH01", report, files={}, rows={}, data=data,
                       not_read=not_read)
    return outcome, report


def failing(outcome, check: str) -> dict[str, int]:
    return {r.instance: r.failing for r in outcome.results if r.check == check and r.failing}


def problems(report, check: str) -> list:
    return [p for p in report.problems if p.kind == check]


PEOPLE = [person("a"), person("b", sex="2", born="1970-01")]


def test_dates_before_birth_after_death_and_follow_up_before_enrolment(home):
    outcome, report = score(home, {
        "participant": PEOPLE,
        "measurement": [measure("a", "SBP", 120, "mmHg", on=D(1960, 4, 30)),  # before birth
                        measure("a", "DBP", 80, "mmHg", on=D(1960, 5, 1)),  # birth month
                        measure("b", "SBP", 120, "mmHg", on=D(2018, 1, 2), wave=2),  # dead
                        measure("b", "DBP", 80, "mmHg", on=D(2018, 1, 1), wave=2),  # same day
                        measure("a", "HB", 150, "g/L", on=D(2015, 5, 1), wave=1)],  # early
        "death": [{"pseudonym": "b", "death_date": D(2018, 1, 1), "source": "registry"}],
        "follow_up_contact": [{"pseudonym": "a", "wave": 1, "contact_date": D(2015, 1, 1),
                               "method": "phone", "outcome": "reached"}],
    })
    assert failing(outcome, "date_order") == {"measurement.measured_on": 3,
                                              "follow_up_contact.contact_date": 1}
    reasons = sorted((p.row, p.message) for p in problems(report, "date_order")
                     if p.file == "measurement.csv")
    assert reasons[0] == (2, "the measured on is before the birth month")
    assert "after the recorded death (2018-01-01)" in reasons[1][1]
    assert "before enrolment (2015-06-01)" in reasons[2][1]


def test_duplicates_and_orphans(home):
    row = measure("a", "SBP", 120, "mmHg")
    outcome, report = score(home, {"participant": PEOPLE,
                                   "measurement": [row, dict(row), measure("zz", "SBP", 1, "x")]})
    assert failing(outcome, "uniqueness") == {"measurement": 1}
    duplicate, = problems(report, "uniqueness")
    assert (duplicate.row, duplicate.message.split(": ")[1]) == (
        3, "duplicate of measurement.csv row 2")
    assert failing(outcome, "referential") == {"measurement → participant": 1}
    assert problems(report, "referential")[0].row == 4


def test_cross_field_checks(home):
    outcome, _ = score(home, {"participant": PEOPLE, "measurement": [
        measure("a", "SBP", 80, "mmHg"), measure("a", "DBP", 90, "mmHg"),  # swapped
        measure("b", "SBP", 130, "mmHg"), measure("b", "DBP", 80, "mmHg"),
        measure("b", "DBP", 95, "mmHg", on=D(2016, 1, 1)),  # no SBP that day: not compared
        measure("a", "WEIGHT", 60, "kg"), measure("a", "HEIGHT", 170, "cm"),
        measure("a", "BMI", 30, "kg/m2"),  # 60 / 1.7² = 20.8
        measure("b", "WEIGHT", 60, "kg"), measure("b", "HEIGHT", 160, "cm"),
        measure("b", "BMI", 23.4, "kg/m2")]})
    assert failing(outcome, "blood_pressure_order") == {"measurement[SBP > DBP]": 1}
    checked = {r.check: r.checked for r in outcome.results if r.check in
               {"blood_pressure_order", "bmi_consistency"}}
    assert checked == {"blood_pressure_order": 2, "bmi_consistency": 2}
    assert failing(outcome, "bmi_consistency") == {"measurement[BMI = WEIGHT / HEIGHT²]": 1}


@pytest.mark.parametrize("systolic, diastolic", [(80, 90), (85, 85)])
def test_an_impossible_blood_pressure_pair_is_an_error(home, systolic, diastolic):
    """SBP at or below DBP cannot be measured in a living person: one such pair rejects
    the package (it used to pass as a warning and be stored unmarked)."""
    outcome, _ = score(home, {"participant": PEOPLE, "measurement": [
        measure("a", "SBP", systolic, "mmHg"), measure("a", "DBP", diastolic, "mmHg"),
        *[measure(f"b{i}", code, value, "mmHg") for i in range(2000)
          for code, value in (("SBP", 120), ("DBP", 80))]]})
    result, = [r for r in outcome.results if r.check == "blood_pressure_order"]
    assert (result.failing, result.status, result.severity) == (1, "fail", "error")
    assert outcome.verdict == "fail"


def test_an_assay_must_name_a_specimen_of_the_centre(home):
    specimen = {"pseudonym": "a", "specimen_id": "S1", "specimen_type": "serum",
                "collected_on": ENROLLED, "storage_location": "F1"}
    assay = {"pseudonym": "a", "assay_type": "wgs", "performed_on": ENROLLED}
    outcome, report = score(home, {"participant": PEOPLE, "specimen": [specimen], "assay": [
        {**assay, "assay_id": "A1", "specimen_id": "S1"},
        {**assay, "assay_id": "A2", "specimen_id": "S9"},  # names no specimen
        {**assay, "assay_id": "A3", "specimen_id": None}]})  # not recorded: allowed
    assert failing(outcome, "field_reference") == {"assay.specimen_id → specimen": 1}
    problem, = problems(report, "field_reference")
    assert (problem.row, problem.value, problem.field) == (3, "S9", "specimen_id")
    result, = [r for r in outcome.results if r.check == "field_reference"]
    assert (result.checked, result.status) == (2, "fail")


def test_checks_needing_an_unread_file_are_listed_not_silently_left_out(home):
    outcome, _ = score(home, {"measurement": [measure("a", "SBP", 900, "mmHg")]},
                       not_read={"participant": ["participant.csv"], "visit": ["v.xlsx"]})
    skipped = {r.instance: r.not_read for r in outcome.results if r.status == "not_run"}
    # judged against the people: cannot run at all
    for check in ("referential", "date_order", "plausible_range", "baseline_measurements",
                  "follow_up_wave", "distribution_drift"):
        assert skipped[check] == ("participant.csv",), check
    # run on what could be read; the unread tables are named
    assert skipped["visit (not read)"] == ("v.xlsx",)
    assert failing(outcome, "possible_range") == {"measurement.value[SBP]": 1}
    assert outcome.pass_rates()["plausibility"] is not None  # not_run is not scored
    again = rescore_results(outcome.results, load_ruleset("1.0"), "SH01")
    assert [r.status for r in again] == [r.status for r in outcome.results]


def test_an_unreadable_package_lists_every_query_check_as_not_run(home):
    ruleset = load_ruleset("1.0", home.qc_rules_dir)
    outcome = evaluate(ruleset, "SH01", Report("t", "SH01", "p"), files={}, rows={},
                       data=None)
    queries = {i for i, spec in ruleset.checks.items() if spec.type != "ingest"}
    assert {r.check for r in outcome.results if r.status == "not_run"} == queries


def test_ranges_by_sex_and_the_highland_rule_set(home):
    tables = {"participant": [person("m"), person("f", sex="2"), person("q", province="63"),
                              person("x", province="63", sex="2")],
              "measurement": [measure("m", "HB", 195, "g/L"), measure("f", "HB", 195, "g/L"),
                              measure("q", "HB", 215, "g/L"), measure("x", "HB", 260, "g/L")]}
    base, report = score(home, tables)
    # men 90-200, women 70-180; 260 is beyond the possible limit and left to that check
    assert failing(base, "plausible_range") == {"measurement.value[HB]": 2}
    assert {p.pseudonym for p in problems(report, "plausible_range")} == {"f", "q"}
    assert failing(base, "possible_range") == {"measurement.value[HB]": 1}
    highland, _ = score(home, tables, rules="1.1")  # Qinghai natives: men up to 240
    assert failing(highland, "plausible_range") == {"measurement.value[HB]": 1}


def test_unit_mix_ups_are_told_from_tail_values(home):
    outcome, report = score(home, {"participant": PEOPLE, "measurement": [
        measure("a", "GLU_FAST", 97, "mmol/L"),  # mg/dL sent as mmol/L
        measure("b", "GLU_FAST", 5.4 / 18.016, "mg/dL"),  # 5.4 mmol/L sent as mg/dL
        measure("a", "ALT", 2, "U/L"),  # a low tail value, not µkat/L
        measure("b", "HEIGHT", 1.62, "cm")]})  # metres as centimetres
    assert failing(outcome, "unit_plausibility") == {"measurement.value[GLU_FAST]": 2,
                                                     "measurement.value[HEIGHT]": 1}
    messages = " ".join(p.message for p in problems(report, "unit_plausibility"))
    assert "if the number is in mg/dL" in messages and "if the number is in m" in messages


def test_follow_up_waves_due_by_the_latest_contact(home):
    people = [person("a", enrolled=D(2015, 1, 1)), person("b", enrolled=D(2015, 1, 1)),
              person("c", enrolled=D(2017, 1, 1))]  # not yet due at wave 1
    contacts = [{"pseudonym": "a", "wave": w, "contact_date": D(2015 + w, 1, 10),
                 "method": "phone", "outcome": "reached"} for w in (1, 2)]
    outcome, _ = score(home, {"participant": people, "follow_up_contact": contacts})
    waves = {r.instance: (r.failing, r.checked) for r in outcome.results
             if r.check == "follow_up_wave"}
    # the latest contact is 2017-01-10: wave 1 (due 2016-01-01 + 90 days) is due for a and
    # b; wave 2 (due 2017-01-01) is not yet past its grace period, so no one is counted
    assert waves == {"follow_up_contact[wave 1]": (1, 2)}


def test_thresholds_severities_and_min_failing():
    spec = CheckSpec("x", "plausible_range", "plausibility", "atemporal", "warning", 0.05,
                     "", "", min_failing=3)
    assert status_of(spec, 0, 0) == "n/a"
    assert status_of(spec, 2, 20) == "pass"  # 10% but only two rows
    assert status_of(spec, 3, 20) == "warn"
    assert status_of(spec, 3, 100) == "pass"
    error = CheckSpec("y", "possible_range", "plausibility", "atemporal", "error", 0.0, "", "")
    assert status_of(error, 1, 10**6) == "fail"


def test_rescoring_reuses_counts_only_when_the_checks_count_alike(home):
    outcome, _ = score(home, {"participant": PEOPLE,
                              "measurement": [measure("a", "HB", 215, "g/L")]})
    again = rescore_results(outcome.results, load_ruleset("1.0"), "SH01")
    assert again is not None and [r.status for r in again] == [r.status for r in
                                                                outcome.results]
    assert rescore_results(outcome.results, load_ruleset("1.1"), "SH01") is None  # ranges


@pytest.mark.parametrize("centre, threshold", [("XJ01", 0.30), ("SH01", 0.25)])
def test_a_region_override_applies_to_that_region_only(centre, threshold):
    assert load_ruleset("1.1").for_centre(centre)["follow_up_wave"].threshold == threshold


def test_a_person_enrolled_elsewhere_is_refused_without_naming_the_centre(home):
    # issue 14 (j): the message must not tell a data manager that anyone's resident ID
    # is enrolled through another (here a psychiatric) centre
    ruleset = load_ruleset("1.0", home.qc_rules_dir)
    con = ibis.duckdb.connect()
    data = staged_data(con, {"participant": table("participant", PEOPLE)},
                       Lake(home.lake_dir).snapshot(), "SH01", ruleset)
    theirs = table("participant", [person("a")])
    theirs = theirs.set_column(theirs.schema.get_field_index("centre"), "centre",
                               pa.array(["HN-PSY"]))
    con.con.register("elsewhere", theirs)
    data.others = {"participant": con.table("elsewhere")}
    report = Report("test", "SH01", "hand-written")
    outcome = evaluate(ruleset, "SH01", report, files={}, rows={}, data=data)
    assert sum(failing(outcome, "uniqueness").values()) == 1
    message, = [p.message for p in problems(report, "uniqueness")]
    assert "HN-PSY" not in message and "enrolled through" not in message
    assert "can not be enrolled at this centre" in message
