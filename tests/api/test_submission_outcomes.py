"""What the submissions page needs to explain an outcome (issue 17, item 7): an identical
resubmission names the committed submission it repeats (``same_as``) and its report
address leads to that one's report; a genotype scoring that failed lists its checks, by
name, on a page of its own (``/submissions/qc/<scoring>``) for the centre's managers only.
On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from genotyped import enrol, resident_ids, sheet_text, vcf_text
from platform_home import signed_in
from precimed.synth import synthesise

N = 30
SAMPLES = [f"LAB{i:04d}" for i in range(N)]
IDS = resident_ids(N)


def wait(client, job: str, seconds: float = 300) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job}").json()
        if state["status"] in {"done", "failed"}:
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not finish: {state}")


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("again")
    folder = synthesise(out, participants_count=30, seed=5, centres=("SH01",)).packages["SH01"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in folder.rglob("*"):
            if path.is_file():
                z.write(path, f"SH01/{path.relative_to(folder)}")
    return buffer.getvalue()


def test_an_identical_resubmission_names_the_original_and_leads_to_its_report(
        fresh, package_zip):
    client = signed_in(fresh, "dm_sh01")
    ids = []
    for _ in range(2):
        job = client.post("/api/v1/submissions", files={"file": ("p.zip", package_zip)})
        state = wait(client, job.json()["job"], 300)
        assert state["status"] == "done", state
        ids.append(state["submission_id"])
    first, again = (client.get(f"/api/v1/submissions/{i}").json() for i in ids)
    assert first["status"] == "committed" and first["same_as"] is None
    assert again["status"] == "unchanged" and again["same_as"] == ids[0]
    assert again["verdict"] is None  # no QC of its own
    listed = {r["id"]: r["same_as"] for r in client.get("/api/v1/submissions").json()}
    assert listed == {ids[0]: None, ids[1]: ids[0]}
    moved = client.get(f"/api/v1/submissions/{ids[1]}/report", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/api/v1/submissions/{ids[0]}/report"
    assert client.get(moved.headers["location"]).status_code == 200
    page = client.get("/submissions").text
    assert "数据包与已入库的提交 " + ids[0] + " 完全相同" in page
    assert "QC null" not in page and ">None<" not in page


def test_a_failed_genotype_qc_names_its_checks_on_a_page_of_the_centre(fresh):
    enrol(fresh.state.platform.settings, IDS, centre="SH01")
    client = signed_in(fresh, "dm_sh01")
    low = vcf_text(SAMPLES, variants=150, seed=6, missing=0.2)
    job = client.post("/api/v1/genotypes", data={"centre": "SH01", "build": "GRCh38"},
                      files={"vcf": ("sh01.vcf", low, "application/octet-stream"),
                             "sheet": ("samples.csv", sheet_text(SAMPLES, IDS), "text/csv")})
    assert job.status_code == 202, job.text
    state = wait(client, job.json()["job"])
    result = state["result"]
    assert result["verdict"] == "fail" and not result["published"]
    assert result["failed_checks"] == ["sample_call_rate"]
    assert result["check_names"]["sample_call_rate"] == ["样本检出率", "Sample call rate"]
    page = client.get(f"/submissions/qc/{result['scoring_id']}")
    assert page.status_code == 200
    assert "未通过的检查：样本检出率" in page.text and 'data-status="fail"' in page.text
    english = client.get(f"/submissions/qc/{result['scoring_id']}?lang=en").text
    assert "Checks that failed: Sample call rate" in english
    assert "样本" not in english.split("<main>")[1]
    listing = client.get("/submissions?lang=zh").text
    assert f'href="/submissions/qc/{result["scoring_id"]}"' in listing
    assert "质控未通过" in listing
    # another centre's manager does not see SH01's scoring
    other = signed_in(fresh, "dm_js01")
    assert other.get(f"/submissions/qc/{result['scoring_id']}").status_code == 404  # as if absent
    assert result["scoring_id"] not in other.get("/submissions").text
