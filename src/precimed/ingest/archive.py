"""Unpacking an uploaded package zip within hard limits.

A zip is untrusted: its declared sizes can lie, its names can be hostile, its members can
be corrupt. So only ``manifest.json`` and the files it lists are extracted, each streamed
in 1 MiB blocks while the real bytes are counted against the limits (total unpacked
bytes, members, compression ratio of each member), and every malformed archive — not a
zip, a bad CRC, an unsupported compression, a name too long for the file system, a
manifest that is not a manifest — is a :class:`precimed.errors.UserError` (HTTP 400).
Memory stays at one block whatever the archive holds.
"""

from __future__ import annotations

import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from precimed.errors import SubmissionRejected, UserError
from precimed.ingest.package import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    Manifest,
    parse_manifest,
    safe_relative_path,
)
from precimed.settings import Settings

BLOCK = 1 << 20
# members smaller than this are not held to the compression ratio (tiny files compress
# oddly and cannot be bombs)
RATIO_FLOOR = 1 << 20
# what zipfile raises for a damaged, encrypted or oddly compressed member
_ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError,
               zlib.error, EOFError)


@dataclass(frozen=True)
class ArchiveLimits:
    unpacked_bytes: int
    members: int
    compression_ratio: int

    @classmethod
    def of(cls, settings: Settings) -> ArchiveLimits:
        return cls(settings.max_unpacked_bytes, settings.max_members,
                   settings.max_compression_ratio)


def _refuse(what: str, hint: str = "Zip the package folder again and upload the .zip; "
                                   "large packages go through 'precimed submit'.") -> UserError:
    return UserError(what, where="file", hint=hint)


def unpack(archive: Path, into: Path, *, limits: ArchiveLimits) -> Path:
    """Extract ``manifest.json`` and the files it lists into ``into``; return ``into``."""
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise _refuse("The upload is not a zip archive",
                      "Zip the package folder (manifest.json, mapping.json and the data "
                      "files) and upload the .zip.") from None
    with bundle:
        members = bundle.infolist()
        if len(members) > limits.members:
            raise _refuse(f"The archive holds more than {limits.members:,} files")
        for member in members:
            if (problem := safe_relative_path(member.filename)) is not None:
                raise _refuse(f"The archive holds an unsafe path: {problem}",
                              "Zip the package folder itself, with short relative names.")
        manifest_member = _manifest_member(members)
        manifest = _read_manifest(bundle, manifest_member)
        root = PurePosixPath(manifest_member.filename).parent
        by_name = {m.filename: m for m in members if not m.is_dir()}
        listed = [*manifest.files, *([manifest.mapping] if manifest.mapping else [])]
        chosen = [by_name[name] for name in dict.fromkeys(
            str(root / entry.path) if str(root) != "." else entry.path for entry in listed)
            if name in by_name]
        declared = sum(m.file_size for m in chosen)
        if declared > limits.unpacked_bytes:
            raise _refuse(f"The package unpacks to more than {_size(limits.unpacked_bytes)}")
        into.mkdir(parents=True, exist_ok=True)
        (into / MANIFEST).write_bytes(_read_member(bundle, manifest_member, MAX_MANIFEST_BYTES))
        budget = limits.unpacked_bytes
        for member in chosen:
            _ratio_checked(member, limits.compression_ratio)
            target = into / PurePosixPath(member.filename).relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            budget -= _extract(bundle, member, target, budget)
    return into


def _manifest_member(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    found = sorted((m for m in members if PurePosixPath(m.filename).name == MANIFEST
                    and not m.is_dir()), key=lambda m: len(PurePosixPath(m.filename).parts))
    if not found:
        raise _refuse("The archive holds no manifest.json",
                      "A package is a folder with manifest.json; zip that folder.")
    return found[0]


def _read_manifest(bundle: zipfile.ZipFile, member: zipfile.ZipInfo) -> Manifest:
    data = _read_member(bundle, member, MAX_MANIFEST_BYTES)
    try:
        return parse_manifest(data, MANIFEST)
    except SubmissionRejected as exc:
        # refused before anything is staged: the caller's request was bad (400)
        raise UserError(exc.what, where=MANIFEST, hint=exc.hint) from None


def _read_member(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    chunks, size = [], 0
    with _opened(bundle, member) as source:
        while block := _block(source, member):
            size += len(block)
            if size > limit:
                raise _refuse(f"{member.filename[:200]} is larger than {_size(limit)}")
            chunks.append(block)
    return b"".join(chunks)


def _ratio_checked(member: zipfile.ZipInfo, ratio: int) -> None:
    if member.file_size > RATIO_FLOOR and member.file_size > ratio * max(member.compress_size, 1):
        raise _refuse(f"{member.filename[:200]} expands more than {ratio} times "
                      "(a zip bomb?)")


def _extract(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path,
             budget: int) -> int:
    """Stream one member to ``target``, counting the real bytes against the member's
    declared size and the remaining budget; returns the bytes written."""
    written = 0
    with _opened(bundle, member) as source, open(target, "wb") as out:
        while block := _block(source, member):
            written += len(block)
            if written > member.file_size or written > budget:
                raise _refuse(f"{member.filename[:200]} unpacks to more than it declares, "
                              "or past the limit")
            out.write(block)
    return written


@contextmanager
def _opened(bundle: zipfile.ZipFile, member: zipfile.ZipInfo):
    try:
        handle = bundle.open(member)
    except _ZIP_ERRORS as exc:
        raise _broken(member, exc) from None
    with handle:
        yield handle


def _block(source, member: zipfile.ZipInfo) -> bytes:
    try:
        return source.read(BLOCK)
    except _ZIP_ERRORS as exc:
        raise _broken(member, exc) from None


def _broken(member: zipfile.ZipInfo, exc: BaseException) -> UserError:
    # zipfile says "Bad CRC-32", "compression type 99", "encrypted": name the kind only
    reason = "a checksum (CRC) does not match" if "CRC" in str(exc) else \
        "it is encrypted or compressed in a way that is not supported" \
        if isinstance(exc, NotImplementedError | RuntimeError) else "it is damaged"
    return _refuse(f"{member.filename[:200]} cannot be unpacked: {reason}",
                   "Zip the package again (plain deflate, no password) and upload it again.")


def _size(n: int) -> str:
    return f"{n / 1024**3:,.0f} GiB" if n >= 1024**3 else f"{n / 1024**2:,.0f} MiB"
