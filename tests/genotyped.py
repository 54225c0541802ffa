"""Participants with genotypes, for the tests of genotype submission (command line, API
and browser): resident IDs with valid check characters, the participants committed to the
lake as a package would leave them, an HWE-consistent VCF and its sample sheet
(importable: pytest's ``pythonpath`` includes tests/)."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pyarrow as pa

from precimed.deid.pseudonym import Pseudonymiser, load_key
from precimed.lake import Lake
from precimed.lake.rows import with_row_keys
from precimed.standard.identity import check_character


def resident_ids(n: int) -> list[str]:
    """``n`` GB 11643 numbers of Shanghai (310101) residents; the 17th digit sets sex."""
    out = []
    for i in range(n):
        first17 = f"310101{1950 + i % 40}0{1 + i % 9}1{i % 10}{100 + i:03d}"
        out.append(first17 + check_character(first17))
    return out


def enrol(settings, ids: list[str], *, centre: str = "SH01") -> None:
    """The people of ``ids`` committed to the lake as ``centre``'s participants."""
    pseudonymise = Pseudonymiser(load_key(settings.pseudonym_key_file))
    n = len(ids)
    rows = pa.table({
        "pseudonym": [pseudonymise(i) for i in ids], "cohort": ["NP-EAST"] * n,
        "sex": ["1" if int(i[16]) % 2 else "2" for i in ids],
        "birth_year_month": ["1970-01"] * n, "native_province": ["31"] * n,
        "region": ["east"] * n, "ethnicity": ["01"] * n,
        "enrolment_date": [dt.date(2020, 1, 1)] * n, "consent_date": [dt.date(2020, 1, 1)] * n,
        "consent_scope": ["broad"] * n, "centre": [centre] * n, "submission_id": ["t"] * n,
        "standard_version": ["1.0.0"] * n})
    con = ibis.duckdb.connect()
    try:
        Lake(settings.lake_dir).commit(
            {"participant": with_row_keys("participant", rows, con)},
            submission_id="t", centre=centre, digest=f"enrol-{centre}")
    finally:
        con.disconnect()


def vcf_text(samples: list[str], *, variants: int, seed: int, missing: float = 0.0,
             start: int = 1000) -> str:
    """A VCF of ``variants`` biallelic SNVs on chromosome 1 (every 10 bp from ``start``),
    ALT frequency uniform 0.05-0.5, genotypes under HWE, a share ``missing`` uncalled."""
    rng = np.random.default_rng(seed)
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=1>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)]
    for j in range(variants):
        calls = np.array(["0/0", "0/1", "1/1"])[rng.binomial(2, rng.uniform(0.05, 0.5),
                                                             len(samples))]
        calls[rng.random(len(samples)) < missing] = "./."
        lines.append(f"1\t{start + 10 * j}\trs{j}\tA\tG\t.\tPASS\t.\tGT\t" + "\t".join(calls))
    return "\n".join(lines) + "\n"


def sheet_text(samples: list[str], ids: list[str]) -> str:
    return "sample_id,resident_id\n" + "".join(
        f"{s},{r}\n" for s, r in zip(samples, ids, strict=True))
