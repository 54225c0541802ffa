"""``precimed sharing`` on a copy of the released test home: publish the catalogue, set
conditions, apply, vote, decide, record a provision, print the annual list; refusals exit
with the user-error code and name the field."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from platform_home import settings_for
from precimed.cli.main import cli
from precimed.errors import UserError
from precimed.ops import OpsDatabase
from precimed.ops.accounts import principal_for
from precimed.sharing import provisions, requests

PROVIDED_ON = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def home(released_home, tmp_path_factory):
    copy = tmp_path_factory.mktemp("sharing-cli") / "home"
    shutil.copytree(released_home, copy)
    return copy


def invoke(home, *args):
    result = CliRunner().invoke(cli, ["--home", str(home), "sharing", *args])
    return result


def ok(home, *args) -> str:
    result = invoke(home, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _provisions_in(home, year: int) -> int:
    heading = ok(home, "provisions", "--year", str(year), "--as", "dac").splitlines()[0]
    return int(heading.rsplit(": ", 1)[1])


def test_the_whole_path_from_the_command_line(home, tmp_path):
    # the released home is shared: API tests on it may already have recorded provisions
    before = {year: _provisions_in(home, year) for year in (2025, 2026)}
    published = ok(home, "publish", "--release", "r1", "--as", "admin")
    entry = published.split(": ", 1)[1].split(", ")[0].strip()
    ok(home, "conditions", entry, "HMB", "NCU", "IRB", "--reason", "consent v1",
       "--as", "admin")
    listing = ok(home, "catalogue")
    assert entry in listing and "[HMB NCU IRB]" in listing
    form = tmp_path / "form.json"
    form.write_text(json.dumps({
        "title_zh": "血压研究", "title_en": "Blood pressure", "summary_zh": "摘要",
        "summary_en": "Summary", "institution": "Fudan", "datasets": [entry],
        "intended_use": {"purpose": "HMB"}, "variables": ["sex", "age"],
        "ethics_number": "IRB-1"}, ensure_ascii=False), encoding="utf-8")
    pdf = tmp_path / "approval.pdf"
    pdf.write_bytes(b"%PDF-1.4 approval")
    applied = ok(home, "apply", str(form), "--ethics", str(pdf), "--submit",
                 "--as", "researcher", "--on", "2025-12-31")
    request_id = applied.split(":")[0]
    assert "submitted, match consistent" in applied
    assert request_id in ok(home, "requests", "--queue", "--as", "dac")
    ok(home, "vote", request_id, "--vote", "approve", "--as", "dac")
    ok(home, "vote", request_id, "--vote", "approve", "--as", "admin")
    decided = ok(home, "decide", request_id, "--decision", "approve", "--reason", "fine",
                 "--date-handling", "year_month", "--on", "2025-12-31", "--as", "dac")
    assert decided.strip() == f"{request_id}: active until 2026-12-31"
    shown = ok(home, "show", request_id, "--as", "researcher")
    assert "[active]" in shown and "under_review → approved" in shown
    # a provision (what an extract records), then the annual list
    ops = OpsDatabase(settings_for(home).database_url)
    try:
        project = requests.active_request(ops, request_id,
                                          principal=principal_for(ops, "researcher"),
                                          on=requests.add_months(PROVIDED_ON, 1))
        provisions.record(ops, project, entry_id=entry, recipient="researcher",
                          what="extract: parquet", people=321, rows=321, on=PROVIDED_ON)
    finally:
        ops.dispose()
    listed = subprocess.run(
        [sys.executable, "-c", "import sys; from precimed.cli.main import main; "
         "sys.exit(main())", "--home", str(home), "sharing", "provisions", "--year", "2026",
         "--as", "dac"],
        capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr
    assert f"Data provisions in 2026: {before[2026] + 1}" in listed.stdout
    assert f"{request_id}  researcher" in listed.stdout and "321 people" in listed.stdout
    assert "ethics IRB-1" in listed.stdout
    in_2025 = ok(home, "provisions", "--year", "2025", "--as", "dac")
    assert f"Data provisions in 2025: {before[2025]}" in in_2025 and request_id not in in_2025


def test_refusals_name_the_field(home, tmp_path):
    result = invoke(home, "conditions", "no-such-entry", "GRU", "--as", "admin")
    assert isinstance(result.exception, UserError) and result.exception.http_status == 404
    published = ok(home, "publish", "--release", "r1", "--as", "admin")
    entry = published.split(": ", 1)[1].split(", ")[0].strip()
    result = invoke(home, "conditions", entry, "HMB", "XYZ", "--as", "admin")
    assert isinstance(result.exception, UserError) and result.exception.where == "conditions"
    result = invoke(home, "publish", "--as", "researcher")
    assert isinstance(result.exception, UserError) and result.exception.http_status == 403
    result = invoke(home, "requests", "--as", "nobody")
    assert isinstance(result.exception, UserError) and result.exception.where == "--as"
