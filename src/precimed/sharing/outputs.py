"""A project's outputs: submitted for release, checked, then released or returned.

A member of an active project submits a result (:data:`OUTPUT_KINDS`): it is kept under
``HOME/projects/<request>/outputs/<output>/`` with its SHA-256, checked at once
(:mod:`precimed.sharing.output_check`), and waits for a reviewer (``outputs.review``:
the committee, admins). The reviewer releases it (the checked, protected version is what
is released, kept beside the submitted file) or returns it with a reason. A table that
fails the check (undeclared columns, counts that are not whole numbers) cannot be
released. Every step is audited; the submitted file never leaves except to the reviewer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select

from precimed.deid import Policy
from precimed.errors import Conflict, NotFound, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import AccessRequest, OpsDatabase, ProjectOutput
from precimed.settings import Settings
from precimed.sharing.output_check import (
    FIGURE_SUFFIXES,
    MAX_BYTES,
    OUTPUT_KINDS,
    TableSpec,
    check_figure,
    check_table,
    read_table,
)

STATUSES = ("submitted", "returned", "released")
DECISIONS = {"release": "released", "return": "returned"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def output_folder(settings: Settings, request_id: str, output_id: str) -> Path:
    return settings.projects_dir / request_id / "outputs" / output_id


def _suffix(kind: str, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    allowed = FIGURE_SUFFIXES if kind == "figure" else (".csv",)
    if suffix not in allowed:
        raise UserError(f"A {kind} is submitted as {' or '.join(allowed)}", where="file",
                        hint="Tables and model coefficients as CSV; figures as PNG, SVG "
                             "or PDF.")
    return suffix


def submit(settings: Settings, ops: OpsDatabase, project: AccessRequest, *,
           principal: Principal, kind: str, title: str, filename: str, content: bytes,
           spec: dict[str, Any] | None = None, client: str = "") -> dict[str, Any]:
    """Keep, check and queue one output of an active project (``project`` comes from
    :func:`precimed.sharing.workspace.project`)."""
    if kind not in OUTPUT_KINDS:
        raise UserError(f"Unknown output kind {kind!r}", where="kind",
                        hint="Use " + ", ".join(OUTPUT_KINDS) + ".")
    title = title.strip()
    if not 1 <= len(title) <= 200:
        raise UserError("An output needs a title of 1 to 200 characters", where="title",
                        hint="Say what the result shows.")
    suffix = _suffix(kind, filename)
    if not content or len(content) > MAX_BYTES:
        raise UserError("The file is empty or larger than 5 MB", where="file",
                        hint="Submit results, not data.")
    table_spec = TableSpec.from_dict(spec) if kind != "figure" else TableSpec()
    policy = Policy.from_settings(settings)
    if kind == "figure":
        result = check_figure()
    else:
        result = check_table(read_table(content), table_spec, policy=policy,
                             dominance_percent=settings.output_dominance_percent)
    output_id = secrets.token_hex(8)
    folder = output_folder(settings, project.id, output_id)
    folder.mkdir(parents=True)
    (folder / f"submitted{suffix}").write_bytes(content)
    if result.protected is not None:
        result.protected.to_csv(folder / "checked.csv", index=False)
    (folder / "check.json").write_text(json.dumps(result.to_dict(), ensure_ascii=False),
                                       encoding="utf-8")
    row = ProjectOutput(
        id=output_id, request_id=project.id, kind=kind, title=title,
        filename=_SAFE_NAME.sub("_", Path(filename).name)[:200] or f"output{suffix}",
        sha256=hashlib.sha256(content).hexdigest(), spec=table_spec.to_dict(),
        check=result.to_dict(), status="submitted", submitted_by=principal.username,
        submitted_at=_now(), review_reason="")
    with ops.session() as session, session.begin():
        session.add(row)
    audit.record(ops, actor=principal.username, action="project.output.submit",
                 outcome="ok", resource=f"project {project.id}", client=client,
                 detail={"output": output_id, "kind": kind, "check": result.status,
                         "hidden_cells": result.to_dict()["hidden_cells"]})
    return output_dict(row)


def output_dict(row: ProjectOutput) -> dict[str, Any]:
    return {"id": row.id, "request": row.request_id, "kind": row.kind, "title": row.title,
            "filename": row.filename, "sha256": row.sha256, "spec": row.spec,
            "check": row.check, "status": row.status, "submitted_by": row.submitted_by,
            "submitted_at": row.submitted_at.isoformat(), "reviewed_by": row.reviewed_by,
            "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None,
            "review_reason": row.review_reason, "released_sha256": row.released_sha256}


def of_project(ops: OpsDatabase, request_id: str) -> list[ProjectOutput]:
    with ops.session() as session:
        return list(session.scalars(select(ProjectOutput)
                                    .where(ProjectOutput.request_id == request_id)
                                    .order_by(ProjectOutput.submitted_at.desc())))


def queue(ops: OpsDatabase, *, status: str = "submitted") -> list[ProjectOutput]:
    """Outputs waiting for (or past) review, oldest first."""
    with ops.session() as session:
        return list(session.scalars(select(ProjectOutput)
                                    .where(ProjectOutput.status == status)
                                    .order_by(ProjectOutput.submitted_at)))


def get(ops: OpsDatabase, output_id: str) -> ProjectOutput:
    with ops.session() as session:
        row = session.get(ProjectOutput, output_id)
    if row is None:
        raise NotFound("No such output", where="output",
                       hint="List the project's outputs or the review queue.")
    return row


def review(settings: Settings, ops: OpsDatabase, output_id: str, *, principal: Principal,
           decision: str, reason: str = "", client: str = "") -> dict[str, Any]:
    """Release or return a submitted output (``outputs.review``). Release is refused for
    an output whose check failed; a return needs a reason."""
    if decision not in DECISIONS:
        raise UserError(f"Unknown decision {decision!r}", where="decision",
                        hint="Use release or return.")
    reason = reason.strip()
    if decision == "return" and not reason:
        raise UserError("Say why the output is returned", where="reason",
                        hint="The researcher reads it to fix the output.")
    with ops.session() as session, session.begin():
        row = session.get(ProjectOutput, output_id, with_for_update=True)
        if row is None:
            raise NotFound("No such output", where="output",
                           hint="List the review queue to find it.")
        if row.status != "submitted":
            raise Conflict(f"The output is already {row.status}", where="output",
                           hint="Only a submitted output can be reviewed.")
        if decision == "release" and row.check.get("status") == "fail":
            raise Conflict("An output that failed the check cannot be released",
                           where="output", hint="Return it with what to fix.")
        if decision == "release":
            row.released_sha256 = _release_file(settings, row)
        row.status, row.reviewed_by = DECISIONS[decision], principal.username
        row.reviewed_at, row.review_reason = _now(), reason[:2000]
    audit.record(ops, actor=principal.username, action=f"project.output.{decision}",
                 outcome="ok", resource=f"project {row.request_id}", client=client,
                 detail={"output": output_id, "kind": row.kind,
                         "check": row.check.get("status")})
    return output_dict(row)


def _release_file(settings: Settings, row: ProjectOutput) -> str:
    """Copy what is released (the checked table, or the figure as submitted) to
    ``released.*``; returns its SHA-256."""
    folder = output_folder(settings, row.request_id, row.id)
    source = folder / "checked.csv" if row.kind != "figure" else next(
        folder.glob("submitted.*"))
    target = folder / f"released{source.suffix}"
    data = source.read_bytes()
    target.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def file_of(settings: Settings, row: ProjectOutput, which: str) -> Path:
    """``submitted``, ``checked`` or ``released``: the path of that version."""
    folder = output_folder(settings, row.request_id, row.id)
    found = sorted(folder.glob(f"{which}.*")) if which in ("submitted", "checked",
                                                         "released") else []
    if not found:
        raise NotFound(f"The output has no {which} file", where="output",
                       hint="A table's checked version exists once it is read; a released "
                            "one once a reviewer releases it.")
    return found[0]
