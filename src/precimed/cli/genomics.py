"""``precimed genomics``: a centre's genotypes through the QC gate; reference callsets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from precimed.cli.progress import Progress
from precimed.settings import Settings


@click.group("genomics")
def genomics_group() -> None:
    """Genotype data: submit a centre's VCF, load a public reference callset."""


def register(cli: click.Group) -> None:
    cli.add_command(genomics_group)


@genomics_group.command("submit")
@click.argument("vcf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", required=True, type=click.Path(exists=True, path_type=Path),
              help="CSV with sample_id,resident_id for every sample of the VCF.")
@click.option("--centre", required=True)
@click.option("--build", required=True, type=click.Choice(["GRCh38", "GRCh37"]))
@click.option("--assay-type", default="genotype_array", show_default=True)
@click.option("--dataset", default="precimed", show_default=True)
@click.option("--replace", is_flag=True, help="Replace a dataset of the same name.")
@click.pass_obj
def submit(settings_of, vcf: Path, sheet: Path, centre: str, build: str, assay_type: str,
           dataset: str, replace: bool) -> None:
    """Pseudonymise, score and (if it passes) publish a centre's VCF. Exits 5 on fail."""
    from precimed.workflows.genotypes import submit_genotypes

    settings: Settings = settings_of()
    result = submit_genotypes(settings, vcf, sheet, centre=centre, build=build,
                              dataset=dataset, assay_type=assay_type,
                              performed_on=dt.date.today(), replace=replace,
                              progress=Progress(vcf.name))
    click.echo(f"{vcf.name}: {result.samples:,} samples x {result.variants:,} variants, "
               f"genotype QC {result.verdict}"
               + (", published" if result.published else ", NOT published"))
    for r in result.outcome.results:
        if r.status in {"fail", "warn"}:
            click.echo(f"  {r.status:<5} {r.check:<20} {r.failing:,} of {r.checked:,} "
                       f"(threshold {100 * r.threshold:g}%)")
    if not result.published:
        raise click.exceptions.Exit(5)


@genomics_group.command("reference")
@click.argument("vcf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, help="Name, e.g. 1kg-phase3.")
@click.option("--build", required=True, type=click.Choice(["GRCh38", "GRCh37"]))
@click.option("--panel", type=click.Path(exists=True, path_type=Path),
              help="Population labels: sample, pop, super_pop (1000 Genomes panel format).")
@click.pass_obj
def reference(settings_of, vcf: Path, dataset: str, build: str, panel: Path | None) -> None:
    """Load a public callset (no participants) as a reference dataset."""
    from precimed.genomics.summary import publish_variant_summary
    from precimed.genomics.vcf import ingest_reference
    from precimed.lake import Lake
    from precimed.reference.served import rebuild

    settings: Settings = settings_of()
    lake = Lake(settings.lake_dir)
    lake.catalog()  # a home without a lake fails here, before the VCF is read
    store = ingest_reference(vcf, settings.genotypes_dir, dataset=dataset, build=build,
                             panel=panel)
    committed, _ = publish_variant_summary(lake, store, dataset)
    rebuild(settings)
    click.echo(f"{dataset}: {len(store.samples(dataset)):,} samples; the store holds "
               f"{len(store.variants()):,} variants ({settings.genotypes_dir}); "
               f"{committed.rows_added['variant_summary']:,} rows in the lake's "
               "variant_summary; the reference database rebuilt")


@genomics_group.command("summarise")
@click.option("--release", default=None, help="Release whose participants label the samples "
                                               "(default: the newest).")
@click.pass_obj
def summarise(settings_of, release: str | None) -> None:
    """Build the reference database (HOME/reference) from the genotype store: counts by
    region, province and sex, published values precomputed under the disclosure policy."""
    settings: Settings = settings_of()
    from precimed.reference.served import rebuild

    out, store = rebuild(settings, release=release)
    click.echo(f"reference database written to {out} ({len(store.variants()):,} variants, "
               f"datasets {', '.join(store.datasets)})")
