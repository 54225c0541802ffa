"""The Beacon follows the genotype store under a running server: a dataset published
after start-up is served without a restart, the previous source answers while the new
one is built, and a failed rebuild keeps the previous source."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from platform_home import settings_for
from precimed.api.app import create_app
from precimed.discovery.source import LiveSource
from precimed.genomics.vcf import ingest_reference
from precimed.home import initialise

P = "/api/beacon/v2"
SAMPLES = [f"S{i}" for i in range(12)]


def _vcf(path, pos: int):
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=1>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES),
             f"1\t{pos}\t.\tA\tG\t.\tPASS\t.\tGT\t" + "\t".join(["0/1"] * len(SAMPLES))]
    path.write_text("\n".join(lines) + "\n")
    return path


def _until(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_a_dataset_published_after_start_up_is_served(tmp_path):
    settings = settings_for(tmp_path / "home")
    initialise(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get(f"{P}/datasets").status_code == 503  # no store yet
        ingest_reference(_vcf(tmp_path / "a.vcf", 1000), settings.genotypes_dir,
                         dataset="first", build="GRCh38")

        def listed(*names):
            answer = client.get(f"{P}/datasets")
            if answer.status_code != 200:
                return False
            found = {d["id"] for d in answer.json()["response"]["collections"]}
            return set(names) <= found
        assert _until(lambda: listed("first"))
        ingest_reference(_vcf(tmp_path / "b.vcf", 2000), settings.genotypes_dir,
                         dataset="second", build="GRCh38")
        assert _until(lambda: listed("first", "second"))
        query = {"referenceName": "1", "start": "1999", "alternateBases": "G"}
        assert client.get(f"{P}/g_variants", params=query).json()[
            "responseSummary"]["exists"] is True


def test_the_previous_source_answers_until_the_new_one_is_ready():
    state = {"key": 1, "built": 0}
    release = threading.Event()

    def build():
        state["built"] += 1
        if state["built"] > 1:
            release.wait(10)
        return f"source {state['built']}"

    live = LiveSource(build, lambda: state["key"], every=0)
    assert live.get() == "source 1"
    state["key"] = 2
    assert live.get() == "source 1"  # the rebuild has started, not finished
    assert live.get() == "source 1" and state["built"] == 2  # and is not started twice
    release.set()
    assert _until(lambda: live.get() == "source 2", 5)


def test_a_failed_rebuild_keeps_the_previous_source(caplog):
    state = {"key": 1, "fail": False}

    def build():
        if state["fail"]:
            raise RuntimeError("store half written")
        return f"source {state['key']}"

    live = LiveSource(build, lambda: state["key"], every=0)
    state.update(key=2, fail=True)
    live.get()
    assert _until(lambda: "rebuilding the beacon's source failed" in caplog.text, 5)
    assert live.get() == "source 1"
    state.update(key=3, fail=False)
    assert _until(lambda: live.get() == "source 3", 5)
