"""VCF/BCF ingest into the genotype store: split, normalise, pseudonymise, pack.

Read with cyvcf2 (htslib), once; the store answers every later query.

- **Multi-allelic sites** are split into one biallelic record per ALT, as
  ``bcftools norm -m-`` does: for the record of ALT k a call counts copies of allele k,
  and every other ALT allele counts as non-ALT (REF side). A 1/2 call is het in both
  records. Spanning deletions (``*``) and symbolic alleles (``<DEL>``) are skipped.
- **Alleles** are trimmed of a shared suffix, then a shared prefix (moving POS), keeping
  at least one base each. Left-aligning indels in repeats needs the reference FASTA
  (``bcftools norm -f``), which is not read here: run it before ingest if the caller did
  not left-align.
- **Calls**: diploid GT; a haploid call (males on X) is stored as homozygous; ``./.``
  is missing. Half-calls of biallelic records follow cyvcf2's typing (``0/.`` counts as
  hom-REF, ``./1`` as het), unlike PLINK 2, which refuses them by default; in split
  multi-allelic records any missing allele makes the call missing. Calls are read as
  cyvcf2's allele arrays and packed by a compiled kernel
  (:func:`precimed.genomics.kernels.pack_typed`, ``pack_allele``).
- **Participants**: a sample sheet (CSV with ``sample_id,resident_id``) maps each VCF
  sample to a participant. Resident IDs are validated, turned into pseudonyms with the
  platform key and dropped; the store holds pseudonyms only. A sample missing from the
  sheet, or whose person is not a participant in the lake, stops the ingest with the
  sample named. Each participant sample gives one row of the lake's ``assay`` table.
- **Reference callsets** (e.g. 1000 Genomes) keep their own sample IDs and take
  population labels from a panel file (``sample, pop, super_pop[, gender]``).

The genome build is declared by the caller (GRCh38 or GRCh37) and recorded in the store.
Validated on the 1000 Genomes Phase 3 chr1 test VCF against its INFO AF and against
PLINK 2 ``--freq`` / ``--hardy`` after ``bcftools norm -m-``
(tests/validation/test_genomics_against_plink2.py).
"""

from __future__ import annotations

import csv
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from precimed.errors import UserError
from precimed.genomics import kernels
from precimed.genomics.store import (
    BUILDS,
    DatasetFiles,
    GenotypeStore,
    check_dataset_name,
    normalise_chrom,
)
from precimed.ingest.package import sha256_of
from precimed.standard import STANDARD_VERSION, vocabulary
from precimed.standard.identity import normalise, resident_id_problem

BATCH = 4096  # variants packed at a time


