"""``precimed sharing``: the catalogue, access requests, the committee, the provision list.

Commands that change anything act as a named account (``--as USER``) under its roles, as
the API does; every change is audited by the domain (precimed.sharing). Dates that decide
(submission against an embargo, a decision, an expiry) are ``--on``, by default the
as_of setting when given, else the day the command runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from precimed.settings import Settings


@click.group("sharing")
def sharing_group() -> None:
    """Data catalogue, access requests, the data access committee, provisions."""


def register(cli: click.Group) -> None:
    cli.add_command(sharing_group)


def _ops(settings: Settings):
    from precimed.cli.serve import _ops as ops_of

    return ops_of(settings)


def _as(ops, username: str):
    from precimed.ops.accounts import principal_for

    return principal_for(ops, username)


def _on(settings: Settings, on: dt.datetime | None) -> dt.date:
    """The day of the action: --on, else the as_of setting, else today (read here, at
    the edge, and passed down explicitly)."""
    return on.date() if on else settings.action_date


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))


AS = click.option("--as", "as_user", required=True, help="Act as this platform account.")
ON = click.option("--on", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="Date of the action (default: the as_of setting, else today).")
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@sharing_group.command("catalogue")
@JSON
@click.pass_obj
def catalogue_cmd(settings_of, as_json: bool) -> None:
    """List the catalogue: datasets, tiers, conditions, protected counts."""
    from precimed.deid import Policy
    from precimed.sharing import catalogue

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        rows = [catalogue.describe(ops, e, policy=Policy.from_settings(settings))
                for e in catalogue.entries(ops)]
    finally:
        ops.dispose()
    if as_json:
        _echo_json(rows)
        return
    for e in rows:
        people = "<T" if e["participants"] is None else f"{e['participants']:,}"
        conditions = " ".join(f"{c['code']}{':' + c['value'] if c['value'] else ''}"
                              for c in e["conditions"]) or "—"
        embargo = f" embargo until {e['embargo_until']}" if e["embargo_until"] else ""
        click.echo(f"{e['id']:<36} {e['access_tier']:<10} {people:>8} people  "
                   f"[{conditions}]{embargo}  {e['title']['zh']}")


@sharing_group.command("publish")
@click.option("--release", default=None, help="Release (default: the newest).")
@click.option("--genotypes/--no-genotypes", default=True,
              help="Also list the genotype store's datasets.")
@AS
@click.pass_obj
def publish_cmd(settings_of, release: str | None, genotypes: bool, as_user: str) -> None:
    """List a release's cohorts (and the genotype datasets) in the catalogue."""
    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        ids = publish(settings, ops, _as(ops, as_user), release=release,
                      genotypes=genotypes)
    finally:
        ops.dispose()
    click.echo(f"{len(ids)} catalogue entries: " + ", ".join(ids))


def publish(settings: Settings, ops, principal, *, release: str | None,
            genotypes: bool = True) -> list[str]:
    """Publish a release's entries and the genotype datasets (shared with the demo)."""
    from precimed.errors import Forbidden, NotFound
    from precimed.genomics import consent as genomic_consent
    from precimed.genomics.store import GenotypeStore
    from precimed.lake import Lake
    from precimed.sharing import catalogue

    if not principal.can("catalogue.manage") or principal.centres:
        raise Forbidden("Only an administrator publishes the whole catalogue",
                        where="--as", hint="Act as an admin account.")
    lake = Lake(settings.lake_dir)
    releases = sorted(lake.catalog().releases.values(), key=lambda r: r.created_at)
    if not releases:
        raise NotFound("No release yet", where="lake", hint="precimed release create NAME")
    name = release or releases[-1].name
    snapshot = lake.snapshot(name)
    ids = catalogue.publish_release(ops, snapshot, name, actor=principal.username)
    if genotypes and (settings.genotypes_dir / "store.json").exists():
        ids += catalogue.publish_genotypes(ops, GenotypeStore.open(settings.genotypes_dir),
                                           snapshot, actor=principal.username,
                                           left_out=genomic_consent.left_out(lake, name))
    return ids


