"""Consent in the genotype paths (the rule: :mod:`precimed.standard.consent`).

Whom the participant table keeps out of genetics (``withdrawn`` or ``no_genetic``) is
left out of every genotype output: the store is read through
:meth:`GenotypeStore.without` (:func:`consented_store`), so the Beacon, the reference
frequencies and ``variant_summary`` all count without them. A genotype output labelled
from a release leaves out whom that release's participant table keeps out, and also
whom the current lake does (a withdrawal submitted since): for genotypes the platform
errs on the side of leaving out sooner. :func:`refresh_variant_summaries` runs before a
release is frozen, so the release's ``variant_summary`` follows the consent it records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from precimed.lake.consent import without_genetics

if TYPE_CHECKING:
    from precimed.genomics.store import GenotypeStore
    from precimed.lake import Lake
    from precimed.settings import Settings


def left_out(lake: Lake, release: str | None = None) -> frozenset[str]:
    """Pseudonyms no genotype output may include: kept out of genetics by ``release``'s
    participant table (None: the current lake's), or by the current lake's."""
    people = without_genetics(lake.snapshot())
    if release is not None:
        people |= without_genetics(lake.snapshot(release))
    return people


def consented_store(store: GenotypeStore, lake: Lake, release: str | None = None
                    ) -> GenotypeStore:
    """``store`` without the samples of :func:`left_out`."""
    return store.without(left_out(lake, release))


def refresh_variant_summaries(settings: Settings) -> dict[str, int]:
    """Recompute the lake's ``variant_summary`` of every participant dataset with the
    consent the lake holds now; a dataset whose summary is unchanged writes nothing.
    Returns the rows written per dataset that changed."""
    from precimed.genomics.store import GenotypeStore
    from precimed.genomics.summary import TABLE, publish_variant_summary
    from precimed.lake import Lake

    if not (settings.genotypes_dir / "store.json").exists():
        return {}
    lake = Lake(settings.lake_dir)
    store = GenotypeStore.open(settings.genotypes_dir)
    published = lake.snapshot().to_arrow(TABLE, columns=["dataset", "centre"]).to_pylist()
    centres = {row["dataset"]: row["centre"] for row in published}
    written = {}
    for entry in store.meta["datasets"]:
        name = entry["name"]
        if entry.get("kind") != "participants" or name not in centres:
            continue  # a reference callset has no consent; an unpublished one no summary
        committed, changed = publish_variant_summary(lake, store, name, centre=centres[name])
        if changed:
            written[name] = committed.rows_added[TABLE]
    return written

