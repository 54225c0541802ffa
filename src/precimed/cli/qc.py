"""``precimed qc``: rule sets, scorecards, re-scoring the lake, reports."""

from __future__ import annotations

import json
from pathlib import Path

import click

from precimed.cli.progress import Progress
from precimed.errors import NotFound
from precimed.qc import available, load_ruleset
from precimed.settings import Settings


@click.group("qc")
def qc_group() -> None:
    """Data quality: rule sets, per-centre scorecards, re-scoring."""


def register(cli: click.Group) -> None:
    cli.add_command(qc_group)


@qc_group.command("rules")
@click.pass_obj
def rules(settings_of) -> None:
    """List the rule sets (built in and the platform's own) and their checks."""
    settings: Settings = settings_of()
    for version, path in available(settings.qc_rules_dir).items():
        ruleset = load_ruleset(version, settings.qc_rules_dir)
        active = " (active)" if version == settings.qc_rules else ""
        click.echo(f"{version}{active}: {ruleset.en} — {len(ruleset.checks)} checks, "
                   f"{len(ruleset.overrides)} overrides, {len(ruleset.ranges)} ranges; {path}")


@qc_group.command("scorecard")
@click.option("--centre", help="Only this centre.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows instead of a table.")
@click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML scorecard with plots here.")
@click.pass_obj
def scorecard(settings_of, centre: str | None, as_json: bool, html: Path | None) -> None:
    """Pass rate by Kahn category for every scoring of every centre, over time."""
    from precimed.qc.scorecard import scorecard as rows_of
    from precimed.qc.scorecard import scorecard_html, scorecard_text

    settings: Settings = settings_of()
    rows = rows_of(settings, centre=centre)
    if not rows:
        raise NotFound("No QC scorings yet" + (f" for centre {centre}" if centre else ""),
                       where=str(settings.home),
                       hint="Submit a package ('precimed submit') or re-score the lake "
                       "('precimed qc rescore --rules 1.0').")
    click.echo(json.dumps(rows, ensure_ascii=False, indent=1) if as_json
               else scorecard_text(rows))
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(scorecard_html(rows, settings.zone), encoding="utf-8")
        click.echo(f"scorecard written to {html}")


@qc_group.command("rescore")
@click.option("--rules", "version", required=True, help="Rule set version, e.g. 1.1.")
@click.option("--centre", "centres", multiple=True, help="Only these centres (repeatable).")
@click.pass_obj
def rescore(settings_of, version: str, centres: tuple[str, ...]) -> None:
    """Re-score the data already in the lake under rule set VERSION, without re-ingesting."""
    from precimed.qc.scorecard import rescore as run

    settings: Settings = settings_of()
    done = run(settings, version, centres=centres, progress=Progress("qc rescore"))
    if not done:
        raise NotFound("Nothing to re-score", where=str(settings.lake_dir),
                       hint="The lake holds no participants of the centres asked for.")
    for item in done:
        rates = ", ".join(f"{c} {'–' if v is None else f'{100 * v:.0f}%'}"
                          for c, v in item.outcome.pass_rates().items())
        how = "counts reused" if item.reused_counts else "queries run"
        click.echo(f"{item.centre:<8} {item.outcome.verdict:<19} {rates}  ({how}; "
                   f"{item.scoring_id})")
