"""``precimed demo``: the platform's main job end to end on embedded defaults."""

from __future__ import annotations

import shutil
import time

import click

from precimed.cli.lake import print_summary
from precimed.cli.progress import Progress
from precimed.cli.sharing import demo_requests
from precimed.errors import UserError
from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.qc.scorecard import scorecard, scorecard_html
from precimed.settings import Settings, load_settings
from precimed.synth import synthesise
from precimed.synth.people import DATA_CUT


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@click.option("--participants", default=20_000, show_default=True,
              help="People over all centres.")
@click.option("--seed", default=2026, show_default=True, help="Random seed.")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="End by serving the platform at http://127.0.0.1:8000.")
@click.option("--port", default=8000, show_default=True)
@click.pass_obj
def demo(settings_of, participants: int, seed: int, serve: bool, port: int) -> None:
    """Start a fresh demo home, synthesise every centre, submit, and release; then serve
    the platform with one demo account per role.

    Also submits one messy package, to show a rejection report, and simulated genotypes
    for the participants of two centres, which feed the Beacon and the reference database.
    """
    settings: Settings = settings_of()
    started = time.perf_counter()
    say = Progress("demo")
    if settings.home.exists() and any(settings.home.iterdir()):
        if not (settings.lake_dir / "catalog.json").exists():
            raise UserError("The demo home is not empty and is not a precimed home",
                            where=str(settings.home),
                            hint="Give an empty folder or an earlier demo home to --home.")
        shutil.rmtree(settings.home)
    initialise(settings)
    (settings.home / "precimed.toml").write_text("demo = true\n", encoding="utf-8")
    settings = load_settings({"home": settings.home})
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
    # genotypes before the release, so that it holds their assay rows and variant summary
    genotyped = genotype_centres(settings, outcomes, seed=seed, say=say)
    # endpoints adjudicated before the release, which freezes the decisions; the
    # synthetic data end at DATA_CUT: results on the release are assessed there
    from precimed.workflows.release import create_release

    _candidates(settings, say)
    create_release(settings, "demo-1", description="demo release", data_cut=DATA_CUT)
    click.echo("")
    print_summary(Lake(settings.lake_dir), "demo-1")
    click.echo("submissions:")
    for centre, package, result in outcomes:
        click.echo(f"  {centre:<8} {package.parent.name:<6} {result.status:<10} "
                   f"QC {result.verdict}")
    for _, package, result in outcomes:
        if result.accepted:
            continue
        report = result.report
        click.echo(f"rejected: {package} — {report.problem_count} problems "
                   + ", ".join(f"{k} {n}" for k, n in report.counts_by_kind().items()))
        for problem in report.problems[:6]:
            click.echo(f"  - {problem.line()}")
        click.echo(f"  QC report: {settings.reports_dir / (result.submission_id + '.html')}")
    card = settings.home / "qc-scorecard.html"
    card.write_text(scorecard_html(scorecard(settings), settings.zone), encoding="utf-8")
    click.echo(f"QC scorecard: {card}")
    _cohorts(settings, say)
    _survival(settings, say)
    accounts = _accounts(settings)
    shared = demo_requests(settings, say)
    click.echo(f"\nrelease demo-1 created; home {settings.home}; "
               f"{time.perf_counter() - started:.0f} s")
    click.echo(f"\ndemo accounts (password for all: {DEMO_PASSWORD}):")
    for username, roles, centres, what in accounts:
        scope = f" at {', '.join(centres)}" if centres else ""
        click.echo(f"  {username:<12} {', '.join(roles)}{scope}: {what}")
    click.echo("\naccess requests (the catalogue and the committee's queue on the pages):")
    for request_id, state in shared:
        click.echo(f"  {request_id}: {state}")
    if genotyped:
        _genomics_links(port)
    if serve:
        from precimed.cli.serve import start

        click.echo(f"\nserving at http://127.0.0.1:{port} (Chinese; English via the switch "
                   f"top right); API docs at /api/docs. Ctrl-C stops.")
        start(settings, "127.0.0.1", port, 2)


DEMO_PASSWORD = "precimed-demo-2026"
DEMO_ACCOUNTS = (
    ("admin", ["admin"], [], "everything: users, roles, audit log"),
    ("sh01-dm", ["data_manager"], ["SH01"], "Shanghai centre: submissions, QC, worklist"),
    ("reviewer", ["reviewer"], [], "endpoint adjudication"),
    ("researcher", ["researcher"], [], "cohort builder (counts only), access requests"),
    ("clinician", ["clinician"], ["SH01"], "worklist and cohorts for Shanghai"),
    ("dac", ["dac"], [], "data access committee: review queue, votes, audit log"),
)


def _accounts(settings: Settings) -> tuple:
    from precimed.ops import OpsDatabase, accounts

    ops = OpsDatabase(settings.database_url)
    try:
        for username, roles, centres, _ in DEMO_ACCOUNTS:
            accounts.create_user(ops, username, DEMO_PASSWORD, roles=roles, centres=centres)
    finally:
        ops.dispose()
    return DEMO_ACCOUNTS


# The far north and the far south: the simulated north-south cline shows between them.
GENOTYPED_CENTRES = ("HL01", "GD01")


