"""Two real survival datasets (WHAS500, flchain) as centre packages: the mapping.

What QC makes of them is in test_qc_real_data.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sksurv.datasets import load_flchain, load_whas500

from precimed.standard.identity import resident_id_problem
from precimed.synth.survival import package_from_flchain, package_from_whas500

# name: (builder, loader, columns of each item, event field, time field, participants)
DATASETS = {
    "whas500": (package_from_whas500, load_whas500,
                {"SBP": "sysbp", "DBP": "diasbp", "HR": "hr", "BMI": "bmi"},
                "fstat", "lenfol", 500),
    "flchain": (package_from_flchain, load_flchain, {"CREA": "creatinine"},
                "death", "futime", 7874),
}


@pytest.fixture(scope="module", params=list(DATASETS))
def built(request, tmp_path_factory: pytest.TempPathFactory):
    builder, loader, items, event, time, count = DATASETS[request.param]
    data, outcome = loader()
    package = builder(tmp_path_factory.mktemp(request.param) / "package")
    return package, data.reset_index(drop=True), outcome, items, event, time, count


def read(package: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(package / f"{table}.csv", dtype=str, keep_default_na=False)


def test_one_participant_per_row_with_a_consistent_stand_in_id(built):
    package, data, _, _, _, _, count = built
    people = read(package, "participant")
    assert len(people) == len(data) == count
    assert people.resident_id.is_unique
    assert not any(map(resident_id_problem, people.resident_id))
    assert (people.resident_id.str[6:14] == people.birth_date.str.replace("-", "")).all()
    age = (pd.to_datetime(people.enrolment_date).dt.year
           - pd.to_datetime(people.birth_date).dt.year)
    assert (age == data.age.astype(int)).all()
    female = data.gender.astype(int) == 1 if "gender" in data else data.sex == "F"
    assert (people.sex == np.where(female, "2", "1")).all()


def test_measurements_are_the_data_values_exactly(built):
    package, data, _, items, _, _, _ = built
    row = {rid: i for i, rid in enumerate(read(package, "participant").resident_id)}
    measured = read(package, "measurement")
    assert set(measured.wave) == {"0"}
    for code, column in items.items():
        rows = measured[measured.code == code]
        source = data[column].dropna()
        assert len(rows) == len(source), code
        index = rows.resident_id.map(row)
        assert (rows.value.astype(float).to_numpy() == data[column][index].to_numpy()).all()
        assert set(rows.unit) == {"mg/dL" if code == "CREA" else
                                  {"BMI": "kg/m2", "HR": "/min"}.get(code, "mmHg")}


def test_deaths_are_the_events(built):
    package, _, outcome, _, event, time, _ = built
    people = read(package, "participant").set_index("resident_id")
    deaths = read(package, "death")
    assert len(deaths) == outcome[event].sum()
    days = (pd.to_datetime(deaths.death_date)
            - pd.to_datetime(people.enrolment_date[deaths.resident_id].to_numpy())).dt.days
    index = people.index.get_indexer(deaths.resident_id)
    assert (days.to_numpy() == outcome[time][index]).all()
    assert outcome[event][index].all()
