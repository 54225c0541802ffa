"""The real app with the Beacon router and a small genotype store, for the discovery and
schema-validation tests.

The Beacon answers from a :class:`~precimed.discovery.source.LiveSource`, as under
``precimed serve``. The home holds the reference summary of the same store
(HOME/reference, written under the beacon's policy) unless ``with_summary=False``.

Callers: anonymous (public tier), a researcher with a real API token (registered), and
a controlled-tier caller. Until ``beacon.controlled`` is granted to a role in
precimed.ops.roles, the controlled caller is a Principal whose permissions include it,
put in place of the router's ``caller`` dependency (FastAPI's override mechanism).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from precimed.api.app import create_app
from precimed.api.routes import beacon
from precimed.deid import Policy
from precimed.discovery.granularity import CONTROLLED_PERMISSION
from precimed.discovery.source import BeaconSource, LiveSource
from precimed.genomics import GenotypeStore
from precimed.home import initialise
from precimed.ops import OpsDatabase, accounts
from precimed.ops.accounts import Principal
from precimed.reference.frequencies import write_summary
from precimed.settings import load_settings
from unit.reference.small_store import build_small_store

THRESHOLD = 10


@dataclass(frozen=True)
class ControlledPrincipal(Principal):
    @property
    def permissions(self) -> frozenset[str]:
        return super().permissions | {CONTROLLED_PERMISSION}


@dataclass
class BeaconApp:
    client: TestClient
    registered: dict[str, str]  # headers
    small: object

    def controlled(self) -> None:
        who = ControlledPrincipal(1, "steward", "Steward", ("researcher",), (), "token")
        self.client.app.dependency_overrides[beacon.caller] = lambda: who

    def public(self) -> None:
        self.client.app.dependency_overrides.pop(beacon.caller, None)


def build_beacon_app(root: Path, *, with_summary: bool = True) -> BeaconApp:
    settings = load_settings({"home": root / "home"}, environ={})
    initialise(settings)
    small = build_small_store(root / "store")
    cohorts = pd.DataFrame({"pseudonym": small.participants["sample_id"],
                            "cohort": ["NP-EAST"] * 150 + ["DC-LUNG"] * 10,
                            "sex": small.participants["sex"],
                            "native_province": small.participants["native_province"]})
    app = create_app(settings)  # mounts the beacon router
    # served as `precimed serve` serves it: through a LiveSource that keeps it current
    app.state.beacon = LiveSource(
        lambda: BeaconSource.open(root / "store", policy=Policy(THRESHOLD),
                                  participants=cohorts),
        lambda: "fixed")
    if with_summary:  # record-level g_variants then carry frequencyInPopulations
        write_summary(GenotypeStore.open(root / "store"), settings.home / "reference",
                      participants=cohorts, policy=Policy(THRESHOLD))
    ops = OpsDatabase(settings.database_url)
    accounts.create_user(ops, "researcher", "correct-horse-battery", roles=["researcher"])
    who = accounts.authenticate(ops, "researcher", "correct-horse-battery")
    token = accounts.issue_token(ops, who, "beacon-tests")
    ops.dispose()
    return BeaconApp(TestClient(app), {"Authorization": f"Bearer {token}"}, small)
