"""Approvals as GA4GH Passport visas: Beacon controlled access follows the committee.

Each active project a person belongs to (on a date) that was approved for a genotype
dataset becomes one ``ControlledAccessGrants`` visa (GA4GH Passport v1.2): a JWT signed
by the platform (HS256, key ``keys/visa.key``, mode 600, outside the lake) whose
``ga4gh_visa_v1`` claim holds ``type``, ``asserted`` (the decision, seconds since the
epoch), ``value`` (``urn:precimed:dataset:<genotype dataset>``), ``source`` (the
platform's committee) and ``by`` (``dac``), and whose ``exp`` is the project's expiry.
:func:`grants` verifies a passport's visas (signature, type, expiry) and returns the
datasets they grant: :func:`precimed.discovery.granularity.tier_of` gives the controlled
tier for exactly those, so record-level answers come from an approval, and close when it
expires or is revoked (the next request builds a passport without it).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import jwt

from precimed.deid.pseudonym import create_key, load_key
from precimed.ops.accounts import Principal
from precimed.ops.db import OpsDatabase
from precimed.sharing import requests
from precimed.standard.sharing import GENETIC_INFORMATION_KINDS

VISA_TYPE = "ControlledAccessGrants"
SOURCE = "urn:precimed:dac"
DATASET_URN = "urn:precimed:dataset:"
ALGORITHM = "HS256"
ISSUER = "urn:precimed"


def visa_key(keys_dir: Path) -> bytes:
    """The platform's visa-signing key (made on first use, owner-only)."""
    path = keys_dir / "visa.key"
    if not path.exists():
        create_key(path)
    return load_key(path)


def _epoch(day: dt.date, *, end: bool = False) -> int:
    moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    return calendar.timegm(moment.timetuple())


def passport(ops: OpsDatabase, principal: Principal, *, key: bytes, on: dt.date
             ) -> list[str]:
    """Signed visas of the principal's projects active on ``on``, one per approved
    genotype dataset."""
    visas = []
    for project in requests.mine(ops, principal=principal):
        if project.status != "active" or (project.expires_on and on > project.expires_on) \
                or (project.active_from and on < project.active_from):
            continue
        for entry in requests.datasets_of(ops, project.id):
            if entry.kind not in GENETIC_INFORMATION_KINDS or not entry.genotype_dataset:
                continue
            asserted = project.decided_on or project.active_from or on
            claims = {"iss": ISSUER, "sub": principal.username, "iat": _epoch(on),
                      "jti": f"{project.id}:{entry.id}",
                      "ga4gh_visa_v1": {"type": VISA_TYPE, "asserted": _epoch(asserted),
                                        "value": DATASET_URN + entry.genotype_dataset,
                                        "source": SOURCE, "by": "dac"}}
            if project.expires_on:
                claims["exp"] = _epoch(project.expires_on, end=True)
            visas.append(jwt.encode(claims, key, algorithm=ALGORITHM))
    return visas


def grants(visas: Iterable[str], *, key: bytes, subject: str, now: dt.datetime
           ) -> frozenset[str]:
    """The datasets that valid ``ControlledAccessGrants`` visas of ``subject`` grant at
    ``now``; a visa with a bad signature, another subject or type, or past its
    expiry grants nothing."""
    granted = set()
    for token in visas:
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"verify_iat": False, "verify_exp": False})
        except jwt.InvalidTokenError:
            continue
        visa = claims.get("ga4gh_visa_v1") or {}
        expired = "exp" in claims and now.timestamp() > claims["exp"]
        value = str(visa.get("value", ""))
        if (claims.get("sub") == subject and visa.get("type") == VISA_TYPE and not expired
                and value.startswith(DATASET_URN)):
            granted.add(value.removeprefix(DATASET_URN))
    return frozenset(granted)
