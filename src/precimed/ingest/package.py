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
from pathlib import Path, PurePosixPath

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
MAX_MANIFEST_BYTES = 4 * 1024**2
MAX_PATH_BYTES = 4096  # PATH_MAX on Linux
MAX_NAME_BYTES = 255  # NAME_MAX: one file or folder name
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
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise _reject("manifest.json is too large", str(path),
                      f"A manifest lists files in at most {MAX_MANIFEST_BYTES // 1024} KiB.")
    return parse_manifest(path.read_bytes(), str(path))


def parse_manifest(data: bytes, where: str) -> Manifest:
    """Check a manifest's bytes: every malformed one (not JSON, nested too deep, a field
    of the wrong type) is refused with a :class:`SubmissionRejected`, never a crash."""
    try:
        data = json.loads(data.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _reject(f"manifest.json is not valid JSON: {exc}", where,
                      "Save the manifest as UTF-8 JSON.") from None
    except RecursionError:
        raise _reject("manifest.json is nested too deeply", where,
                      "A manifest is a flat object with a list of files.") from None
    if not isinstance(data, dict):
        raise _reject("manifest.json must hold a JSON object", where,
                      "See the example package from 'precimed synth'.")
    centre = data.get("centre")
    if not isinstance(centre, str) or centre not in CENTRES:
        raise _reject(f"Unknown centre {str(centre)[:40]!r} in the manifest", where,
                      "Use your centre's registered code, e.g. " + ", ".join(list(CENTRES)[:4]))
    version = str(data.get("standard_version", ""))[:40]
    if version.split(".")[0] != STANDARD_VERSION.split(".")[0]:
        raise _reject(f"The package is written for standard {version or '(none)'}",
                      where, f"This platform reads standard {STANDARD_VERSION}; "
                      "export again with the current data dictionary.")
    entries = data.get("files") or []
    if not isinstance(entries, list):
        raise _reject("'files' in the manifest must be a list", where,
                      "List each data file as {\"path\", \"table\", \"size\", \"sha256\"}.")
    files = tuple(_package_file(entry, where) for entry in entries)
    if not files:
        raise _reject("The manifest lists no data files", where,
                      "List each data file with its table, size and sha256.")
    mapping_entry = data.get("mapping")
    if mapping_entry and not isinstance(mapping_entry, dict):
        raise _reject("'mapping' in the manifest must be an object", where,
                      "Give it as {\"path\": \"mapping.json\", \"size\": ..., \"sha256\": ...}.")
    mapping = _package_file({**mapping_entry, "table": "mapping"}, where) \
        if mapping_entry else None
    content = sorted((f.path, f.table, f.sha256) for f in files)
    if mapping:
        content.append((mapping.path, "mapping", mapping.sha256))
    digest = hashlib.sha256(json.dumps([centre, content]).encode()).hexdigest()
    return Manifest(centre, version, files, mapping, digest)


def safe_relative_path(name: str) -> str | None:
    """Why ``name`` cannot be a file of a package (None when it can): it must stay inside
    the package, and its length fit every file system (4,096 bytes, 255 per part)."""
    if len(name.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"a path longer than {MAX_PATH_BYTES:,} bytes"
    parts = PurePosixPath(name).parts
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts):
        return f"a file or folder name longer than {MAX_NAME_BYTES} bytes"
    if (not name or PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name
            or "\x00" in name or (len(name) > 1 and name[1] == ":")):
        return "a path that leaves the package"
    return None


def _package_file(entry: object, where: str) -> PackageFile:
    if not isinstance(entry, dict) or not {"path", "table", "size", "sha256"} <= entry.keys():
        raise _reject("A file entry in the manifest lacks path, table, size or sha256",
                      where, "Each entry needs all four.")
    name, table, size, sha256 = entry["path"], entry["table"], entry["size"], entry["sha256"]
    encoding = entry.get("encoding")
    if not (isinstance(name, str) and isinstance(table, str) and isinstance(sha256, str)
            and isinstance(size, int) and not isinstance(size, bool) and size >= 0
            and (encoding is None or isinstance(encoding, str))):
        raise _reject("A file entry in the manifest has a field of the wrong type", where,
                      "path, table, sha256 and encoding are text; size is a whole number of "
                      "bytes.")
    if table in DERIVED_TABLES:
        raise _reject(f"Table {table!r} is computed by the platform, not submitted",
                      f"{where}, file {name[:200]}",
                      "Remove the file from the package; the platform derives this table "
                      "(genotypes go through 'precimed genomics submit').")
    if table != "mapping" and table not in TABLES:
        raise _reject(f"The manifest names an unknown table {table[:64]!r}",
                      f"{where}, file {name[:200]}",
                      "Tables of the standard: " + ", ".join(TABLES))
    if (problem := safe_relative_path(name)) is not None:
        raise _reject(f"A file path in the manifest is not allowed: {problem}", where,
                      "Use short paths relative to the package folder.")
    return PackageFile(name, table, size, sha256.lower(), encoding)


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
        _all_text(result)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, AttributeError,
            TypeError, ValueError, RecursionError) as exc:
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


def _all_text(mappings: dict[str, FileMapping]) -> None:
    """Raise TypeError unless every header, field, value and code of a mapping is text."""
    for name, spec in mappings.items():
        pairs = [(name, ""), *spec.columns.items()]
        for field, codes in spec.values.items():
            if not isinstance(codes, dict):
                raise TypeError(field)
            pairs += [(field, ""), *codes.items()]
        if not all(isinstance(a, str) and isinstance(b, str) for a, b in pairs):
            raise TypeError(name)
