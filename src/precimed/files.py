"""Durable file writes and cross-process locks: the one copy every package that keeps files uses.

A reader must see the old file or the new one, never half of either, and after a crash or
a power cut the new file must be there once the call returned. So a file is written under
a unique temporary name in the same folder (a rename is atomic only within one file
system), flushed to disk, renamed over its target, and the folder itself is flushed (the
rename lives in the folder's entry). Writers in several processes (server workers, CLI
commands, jobs) take an ``fcntl.flock`` on a lock file next to what they write.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing) for the block.

    Other processes (and other open file descriptions in this one) wait at the same lock;
    the kernel releases it if the holder dies, so a crashed writer never wedges the rest.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(path: Path) -> None:
    """Flush a file, or every file and folder below ``path``, to disk."""
    paths = [path] if path.is_file() else [*path.rglob("*"), path]
    for each in paths:
        if each.is_dir():
            sync_folder(each)
        else:
            with each.open("rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary path next to ``target``; when the block ends without an
    error, what was written there (a file, or a folder of files) is flushed and renamed over
    ``target`` and the folder is flushed. On an error the temporary path is removed and
    ``target`` is left as it was.

    A rename cannot swap two full folders, so a folder ``target`` that exists is first
    renamed aside and removed after the new one is in place: between the two renames a
    reader finds no folder (and retries or fails clearly), never a mix of old and new.
    Concurrent writers of one ``target`` hold a :func:`locked` lock around this.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    retired = None
    try:
        yield tmp
        _sync_tree(tmp)
        if tmp.is_dir() and target.is_dir():
            retired = target.with_name(f".{target.name}.{secrets.token_hex(6)}.old")
            target.rename(retired)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        if retired is not None and not target.exists():
            retired.rename(target)  # put the old folder back
        raise
    sync_folder(target.parent)
    if retired is not None:
        _remove(retired)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` so that readers see the old or the new
    file, never half, and the new one survives a crash once this returns."""
    with replacing(Path(path)) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
