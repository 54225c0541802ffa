"""Recovery after kill -9 (issue 16, failures 1, 2 and 10): a server killed during a web
upload or a genotype publication, at each step, then started again (the start-up
recovery, as ``precimed serve`` runs it): no staged file that can hold an identifier is
left, a submission killed after its catalog write is ``committed``, and a genotype dataset
is in both the genotype store and the lake's ``variant_summary`` or in neither; the same
upload afterwards is accepted. On SQLite and PostgreSQL, killed in a real process."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from genotyped import enrol, resident_ids, sheet_text, vcf_text
from platform_home import signed_in
from precimed.genomics import GenotypeStore
from precimed.lake import Lake
from precimed.ops.db import Job, SubmissionRecord
from precimed.synth import synthesise
from precimed.workflows.recovery import recover, staging_folders

TESTS = Path(__file__).resolve().parents[1]

# the app in a process of its own, killed (SIGKILL) at one step: module, function, and
# whether before or after the function runs
KILLED_SERVER = textwrap.dedent("""
    import importlib, os, signal, sys, time
    sys.path.insert(0, sys.argv[1])
    from platform_home import settings_for, signed_in
    from precimed.api.app import create_app
    home, url, where, when, kind, *files = sys.argv[2:]
    module, name = where.rsplit(".", 1)
    module = importlib.import_module(module)
    original = getattr(module, name)
    def killed(*args, **kwargs):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if when == "after" and (name != "_finish" or args[1] == "committed"):
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(module, name, killed)
    client = signed_in(create_app(settings_for(home, url)), "dm_sh01")
    if kind == "package":
        r = client.post("/api/v1/submissions", files={"file": ("p.zip", open(files[0], "rb"))})
    else:
        r = client.post("/api/v1/genotypes", data={"centre": "SH01", "build": "GRCh38"},
                        files={"vcf": ("g.vcf", open(files[0], "rb")),
                               "sheet": ("s.csv", open(files[1], "rb"))})
    assert r.status_code == 202, r.text
    time.sleep(300)  # the job's thread is killed at its step