def genotype_centres(settings: Settings, outcomes: list, *, seed: int, say) -> bool:
    """Simulated genotypes (not real frequencies) for every participant of the genotyped
    centres, through the genotype QC gate; then the reference database built from them.
    True if any dataset was published."""
    from precimed.reference.served import rebuild
    from precimed.synth import genotypes
    from precimed.workflows.genotypes import submit_genotypes

    panel = genotypes.simulate_panel(seed=seed)
    click.echo("genotypes (simulated: positions in real genes, frequencies not real):")
    published = False
    for centre, package, result in outcomes:
        if centre not in GENOTYPED_CENTRES or package.parent.name != "clean" \
                or not result.accepted:
            continue
        say(f"{centre}: simulating genotypes for its participants")
        files = genotypes.synthesise_genotypes(
            settings.cache_dir / "demo-genotypes", genotypes.participants_of(package),
            panel=panel, centre=centre, seed=seed)
        submitted = submit_genotypes(settings, files.vcf, files.sheet, centre=centre,
                                     build=genotypes.BUILD, dataset=f"{centre.lower()}-array",
                                     platform="simulated array", rebuild_reference=False,
                                     progress=say)
        published |= submitted.published
        click.echo(f"  {centre:<8} {submitted.samples:,} samples x {submitted.variants:,} "
                   f"variants, genotype QC {submitted.verdict}"
                   + ("" if submitted.published else ", NOT published"))
    if published:
        say("building the reference database (frequencies by region, province and sex)")
        # labels (sex, native province) as copied from the lake at ingest
        out, store = rebuild(settings)
        click.echo(f"reference database: {out} ({len(store.variants()):,} variants, "
                   f"datasets {', '.join(store.datasets)})")
    return published


def _genomics_links(port: int) -> None:
    from precimed.synth.genotypes import KNOWN_VARIANTS

    rs671 = next(v for v in KNOWN_VARIANTS if v.rsid == "rs671")
    base = f"http://127.0.0.1:{port}"
    click.echo(f"\ngenomics to try ({rs671.rsid} in {rs671.gene}; genotypes simulated):")
    click.echo(f"  Beacon:    {base}/api/beacon/v2/g_variants?referenceName={rs671.chrom}"
               f"&start={rs671.pos - 1}&referenceBases={rs671.ref}"
               f"&alternateBases={rs671.alt}")
    click.echo(f"  reference: {base}/reference?q={rs671.gene}")
    click.echo(f"  API:       {base}/api/v1/reference/search?q={rs671.gene} (signed in)")


def _survival(settings: Settings, say) -> None:
    """One analysis as the platform runs it: stroke by sex in people aged 40-69."""
    from precimed.cli.cohort import print_survival
    from precimed.deid import Policy
    from precimed.query import AgeAtEnrolment, cohort
    from precimed.workflows.survival import cohort_survival

    say("survival analysis: confirmed stroke by sex, ages 40-69")
    definition = cohort("aged 40-69", AgeAtEnrolment(40, 70))
    result = cohort_survival(settings, definition, release="demo-1", endpoint="stroke",
                             by="sex", covariates=("age", "male", "SBP"))
    click.echo("")
    print_survival(result, Policy.from_settings(settings))


def _candidates(settings: Settings, say) -> None:
    """Queue endpoint candidates from every source, for the reviewers."""
    from precimed.cohorts import adjudication, candidates, load_candidates
    from precimed.ops import OpsDatabase

    say("merging endpoint reports into candidates for adjudication")
    con = Lake(settings.lake_dir).snapshot().connect()
    try:
        frame = candidates(con)
    finally:
        con.disconnect()
    ops = OpsDatabase(settings.database_url)
    try:
        added = load_candidates(ops, frame)
        # the demo's stand-in reviewer confirms what two independent sources agree on, so
        # that incidence has events; the rest wait in the queue for the demo reviewer
        agreed = [c for c in adjudication.queue(ops) if len(set(c.sources)) >= 2]
        for candidate in agreed:
            adjudication.decide(ops, candidate.id, "confirmed", reviewer="demo-auto",
                                reason="demo: two independent sources agree")
    finally:
        ops.dispose()
    click.echo(f"{added:,} endpoint candidates queued for adjudication; {len(agreed):,} "
               f"reported by two sources confirmed by the demo's stand-in reviewer")


def _cohorts(settings: Settings, say) -> None:
    """Retention against the 8% target, and one cohort's attrition, on the release."""
    from precimed.cli.cohort import print_attrition
    from precimed.cohorts.follow_up import retention_summary
    from precimed.deid import Policy
    from precimed.query import AgeAtEnrolment, MeasurementIn, ParticipantIs, baseline, cohort
    from precimed.query import compile as engine

    say("building the release's query database")
    snapshot = Lake(settings.lake_dir).snapshot("demo-1")
    con = snapshot.connect()
    try:
        summary = retention_summary(con, as_of=snapshot.as_of())
    finally:
        con.disconnect()
    flagged = summary[summary.flag]
    click.echo(f"\n4-year loss to follow-up as of {snapshot.as_of()}, the data cut of "
               f"demo-1 (target ≤ 8%): "
               f"{len(flagged)} of {len(summary)} centres above target: "
               + ", ".join(f"{r.centre} {100 * r.loss:.1f}%" for r in flagged.itertuples()))
    definition = cohort("hypertensive women 40-69", ParticipantIs("sex", ("2",)),
                        AgeAtEnrolment(40, 70), MeasurementIn("SBP", min=140,
                                                              window=baseline()))
    con = snapshot.database(settings.cache_dir)
    try:
        rows = engine.attrition(con, definition)
    finally:
        con.disconnect()
    click.echo(f"cohort '{definition.name}' in demo-1:")
    print_attrition(rows, Policy.from_settings(settings))
