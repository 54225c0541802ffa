"""Shared fixtures: an initialised platform home and small synthetic packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from precimed.home import initialise
from precimed.settings import Settings, load_settings
from precimed.synth import SynthResult, synthesise


def make_home(path: Path) -> Settings:
    settings = load_settings({"home": path}, environ={})
    initialise(settings)
    return settings


@pytest.fixture
def home_at():
    return make_home


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return make_home(tmp_path / "home")


@pytest.fixture(scope="session")
def clean_packages(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """About 600 people over every centre, every centre style, no defects."""
    out = tmp_path_factory.mktemp("synth") / "clean"
    return synthesise(out, participants_count=600, seed=7)
