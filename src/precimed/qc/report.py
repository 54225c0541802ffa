"""QC reports for people: one self-contained HTML page, Chinese by default, English switch.

Everything the page needs is inside it: styles, the language switch, and the plots as
inline SVG drawn by matplotlib. Nothing is fetched when it is opened.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from precimed.qc.runner import QcOutcome
from precimed.reports.problems import Report

# Rows of failing examples shown per check on the page; the JSON report has them all.
EXAMPLES_SHOWN = 50

CATEGORY_NAMES = {
    "conformance": ("一致性", "Conformance"),
    "completeness": ("完整性", "Completeness"),
    "plausibility": ("合理性", "Plausibility"),
}
SUBCATEGORY_NAMES = {
    "value": ("取值", "value"), "relational": ("关联", "relational"),
    "computational": ("计算", "computational"), "atemporal": ("非时间", "atemporal"),
    "temporal": ("时间", "temporal"), "uniqueness": ("唯一性", "uniqueness"), "": ("", ""),
}
VERDICT_NAMES = {
    "pass": ("通过", "Pass"),
    "pass_with_warnings": ("通过(有警告)", "Pass with warnings"),
    "fail": ("未通过", "Fail"),
}
STATUS_NAMES = {"pass": ("通过", "pass"), "warn": ("警告", "warning"),
                "fail": ("未通过", "fail"), "n/a": ("不适用", "n/a"),
                "not_run": ("未能运行", "not run")}
# From least to most in need of attention, for a check's overall status.
SEVERITY_ORDER = ("n/a", "pass", "not_run", "warn", "fail")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("precimed.qc", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["percent"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
    return env


def svg(fig) -> Markup:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return Markup(text[text.index("<svg"):])  # drop the XML prolog; the SVG is our own


def distribution_plot(code: str, data: dict) -> Markup:
    """This submission's distribution of one item against the other centres'."""
    edges = data["edges"]
    fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=100)
    for side, colour, label in (("platform", "#9aa5b1", "other centres"),
                                ("here", "#c0392b", "this submission")):
        counts = data[side]
        total = sum(counts)
        if not total:
            continue
        shares = [c / total for c in counts]
        ax.stairs(shares, edges, color=colour, fill=side == "platform", alpha=0.6
                  if side == "platform" else 1.0, linewidth=1.6, label=f"{label} (n={total})")
    ax.set_title(f"{code} ({data['unit']})", fontsize=10)
    ax.set_ylabel("share", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return svg(fig)


def render_html(report: Report) -> str:
    outcome = QcOutcome.from_dict(report.qc)
    kind_to_check = {k: c for c, meta in outcome.checks.items() for k in meta["kinds"]}
    examples: dict[str, list] = {}
    problems: dict[str, int] = {}
    for (kind, _file, _column), n in report.problem_counts().items():
        check = kind_to_check.get(kind, kind)
        problems[check] = problems.get(check, 0) + n
    for problem in report.problems:
        shown = examples.setdefault(kind_to_check.get(problem.kind, problem.kind), [])
        if len(shown) < EXAMPLES_SHOWN:
            shown.append(problem)
    checks = []
    for check_id, meta in outcome.checks.items():
        results = [r for r in outcome.results if r.check == check_id]
        if not results:
            continue
        worst = max(results, key=lambda r: SEVERITY_ORDER.index(r.status))
        # instances with something to say, then one line for the rest
        visible = [r for r in results if r.status in {"warn", "fail", "not_run"} or r.failing]
        rest = [r for r in results if r not in visible]
        checks.append({"id": check_id, "zh": meta["zh"], "en": meta["en"], "results": visible,
                       "rest": {"instances": len(rest),
                                "checked": sum(r.checked for r in rest),
                                "status": "n/a" if all(r.status == "n/a" for r in rest)
                                else "pass"} if rest else None,
                       "status": worst.status, "category": results[0].category,
                       "subcategory": results[0].subcategory,
                       "severity": results[0].severity, "threshold": results[0].threshold,
                       "examples": examples.get(check_id, []),
                       "problems": problems.get(check_id, 0)})
    plots = [(code, distribution_plot(code, data))
             for code, data in outcome.distributions.items()]
    return environment().get_template("report.html").render(
        report=report, outcome=outcome, checks=checks, plots=plots, categories=CATEGORY_NAMES,
        subcategories=SUBCATEGORY_NAMES, verdicts=VERDICT_NAMES, statuses=STATUS_NAMES,
        shown=EXAMPLES_SHOWN)


def write_html_report(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
