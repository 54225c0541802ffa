"""Cohort follow-up: who is still observed, who is lost, and what each centre must chase;
endpoints: candidates merged across sources, their adjudication, analysis tables, incidence."""

from precimed.cohorts.adjudication import (
    STATUSES,
    TRANSITIONS,
    confirmed,
    decide,
    history,
    load_candidates,
    queue,
    reopen,
)
from precimed.cohorts.endpoints import (
    ENDPOINT_GROUPS,
    EPISODE_DAYS,
    age_band,
    analysis_table,
    candidates,
    incidence,
)
from precimed.cohorts.follow_up import (
    TARGET_FOUR_YEAR_LOSS,
    observation,
    person_time,
    retention,
    retention_summary,
    wave_status,
    worklist,
)

__all__ = [
    "ENDPOINT_GROUPS",
    "EPISODE_DAYS",
    "STATUSES",
    "TARGET_FOUR_YEAR_LOSS",
    "TRANSITIONS",
    "age_band",
    "analysis_table",
    "candidates",
    "confirmed",
    "decide",
    "history",
    "incidence",
    "load_candidates",
    "observation",
    "person_time",
    "queue",
    "reopen",
    "retention",
    "retention_summary",
    "wave_status",
    "worklist",
]
