"""``precimed synth``: write synthetic centre packages."""

from __future__ import annotations

from pathlib import Path

import click

from precimed.cli.progress import Progress
from precimed.synth import synthesise
from precimed.synth.defects import DEFECT_KINDS


def register(cli: click.Group) -> None:
    cli.add_command(synth)


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--participants", default=2000, show_default=True,
              help="People, shared among the centres chosen (default: all).")
@click.option("--seed", default=1, show_default=True,
              help="Random seed; the same seed gives the same data.")
@click.option("--defect-rate", default=0.0, show_default=True,
              help="Share of rows given each defect kind; 0 gives clean data.")
@click.option("--defects", default=",".join(DEFECT_KINDS), show_default=True,
              help="Comma-separated defect kinds to inject.")
@click.option("--centres", default="", help="Comma-separated centres (default: all).")
def synth(out: Path, participants: int, seed: int, defect_rate: float, defects: str,
          centres: str) -> None:
    """Synthesise one package per centre into OUT, with ground truth in OUT/truth/."""
    result = synthesise(
        out, participants_count=participants, seed=seed, defect_rate=defect_rate,
        defect_kinds=tuple(k for k in defects.split(",") if k),
        centres=tuple(c for c in centres.split(",") if c) or None,
        progress=Progress("synth"),
    )
    click.echo(f"wrote {len(result.packages)} packages to {result.out}")
    for table, count in result.rows.items():
        click.echo(f"  {table:<18} {count:>10,} rows")
    if result.defects:
        click.echo(f"  injected {len(result.defects)} defects (see truth/defects.json)")
