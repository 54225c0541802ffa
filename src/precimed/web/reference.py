"""What the reference-database page needs besides the search API: readable names for the
groups a summary publishes, and each dataset's layout (which tables, which population
sits in which super-population) so the page can nest rows as the disclosure rule does.

Regions, provinces, sex and the 1000 Genomes populations are named by
:mod:`precimed.standard`; a population of another callset keeps its own code as its name.
"""

from __future__ import annotations

from fastapi import Request

from precimed.api.deps import platform
from precimed.errors import UserError
from precimed.standard.populations import POPULATIONS_1KG, SUPER_POPULATIONS_1KG

UNKNOWN = ("未知", "unknown")
STRATA: dict[str, tuple[str, str]] = {
    "all": ("全部", "All"),
    "region": ("地区", "Region"),
    "province": ("籍贯省份", "Native province"),
    "sex": ("性别", "Sex"),
    "super_population": ("超级人群", "Super-population"),
    "population": ("人群", "Population"),
}


def group_labels(lang: str) -> dict[str, dict[str, str]]:
    """Stratum → group code → name in ``lang`` (``zh`` or ``en``); the page falls back
    to the code for a group not named here."""
    from precimed.standard import PROVINCES, REGIONS, vocabulary

    i = 0 if lang == "zh" else 1
    labels = {
        "all": {"all": STRATA["all"][i]},
        "region": {code: (r.zh, r.en)[i] for code, r in REGIONS.items()},
        "province": {code: (p.zh, p.en)[i] for code, p in PROVINCES.items()},
        "sex": {code: pair[i] for code, pair in vocabulary("sex").codes.items()},
        "super_population": {code: pair[i] for code, pair in SUPER_POPULATIONS_1KG.items()},
        "population": {code: pair[i] for code, pair in POPULATIONS_1KG.items()},
    }
    for groups in labels.values():
        groups["unknown"] = UNKNOWN[i]
    return labels


def stratum_labels(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {stratum: pair[i] for stratum, pair in STRATA.items()}


def dataset_layouts(request: Request) -> dict[str, dict]:
    """Each served dataset's tables and nesting (labels only, no counts); empty when no
    summary is served, whose message the page shows from the API's answer."""
    try:
        return platform(request).reference_database().manifest["datasets"]
    except UserError:
        return {}
