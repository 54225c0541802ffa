"""``precimed synth``: a population, its follow-up, and one package per centre."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.errors import UserError
from precimed.standard import CENTRES, TABLES
from precimed.synth import records
from precimed.synth.defects import DEFECT_KINDS, inject
from precimed.synth.follow_up import follow, ground_truth
from precimed.synth.package import dress, style_of, write_manifest, write_table
from precimed.synth.people import participants

TRUTH_DIR = "truth"


@dataclass(frozen=True)
class SynthResult:
    out: Path
    packages: dict[str, Path]  # centre -> package folder
    rows: dict[str, int]  # table -> rows over all centres
    defects: list[dict]


def synthesise(
    out: Path,
    *,
    participants_count: int,
    seed: int,
    defect_rate: float = 0.0,
    defect_kinds: tuple[str, ...] = DEFECT_KINDS,
    centres: tuple[str, ...] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SynthResult:
    say = progress or (lambda _: None)
    _check(participants_count, defect_rate, defect_kinds, centres)
    rng = np.random.default_rng(seed)
    say(f"drawing {participants_count} participants")
    people = participants(participants_count, rng, centres)
    say("following them up")
    history = follow(people, rng)
    tables = _standard_tables(people, history, rng)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / TRUTH_DIR).mkdir(parents=True)
    packages, defects, rows = {}, [], dict.fromkeys(TABLES, 0)
    for index, centre in enumerate(CENTRES):
        if centres and centre not in centres:
            continue
        say(f"writing the package of {centre}")
        centre_rng = np.random.default_rng([seed, index])
        centre_tables = _for_centre(tables, people, centre)
        style = style_of(centre)
        dressed = {t: dress(t, f, style) for t, f in centre_tables.items()}
        log = inject(dressed, defect_kinds, defect_rate, centre_rng) if defect_rate else []
        packages[centre] = _write_package(out / centre, centre, dressed, style, log)
        defects += [{"centre": centre, **entry} for entry in log]
        for table, frame in dressed.items():
            rows[table] += len(frame)
    truth = ground_truth(history["loss_rates"])
    truth["participants"] = participants_count
    truth["seed"] = seed
    _write_json(out / TRUTH_DIR / "ground_truth.json", truth)
    _write_json(out / TRUTH_DIR / "defects.json", defects)
    return SynthResult(out, packages, rows, defects)


def _check(n, rate, kinds, centres) -> None:
    if n < len(CENTRES):
        raise UserError(f"{n} participants is too few to give every centre one",
                        where="--participants", hint=f"Use at least {len(CENTRES)}.")
    if not 0 <= rate <= 0.5:
        raise UserError("The defect rate must lie between 0 and 0.5", where="--defect-rate",
                        hint="0 gives clean data; 0.01 puts a defect in about 1% of rows.")
    unknown = [k for k in kinds if k not in DEFECT_KINDS]
    if unknown:
        raise UserError(f"Unknown defect kind {unknown[0]!r}", where="--defects",
                        hint="Known kinds: " + ", ".join(DEFECT_KINDS))
    missing = [c for c in centres or () if c not in CENTRES]
    if missing:
        raise UserError(f"Unknown centre {missing[0]!r}", where="--centres",
                        hint="Known centres: " + ", ".join(CENTRES))


def _standard_tables(people: pd.DataFrame, history: dict, rng) -> dict[str, pd.DataFrame]:
    ids = people.resident_id.to_numpy()
    participant = people[["resident_id", "name", "phone", "address", "birth_date", "sex",
                          "cohort", "native_province", "ethnicity", "enrolment_date",
                          "consent_scope"]].copy()
    participant.insert(10, "consent_date", people.enrolment_date)
    visits = history["visits"]
    conditions = records.conditions(people, rng)
    events = history["events"]
    deaths = history["deaths"]
    tables = {
        "participant": participant,
        "visit": _with_ids(visits, ids, ["wave", "visit_date", "visit_type"]),
        "measurement": records.measurements(people, visits, rng),
        "exposure": records.exposures(people, rng),
        "condition": conditions,
        "medication": records.medications(people, conditions, rng),
        "specimen": records.specimens(people, rng),
        "follow_up_contact": _with_ids(history["contacts"], ids,
                                       ["wave", "contact_date", "method", "outcome"]),
        "endpoint_event": _with_ids(events, ids, ["icd10", "event_date", "source"]),
        "death": _with_ids(deaths.assign(source="death_registry"), ids,
                           ["death_date", "underlying_cause", "source"]),
    }
    # drawn last, so the other tables stay what a seed gave before assays existed
    tables["assay"] = records.assays(people, tables["specimen"], rng)
    return tables


def _with_ids(frame: pd.DataFrame, ids: np.ndarray, columns: list[str]) -> pd.DataFrame:
    out = frame[columns].copy()
    out.insert(0, "resident_id", ids[frame.person.to_numpy()])
    return out


def _for_centre(tables, people, centre) -> dict[str, pd.DataFrame]:
    mine = set(people.resident_id[people.centre == centre])
    return {name: frame[frame.resident_id.isin(mine)].reset_index(drop=True)
            for name, frame in tables.items()}


def _write_package(directory: Path, centre: str, tables: dict[str, pd.DataFrame], style,
                   log: list[dict]) -> Path:
    directory.mkdir(parents=True)
    files, mapping = {}, {}
    for table, frame in tables.items():
        name, headers = write_table(directory, table, frame, style)
        files[name] = table
        for entry in log:
            if entry["table"] == table:
                entry["file"] = name
        if any(h != f for h, f in headers.items()):
            mapping[name] = headers
    write_manifest(directory, centre, files, mapping or None)
    return directory


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True),
                    encoding="utf-8")
