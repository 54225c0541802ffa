"""Fields that exist only in a project extract (``precimed.sharing.extract``), beside the
participant fields and measurement codes of the standard it selects."""

from __future__ import annotations

from precimed.standard.tables import Field

PROJECT_PARTICIPANT_ID = Field(
    "project_participant_id", "string", "项目参与者编号", "Project participant ID",
    "The participant's ID in this project only: a keyed HMAC of the platform pseudonym "
    "under the project's key, so two projects' extracts cannot be joined on a person.",
    required=True, derived=True)

AGE = Field(
    "age", "integer", "入组年龄", "Age at enrolment",
    "Whole years at enrolment, computed from the true dates before any date shift.",
    derived=True)

EXTRACT_FIELDS = {f.name: f for f in (PROJECT_PARTICIPANT_ID, AGE)}
