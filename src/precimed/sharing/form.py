"""The access request form: what a researcher fills in, checked field by field.

:meth:`RequestForm.parse` takes the JSON of the API, the CLI's file and the page's form
alike and names the field at fault; references (datasets, variables, members, the saved
cohort) are checked against the database by ``precimed.sharing.requests``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from precimed.errors import UserError
from precimed.sharing.matching import IntendedUse

MAX_MONTHS = 60


@dataclass(frozen=True)
class Member:
    name: str
    username: str = ""
    institution: str = ""
    foreign: bool = False


@dataclass(frozen=True)
class RequestForm:
    """What a researcher fills in; :meth:`parse` checks its shape and names bad fields."""

    title_zh: str = ""
    title_en: str = ""
    summary_zh: str = ""
    summary_en: str = ""
    institution: str = ""
    intended_use: IntendedUse = field(default_factory=lambda: IntendedUse("HMB"))
    datasets: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    cohort_id: str | None = None
    ethics_number: str = ""
    foreign_party: bool = False
    foreign_sponsor: bool = False
    foreign_detail: str = ""
    duration_months: int = 12
    members: tuple[Member, ...] = ()
    hgr_filing_number: str = ""
    hgr_filing_date: dt.date | None = None
    hgr_backup_receipt: str = ""

    @classmethod
    def parse(cls, data: dict[str, Any]) -> RequestForm:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"Unknown field {unknown[0][:40]!r}", where=unknown[0][:40],
                            hint="Fields: " + ", ".join(sorted(known)) + ".")
        text = {k: _text(data.get(k), where=k, limit=limit) for k, limit in (
            ("title_zh", 300), ("title_en", 300), ("summary_zh", 5000), ("summary_en", 5000),
            ("institution", 200), ("ethics_number", 64), ("foreign_detail", 2000),
            ("hgr_filing_number", 64), ("hgr_backup_receipt", 128))}
        return cls(
            **text,
            intended_use=IntendedUse.parse(_mapping(data.get("intended_use") or {},
                                                    where="intended_use")),
            datasets=_names(data.get("datasets"), where="datasets"),
            variables=_names(data.get("variables"), where="variables"),
            cohort_id=_text(data.get("cohort_id"), where="cohort_id", limit=32) or None,
            foreign_party=_bool(data.get("foreign_party"), where="foreign_party"),
            foreign_sponsor=_bool(data.get("foreign_sponsor"), where="foreign_sponsor"),
            duration_months=_months(data.get("duration_months", 12)),
            members=tuple(_member(m, where=f"members[{i}]")
                          for i, m in enumerate(data.get("members") or [])),
            hgr_filing_date=_date(data.get("hgr_filing_date"), where="hgr_filing_date"),
        )


def _text(value: Any, *, where: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserError("A text field has another type", where=where, hint="Send text.")
    value = value.strip()
    if len(value) > limit:
        raise UserError(f"The text is longer than {limit} characters", where=where,
                        hint="Shorten it.")
    return value


def _mapping(value: Any, *, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError("This field is an object", where=where,
                        hint='Send e.g. {"purpose": "DS", "disease": "I21"}.')
    return value


def _names(value: Any, *, where: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise UserError("This field is a list of names", where=where,
                        hint='Send e.g. ["sex", "age", "SBP"] or "sex,age,SBP".')
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _bool(value: Any, *, where: str) -> bool:
    if value in (None, "", False, "false", "0", "no", "off", 0):
        return False
    if value in (True, "true", "1", "yes", "on", 1):
        return True
    raise UserError("A yes/no field has another value", where=where, hint="Send true or false.")


def _months(value: Any) -> int:
    try:
        months = int(value)
    except (TypeError, ValueError):
        months = 0
    if isinstance(value, bool) or not 1 <= months <= MAX_MONTHS:
        raise UserError("The requested duration is not a number of months from 1 to "
                        f"{MAX_MONTHS}", where="duration_months",
                        hint="Ask for the months the project needs; renew later if needed.")
    return months


def _date(value: Any, *, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UserError("A date is not written as YYYY-MM-DD", where=where,
                        hint="Write it as YYYY-MM-DD.") from None


def _member(value: Any, *, where: str) -> Member:
    if isinstance(value, str):
        value = {"username": value}
    data = _mapping(value, where=where)
    username = _text(data.get("username"), where=f"{where}.username", limit=64)
    name = _text(data.get("name"), where=f"{where}.name", limit=128) or username
    if not name:
        raise UserError("A team member needs a name or a platform user name", where=where,
                        hint="Give name (and username if they have a platform account).")
    return Member(name, username,
                  _text(data.get("institution"), where=f"{where}.institution", limit=200),
                  _bool(data.get("foreign"), where=f"{where}.foreign"))
