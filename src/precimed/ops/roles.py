"""Roles and permissions: the one table of who may do what.

Deny by default: a permission not listed for any of a user's roles is refused. Centre
scoping is separate: a user whose account lists centres sees only those centres'
submissions, reports, worklists and candidates; an empty list means every centre, which
only admins, reviewers, researchers and committee members may have: the centre-scoped
roles (:data:`CENTRE_SCOPED`) require a centre.
"""

from __future__ import annotations

from types import MappingProxyType

ROLES = MappingProxyType({
    "admin": {"zh": "平台管理员", "en": "Platform administrator"},
    "data_manager": {"zh": "中心数据管理员", "en": "Centre data manager"},
    "reviewer": {"zh": "终点事件评审员", "en": "Endpoint reviewer"},
    "researcher": {"zh": "研究人员", "en": "Researcher"},
    "clinician": {"zh": "临床医生", "en": "Clinician"},
    "dac": {"zh": "数据访问委员会成员", "en": "Data access committee member"},
})

PERMISSIONS = MappingProxyType({
    "dashboard.read": "See the platform's aggregate dashboard",
    "dictionary.read": "Browse the data standard",
    "submissions.create": "Upload a centre's submission package",
    "submissions.read": "Read submissions, their QC reports and scorecards",
    "followup.read": "Read retention and the follow-up worklist",
    "followup.record": "Record follow-up contact attempts of one's own centres' participants",
    "cohorts.count": "Count cohorts (aggregates through disclosure control)",
    "cohorts.save": "Save and load own cohort definitions",
    "cohorts.extract": "Extract participant-level rows of a cohort",
    "endpoints.read": "Read endpoint incidence (aggregates)",
    "endpoints.review": "Adjudicate candidate endpoints",
    "users.manage": "Create users and change their roles",
    "audit.read": "Read and verify the audit log",
    "catalogue.read": "Browse the data catalogue (entries, conditions, protected counts)",
    "catalogue.manage": "Create catalogue entries and set their data-use conditions "
                        "(admins; data managers for their own centres' entries)",
    "sharing.apply": "Apply for access to data and follow one's own requests and projects",
    "sharing.review": "Review access requests: see the match, vote, decide (committee)",
    "sharing.hgr": "Record human-genetic-resource filings and security reviews",
    "sharing.provisions": "Read the record of data provisions (the annual list)",
    "outputs.review": "Check a project's outputs and release or return them (output "
                      "checking)",
    "participants.erase": "Erase a participant's data (PIPL right to deletion; data managers "
                          "for their own centres)",
    "beacon.controlled": "Receive record-level Beacon answers (pseudonymous individuals, "
                         "case-level genotypes)",
})

_ALL = frozenset(PERMISSIONS)
_EVERYONE = frozenset({"dashboard.read", "dictionary.read", "catalogue.read"})

ROLE_PERMISSIONS = MappingProxyType({
    "admin": _ALL,
    "data_manager": _EVERYONE | {"submissions.create", "submissions.read", "followup.read",
                                 "followup.record",
                                 "cohorts.count", "cohorts.save", "catalogue.manage",
                                 "sharing.provisions", "participants.erase"},
    "reviewer": _EVERYONE | {"endpoints.read", "endpoints.review"},
    "researcher": _EVERYONE | {"cohorts.count", "cohorts.save", "endpoints.read",
                               "sharing.apply"},
    "clinician": _EVERYONE | {"followup.read", "followup.record", "cohorts.count",
                              "cohorts.save", "endpoints.read"},
    "dac": _EVERYONE | {"audit.read", "cohorts.count", "endpoints.read", "sharing.review",
                        "sharing.hgr", "sharing.provisions", "outputs.review"},
})

# roles that serve centres: an account holding one must name its centres
CENTRE_SCOPED = frozenset({"data_manager", "clinician"})

assert set(ROLE_PERMISSIONS) == set(ROLES)
assert all(p <= _ALL for p in ROLE_PERMISSIONS.values())


def permissions_of(roles: list[str] | tuple[str, ...]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
