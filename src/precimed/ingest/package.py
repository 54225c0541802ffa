"""Submission packages: the manifest, checksums and the centre's column mapping.

A package is a folder::

    manifest.json   centre, standard version, every file with its table, size, SHA-256
    mapping.json    the centre's column mapping: its headers -> the standard's fields
    *.csv, *.xlsx   the data, one file per table

The mapping is data, not code: a centre whose export uses Chinese headers, or its own
column names, registers that once and sends it with each package.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from precimed.errors import SubmissionRejected
from precimed.reports.problems import Problem, Report
from precimed.standard import (
    CENTRES,
    DERIVED_TABLES,
    IDENTIFYING_FIELDS,
    STANDARD_VERSION,
    TABLES,
)

MANIFEST = "manifest.json"
PACKAGE_FORMAT = 1
DROP = "drop"


@dataclass(frozen=True)
class PackageFile:
    path: str
    table: str
    size: int
    sha256: str
    encoding: str | None = None


@dataclass(frozen=True)
class FileMapping:
    columns: dict[str, str]  # the centre's header -> standard field, or "drop"
    values: dict[str, dict[str, str]]  # standard field -> {centre's value: standard code}


@dataclass(frozen=True)
class Manifest:
    centre: str
    standard_version: str
    files: tuple[PackageFile, ...]
    mapping: PackageFile | None
    digest: str  # identifies the package's content, whatever the folder is called


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _reject(what: str, where: str, hint: str) -> SubmissionRejected:
    return SubmissionRejected(what, where=where, hint=hint)


def read_manifest(package: Path) -> Manifest:
    """Parse and check the manifest itself; file contents are verified separately."""
    path = package / MANIFEST
    if not package.is_dir():
        raise _reject("The package folder does not exist", str(package),
                      "Give the folder that holds manifest.json.")
    if not path.exists():
        raise _reject("The package has no manifest.json", str(package),
                      "Every package needs a manifest listing its files; "
                      "'precimed synth' shows an example.")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _reject(f"manifest.json is not valid JSON: {exc}", str(path),
                      "Save the manifest as UTF-8 JSON.") from None
    if not isinstance(data, dict):
        raise _reject("manifest.json must hold a JSON object", str(path),
                      "See the example package from 'precimed synth'.")
    centre = data.get("centre")
    if centre not in CENTRES:
        raise _reject(f"Unknown centre {centre!r} in the manifest", str(path),
                      "Use your centre's registered code, e.g. " + ", ".join(list(CENTRES)[:4]))
    version = str(data.get("standard_version", ""))
    if version.split(".")[0] != STANDARD_VERSION.split(".")[0]:
        raise _reject(f"The package is written for standard {version or '(none)'}",
                      str(path), f"This platform reads standard {STANDARD_VERSION}; "
                      "export again with the current data dictionary.")
    files = tuple(_package_file(entry, path) for entry in data.get("files") or [])
    if not files:
        raise _reject("The manifest lists no data files", str(path),
                      "List each data file with its table, size and sha256.")
    mapping = _package_file({**data["mapping"], "table": "mapping"}, path) \
        if data.get("mapping") else None
    content = sorted((f.path, f.table, f.sha256) for f in files)
    if mapping:
        content.append((mapping.path, "mapping", mapping.sha256))
    digest = hashlib.sha256(json.dumps([centre, content]).encode()).hexdigest()
    return Manifest(centre, version, files, mapping, digest)


def _package_file(entry: object, manifest: Path) -> PackageFile:
    if not isinstance(entry, dict) or not {"path", "table", "size", "sha256"} <= entry.keys():
        raise _reject("A file entry in the manifest lacks path, table, size or sha256",
                      str(manifest), "Each entry needs all four.")
    if entry["table"] in DERIVED_TABLES:
        raise _reject(f"Table {entry['table']!r} is computed by the platform, not submitted",
                      f"{manifest}, file {entry['path']}",
                      "Remove the file from the package; the platform derives this table "
                      "(genotypes go through 'precimed genomics submit').")
    if entry["table"] != "mapping" and entry["table"] not in TABLES:
        raise _reject(f"The manifest names an unknown table {entry['table']!r}",
                      f"{manifest}, file {entry['path']}",
                      "Tables of the standard: " + ", ".join(TABLES))
    name = str(entry["path"])
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise _reject("A file path in the manifest leaves the package", str(manifest),
                      "Use paths relative to the package folder.")
    return PackageFile(name, entry["table"], int(entry["size"]), str(entry["sha256"]).lower(),
                       entry.get("encoding"))


def verify_files(package: Path, manifest: Manifest, report: Report) -> None:
    """Check each listed file exists with the size and checksum the manifest states."""
    listed = [*manifest.files, *([manifest.mapping] if manifest.mapping else [])]
    for entry in listed:
        path = package / entry.path
        if not path.exists():
            report.add(Problem("missing_file", entry.path, 0, "", "", "the file is missing",
                               "Add the file or remove it from manifest.json."))
            continue
        size = path.stat().st_size
        if size != entry.size:
            report.add(Problem("checksum", entry.path, 0, "", "",
                               f"the file has {size} bytes, the manifest says {entry.size}",
                               "The file changed or was cut short in transfer; send it again."))
        elif sha256_of(path) != entry.sha256:
            report.add(Problem("checksum", entry.path, 0, "", "",
                               "the SHA-256 does not match the manifest",
                               "The file changed after the manifest was written; "
                               "regenerate the manifest or send the original file."))


def read_mapping(package: Path, manifest: Manifest, report: Report) -> dict[str, FileMapping]:
    """The centre's mapping per data file; files without one must use standard names."""
    if manifest.mapping is None:
        return {}
    path = package / manifest.mapping.path
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        files = data["files"]
        result = {
            name: FileMapping(dict(spec.get("columns", {})), dict(spec.get("values", {})))
            for name, spec in files.items()
        }
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, AttributeError,
            TypeError) as exc:
        report.add(Problem("mapping", manifest.mapping.path, 0, "", "",
                           f"the mapping file cannot be read ({type(exc).__name__})",
                           "It must be UTF-8 JSON: {\"files\": {FILE: {\"columns\": {...}}}}."))
        return {}
    known = {f.name for t in TABLES.values() for f in t.submitted_fields}
    known |= {f.name for f in IDENTIFYING_FIELDS} | {DROP}
    for name, spec in result.items():
        for header, target in spec.columns.items():
            if target not in known:
                report.add(Problem("mapping", manifest.mapping.path, 0, header, "",
                                   f"file {name}: maps to unknown field {target!r}",
                                   "Map to a field of the data dictionary, or to 'drop'."))
    return result
