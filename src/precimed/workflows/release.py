"""Make a release (a use case: the lake's tables, plus state kept outside the lake that a
release must freeze): the current version of every table, the data cut, and the endpoint
decisions as they stand, copied into the derived table ``confirmed_endpoint``; genotype
summaries brought up to the consent the lake holds first, and the reference database
rebuilt from the new release after (precimed.genomics.consent)."""

from __future__ import annotations

import datetime as dt

from precimed.cohorts.adjudication import confirmed_rows
from precimed.genomics.consent import refresh_variant_summaries
from precimed.lake import Lake, Release
from precimed.ops import OpsDatabase
from precimed.reference.served import rebuild
from precimed.settings import Settings
from precimed.standard import CONFIRMED_ENDPOINT


def create_release(settings: Settings, name: str, *, description: str = "",
                   data_cut: dt.date | None = None) -> Release:
    """Freeze the lake under ``name`` with its data cut (``data_cut`` or the latest
    observation date) and the confirmed endpoints of the operational database.

    The release leaves out of ``variant_summary`` whom the lake keeps out of genetics
    (withdrawn, no_genetic), and the served reference frequencies follow it."""
    refresh_variant_summaries(settings)
    ops = OpsDatabase(settings.database_url)
    ops.create()  # a home made before a table existed gains it
    try:
        rows = confirmed_rows(ops, release=name)
    finally:
        ops.dispose()
    release = Lake(settings.lake_dir).create_release(
        name, description=description, data_cut=data_cut,
        derived={CONFIRMED_ENDPOINT.name: rows})
    if (settings.genotypes_dir / "store.json").exists():
        rebuild(settings)
    return release
