"""Follow-up: retention against the 8% target (aggregates, disclosure-controlled) and the
overdue worklist of a centre (row-level pseudonyms, for the centre's own staff; every read
audited), for the API and the page."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from precimed.cohorts import published
from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS, WORKLIST_COLUMNS
from precimed.cohorts.follow_up import worklist as overdue
from precimed.deid import fields_of
from precimed.errors import Forbidden, UserError
from precimed.ingest.contact import contact_row
from precimed.ingest.contact import record_contact as record_submission
from precimed.ops import audit
from precimed.ops.accounts import Principal, check_centre
from precimed.standard import CENTRES
from precimed.workflows.dashboard import retention_row, retention_tables
from precimed.workflows.platform import Platform
from precimed.workflows.published import records


def retention(p: Platform, principal: Principal) -> dict:
    """Retention in the caller's tier: per cohort and centre one table of the waves and
    the four-year summary (precimed.cohorts.published.retention)."""
    policy = p.policy_for(principal)
    as_of = p.as_of()
    summary, by_wave = retention_tables(p, as_of)
    summary_cells, wave_cells = published.retention(summary, by_wave, policy=policy)
    waves = []
    for r, cells in zip(by_wave.itertuples(), wave_cells, strict=True):
        if not principal.sees_centre(r.centre):
            continue
        waves.append({"cohort": r.cohort, "centre": r.centre, "wave": int(r.wave),
                      **fields_of(cells),
                      "cumulative_loss": published.ratio(cells["lost"], cells["reached"],
                                                         cells["lost"])})
    centres = [retention_row(r, cells)
               for r, cells in zip(summary.itertuples(), summary_cells, strict=True)
               if principal.sees_centre(r.centre)]
    return {"as_of": as_of.isoformat() if as_of else None, "target": TARGET_FOUR_YEAR_LOSS,
            "centres": centres, "waves": waves}


WORKLIST_SORTS = {  # sort key -> (columns, ascending); ties by pseudonym
    "overdue": (["days_overdue", "missed_waves", "pseudonym"], [False, False, True]),
    "wave": (["wave", "days_overdue", "pseudonym"], [True, False, True]),
}


def worklist(p: Platform, principal: Principal, *, centre: str, limit: int,
             offset: int = 0, sort: str = "overdue", client: str = "") -> dict:
    """A centre's overdue participants, one page of them: sorted by days overdue (most
    first) or by wave (earliest first, then most overdue), ``limit`` rows from
    ``offset``. Computed on the lake's current state (not a release) at its as-of date;
    ``computed_on`` says which catalog version and the newest release for comparison."""
    if centre not in CENTRES:
        raise UserError(f"Unknown centre {centre!r}", where="centre",
                        hint="Centres: " + ", ".join(sorted(CENTRES)))
    if sort not in WORKLIST_SORTS:
        raise UserError(f"Unknown worklist order {sort!r}", where="sort",
                        hint="Sort by: " + ", ".join(WORKLIST_SORTS))
    check_centre(principal, centre, "centre")
    as_of = p.as_of()

    def compute():
        if as_of is None:  # no dated data in the lake yet
            return pd.DataFrame(columns=list(WORKLIST_COLUMNS))
        with p.live() as con:
            return overdue(con, centre=centre, as_of=as_of)

    rows = p.cached(("worklist", centre, as_of), compute)
    columns, ascending = WORKLIST_SORTS[sort]
    ordered = rows.sort_values(columns, ascending=ascending, kind="stable") if len(rows) \
        else rows
    shown = ordered.iloc[offset:offset + limit]
    audit.row_read(p.ops, actor=principal.username, what=f"follow-up worklist {centre}",
                   count=len(shown), client=client)
    releases = p.releases()
    return {"centre": centre, "as_of": as_of.isoformat() if as_of else None,
            "computed_on": {"state": "current", "lake_version": p.lake.catalog().version,
                            "latest_release": releases[0]["name"] if releases else None},
            "sort": sort, "offset": offset, "limit": limit,
            "overdue": len(rows),
            "rows": records(shown)}


def record_contact(p: Platform, principal: Principal, *, centre: str, pseudonym: str,
                   wave: int, contact_date: dt.date, method: str, outcome: str,
                   client: str = "") -> dict:
    """Record a contact attempt and its outcome for one of the centre's participants: the
    centre's own staff only (an account serving the centre, not an all-centre one),
    checked in full before anything is written, audited either way. It shows at once in
    the lake's current state (retention and the worklist here), in a release only from
    the next release made."""
    detail = {"centre": centre, "wave": wave, "outcome": outcome, "method": method}
    try:
        if centre not in CENTRES:
            raise UserError(f"Unknown centre {centre!r}", where="centre",
                            hint="Centres: " + ", ".join(sorted(CENTRES)))
        check_centre(principal, centre, "centre")
        if centre not in principal.centres:
            raise Forbidden("Only the centre's own staff record its contacts",
                            where="centre",
                            hint="A data manager or clinician of the centre records them.")
        row = contact_row(p.lake, centre=centre, pseudonym=pseudonym, wave=wave,
                          contact_date=contact_date, method=method, outcome=outcome,
                          today=p.settings.action_date)
    except UserError as exc:
        audit.record(p.ops, actor=principal.username, action="followup.contact",
                     outcome="deny", resource=f"follow-up contact {centre}", client=client,
                     detail={**detail, "where": exc.where, "what": exc.what})
        raise
    committed = record_submission(p.lake, row, centre=centre)
    audit.record(p.ops, actor=principal.username, action="followup.contact", outcome="ok",
                 resource=f"follow-up contact {centre}", client=client,
                 detail={**detail, "submission_id": committed.submission_id,
                         "rows_added": committed.rows_added.get("follow_up_contact", 0),
                         "rows_updated": committed.rows_updated.get("follow_up_contact", 0)})
    return {"centre": centre, "pseudonym": pseudonym, "wave": wave,
            "contact_date": contact_date.isoformat(), "method": method, "outcome": outcome,
            "submission_id": committed.submission_id,
            "lake_version": committed.catalog_version, "shows": "now",
            "updated": bool(committed.rows_updated.get("follow_up_contact", 0))}


def worklist_workbook(p: Platform, principal: Principal, *, centre: str, sort: str,
                      words: dict[str, str], outcomes: dict[str, str],
                      client: str = "") -> bytes:
    """The centre's whole worklist, in ``sort`` order, as one XLSX sheet for its staff:
    a title, what it was computed on, the column headings (``words``, in the caller's
    language: title, basis, pseudonym, wave, due_date, days_overdue, missed_waves,
    last_traced, last_outcome) and one row per person, outcomes as name (code). Text
    cells are stored as text, never as formulas. Audited as a row-level export."""
    from openpyxl import Workbook

    work = worklist(p, principal, centre=centre, limit=10_000_000, sort=sort, client=client)
    book = Workbook()
    sheet = book.active
    sheet.title = centre
    columns = ("pseudonym", "wave", "due_date", "days_overdue", "missed_waves",
               "last_traced", "last_outcome")

    def put(r: int, values: list) -> None:
        for c, value in enumerate(values, start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # "=..." stays text: no formula runs when opened

    put(1, [words["title"]])
    put(2, [words["basis"]])
    put(4, [words[c] for c in columns])
    for r, row in enumerate(work["rows"], start=5):
        code = row.get("last_outcome")
        put(r, [row["pseudonym"], int(row["wave"]), str(row["due_date"] or "")[:10],
                int(row["days_overdue"]), int(row["missed_waves"]),
                str(row["last_traced"] or "")[:10],
                f"{outcomes.get(code, code)} ({code})" if code else None])
    sheet.freeze_panes = "A5"
    buffer = io.BytesIO()
    book.save(buffer)
    audit.row_read(p.ops, actor=principal.username, what=f"follow-up worklist {centre}",
                   count=len(work["rows"]), client=client, action="export",
                   detail={"format": "xlsx", "sort": sort})
    return buffer.getvalue()
