"""GA4GH Data Use Ontology (DUO) terms the platform uses, with their real IDs.

Transcribed from DUO (https://github.com/EBISPOT/DUO, release 2021-02-23 and later):
each term's ID, its shorthand, its English label as DUO writes it and a Chinese label.
A *permission* says what a dataset may be used for (exactly one per dataset: NRES, GRU,
HMB, DS or POA); a *modifier* adds a requirement or a restriction (NPU, NCU, IRB, TS…).
Some terms take a value: DS a disease (ICD-10 code here, MONDO in DUO itself), TS a date,
GS a place (a GB/T 2260 province or a country code). A condition is written
``CODE`` or ``CODE:value``, e.g. ``DS:I21`` or ``TS:2027-12-31``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from types import MappingProxyType

from precimed.errors import UserError
from precimed.standard.icd10 import parse_icd10


@dataclass(frozen=True)
class DuoTerm:
    code: str  # DUO's shorthand, e.g. "GRU"
    id: str  # e.g. "DUO:0000042"
    en: str  # DUO's own English label
    zh: str
    kind: str  # "permission" or "modifier"
    # what value the term takes: "" (none), "disease", "date" or "place"
    value: str = ""


_TERMS = (
    DuoTerm("NRES", "DUO:0000004", "no restriction", "无使用限制", "permission"),
    DuoTerm("GRU", "DUO:0000042", "general research use", "一般研究用途", "permission"),
    DuoTerm("HMB", "DUO:0000006", "health or medical or biomedical research",
            "健康、医学或生物医学研究", "permission"),
    DuoTerm("DS", "DUO:0000007", "disease specific research", "特定疾病研究", "permission",
            value="disease"),
    DuoTerm("POA", "DUO:0000011", "population origins or ancestry research only",
            "仅限人群起源或祖源研究", "permission"),
    DuoTerm("NMDS", "DUO:0000015", "no general methods research", "不得用于一般方法学研究",
            "modifier"),
    DuoTerm("GSO", "DUO:0000016", "genetic studies only", "仅限遗传学研究", "modifier"),
    DuoTerm("NPUNCU", "DUO:0000018", "not for profit, non commercial use only",
            "仅限非营利、非商业用途", "modifier"),
    DuoTerm("PUB", "DUO:0000019", "publication required", "须发表研究结果", "modifier"),
    DuoTerm("COL", "DUO:0000020", "collaboration required", "须与数据提供方合作", "modifier"),
    DuoTerm("IRB", "DUO:0000021", "ethics approval required", "须经伦理审查批准", "modifier"),
    DuoTerm("GS", "DUO:0000022", "geographical restriction", "地域限制", "modifier",
            value="place"),
    DuoTerm("MOR", "DUO:0000024", "publication moratorium", "发表禁止期", "modifier",
            value="date"),
    DuoTerm("TS", "DUO:0000025", "time limit on use", "使用期限", "modifier", value="date"),
    DuoTerm("US", "DUO:0000026", "user specific restriction", "限定使用者", "modifier"),
    DuoTerm("PS", "DUO:0000027", "project specific restriction", "限定研究项目", "modifier"),
    DuoTerm("IS", "DUO:0000028", "institution specific restriction", "限定使用机构",
            "modifier"),
    DuoTerm("RTN", "DUO:0000029", "return to database or resource", "须向数据资源返还结果",
            "modifier"),
    DuoTerm("NPOA", "DUO:0000044", "population origins or ancestry research prohibited",
            "禁止人群起源或祖源研究", "modifier"),
    DuoTerm("NPU", "DUO:0000045", "not for profit organisation use only",
            "仅限非营利机构使用", "modifier"),
    DuoTerm("NCU", "DUO:0000046", "non-commercial use only", "仅限非商业用途", "modifier"),
)

DUO_TERMS = MappingProxyType({t.code: t for t in _TERMS})
DUO_BY_ID = MappingProxyType({t.id: t for t in _TERMS})
PERMISSIONS = tuple(t.code for t in _TERMS if t.kind == "permission")
MODIFIERS = tuple(t.code for t in _TERMS if t.kind == "modifier")


@dataclass(frozen=True)
class Condition:
    """One data-use condition: a DUO term and, for DS/TS/GS/MOR, its value."""

    code: str
    value: str = ""

    @property
    def term(self) -> DuoTerm:
        return DUO_TERMS[self.code]

    def __str__(self) -> str:
        return f"{self.code}:{self.value}" if self.value else self.code

    def to_dict(self) -> dict[str, str]:
        t = self.term
        return {"code": self.code, "id": t.id, "value": self.value, "kind": t.kind,
                "en": t.en, "zh": t.zh}


def parse_condition(text: str, *, where: str = "conditions") -> Condition:
    """``"DS:I21"`` → Condition("DS", "I21"); refuses unknown codes and missing values.

    A DUO ID (``DUO:0000007:I21``) is accepted as well as the shorthand."""
    raw = text.strip()
    if raw.upper().startswith("DUO:"):
        ident, _, value = raw[:11], raw[11:12], raw[12:]
        term = DUO_BY_ID.get(ident.upper())
    else:
        code, _, value = raw.partition(":")
        term = DUO_TERMS.get(code.strip().upper())
    if term is None:
        raise UserError(f"Unknown DUO code {raw[:40]!r}", where=where,
                        hint="Use one of " + ", ".join(DUO_TERMS) + " (or its DUO ID).")
    value = value.strip()
    if term.value and not value:
        raise UserError(f"DUO {term.code} ({term.en}) needs a {term.value}", where=where,
                        hint=_VALUE_HINTS[term.value].format(code=term.code))
    if not term.value and value:
        raise UserError(f"DUO {term.code} ({term.en}) takes no value", where=where,
                        hint=f"Write {term.code} alone.")
    if term.value == "date":
        _date(value, where=where, code=term.code)
    if term.value == "disease":
        value = disease_code(value, where=where)
    return Condition(term.code, value)


def disease_code(value: str, *, where: str) -> str:
    """A disease as DS takes it: an ICD-10 code (canonical dotted form), a range of
    categories (``I20-I25``) or a MONDO ID."""
    text = value.strip().upper()
    if _MONDO.match(text):
        return text
    low, dash, high = text.partition("-")
    if dash and parse_icd10(low) and parse_icd10(high):
        return f"{parse_icd10(low).value}-{parse_icd10(high).value}"
    parsed = parse_icd10(text)
    if parsed is None:
        raise UserError(f"Not an ICD-10 code or MONDO ID: {value[:20]!r}", where=where,
                        hint=_VALUE_HINTS["disease"].format(code="DS"))
    return parsed.value


def parse_conditions(texts: list[str] | tuple[str, ...], *,
                     where: str = "conditions") -> tuple[Condition, ...]:
    """Several conditions: at most one permission, no code twice."""
    conditions = tuple(parse_condition(t, where=where) for t in texts if t.strip())
    permissions = [c.code for c in conditions if c.term.kind == "permission"]
    if len(permissions) > 1:
        raise UserError("A dataset has exactly one DUO permission, not "
                        + ", ".join(permissions), where=where,
                        hint="Keep one of NRES, GRU, HMB, DS, POA; restrict it with "
                             "modifiers.")
    codes = [c.code for c in conditions]
    if len(set(codes)) != len(codes):
        raise UserError("A DUO code is given twice", where=where, hint="Give each code once.")
    return conditions


def _date(value: str, *, where: str, code: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"DUO {code} needs a date as YYYY-MM-DD", where=where,
                        hint=_VALUE_HINTS["date"].format(code=code)) from exc


_MONDO = re.compile(r"^MONDO:\d{7}$")

_VALUE_HINTS = {
    "disease": "Write {code}:<ICD-10 code or MONDO ID>, e.g. {code}:I21 or "
               "{code}:MONDO:0005068.",
    "date": "Write {code}:<YYYY-MM-DD>, e.g. {code}:2027-12-31.",
    "place": "Write {code}:<province code or ISO country code>, e.g. {code}:CN.",
}
