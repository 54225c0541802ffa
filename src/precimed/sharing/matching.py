"""Matching a request's intended use against a dataset's DUO conditions, as DUOS does.

Each condition gives one clause: *consistent*, *inconsistent* (the use is outside what the
condition allows, e.g. "NCU: commercial use requested") or *needs human judgement* (the
condition asks for something only the committee can weigh, e.g. COL, US, a MONDO disease
against an ICD-10 one). A dataset's result is the worst of its clauses; a request's is
the worst over its datasets. The result advises the committee; an inconsistent match can
not be approved (``precimed.sharing.committee``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from precimed.errors import UserError
from precimed.standard.duo import DUO_BY_ID, Condition, disease_code
from precimed.standard.icd10 import in_range

PURPOSES = ("GRU", "HMB", "DS", "POA")
_ORDER = {"consistent": 0, "needs_review": 1, "inconsistent": 2}


@dataclass(frozen=True)
class IntendedUse:
    """A request's research purpose in DUO terms, as DUOS asks it.

    ``purpose`` is the DUO permission the research needs (GRU, HMB, DS with ``disease``,
    POA); the flags say what else it does: commercial use, a for-profit organisation
    involved, methods development, population origins or ancestry research."""

    purpose: str
    disease: str = ""
    commercial: bool = False
    for_profit: bool = False
    methods: bool = False
    ancestry: bool = False

    @classmethod
    def parse(cls, data: dict[str, Any], *, where: str = "intended_use") -> IntendedUse:
        purpose = str(data.get("purpose", "")).strip().upper()
        if purpose in DUO_BY_ID:
            purpose = DUO_BY_ID[purpose].code
        if purpose not in PURPOSES:
            raise UserError(f"Unknown research purpose {purpose[:20]!r}", where=where,
                            hint="Choose GRU (general research), HMB (health/medical/"
                                 "biomedical), DS (disease-specific, with a disease) or "
                                 "POA (population origins or ancestry).")
        disease = str(data.get("disease") or "").strip()
        if purpose == "DS":
            if not disease:
                raise UserError("Disease-specific research needs the disease",
                                where=f"{where}.disease",
                                hint="Give an ICD-10 code (e.g. I21) or a MONDO ID.")
            disease = disease_code(disease, where=f"{where}.disease")
        elif disease:
            raise UserError("A disease is given only for disease-specific research (DS)",
                            where=f"{where}.disease", hint="Choose DS or leave it empty.")
        flags = {k: _flag(data.get(k), where=f"{where}.{k}")
                 for k in ("commercial", "for_profit", "methods", "ancestry")}
        return cls(purpose, disease, **flags)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _flag(value: Any, *, where: str) -> bool:
    if value in (None, "", False, "false", "0", "no", "off", 0):
        return False
    if value in (True, "true", "1", "yes", "on", 1):
        return True
    raise UserError("A yes/no field has another value", where=where,
                    hint="Send true or false.")


@dataclass(frozen=True)
class Clause:
    code: str
    result: str  # standard.sharing.MATCH_RESULT
    en: str
    zh: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Facts:
    """What matching needs besides the use: ethics approval, foreign parties, and the
    period of use (from the decision date passed at the edge, for TS)."""

    ethics: bool
    foreign: bool
    use_until: dt.date


@dataclass(frozen=True)
class DatasetMatch:
    entry_id: str
    conditions_version: int
    clauses: tuple[Clause, ...] = field(default_factory=tuple)

    @property
    def result(self) -> str:
        return worst(c.result for c in self.clauses) if self.clauses else "needs_review"

    def to_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "conditions_version": self.conditions_version,
                "result": self.result, "clauses": [c.to_dict() for c in self.clauses]}


def worst(results: Any) -> str:
    return max(results, key=_ORDER.__getitem__, default="consistent")


def match_dataset(use: IntendedUse, conditions: tuple[Condition, ...], facts: Facts, *,
                  entry_id: str, conditions_version: int) -> DatasetMatch:
    """Every condition's clause; no conditions at all needs the committee's judgement."""
    clauses = tuple(_clause(c, use, facts) for c in conditions)
    if not clauses:
        clauses = (Clause("—", "needs_review", "no data-use conditions recorded",
                          "未登记数据使用条件"),)
    return DatasetMatch(entry_id, conditions_version, clauses)


def match_request(matches: list[DatasetMatch]) -> dict[str, Any]:
    """The request's match: the worst over its datasets, and each dataset's clauses."""
    return {"result": worst(m.result for m in matches) if matches else "needs_review",
            "datasets": [m.to_dict() for m in matches]}


def _ok(code: str, en: str = "consistent", zh: str = "符合") -> Clause:
    return Clause(code, "consistent", en, zh)


def _no(code: str, en: str, zh: str) -> Clause:
    return Clause(code, "inconsistent", f"{code}: {en}", f"{code}：{zh}")


def _ask(code: str, en: str, zh: str) -> Clause:
    return Clause(code, "needs_review", f"{code}: {en}", f"{code}：{zh}")


def _clause(condition: Condition, use: IntendedUse, facts: Facts) -> Clause:
    handler = _HANDLERS.get(condition.code)
    if handler is None:
        return _ask(condition.code, "the committee judges this condition",
                    "由委员会判断此条件")
    return handler(condition, use, facts)


def _nres(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    return _ok(c.code)


def _hmb(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.purpose == "POA" or use.ancestry:
        return _no(c.code, "population origins or ancestry research requested",
                   "申请了人群起源或祖源研究")
    return _ok(c.code)


def _ds(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.purpose != "DS":
        return _no(c.code, f"research is not limited to the disease {c.value}",
                   f"研究未限定于疾病 {c.value}")
    if use.ancestry:
        return _no(c.code, "population origins or ancestry research requested",
                   "申请了人群起源或祖源研究")
    if "MONDO:" in c.value or "MONDO:" in use.disease:
        if use.disease == c.value:
            return _ok(c.code)
        return _ask(c.code, f"is {use.disease} within {c.value}?",
                    f"{use.disease} 是否属于 {c.value}？")
    if in_range(use.disease, c.value):
        return _ok(c.code)
    return _no(c.code, f"disease {use.disease} is outside {c.value}",
               f"疾病 {use.disease} 不属于 {c.value}")


def _poa(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.purpose == "POA" or use.ancestry:
        return _ok(c.code)
    return _no(c.code, "only population origins or ancestry research is allowed",
               "仅允许人群起源或祖源研究")


def _ncu(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.commercial:
        return _no(c.code, "commercial use requested", "申请了商业用途")
    return _ok(c.code)


def _npu(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.for_profit:
        return _no(c.code, "a for-profit organisation takes part", "有营利性机构参与")
    return _ok(c.code)


def _npuncu(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.commercial or use.for_profit:
        return _no(c.code, "commercial use or a for-profit organisation",
                   "商业用途或营利性机构参与")
    return _ok(c.code)


def _nmds(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.methods:
        return _no(c.code, "methods development requested", "申请了方法学研究")
    return _ok(c.code)


def _npoa(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if use.purpose == "POA" or use.ancestry:
        return _no(c.code, "population origins or ancestry research requested",
                   "申请了人群起源或祖源研究")
    return _ok(c.code)


def _irb(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if facts.ethics:
        return _ok(c.code, "ethics approval given", "已提供伦理批件")
    return _no(c.code, "no ethics approval given", "未提供伦理批件")


def _ts(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    limit = dt.date.fromisoformat(c.value)
    if facts.use_until > limit:
        return _no(c.code, f"use until {facts.use_until} is past the limit {limit}",
                   f"使用至 {facts.use_until}，超过期限 {limit}")
    return _ok(c.code)


def _gs(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    if facts.foreign:
        return _ask(c.code, f"a foreign party takes part; use is restricted to {c.value}",
                    f"有境外组织或个人参与；使用地域限于 {c.value}")
    return _ok(c.code)


def _accepted(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    # PUB, RTN, MOR: requirements the approval carries, not limits on the purpose
    return _ok(c.code, "a requirement of the approval", "作为批准条件")


def _judged(c: Condition, use: IntendedUse, facts: Facts) -> Clause:
    # COL, US, PS, IS, GSO: who, which project, which institution, what kind of study —
    # facts the committee weighs, not flags of the form
    return _ask(c.code, f"{c.term.en}: the committee judges", f"{c.term.zh}：由委员会判断")


_HANDLERS = {
    "NRES": _nres, "GRU": _nres, "HMB": _hmb, "DS": _ds, "POA": _poa, "NCU": _ncu,
    "NPU": _npu, "NPUNCU": _npuncu, "NMDS": _nmds, "NPOA": _npoa, "IRB": _irb, "TS": _ts,
    "GS": _gs, "PUB": _accepted, "RTN": _accepted, "MOR": _accepted, "COL": _judged,
    "US": _judged, "PS": _judged, "IS": _judged, "GSO": _judged,
}
