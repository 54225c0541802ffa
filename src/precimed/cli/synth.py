"""``precimed synth``: write synthetic centre packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from precimed.cli.progress import Progress
from precimed.synth import synthesise
from precimed.synth.defects import DEFECT_KINDS


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)


def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write; one package per centre.")],
    participants: Annotated[int, typer.Option(help="People over all centres.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")]
    = 1,
    defect_rate: Annotated[float, typer.Option(
        help="Share of rows given each defect kind; 0 gives clean data.")] = 0.0,
    defects: Annotated[str, typer.Option(
        help="Comma-separated defect kinds to inject: " + ", ".join(DEFECT_KINDS))]
    = ",".join(DEFECT_KINDS),
    centres: Annotated[str, typer.Option(help="Comma-separated centres (default all).")] = "",
) -> None:
    """Synthesise multi-centre cohort packages with known ground truth."""
    result = synthesise(
        out, participants_count=participants, seed=seed, defect_rate=defect_rate,
        defect_kinds=tuple(k for k in defects.split(",") if k),
        centres=tuple(c for c in centres.split(",") if c) or None,
        progress=Progress("synth"),
    )
    typer.echo(f"wrote {len(result.packages)} packages to {result.out}")
    for table, count in result.rows.items():
        typer.echo(f"  {table:<18} {count:>10,} rows")
    if result.defects:
        typer.echo(f"  injected {len(result.defects)} defects (see truth/defects.json)")
