from __future__ import annotations

import os
import stat

import pytest

from precimed.deid.pseudonym import Pseudonymiser, create_key, load_key
from precimed.errors import NotInitialised, UserError


def test_key_is_owner_only_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "pseudonym.key"
    create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        create_key(path)


def test_pseudonyms_are_keyed_stable_and_differ_between_keys(tmp_path):
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    create_key(a)
    create_key(b)
    rid = "11010519491231002X"
    first = Pseudonymiser(load_key(a))
    assert first(rid) == Pseudonymiser(load_key(a))(rid)
    assert first(rid) != Pseudonymiser(load_key(b))(rid)
    assert rid not in first(rid) and len(first(rid)) == 32


def test_loose_permissions_and_missing_keys_are_user_errors(tmp_path):
    path = tmp_path / "k.key"
    with pytest.raises(NotInitialised):
        load_key(path)
    create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(UserError, match="readable by others"):
        load_key(path)
