"""``precimed demo``: the platform's main job end to end on embedded defaults."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer

from precimed.cli.lake import print_summary
from precimed.cli.progress import Progress
from precimed.cli.submit import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.settings import Settings
from precimed.synth import synthesise


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    participants: Annotated[int, typer.Option(help="People over all centres.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
) -> None:
    """Start a fresh demo home, synthesise every centre, submit, and release.

    Also submits one messy package, to show a rejection report.
    """
    settings: Settings = ctx.obj
    started = time.perf_counter()
    say = Progress("demo")
    if settings.home.exists():
        shutil.rmtree(settings.home)
    initialise(settings)
    packages = settings.home / "incoming"
    say(f"synthesising {participants:,} participants across all centres")
    clean = synthesise(packages / "clean", participants_count=participants, seed=seed,
                       progress=say)
    messy = synthesise(packages / "messy", participants_count=200, seed=seed + 1,
                       defect_rate=0.01, centres=("SH01",), progress=say)
    outcomes = []
    for centre, package in [*clean.packages.items(), *messy.packages.items()]:
        result = submit(package, settings, progress=say)
        outcomes.append((centre, package, result))
        say(f"{centre}: {result.status}")
    Lake(settings.lake_dir).create_release("demo-1", description="demo release")
    typer.echo("")
    print_summary(Lake(settings.lake_dir), "demo-1")
    typer.echo("submissions:")
    for centre, package, result in outcomes:
        typer.echo(f"  {centre:<8} {package.parent.name:<6} {result.status}")
    for centre, package, result in outcomes:
        if result.accepted:
            continue
        report = result.report
        typer.echo(f"rejected: {package} — {report.problem_count} problems "
                   + ", ".join(f"{k} {n}" for k, n in report.counts_by_kind().items()))
        for problem in report.problems[:6]:
            typer.echo(f"  - {problem.line()}")
    typer.echo(f"\nrelease demo-1 created; home {settings.home}; "
               f"{time.perf_counter() - started:.0f} s")