""")


def _kill_during(app, where: str, when: str, kind: str, *files: Path) -> None:
    settings = app.state.platform.settings
    done = subprocess.run([sys.executable, "-c", KILLED_SERVER, str(TESTS), str(settings.home),
                           settings.ops_database_url, where, when, kind, *map(str, files)],
                          capture_output=True, timeout=600, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


def _restart(app):
    """What 'precimed serve' does at start: interrupted jobs, then recovery."""
    from precimed.api.jobs import interrupted

    ops = app.state.platform.ops
    interrupted(ops)
    return recover(app.state.platform.settings, ops)


def _nothing_staged(app) -> None:
    for folder in staging_folders(app.state.platform.settings):
        assert not folder.exists() or not any(folder.iterdir()), folder


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kill")
    folder = synthesise(out, participants_count=30, seed=5, centres=("SH01",)).packages["SH01"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in folder.rglob("*"):
            if path.is_file():
                z.write(path, f"SH01/{path.relative_to(folder)}")
    (out / "p.zip").write_bytes(buffer.getvalue())
    return out / "p.zip"


def wait_job(client, job: str, seconds: float = 300) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job}").json()
        if state["status"] in {"done", "failed"}:
            return state
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish: {state}")


def _records(app) -> list[SubmissionRecord]:
    return app.state.platform.ops.submissions()


@pytest.mark.slow
def test_a_package_killed_while_staged_leaves_no_identifier_and_is_interrupted(fresh,
                                                                               package_zip):
    catalog = Lake(fresh.state.platform.settings.lake_dir).catalog().version
    _kill_during(fresh, "precimed.ingest.pipeline._assemble", "before", "package", package_zip)
    home = Path(fresh.state.platform.settings.home)
    staged = list((home / "incoming" / "web").rglob("*.csv"))
    assert staged  # the failure: names, phones and resident IDs left in the home
    recovered = _restart(fresh)
    _nothing_staged(fresh)
    assert recovered.removed and [r.status for r in _records(fresh)] == ["interrupted"]
    assert Lake(fresh.state.platform.settings.lake_dir).catalog().version == catalog
    with fresh.state.platform.ops.session() as session:
        assert [j.status for j in session.query(Job)] == ["failed"]


@pytest.mark.slow
def test_a_package_killed_after_its_catalog_write_is_committed(fresh, package_zip):
    _kill_during(fresh, "precimed.ingest.pipeline._finish", "before", "package", package_zip)
    lake = Lake(fresh.state.platform.settings.lake_dir)
    (committed,) = lake.catalog().submissions.values()
    assert [r.status for r in _records(fresh)] == ["received"]  # the failure
    _restart(fresh)
    (record,) = _records(fresh)
    assert record.id == committed.submission_id and record.status == "committed"
    assert record.catalog_version == committed.catalog_version
    # submitting it again changes nothing, and says so
    client = signed_in(fresh, "dm_sh01")
    r = client.post("/api/v1/submissions", files={"file": ("p.zip", package_zip.read_bytes())})
    state = wait_job(client, r.json()["job"])
    again = client.get(f"/api/v1/submissions/{state['submission_id']}").json()
    assert again["status"] == "unchanged"
    assert [r.status for r in _records(fresh)] == ["committed", "unchanged"]


N, M = 30, 80
SAMPLES = [f"LAB{i:04d}" for i in range(N)]
IDS = resident_ids(N)

GENOTYPE_STEPS = [
    ("precimed.workflows.genotypes.record_assays", "before"),
    ("precimed.workflows.genotypes._publish", "before"),
    ("precimed.workflows.genotypes._publish", "after"),
    ("precimed.workflows.genotypes.publish_variant_summary", "before"),
    ("precimed.workflows.genotypes.publish_variant_summary", "after"),
]


def _published(app, dataset: str = "sh01-genotypes") -> tuple[bool, bool]:
    """(in the store, in the lake's variant_summary)."""
    settings = app.state.platform.settings
    in_store = (settings.genotypes_dir / "store.json").exists() and any(
        d["name"] == dataset for d in GenotypeStore.open(settings.genotypes_dir)
        .meta["datasets"])
    summary = Lake(settings.lake_dir).snapshot().to_arrow("variant_summary",
                                                          columns=["dataset"])
    return in_store, dataset in set(summary.column("dataset").to_pylist())


@pytest.mark.slow
@pytest.mark.parametrize(("where", "when"), GENOTYPE_STEPS,
                         ids=[f"{w.rsplit('.', 1)[1]}-{b}" for w, b in GENOTYPE_STEPS])
def test_a_genotype_publication_killed_at_each_step_is_in_both_or_neither(
        fresh, tmp_path, where, when):
    settings = fresh.state.platform.settings
    enrol(settings, IDS, centre="SH01")
    vcf, sheet = tmp_path / "g.vcf", tmp_path / "s.csv"
    vcf.write_text(vcf_text(SAMPLES, variants=M, seed=1))
    sheet.write_text(sheet_text(SAMPLES, IDS))
    _kill_during(fresh, where, when, "genotypes", vcf, sheet)
    assert any((settings.cache_dir / "uploads").iterdir())  # the VCF and sheet were left
    _restart(fresh)
    _nothing_staged(fresh)
    in_store, in_lake = _published(fresh)
    assert in_store == in_lake, (in_store, in_lake)
    # uploading the same files again is accepted, and publishes them in both
    client = signed_in(fresh, "dm_sh01")
    r = client.post("/api/v1/genotypes", data={"centre": "SH01", "build": "GRCh38"},
                    files={"vcf": ("g.vcf", vcf.read_bytes()),
                           "sheet": ("s.csv", sheet.read_bytes())})
    assert r.status_code == 202, r.text
    state = wait_job(client, r.json()["job"])
    assert state["status"] == "done" and state["result"]["published"], state
    assert _published(fresh) == (True, True)