@sharing_group.command("conditions")
@click.argument("entry")
@click.argument("codes", nargs=-1, required=True)
@click.option("--reason", default="", help="Why (kept with the version).")
@AS
@click.pass_obj
def conditions_cmd(settings_of, entry: str, codes: tuple[str, ...], reason: str,
                   as_user: str) -> None:
    """Set an entry's DUO conditions, e.g. HMB NCU IRB DS:I21 TS:2028-12-31."""
    from precimed.sharing import catalogue

    ops = _ops(settings_of())
    try:
        version = catalogue.set_conditions(ops, entry, list(codes),
                                           principal=_as(ops, as_user), reason=reason)
    finally:
        ops.dispose()
    click.echo(f"{entry}: conditions version {version}: {' '.join(codes)}")


@sharing_group.command("entry")
@click.argument("entry")
@click.option("--tier", default=None, help="open, registered or controlled.")
@click.option("--embargo", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Embargo until this date.")
@click.option("--clear-embargo", is_flag=True)
@click.option("--kind", default=None, help="genotype, exome or genome (genetic entries).")
@AS
@click.pass_obj
def entry_cmd(settings_of, entry: str, tier: str | None, embargo: dt.datetime | None,
              clear_embargo: bool, kind: str | None, as_user: str) -> None:
    """Change an entry's access tier, embargo or genetic data kind."""
    from precimed.sharing import catalogue

    ops = _ops(settings_of())
    try:
        item = catalogue.update_entry(ops, entry, principal=_as(ops, as_user),
                                      access_tier=tier,
                                      embargo_until=embargo.date() if embargo else None,
                                      clear_embargo=clear_embargo, kind=kind)
    finally:
        ops.dispose()
    click.echo(f"{item.id}: {item.kind}, {item.access_tier}, embargo "
               f"{item.embargo_until or 'none'}")


@sharing_group.command("apply")
@click.argument("form", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--ethics", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The ethics approval document (PDF or image).")
@click.option("--submit", "then_submit", is_flag=True, help="Submit at once.")
@AS
@ON
@click.pass_obj
def apply_cmd(settings_of, form: Path, ethics: Path | None, then_submit: bool, as_user: str,
              on: dt.datetime | None) -> None:
    """Start an access request from a JSON form (fields as POST /api/v1/sharing/requests)."""
    from precimed.errors import UserError
    from precimed.sharing import requests
    from precimed.sharing.form import RequestForm

    settings: Settings = settings_of()
    try:
        data = json.loads(form.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError("The form is not valid JSON", where=str(form),
                        hint="Write the fields as a JSON object.") from exc
    ops = _ops(settings)
    try:
        principal = _as(ops, as_user)
        record = requests.create(ops, RequestForm.parse(_mapping(data, form)),
                                 principal=principal)
        if ethics:
            requests.attach_ethics(ops, record.id, ethics, filename=ethics.name,
                                   sharing_dir=settings.sharing_dir, principal=principal)
        if then_submit:
            record = requests.submit(ops, record.id, principal=principal,
                                     on=_on(settings, on), settings=settings)
    finally:
        ops.dispose()
    match = record.match.get("result", "") if record.match else ""
    click.echo(f"{record.id}: {record.status}" + (f", match {match}" if match else ""))


def _mapping(data, where: Path) -> dict:
    from precimed.errors import UserError

    if not isinstance(data, dict):
        raise UserError("The form is not a JSON object", where=str(where),
                        hint="Write the fields as a JSON object.")
    return data


def _request_command(name: str, help_text: str):
    """A command on one request: ``precimed sharing NAME ID --as USER``."""
    def wrap(fn):
        fn.__doc__ = help_text
        return sharing_group.command(name)(click.argument("request_id")(AS(
            click.pass_obj(fn))))
    return wrap


@_request_command("submit", "Submit a draft or returned request (checked, then matched).")
@ON
def submit_cmd(settings_of, request_id: str, as_user: str, on: dt.datetime | None) -> None:
    from precimed.sharing import requests

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        record = requests.submit(ops, request_id, principal=_as(ops, as_user),
                                 on=_on(settings, on), settings=settings)
    finally:
        ops.dispose()
    click.echo(f"{record.id}: {record.status}, match {record.match.get('result')}")
    for dataset in record.match.get("datasets", []):
        for clause in dataset["clauses"]:
            if clause["result"] != "consistent":
                click.echo(f"  {dataset['entry_id']}: {clause['result']}: {clause['en']}")
    if line := _consent_line(record.match):
        click.echo(f"  {line}")


def _consent_line(match: dict | None) -> str:
    """The match's consent part in one line: the scopes left out and, per dataset, how
    many people (a published count; "fewer than T" when suppressed)."""
    given = (match or {}).get("consent")
    if not given:
        return ""
    kind = "genetic research" if given["genetic"] else "not genetic research"
    counts = "; ".join(f"{d['entry_id']}: "
                       + (f"{d['left_out']:,}" if d["left_out"] is not None
                          else f"suppressed ({d['suppressed']})")
                       for d in given.get("datasets", []))
    scopes = ", ".join(given.get("scopes", []))
    return (f"consent: {kind}" + (f"; left out ({scopes}): {counts}" if counts else ""))


@_request_command("show", "Show a request: match, HGR state, votes and history.")
@click.option("--json", "as_json", is_flag=True)
def show_cmd(settings_of, request_id: str, as_user: str, as_json: bool) -> None:
    from precimed.sharing import committee, requests

    ops = _ops(settings_of())
    try:
        record = requests.get(ops, request_id, principal=_as(ops, as_user))
        data = requests.summary(ops, record).to_dict()
        data["votes"] = [{"voter": v.voter, "vote": v.vote, "reason": v.reason}
                         for v in committee.votes(ops, request_id)] if record.review_round \
            else []
        data["history"] = [f"{e.at:%Y-%m-%d %H:%M} {e.actor}: {e.from_status or '—'} → "
                           f"{e.to_status} {e.reason}".rstrip()
                           for e in requests.events_of(ops, request_id)]
    finally:
        ops.dispose()
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['id']} [{data['status']}] {data['title']['zh']} / "
               f"{data['title']['en']}")
    click.echo(f"  applicant {data['applicant']}, datasets {', '.join(data['datasets'])}")
    click.echo(f"  match {data['match'].get('result', '—')}; HGR {data['hgr'].get('state')}")
    if line := _consent_line(data["match"]):
        click.echo(f"  {line}")
    for v in data["votes"]:
        click.echo(f"  vote {v['voter']}: {v['vote']} {v['reason']}".rstrip())
    for line in data["history"]:
        click.echo(f"  {line}")


