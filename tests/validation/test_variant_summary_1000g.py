"""The lake's variant_summary on real data, end to end through the command line:
``precimed init`` then ``precimed genomics reference`` loads the 1000 Genomes Phase 3 chr1
subset of beacon2-cbi-tools (tests/validation/data/README-genomics.md) and writes one
row per split variant into the lake's Delta table ``variant_summary``. Read back with
DuckDB, its frequencies equal the consortium's INFO AF to the printed precision, and its
counts and HWE p-values equal PLINK 2's (--freq counts, --hardy; recorded in
tests/validation/reference/plink2_1kg_freq_hardy.json) exactly and within 1e-5 relative.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from precimed.genomics.vcf import trim_alleles
from precimed.lake import Lake
from precimed.settings import load_settings
from validation.test_genomics_against_plink2 import (
    DATA,
    PLINK2,
    VCF,
    assert_as_printed,
    info_frequencies,
)


def precimed(home, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from precimed.cli.main import main; "
         "sys.exit(main())", "--home", str(home), *args],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    home = tmp_path_factory.mktemp("vs") / "home"
    precimed(home, "init")
    out = precimed(home, "genomics", "reference", str(VCF), "--dataset", "1kg-phase3",
                   "--build", "GRCh37", "--panel", str(DATA / "genomics_1kg_panel.tsv"))
    assert "1,044 rows in the lake's variant_summary" in out
    lake = Lake(load_settings({"home": home}, environ={}).lake_dir)
    con = lake.snapshot().connect()
    try:
        frame = con.table("variant_summary").to_pandas()
    finally:
        con.disconnect()
    return frame.set_index(["chrom", "pos", "ref", "alt"])


def test_frequencies_equal_the_info_af_of_the_file(summary):
    info = info_frequencies()
    rows = summary.loc[list(info)]
    assert (rows["allele_number"] == 5008).all() and (rows["call_rate"] == 1).all()
    assert_as_printed(rows["allele_frequency"].to_numpy(), [v["AF"] for v in info.values()])


def test_counts_and_hwe_equal_plink2(summary):
    keys, refs = [], PLINK2["variants"]
    for v in refs:
        chrom, pos = v["id"].split(":")[:2]
        keys.append((chrom, *trim_alleles(int(pos), v["ref"], v["alt"])))
    rows = summary.loc[keys]
    assert len(summary) == len(refs) == 1044
    assert rows["allele_count"].tolist() == [r["alt_ct"] for r in refs]
    assert rows["het"].tolist() == [r["het_a1"] for r in refs]
    assert rows["hom_alt"].tolist() == [r["two_ax"] for r in refs]
    np.testing.assert_allclose(rows["hwe_p"].astype(float), [float(r["p"]) for r in refs],
                               rtol=1e-5, atol=1e-300)
    assert set(rows["dataset_kind"]) == {"reference"} and set(rows["build"]) == {"GRCh37"}
