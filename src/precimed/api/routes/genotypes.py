"""Genotypes: a centre's VCF and sample sheet uploaded from the web and submitted in a job
by the same gate as ``precimed genomics submit`` (:mod:`precimed.workflows.genotypes`).

What the form says is checked before any job starts (the centre is the user's, the build
and assay type are known, the dataset is the centre's and may be written, the VCF is a
VCF with samples); what needs the data (the sheet, the samples, QC) is the job's. The
files are kept in a private folder under the home's cache and removed after the job.
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from precimed.api import jobs
from precimed.api.deps import check_centre, client_of, platform, require
from precimed.errors import Conflict, NotFound, UserError
from precimed.genomics.store import GenotypeStore, check_dataset_name
from precimed.genomics.vcf import check_build
from precimed.ingest.package import sha256_of
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.settings import Settings
from precimed.standard import CENTRES, vocabulary

router = APIRouter(tags=["genotypes"])
MAX_SHEET = 64 * 1024**2
SAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


def default_dataset(centre: str) -> str:
    return f"{centre.lower()}-genotypes"


def _checked_centre(principal: Principal, centre: str) -> str:
    check_centre(principal, centre, "centre")
    if centre not in CENTRES:  # answered as one outside the user's scope
        raise NotFound("No centre here", where="centre",
                       hint="It does not exist, or it belongs to a centre you do not serve.")
    return centre


def _checked_options(centre: str, *, build: str, dataset: str | None,
                     assay_type: str) -> str:
    """The dataset's name (the centre's default if none); the other options checked."""
    check_build(build)
    codes = vocabulary("assay_type").codes
    if assay_type not in codes:
        raise UserError(f"Assay type {assay_type!r} is not in the standard", where="assay_type",
                        hint="Use one of " + ", ".join(codes) + ".")
    name = dataset.strip() if dataset and dataset.strip() else default_dataset(centre)
    check_dataset_name(name)  # the domain's rule, as the CLI's
    prefix = f"{centre.lower()}-"
    if not name.lower().startswith(prefix):
        # the prefix keeps each centre's datasets its own: no upload can replace another's
        raise UserError(f"The dataset name {name!r} is not allowed", where="dataset",
                        hint=f"Use letters, digits, '-' and '_' only, starting with "
                             f"'{prefix}' (e.g. {default_dataset(centre)}); or leave it empty.")
    return name


def _check_target(settings: Settings, dataset: str, *, build: str, replace: bool,
                  vcf: Path | None = None) -> bool:
    """Refuse now what publishing would refuse after QC: a dataset already there (without
    replace), or a build other than the store's. The same VCF uploaded again (after a
    crash, say) is not refused: True means it republishes the dataset as it is."""
    if not (settings.genotypes_dir / "store.json").exists():
        return False
    meta = GenotypeStore.open(settings.genotypes_dir).meta
    if meta["build"] != build:
        raise Conflict(f"The genotype store is on {meta['build']}, not {build}", where="build",
                       hint=f"Lift the VCF over to {meta['build']} first, or declare the "
                            "build the VCF is really on.")
    entry = next((d for d in meta["datasets"] if d["name"] == dataset), None)
    if entry is None or vcf is None:
        return False
    if (entry["kind"] == "participants" and not replace
            and (entry.get("source") or {}).get("sha256") == sha256_of(vcf)):
        return True
    if not replace or entry["kind"] != "participants":
        raise Conflict(f"Dataset {dataset!r} is already in the genotype store",
                       where="dataset",
                       hint="Tick 'replace' to swap it for this VCF, or choose another "
                            "dataset name.")
    return False


def _file_name(upload: UploadFile, default: str) -> str:
    """The uploaded file's own name, made safe to keep (no folders, no odd characters)."""
    name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
    name = SAFE_CHARACTERS.sub("_", name).lstrip(".")[:100]
    return name or default


def _save(upload: UploadFile, folder: Path, *, field: str, default: str, limit: int) -> Path:
    folder.mkdir(mode=0o700)
    target = folder / _file_name(upload, default)
    jobs.save_upload(upload, target, field=field, name=f"{field} file", limit=limit,
                     hint="Submit large files with 'precimed genomics submit'.")
    return target


def _check_vcf(path: Path) -> int:
    """The number of samples of a readable VCF/BCF; a UserError for anything else."""
    from cyvcf2 import VCF

    try:
        reader = VCF(str(path), lazy=True)
    except (OSError, ValueError):
        raise UserError(f"The file {path.name} is not a VCF or BCF", where="vcf",
                        hint="Upload a bgzipped VCF (.vcf.gz), a plain .vcf or a .bcf; "
                             "check it with 'bcftools view -h'.") from None
    try:
        samples = len(reader.samples)
    finally:
        reader.close()
    if samples == 0:
        raise UserError(f"The VCF {path.name} has no samples", where="vcf",
                        hint="Upload the centre's VCF with one genotype column per sample.")
    return samples


@router.post("/genotypes", status_code=202,
             summary="Upload a centre's VCF and sample sheet; returns a job to watch")
def upload_genotypes(
        request: Request,
        vcf: UploadFile = File(..., description="bgzipped VCF (.vcf.gz), .vcf or .bcf"),
        sheet: UploadFile = File(..., description="CSV with columns sample_id,resident_id"),
        centre: str = Form(..., description="The centre whose participants these are"),
        build: str = Form(..., description="GRCh38 or GRCh37"),
        dataset: str | None = Form(None, description="Dataset name, starting with the "
                                   "centre's code (default '<centre>-genotypes')"),
        assay_type: str = Form("genotype_array", description="From the standard's "
                               "assay_type vocabulary"),
        replace: bool = Form(False, description="Replace the centre's dataset of this name"),
        principal: Principal = Depends(require("submissions.create"))) -> dict:
    p = platform(request)
    centre = _checked_centre(principal, centre)
    name = _checked_options(centre, build=build, dataset=dataset, assay_type=assay_type)
    _check_target(p.settings, name, build=build, replace=replace)
    uploads = p.settings.cache_dir / "uploads"
    uploads.mkdir(mode=0o700, parents=True, exist_ok=True)
    workdir = uploads / secrets.token_hex(8)
    workdir.mkdir(mode=0o700)
    try:
        vcf_path = _save(vcf, workdir / "vcf", field="vcf", default="genotypes.vcf.gz",
                         limit=p.settings.max_upload_bytes)
        sheet_path = _save(sheet, workdir / "sheet", field="sheet", default="samples.csv",
                           limit=min(MAX_SHEET, p.settings.max_upload_bytes))
        samples = _check_vcf(vcf_path)
        replace = _check_target(p.settings, name, build=build, replace=replace,
                                vcf=vcf_path) or replace
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    job_id = jobs.create(p.ops, kind="genotypes", owner_id=principal.user_id, centre=centre)
    audit.record(p.ops, actor=principal.username, action="genotypes.upload", outcome="ok",
                 resource=f"job {job_id}", client=client_of(request),
                 detail={"centre": centre, "dataset": name, "build": build,
                         "replace": replace, "samples": samples,
                         "bytes": vcf_path.stat().st_size + sheet_path.stat().st_size})
    upload = jobs.GenotypeUpload(workdir=workdir, vcf=vcf_path, sheet=sheet_path,
                                 centre=centre, build=build, dataset=name,
                                 assay_type=assay_type, replace=replace)
    jobs.run_genotypes(p.settings, p.ops, job_id, upload, on_done=p.forget)
    return {"job": job_id, "centre": centre, "dataset": name, "status": "queued"}
