"""Data quality: checks as data (Kahn categories), rule sets, the gate, reports, scorecards.

``assess`` scores a staged submission; the pipeline commits only when the verdict is
not ``fail``. ``rescore`` scores a centre's rows already in the lake under any rule set.
"""

from precimed.qc.rules import DEFAULT_RULES, RuleSet, available, load_ruleset
from precimed.qc.runner import VERDICTS, CheckResult, QcOutcome, evaluate

__all__ = ["DEFAULT_RULES", "VERDICTS", "CheckResult", "QcOutcome", "RuleSet", "available",
           "evaluate", "load_ruleset"]
