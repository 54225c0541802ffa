"""One atomic-write helper and one writer lock (precimed.files), used by every package
that keeps files: written aside, flushed, renamed, folder flushed; writers queue."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

import precimed
from precimed.files import locked, replacing, write_atomically

SRC = Path(precimed.__file__).parent


@pytest.fixture
def synced(monkeypatch) -> list[str]:
    """What was flushed to disk: the real os.fsync runs, each call noted by the path it
    flushed (read back from /proc)."""
    flushed: list[str] = []
    real = os.fsync

    def fsync(fd):
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return flushed


def test_an_atomic_write_flushes_the_file_and_its_folder_and_leaves_no_temporary(
        tmp_path, synced):
    target = tmp_path / "catalog.json"
    write_atomically(target, "old")
    synced.clear()
    write_atomically(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["catalog.json"]
    assert synced[-1] == str(tmp_path)  # the rename is durable too
    assert any(Path(p).parent == tmp_path and p != str(tmp_path) for p in synced[:-1])


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "store.json"
    write_atomically(target, "old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["store.json"]


def test_a_folder_is_swapped_whole(tmp_path):
    target = tmp_path / "reference"
    for text in ("old", "new"):
        with replacing(target) as building:
            building.mkdir()
            (building / "summary.txt").write_text(text)
    assert (target / "summary.txt").read_text() == "new"
    assert os.listdir(tmp_path) == ["reference"]


def test_writers_take_the_lock_in_turn(tmp_path):
    inside, overlaps = [], []

    def write():
        with locked(tmp_path / ".writer.lock"):  # a fresh open file: flock queues it
            overlaps.append(len(inside))
            inside.append(1)
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [0, 0, 0, 0]


def test_the_genotype_store_flushes_what_it_writes(tmp_path, synced):
    """Its atomic write renamed without fsync: a power cut could leave an empty store.json."""
    from precimed.genomics.vcf import ingest_reference

    from .genomics.vcf_text import write_vcf

    vcf = write_vcf(tmp_path / "ref.vcf", ["s1", "s2"],
                    [("1", 100, "rs1", "A", "G", ["0/0", "0/1"])])
    ingest_reference(vcf, tmp_path / "store", dataset="ref", build="GRCh38")
    store = tmp_path / "store"
    flushed = {Path(p).name.split(".tmp")[0].lstrip(".").rsplit(".", 1)[0] for p in synced}
    assert {"store.json", "variants.parquet", "genotypes.bin", "samples.parquet"} <= flushed
    assert str(store) in synced and str(store / "datasets" / "ref") in synced


def test_no_package_writes_atomically_or_locks_on_its_own():
    """os.replace, fsync and flock live in precimed.files only (one helper each)."""
    pattern = re.compile(r"\bos\.replace\(|\bos\.fsync\(|\bfcntl\.flock\(")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "files.py" and path.parent == SRC:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if pattern.search(code):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not offenders, offenders