def trim_alleles(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Drop a shared suffix, then a shared prefix, keeping one base of each allele."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def check_build(build: str) -> None:
    if build not in BUILDS:
        raise UserError(f"Genome build {build!r} is not supported", where="build",
                        hint="Declare GRCh38 or GRCh37 (hg19 and b37 are GRCh37).")


@dataclass(frozen=True)
class ParsedVcf:
    samples: list[str]
    variants: pd.DataFrame  # chrom, pos, ref, alt, rsid
    packed: np.ndarray
    records: int  # VCF records read (before splitting)
    genotypes: int  # calls read: records x samples
    source: dict


def read_vcf(path, *, samples: list[str] | None = None) -> ParsedVcf:
    """Parse a VCF/BCF (optionally only some samples, in the file's order) into packed
    biallelic records, sorted by (chrom, pos, ref, alt)."""
    from cyvcf2 import VCF

    path = Path(path)
    if not path.exists():
        raise UserError("The VCF file does not exist", where=str(path),
                        hint="Check the path; bgzipped VCF (.vcf.gz) and BCF are read.")
    try:
        reader = VCF(str(path), gts012=True, samples=samples, lazy=True, threads=1)
    except (OSError, ValueError) as exc:
        raise UserError(f"The VCF cannot be read: {exc}", where=str(path),
                        hint="Check it with 'bcftools view -h'.") from None
    names = list(reader.samples)
    n = len(names)
    # hash the file on a second thread while htslib parses it (hashlib releases the GIL)
    hashing = ThreadPoolExecutor(max_workers=1)
    digest = hashing.submit(sha256_of, path)
    keys: list[tuple] = []
    width = kernels.row_bytes(n)
    batches, batch = [], np.zeros((BATCH, width), dtype=np.uint8)
    filled = records = 0
    try:
        for record in reader:
            records += 1
            alts = record.ALT
            wanted = [(k, alt) for k, alt in enumerate(alts, start=1)
                      if alt not in ("*", ".") and not alt.startswith("<")]
            if not wanted:
                continue
            calls = record.genotype.array() if n else None  # no samples: an empty row
            for k, alt in wanted:
                if calls is not None and len(alts) == 1:
                    kernels.pack_typed(calls, batch[filled])
                elif calls is not None:
                    kernels.pack_allele(calls, k, batch[filled])
                pos, ref, alt = trim_alleles(record.POS, record.REF, alt)
                keys.append((normalise_chrom(record.CHROM), pos, ref, alt, record.ID))
                filled += 1
                if filled == BATCH:
                    batches.append(batch)
                    batch = np.zeros((BATCH, width), dtype=np.uint8)
                    filled = 0
    finally:
        reader.close()
        hashing.shutdown(wait=False)
    if filled:
        batches.append(batch[:filled])
    packed = (np.concatenate(batches) if len(batches) != 1 else batches[0]) if batches \
        else np.zeros((0, width), dtype=np.uint8)
    variants = pd.DataFrame(keys, columns=["chrom", "pos", "ref", "alt", "rsid"])
    variants["pos"] = variants["pos"].astype(np.int64)
    variants["rsid"] = variants["rsid"].where(variants["rsid"].notna(), None)
    order, variants = _sorted(variants)
    duplicated = variants.duplicated(["chrom", "pos", "ref", "alt"])
    if duplicated.any():
        first = variants[duplicated].iloc[0]
        raise UserError("The VCF has the same variant twice after splitting and trimming",
                        where=f"{path}, {first.chrom}:{first.pos} {first.ref}>{first.alt}",
                        hint="Merge the duplicate records (bcftools norm -m+ then -m-, or "
                        "bcftools norm -d exact).")
    if not (order == np.arange(len(order))).all():
        packed = packed[order]
    source = {"file": path.name, "sha256": digest.result(), "records": records,
              "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    return ParsedVcf(names, variants, packed, records, records * n, source)


def _sorted(variants: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    from precimed.genomics.store import chrom_rank

    keyed = variants.assign(_rank=chrom_rank(variants["chrom"]),
                            _row=np.arange(len(variants)))
    keyed = keyed.sort_values(["_rank", "chrom", "pos", "ref", "alt"], kind="stable")
    order = keyed["_row"].to_numpy()
    return order, keyed.drop(columns=["_rank", "_row"]).reset_index(drop=True)


# -- reference callsets ------------------------------------------------------------------

def read_panel(path) -> pd.DataFrame:
    """A 1000 Genomes style panel: sample, pop, super_pop (and optionally gender)."""
    path = Path(path)
    panel = pd.read_csv(path, sep="\t", dtype=str).rename(columns=str.strip)
    missing = {"sample", "pop", "super_pop"} - set(panel.columns)
    if missing:
        raise UserError(f"The panel file has no column {sorted(missing)[0]!r}", where=str(path),
                        hint="A panel is tab-separated with columns sample, pop, super_pop "
                        "(and optionally gender).")
    return panel


def ingest_reference(vcf, store_path, *, dataset: str, build: str, panel=None,
                     replace: bool = False) -> GenotypeStore:
    """Load a public callset with no participants as a reference dataset."""
    check_dataset_name(dataset)
    check_build(build)
    parsed = read_vcf(vcf)
    samples = pd.DataFrame({"sample_id": parsed.samples})
    if panel is not None:
        labels = read_panel(panel).set_index("sample")
        unlabelled = [s for s in parsed.samples if s not in labels.index]
        if unlabelled:
            raise UserError(f"Sample {unlabelled[0]} of the VCF has no population label "
                            f"({len(unlabelled)} samples in all)", where=str(panel),
                            hint="Use the panel file that belongs to this callset.")
        chosen = labels.loc[parsed.samples]
        samples["population"] = chosen["pop"].to_numpy()
        samples["super_population"] = chosen["super_pop"].to_numpy()
        if "gender" in chosen:
            samples["sex"] = chosen["gender"].map({"male": "1", "female": "2"}).to_numpy()
    GenotypeStore.write_dataset(store_path, DatasetFiles(
        dataset, "reference", samples, parsed.variants, parsed.packed, build,
        {**parsed.source, "panel": Path(panel).name if panel else None}), replace=replace)
    return GenotypeStore.open(store_path)


# -- participants --------------------------------------------------------------------------

def read_sample_sheet(path) -> dict[str, str]:
    """VCF sample ID -> normalised resident ID, every row checked (no ID is echoed)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"sample_id", "resident_id"} <= set(rows[0]):
        raise UserError("The sample sheet needs columns sample_id and resident_id",
                        where=str(path), hint="Write a CSV header 'sample_id,resident_id'.")
    sheet: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        sample, resident = (row["sample_id"] or "").strip(), normalise(row["resident_id"] or "")
        problem = resident_id_problem(resident)
        if problem:
            raise UserError(f"The resident ID of sample {sample} {problem}",
                            where=f"{path}, row {number}, column resident_id",
                            hint="Correct the number from the enrolment record.")
        if sample in sheet:
            raise UserError(f"Sample {sample} is listed twice", where=f"{path}, row {number}",
                            hint="Keep one row per VCF sample.")
        sheet[sample] = resident
    return sheet


def ingest_participants(vcf, store_path, *, sample_sheet, build: str, lake, pseudonymise,
                        dataset: str = "precimed", assay_type: str = "genotype_array",
                        centre: str, performed_on: dt.date, platform: str | None = None,
                        replace: bool = False) -> tuple[GenotypeStore, pa.Table]:
    """Ingest a cohort VCF; returns the store and the ``assay`` rows (not yet committed:
    :func:`record_assays` commits them to the lake).

    ``pseudonymise`` is a :class:`precimed.deid.pseudonym.Pseudonymiser` under the
    platform key; ``lake`` a :class:`precimed.lake.Lake` that holds the participants.
    """
    check_dataset_name(dataset)
    check_build(build)
    if assay_type not in vocabulary("assay_type").codes:
        raise UserError(f"Assay type {assay_type!r} is not in the standard", where="assay_type",
                        hint="Use " + " or ".join(vocabulary("assay_type").codes) + ".")
    sheet = read_sample_sheet(sample_sheet)
    names = _vcf_samples(vcf)
    people = _participants(lake)
    pseudonyms = []
    for name in names:
        if name not in sheet:
            raise UserError(f"Sample {name} of the VCF is not in the sample sheet",
                            where=f"{vcf}, sample {name}",
                            hint="Add a row 'sample_id,resident_id' for it to the sheet, or "
                            f"drop it from the VCF (bcftools view -s ^{name}).")
        pseudonym = pseudonymise(sheet[name])
        if pseudonym not in people.index:
            raise UserError(f"Sample {name} belongs to a person who is not a participant",
                            where=f"{sample_sheet}, sample {name}",
                            hint="Submit the person's participant row first, or correct the "
                            "resident ID in the sheet.")
        pseudonyms.append(pseudonym)
    if len(set(pseudonyms)) != len(pseudonyms):
        twice = pd.Series(names)[pd.Series(pseudonyms).duplicated()].iloc[0]
        raise UserError(f"Sample {twice} is a second sample of the same participant",
                        where=str(sample_sheet),
                        hint="Keep one sample per person (the better call rate) in the VCF.")
    sheet.clear()  # hold no resident IDs past this point
    parsed = read_vcf(vcf)
    found = people.loc[pseudonyms]
    samples = pd.DataFrame({"sample_id": pseudonyms, "population": None,
                            "super_population": None, "sex": found["sex"].to_numpy(),
                            "native_province": found["native_province"].to_numpy(),
                            "region": found["region"].to_numpy()})
    GenotypeStore.write_dataset(store_path, DatasetFiles(
        dataset, "participants", samples, parsed.variants, parsed.packed, build,
        {**parsed.source, "lake_catalog_version": lake.catalog().version}), replace=replace)
    rows = assay_rows(names, pseudonyms, assay_type=assay_type, centre=centre,
                      performed_on=performed_on, platform=platform,
                      submission_id=f"genotypes-{parsed.source['sha256'][:12]}")
    return GenotypeStore.open(store_path), rows


def _vcf_samples(vcf) -> list[str]:
    from cyvcf2 import VCF

    if not Path(vcf).exists():
        raise UserError("The VCF file does not exist", where=str(vcf),
                        hint="Check the path; bgzipped VCF (.vcf.gz) and BCF are read.")
    reader = VCF(str(vcf), lazy=True)
    try:
        return list(reader.samples)
    finally:
        reader.close()


def _participants(lake) -> pd.DataFrame:
    # everyone, withdrawn too: the store keeps what the centre sent, and every read of it
    # leaves out whom consent keeps out of genetics (precimed.genomics.consent)
    table = lake.snapshot().including_withdrawn().to_arrow(
        "participant", columns=["pseudonym", "sex", "native_province", "region"])
    return table.to_pandas().drop_duplicates("pseudonym").set_index("pseudonym")


def assay_rows(sample_ids: list[str], pseudonyms: list[str], *, assay_type: str, centre: str,
               performed_on: dt.date, platform: str | None, submission_id: str) -> pa.Table:
    """Rows of the lake's ``assay`` table, one per sample, with the system columns.

    ``assay_id`` is the laboratory's sample ID (the VCF column), as the standard defines
    it; the row key is added by :func:`record_assays`.
    """
    n = len(sample_ids)
    return pa.table({
        "pseudonym": pa.array(pseudonyms, pa.string()),
        "assay_id": pa.array(sample_ids, pa.string()),
        "assay_type": pa.array([assay_type] * n, pa.string()),
        "specimen_id": pa.array([None] * n, pa.string()),
        "performed_on": pa.array([performed_on] * n, pa.date32()),
        "platform": pa.array([platform] * n, pa.string()),
        "centre": pa.array([centre] * n, pa.string()),
        "submission_id": pa.array([submission_id] * n, pa.string()),
        "standard_version": pa.array([STANDARD_VERSION] * n, pa.string()),
    })


def record_assays(lake, rows: pa.Table, *, centre: str, digest: str):
    """Commit assay rows to the lake (idempotent by ``digest``, e.g. the VCF's sha256).

    This writes the ``assay`` table directly through :meth:`Lake.commit`, without the
    clinical package pipeline's QC gate: the rows are platform-made, one per sample that
    already passed the checks above.
    """
    import ibis

    from precimed.lake.rows import with_row_keys

    con = ibis.duckdb.connect()
    try:
        keyed = with_row_keys("assay", rows, con)
    finally:
        con.disconnect()
    return lake.commit({"assay": keyed}, submission_id=rows["submission_id"][0].as_py(),
                       centre=centre, digest=digest)
