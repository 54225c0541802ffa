"""``precimed sharing extract`` and ``precimed sharing outputs``: a project's extracts
and outputs, and output review, acting as a named account (``--as USER``) under its
roles and project membership, as the API does (every action audited by the domain)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from precimed.settings import Settings

AS = click.option("--as", "as_user", required=True, help="Act as this platform account.")
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def register(cli: click.Group) -> None:
    from precimed.cli.sharing import sharing_group

    sharing_group.add_command(extract_cmd)
    sharing_group.add_command(outputs_group)


def _context(settings: Settings, as_user: str, permission: str):
    """The ops database and the acting principal, refused without ``permission``."""
    from precimed.cli.serve import _ops
    from precimed.errors import Forbidden
    from precimed.ops.accounts import principal_for

    ops = _ops(settings)
    principal = principal_for(ops, as_user)
    if not principal.can(permission):
        ops.dispose()
        raise Forbidden(f"The roles of {as_user} do not allow {permission}", where="--as",
                        hint="Act as an account with that permission.")
    return ops, principal


def _project(settings: Settings, ops, principal, request_id: str, action: str):
    from precimed.sharing import workspace

    return workspace.project(ops, request_id, principal=principal,
                             on=workspace.access_date(settings), client="cli",
                             action=action)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))


@click.command("extract")
@click.argument("request_id")
@AS
@click.option("--dataset", default=None, help="An approved dataset (catalogue id): clinical "
                                              "(Parquet, CSV) or genotype (VCF); the first "
                                              "one if omitted.")
@JSON
@click.pass_obj
def extract_cmd(settings_of, request_id: str, as_user: str, dataset: str | None,
                as_json: bool) -> None:
    """Cut an extract of project REQUEST_ID's approved data: project IDs, dates as
    approved, k-anonymous; or, for a genotype dataset, the consented people's genotypes
    as a VCF named by project IDs (HGR rules checked first). Kept under HOME/projects
    and recorded as a provision."""
    from precimed.sharing import workspace

    settings: Settings = settings_of()
    ops, principal = _context(settings, as_user, "sharing.apply")
    try:
        project = _project(settings, ops, principal, request_id, "project.extract")
        made = workspace.cut_extract(settings, ops, project, principal=principal,
                                     dataset=dataset, on=workspace.access_date(settings),
                                     client="cli")
    finally:
        ops.dispose()
    if as_json:
        _echo_json(made)
        return
    folder = workspace.extract_folder(settings, request_id, made["id"])
    coarsened = ", ".join(f"{c['column']} ({c['to']})" for c in made["coarsened"]) or "none"
    if made["kind"] == "genotype":
        click.echo(f"genotype extract {made['id']} of {made['dataset']} (consent as of "
                   f"release {made['release']}): {made['people']:,} people, "
                   f"{made['rows']:,} variants, {', '.join(made['files'])}")
    else:
        click.echo(f"extract {made['id']} of {made['dataset']} (release {made['release']}): "
                   f"{made['rows']:,} rows, {len(made['columns'])} columns, dates "
                   f"{made['date_handling']}, coarsened: {coarsened}")
    click.echo(f"written to {folder}")


@click.group("outputs")
def outputs_group() -> None:
    """A project's outputs: submit for release, list; review (release or return)."""


@outputs_group.command("submit")
@click.argument("request_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS
@click.option("--kind", type=click.Choice(["table", "coefficients", "figure"]),
              default="table", show_default=True)
@click.option("--title", required=True, help="What the result shows.")
@click.option("--spec", "spec_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path), default=None,
              help="JSON describing the table's columns: by, labels, counts, sums, "
                   "statistics, margins.")
@JSON
@click.pass_obj
def submit_cmd(settings_of, request_id: str, file: Path, as_user: str, kind: str,
               title: str, spec_file: Path | None, as_json: bool) -> None:
    """Submit FILE of project REQUEST_ID for release; it is checked at once."""
    from precimed.errors import UserError
    from precimed.sharing import outputs

    settings: Settings = settings_of()
    try:
        spec = json.loads(spec_file.read_text(encoding="utf-8")) if spec_file else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError("The table description is not JSON", where=str(spec_file),
                        hint='For example {"by": ["sex"], "counts": ["n"]}.') from None
    ops, principal = _context(settings, as_user, "sharing.apply")
    try:
        project = _project(settings, ops, principal, request_id, "project.output.submit")
        made = outputs.submit(settings, ops, project, principal=principal, kind=kind,
                              title=title, filename=file.name, content=file.read_bytes(),
                              spec=spec, client="cli")
    finally:
        ops.dispose()
    if as_json:
        _echo_json(made)
        return
    click.echo(f"output {made['id']} submitted: check {made['check']['status']}, "
               f"{made['check']['hidden_cells']} cells hidden; waiting for review")
    for finding in made["check"]["findings"]:
        row = "" if finding["row"] is None else f", row {finding['row'] + 1}"
        click.echo(f"  {finding['rule']}: {finding['column']}{row}")


@outputs_group.command("list")
@click.argument("request_id", required=False)
@AS
@click.option("--status", type=click.Choice(["submitted", "returned", "released"]),
              default="submitted", show_default=True,
              help="Without REQUEST_ID: the review queue of this status.")
@JSON
@click.pass_obj
def list_cmd(settings_of, request_id: str | None, as_user: str, status: str,
             as_json: bool) -> None:
    """List project REQUEST_ID's outputs (a member), or the review queue (a reviewer)."""
    from precimed.sharing import outputs

    settings: Settings = settings_of()
    permission = "sharing.apply" if request_id else "outputs.review"
    ops, principal = _context(settings, as_user, permission)
    try:
        if request_id:
            project = _project(settings, ops, principal, request_id, "project.read")
            rows = outputs.of_project(ops, project.id)
        else:
            rows = outputs.queue(ops, status=status)
    finally:
        ops.dispose()
    listed = [outputs.output_dict(r) for r in rows]
    if as_json:
        _echo_json(listed)
        return
    for o in listed:
        click.echo(f"{o['id']}  {o['status']:<9} {o['kind']:<12} check "
                   f"{o['check']['status']:<9} project {o['request']}  {o['title']}")


@outputs_group.command("review")
@click.argument("output_id")
@AS
@click.option("--release", "decision", flag_value="release", help="Release the checked "
                                                                  "version.")
@click.option("--return", "decision", flag_value="return", help="Return it to the project.")
@click.option("--reason", default="", help="Why (required to return).")
@click.pass_obj
def review_cmd(settings_of, output_id: str, as_user: str, decision: str | None,
               reason: str) -> None:
    """Release or return a submitted output (the committee, admins)."""
    from precimed.errors import UserError
    from precimed.sharing import outputs

    if decision is None:
        raise UserError("Say --release or --return", where="decision",
                        hint="Release the checked version, or return it with --reason.")
    settings: Settings = settings_of()
    ops, principal = _context(settings, as_user, "outputs.review")
    try:
        row = outputs.review(settings, ops, output_id, principal=principal,
                             decision=decision, reason=reason, client="cli")
    finally:
        ops.dispose()
    where = ""
    if row["status"] == "released":
        where = f": {outputs.output_folder(settings, row['request'], row['id'])}"
    click.echo(f"output {row['id']} {row['status']}{where}")