@sharing_group.command("requests")
@AS
@click.option("--queue", is_flag=True, help="The committee's queue instead of my requests.")
@click.pass_obj
def requests_cmd(settings_of, as_user: str, queue: bool) -> None:
    """List my requests, or the committee's queue."""
    from precimed.errors import Forbidden
    from precimed.sharing import requests

    ops = _ops(settings_of())
    try:
        principal = _as(ops, as_user)
        if queue and not principal.can("sharing.review"):
            raise Forbidden("Your roles do not allow sharing.review", where="--queue",
                            hint="Only committee members see the queue.")
        rows = requests.queue(ops) if queue else requests.mine(ops, principal=principal)
    finally:
        ops.dispose()
    for r in rows:
        click.echo(f"{r.id}  {r.status:<12} {r.applicant:<16} "
                   f"{(r.match or {}).get('result', '—'):<13} {r.title_zh or r.title_en}")


@_request_command("vote", "Vote on a request: approve, reject, return or abstain.")
@click.option("--vote", "choice", required=True)
@click.option("--reason", default="")
def vote_cmd(settings_of, request_id: str, as_user: str, choice: str, reason: str) -> None:
    from precimed.sharing import committee

    ops = _ops(settings_of())
    try:
        counted = committee.vote(ops, request_id, choice, principal=_as(ops, as_user),
                                 reason=reason)
    finally:
        ops.dispose()
    click.echo(f"{request_id}: " + ", ".join(f"{v.voter} {v.vote}" for v in counted))


@_request_command("decide", "The chair's decision: approve, reject or return.")
@click.option("--decision", required=True)
@click.option("--reason", required=True)
@click.option("--date-handling", default="shifted", show_default=True,
              help="Dates in extracts: shifted or year_month.")
