"""Pages show stored UTC times in the platform's zone with the zone named."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from precimed.settings import local_time

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_utc_time_is_shown_in_the_platforms_zone_with_its_name():
    at = dt.datetime(2026, 12, 7, 10, 5, 30, tzinfo=dt.UTC)
    assert local_time(at, SHANGHAI) == "2026-12-07 18:05 CST"
    assert local_time(at.isoformat(), SHANGHAI) == "2026-12-07 18:05 CST"
    # SQLite gives naive datetimes back: they were written in UTC
    assert local_time("2026-12-07T20:00:00", SHANGHAI) == "2026-12-08 04:00 CST"
    assert local_time(at, ZoneInfo("UTC")) == "2026-12-07 10:05 UTC"
    assert local_time(at, ZoneInfo("Asia/Kolkata")) == "2026-12-07 15:35 IST"
    assert local_time(None, SHANGHAI) == "—"
