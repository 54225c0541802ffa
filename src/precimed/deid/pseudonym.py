"""Pseudonyms: keyed HMAC-SHA256 of the resident ID under a platform key.

The key lives in the platform home's ``keys/`` folder, outside the lake, readable by
its owner only. A plain hash would let anyone who can enumerate ID numbers reverse it
(45 CFR 164.514(c) forbids a code derived from the person's information alone), so the
key is what makes the pseudonym safe.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from precimed.errors import NotInitialised, UserError

KEY_BYTES = 32
PSEUDONYM_HEX = 32  # 128 bits: collision-free for any population on Earth


def create_key(path: Path) -> None:
    """Write a new random key with owner-only permissions; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")


def load_key(path: Path) -> bytes:
    if not path.exists():
        raise NotInitialised("The pseudonymisation key is missing", where=str(path),
                             hint="Run 'precimed init' to create the platform home.")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UserError("The pseudonymisation key is readable by others", where=str(path),
                        hint=f"Run 'chmod 600 {path}'.")
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise UserError("The pseudonymisation key file is damaged", where=str(path),
                        hint="Restore it from the key backup; a new key would break linkage.")
    return key


class Pseudonymiser:
    """Turns normalised, validated resident IDs into pseudonyms."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, resident_id: str) -> str:
        digest = hmac.new(self._key, resident_id.encode("ascii"), hashlib.sha256)
        return digest.hexdigest()[:PSEUDONYM_HEX]

    def __repr__(self) -> str:
        return "Pseudonymiser(<key>)"
