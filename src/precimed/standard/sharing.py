"""The vocabularies of governed sharing: access tiers, dataset kinds, request states,
votes, date handling in extracts, and the human-genetic-resource thresholds.

Which data is human genetic resource *information* follows the MOST implementation rules
(2023) Art. 2: gene and genome data (genotypes, sequence, variant-level data) are; clinical,
imaging, protein and metabolite data are not. Art. 37: exome or genome data of more than
500 people provided to or opened for a foreign party needs a security review.
"""

from __future__ import annotations

from types import MappingProxyType

from precimed.standard.vocabularies import Vocabulary

ACCESS_TIER = Vocabulary(
    "access_tier", "访问级别", "Access tier",
    {"open": ("开放（汇总数据）", "open (aggregates only)"),
     "registered": ("注册用户", "registered users"),
     "controlled": ("受控访问（须经数据访问委员会批准）",
                    "controlled (data access committee approval)")},
)

DATASET_KIND = Vocabulary(
    "dataset_kind", "数据集类型", "Dataset kind",
    {"clinical": ("临床与随访数据", "clinical and follow-up data"),
     "genotype": ("基因型数据", "genotype data"),
     "exome": ("全外显子组数据", "exome data"),
     "genome": ("全基因组数据", "genome data"),
     "proteome": ("蛋白质组数据", "proteome data"),
     "metabolome": ("代谢组数据", "metabolome data")},
)

# Kinds that are human genetic resource information (rules Art. 2).
GENETIC_INFORMATION_KINDS = frozenset({"genotype", "exome", "genome"})
# Kinds that count towards the security review of rules Art. 37.
SECURITY_REVIEW_KINDS = frozenset({"exome", "genome"})
SECURITY_REVIEW_PEOPLE = 500  # "more than 500 people"

REQUEST_STATUS = Vocabulary(
    "request_status", "申请状态", "Request status",
    {"draft": ("草稿", "draft"),
     "submitted": ("已提交", "submitted"),
     "under_review": ("审查中", "under review"),
     "returned": ("退回修改", "returned for changes"),
     "approved": ("已批准", "approved"),
     "rejected": ("未批准", "rejected"),
     "active": ("使用中", "active"),
     "expired": ("已到期", "expired"),
     "revoked": ("已撤销", "revoked"),
     "withdrawn": ("已撤回", "withdrawn")},
)

# The lifecycle: from a status, the statuses a request may move to.
REQUEST_TRANSITIONS = MappingProxyType({
    "draft": frozenset({"submitted", "withdrawn"}),
    "submitted": frozenset({"under_review", "withdrawn"}),
    "under_review": frozenset({"approved", "rejected", "returned", "withdrawn"}),
    "returned": frozenset({"submitted", "withdrawn"}),
    "approved": frozenset({"active", "revoked", "withdrawn"}),
    "active": frozenset({"expired", "revoked"}),
    "rejected": frozenset(),
    "expired": frozenset(),
    "revoked": frozenset(),
    "withdrawn": frozenset(),
})

VOTE = Vocabulary(
    "dac_vote", "委员会投票", "Committee vote",
    {"approve": ("同意", "approve"), "reject": ("不同意", "reject"),
     "return": ("退回修改", "return for changes"), "abstain": ("弃权", "abstain")},
)

# What a vote or a decision turns a request into.
DECISION_STATUS = MappingProxyType({"approve": "approved", "reject": "rejected",
                                    "return": "returned"})

DATE_HANDLING = Vocabulary(
    "date_handling", "日期处理", "Date handling in extracts",
    {"shifted": ("按人按项目随机平移", "shifted by a per-person, per-project offset"),
     "year_month": ("仅保留年月", "reduced to year and month")},
)

MATCH_RESULT = Vocabulary(
    "match_result", "数据使用条件匹配", "Data-use match",
    {"consistent": ("符合", "consistent"),
     "inconsistent": ("不符合", "inconsistent"),
     "needs_review": ("需人工判断", "needs human judgement")},
)

HGR_STATE = Vocabulary(
    "hgr_state", "人类遗传资源规则", "Human genetic resource rules",
    {"not_applicable": ("不涉及", "not applicable"),
     "filing_missing": ("缺少备案信息", "filing record missing"),
     "security_review_missing": ("待安全审查", "security review not recorded"),
     "complete": ("已满足", "complete")},
)

# The variables a genotype dataset's catalogue entry offers (a request names them).
GENOTYPE_VARIABLES = ("genotype",)
