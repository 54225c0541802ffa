"""The reference database a platform home serves (``HOME/reference``): rebuilt from the
home's genotype store, swapped into place whole.

:func:`rebuild` labels the samples with the participants of a release (default: the
newest; without one, the sex and native province the store copied from the lake at
ingest), leaves out the people whose consent keeps them out of genetics
(:mod:`precimed.genomics.consent`), writes the summary and its published values under
the home's disclosure policy into a fresh folder, then renames it over the served one,
so a server reading the database sees the old or the new summary, never half of each.
Called by ``precimed genomics summarise``, after every published genotype submission,
after ``precimed release create``, and by the demo.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from precimed.deid import Policy
from precimed.files import locked, replacing
from precimed.reference.frequencies import write_summary

if TYPE_CHECKING:
    from precimed.genomics import GenotypeStore
    from precimed.settings import Settings


def served_path(settings: Settings) -> Path:
    return settings.home / "reference"


def rebuild(settings: Settings, *, release: str | None = None
            ) -> tuple[Path, GenotypeStore]:
    """Rebuild ``HOME/reference``; returns its path and the store it was built from."""
    from precimed.genomics import GenotypeStore
    from precimed.genomics.consent import consented_store
    from precimed.lake import Lake

    lake = Lake(settings.lake_dir)
    releases = lake.catalog().releases
    chosen = release or max(releases, key=lambda n: releases[n].created_at, default=None)
    store = consented_store(GenotypeStore.open(settings.genotypes_dir), lake, chosen)
    participants = (lake.snapshot(chosen).to_arrow(
        "participant", columns=["pseudonym", "sex", "native_province", "cohort"]).to_pandas()
        if chosen else None)
    target = served_path(settings)
    # two rebuilds at once (a CLI command and a server job) would swap folders under
    # each other; the second waits, then swaps in its own summary
    with locked(target.with_name(".rebuild-reference.lock")), replacing(target) as building:
        write_summary(store, building, participants=participants,
                      policy=Policy.from_settings(settings))
    return target, store
