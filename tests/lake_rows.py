"""Participant rows as a committed package leaves them, for the lake's unit tests
(importable: pytest's ``pythonpath`` includes tests/)."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from precimed.lake import Lake
from precimed.lake.rows import with_row_keys
from precimed.standard import STANDARD_VERSION


def participants(pseudonyms: list[str], *, sex: str = "1", scope: str = "broad",
                 centre: str = "SH01") -> pa.Table:
    n = len(pseudonyms)
    data = pa.table({
        "pseudonym": pseudonyms, "cohort": ["NP-EAST"] * n, "sex": [sex] * n,
        "birth_year_month": ["1960-01"] * n, "native_province": ["31"] * n,
        "region": ["east"] * n, "ethnicity": ["01"] * n,
        "enrolment_date": pa.array([dt.date(2019, 1, 1)] * n, pa.date32()),
        "consent_date": pa.array([dt.date(2019, 1, 1)] * n, pa.date32()),
        "consent_scope": [scope] * n, "centre": [centre] * n,
        "submission_id": ["s"] * n, "standard_version": [STANDARD_VERSION] * n,
    })
    return with_row_keys("participant", data, ibis.duckdb.connect())


def commit(lake: Lake, table: pa.Table, digest: str):
    return lake.commit({"participant": table}, submission_id=digest, centre="SH01",
                       digest=digest)
