from __future__ import annotations

import pytest

from precimed.errors import UserError
from precimed.settings import SETTINGS, load_settings


def test_argument_beats_environment_beats_file_beats_default(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "precimed.toml").write_text("disclosure_threshold = 12\n")
    assert load_settings({"home": home}, environ={}).disclosure_threshold == 12
    env = {"PRECIMED_DISCLOSURE_THRESHOLD": "15"}
    assert load_settings({"home": home}, environ=env).disclosure_threshold == 15
    assert load_settings({"home": home, "disclosure_threshold": 20},
                         environ=env).disclosure_threshold == 20
    assert load_settings({"home": tmp_path / "other"}, environ={}).disclosure_threshold == 10


def test_home_from_environment(tmp_path):
    settings = load_settings({}, environ={"PRECIMED_HOME": str(tmp_path)})
    assert settings.home == tmp_path.resolve()
    assert settings.lake_dir == tmp_path.resolve() / "lake"
    assert settings.pseudonym_key_file.parent != settings.lake_dir


def test_bad_values_and_unknown_settings_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="invalid value"):
        load_settings({"home": tmp_path}, environ={"PRECIMED_DISCLOSURE_THRESHOLD": "ten"})
    (tmp_path / "precimed.toml").write_text("colour = 'red'\n")
    with pytest.raises(UserError, match="Unknown setting"):
        load_settings({"home": tmp_path}, environ={})


def test_every_setting_has_help():
    assert all(s.help and s.name for s in SETTINGS)


def test_time_zone_defaults_to_shanghai_and_an_unknown_one_is_refused(tmp_path):
    import zoneinfo

    assert load_settings({"home": tmp_path}, environ={}).zone == zoneinfo.ZoneInfo(
        "Asia/Shanghai")
    env = {"PRECIMED_TIME_ZONE": "UTC"}
    assert load_settings({"home": tmp_path}, environ=env).zone == zoneinfo.ZoneInfo("UTC")
    with pytest.raises(UserError, match="not a known time zone") as refused:
        load_settings({"home": tmp_path}, environ={"PRECIMED_TIME_ZONE": "Mars/Olympus"})
    assert refused.value.where == "time_zone"