@click.option("--coarsen", is_flag=True, help="k-anonymity may coarsen quasi-identifiers.")
@click.option("--condition", "conditions", multiple=True, help="A DUO modifier to add.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), default=None)
@ON
def decide_cmd(settings_of, request_id: str, as_user: str, decision: str, reason: str,
               date_handling: str, coarsen: bool, conditions: tuple[str, ...],
               expires: dt.datetime | None, on: dt.datetime | None) -> None:
    from precimed.sharing import committee

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        record = committee.decide(
            ops, request_id, decision, principal=_as(ops, as_user), reason=reason,
            on=_on(settings, on), quorum=settings.dac_votes, chair=settings.dac_chair,
            approval=committee.Approval(date_handling=date_handling,
                                        coarsen_allowed=coarsen, conditions=conditions,
                                        expires_on=expires.date() if expires else None))
    finally:
        ops.dispose()
    click.echo(f"{record.id}: {record.status}"
               + (f" until {record.expires_on}" if record.expires_on else ""))


@_request_command("hgr", "Record the HGR filing (number, date, backup receipt) and/or the "
                         "security review (reference, date).")
@click.option("--filing-number", default=None)
@click.option("--filing-date", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--backup-receipt", default=None)
@click.option("--review-ref", default=None)
@click.option("--review-date", type=click.DateTime(["%Y-%m-%d"]), default=None)
def hgr_cmd(settings_of, request_id: str, as_user: str, filing_number: str | None,
            filing_date: dt.datetime | None, backup_receipt: str | None,
            review_ref: str | None, review_date: dt.datetime | None) -> None:
    from precimed.sharing import requests

    ops = _ops(settings_of())
    try:
        check = requests.record_hgr(
            ops, request_id, principal=_as(ops, as_user), filing_number=filing_number,
            filing_date=filing_date.date() if filing_date else None,
            backup_receipt=backup_receipt, review_ref=review_ref,
            review_date=review_date.date() if review_date else None)
    finally:
        ops.dispose()
    click.echo(f"{request_id}: HGR {check.state}")


@_request_command("withdraw", "Withdraw an open request (the applicant).")
@click.option("--reason", default="")
@ON
def withdraw_cmd(settings_of, request_id: str, as_user: str, reason: str,
                 on: dt.datetime | None) -> None:
    from precimed.sharing import requests

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        record = requests.withdraw(ops, request_id, principal=_as(ops, as_user),
                                   on=_on(settings, on), reason=reason)
    finally:
        ops.dispose()
    click.echo(f"{record.id}: {record.status}")


@_request_command("revoke", "Revoke an approved or active request (the committee).")
@click.option("--reason", required=True)
@ON
def revoke_cmd(settings_of, request_id: str, as_user: str, reason: str,
               on: dt.datetime | None) -> None:
    from precimed.sharing import requests

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        requests.revoke(ops, request_id, principal=_as(ops, as_user), on=_on(settings, on),
                        reason=reason)
    finally:
        ops.dispose()
    click.echo(f"{request_id}: revoked")


@sharing_group.command("expire")
@ON
@click.pass_obj
def expire_cmd(settings_of, on: dt.datetime | None) -> None:
    """Mark active requests past their expiry as expired."""
    from precimed.sharing import requests

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        due = requests.expire_due(ops, on=_on(settings, on), actor="cli")
    finally:
        ops.dispose()
    click.echo(f"{len(due)} expired" + (": " + ", ".join(due) if due else ""))


@sharing_group.command("provisions")
@click.option("--year", type=click.IntRange(2000, 2200), required=True)
@AS
@JSON
@click.pass_obj
def provisions_cmd(settings_of, year: int, as_user: str, as_json: bool) -> None:
    """The annual list of data provisions a data centre keeps (HGR, PIPL records): every
    provision for the committee and admins, a centre's data manager its centres' own."""
    from precimed.sharing import provisions

    ops = _ops(settings_of())
    try:
        rows = provisions.annual(ops, year, principal=_as(ops, as_user))
    finally:
        ops.dispose()
    if as_json:
        _echo_json(rows)
        return
    click.echo(f"Data provisions in {year}: {len(rows)}")
    for p in rows:
        flags = " ".join(f for f, on in (("genetic", p["genetic"]), ("foreign", p["foreign"]))
                         if on)
        filing = f" filing {p['filing_number']}" if p["filing_number"] else ""
        click.echo(f"{p['date']}  {p['request']}  {p['recipient']:<14} {p['dataset']:<32} "
                   f"{p['people']:>7,} people  {p['what']}  approved {p['approved_on']} "
                   f"ethics {p['ethics_number']}{filing} {flags}".rstrip())


DEMO_FORM = {
    "title_zh": "基线血压与急性心肌梗死发病", "title_en": "Baseline blood pressure and "
    "incident acute myocardial infarction",
    "summary_zh": "利用区域队列的基线血压与随访终点，估计血压与急性心梗发病的关系。",
    "summary_en": "Uses baseline blood pressure and follow-up endpoints of a regional cohort "
                  "to estimate how blood pressure relates to incident acute MI.",
    "institution": "复旦大学公共卫生学院 (Fudan University School of Public Health)",
    "intended_use": {"purpose": "DS", "disease": "I21"}, "ethics_number": "FDU-IRB-2025-031",
    "duration_months": 24,
}


def demo_requests(settings: Settings, say) -> list[tuple[str, str]]:
    """The demo's catalogue (demo-1 and the genotype datasets, with conditions) and two
    requests: one approved and active, one submitted and waiting for the committee."""
    from precimed.ops.accounts import principal_for
    from precimed.sharing import catalogue, committee, requests
    from precimed.sharing.form import RequestForm

    on = _on(settings, None)
    ops = _ops(settings)
    try:
        admin = principal_for(ops, "admin")
        say("listing demo-1 and the genotype datasets in the data catalogue")
        ids = publish(settings, ops, admin, release="demo-1")
        for entry_id in ids:
            genetic = entry_id.startswith("genotype-")
            catalogue.set_conditions(ops, entry_id, ["GRU", "NCU", "IRB"] if genetic else
                                     ["HMB", "NCU", "IRB", "PUB"], principal=admin,
                                     reason="broad consent form v1 (demo)")
        clinical = [i for i in ids if i.startswith("clinical-")]
        genetic = [i for i in ids if i.startswith("genotype-")]
        researcher, dac = principal_for(ops, "researcher"), principal_for(ops, "dac")
        approval = settings.home / "incoming" / "ethics-approval-demo.pdf"
        approval.parent.mkdir(parents=True, exist_ok=True)
        approval.write_bytes(b"%PDF-1.4\n% demo ethics approval, not a real document\n")

        def apply(form: dict) -> str:
            record = requests.create(ops, RequestForm.parse(form), principal=researcher)
            requests.attach_ethics(ops, record.id, approval, filename=approval.name,
                                   sharing_dir=settings.sharing_dir, principal=researcher)
            return requests.submit(ops, record.id, principal=researcher, on=on,
                                   settings=settings).id

        entry = catalogue.entry(ops, clinical[0])
        wanted = [v for v in ("sex", "age", "region", "SBP", "DBP", "BMI")
                  if v in entry.variables]
        approved = apply({**DEMO_FORM, "datasets": [entry.id], "variables": wanted})
        for member in (dac, admin):
            committee.vote(ops, approved, "approve", principal=member,
                           reason="clear question, minimal variables")
        committee.decide(ops, approved, "approve", principal=dac, reason="approved; results "
                         "go back to the resource (RTN)", on=on, quorum=settings.dac_votes,
                         approval=committee.Approval(date_handling="shifted",
                                                     coarsen_allowed=True,
                                                     conditions=("RTN",)))
        pending_form = {**DEMO_FORM, "title_zh": "中国人群药物基因组变异频率",
                        "title_en": "Pharmacogenomic variant frequencies in Chinese "
                                    "populations",
                        "summary_zh": "与境外合作方比较药物代谢相关基因的变异频率。",
                        "summary_en": "Compares variant frequencies of drug-metabolism "
                                      "genes with a foreign partner.",
                        "intended_use": {"purpose": "HMB"}, "duration_months": 12}
        if genetic:
            pending_form |= {"datasets": genetic[:1], "variables": ["genotype"],
                             "foreign_party": True,
                             "foreign_detail": "a university abroad analyses the data",
                             "hgr_filing_number": "DEMO-HGR-2025-001",
                             "hgr_filing_date": on.isoformat(),
                             "hgr_backup_receipt": "DEMO-BACKUP-001"}
        else:
            pending_form |= {"datasets": [entry.id], "variables": wanted}
        pending = apply(pending_form)
    finally:
        ops.dispose()
    return [(approved, "approved and active"), (pending, "submitted, waiting for the "
                                                         "committee")]
