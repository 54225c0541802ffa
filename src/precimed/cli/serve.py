"""``precimed serve``, ``precimed users`` and ``precimed audit``."""

from __future__ import annotations

import os

import click

from precimed.errors import NotFound
from precimed.settings import SETTINGS, Settings


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(users)
    cli.add_command(audit_group)


def _ops(settings: Settings):
    from precimed.ops import OpsDatabase
    from precimed.ops.audit import Anchor

    if not settings.database_url.startswith("sqlite") or (settings.home / "ops.sqlite3").exists():
        anchor = Anchor.of(settings)
        anchor.create_key()  # homes made before the audit key get one here
        ops = OpsDatabase(settings.database_url, audit_anchor=anchor)
        ops.create()
        return ops
    raise NotFound("No platform home here", where=str(settings.home),
                   hint="Create one with 'precimed init', or pass --home.")


# uvicorn's supervisor kills a worker that does not answer its health check within this
# many seconds; a worker imports the app in that time, which on a loaded machine takes far
# more than uvicorn's default 5 s (workers were killed and restarted in a loop)
HEALTH_TIMEOUT = 60


def start(settings: Settings, host: str, port: int, workers: int, *,
          health_timeout: int = HEALTH_TIMEOUT) -> None:
    """Migrate once, mark interrupted jobs and recover what a crash left
    (:mod:`precimed.workflows.recovery`), then run uvicorn workers on this home.

    The supervisor logs at info level (a worker that dies or is restarted is named in the
    log); request lines are not logged (the app logs route templates, never paths). On
    SIGTERM or SIGINT the supervisor stops its workers and exits; a worker also stops
    when its parent dies (:func:`precimed.api.server.app`)."""
    import uvicorn

    from precimed.api.jobs import interrupted
    from precimed.workflows.recovery import recover

    ops = _ops(settings)
    interrupted(ops)
    for line in recover(settings, ops).lines():
        click.echo(f"recovery: {line}")
    ops.dispose()
    os.environ["PRECIMED_HOME"] = str(settings.home)
    # the workers load their settings again, from the environment: pass every one on
    for setting in SETTINGS[1:]:
        value = getattr(settings, setting.name)
        if value != setting.default:
            os.environ[setting.env] = str(value)
    # X-Forwarded-* are read by the app itself, from the trusted_proxies setting only
    uvicorn.run("precimed.api.server:app", factory=True, host=host, port=port,
                workers=workers, log_level="info", access_log=False, proxy_headers=False,
                timeout_worker_healthcheck=health_timeout)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="Server processes.")
@click.option("--health-timeout", default=HEALTH_TIMEOUT, show_default=True,
              type=click.IntRange(1, 3600),
              help="Seconds a worker may take to answer the supervisor's health check "
                   "(starting included) before it is restarted.")
@click.pass_obj
def serve(settings_of, host: str, port: int, workers: int, health_timeout: int) -> None:
    """Serve the web platform and the API (/api/v1, docs at /api/docs)."""
    settings: Settings = settings_of()
    click.echo(f"precimed serving {settings.home} at http://{host}:{port} "
               f"({workers} workers); Ctrl-C stops")
    start(settings, host, port, workers, health_timeout=health_timeout)


@click.group()
def users() -> None:
    """Platform accounts (the first administrator is made here)."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="admin, data_manager, reviewer, researcher, clinician or dac (repeatable).")
@click.option("--centre", "centres", multiple=True, help="Restrict to a centre (repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="PRECIMED_NEW_PASSWORD", help="Prompted for unless given.")
@click.pass_obj
def add_user(settings_of, username: str, roles, centres, password: str) -> None:
    """Create USERNAME with roles (and centres for centre staff)."""
    from precimed.ops import accounts, audit

    settings: Settings = settings_of()
    ops = _ops(settings)
    user = accounts.create_user(ops, username, password, roles=list(roles),
                                centres=list(centres))
    audit.record(ops, actor="cli", action="user.create", outcome="ok",
                 resource=f"user {user.username}", detail={"roles": list(roles),
                                                           "centres": list(centres)})
    click.echo(f"user {user.username} created: {', '.join(roles)}"
               + (f" at {', '.join(centres)}" if centres else ""))


def _user_named(ops, username: str):
    from precimed.ops import accounts

    found = next((u for u in accounts.users(ops) if u.username == username), None)
    if found is None:
        raise NotFound(f"No user {username!r}", where="username",
                       hint="'precimed users list' shows every account.")
    return found


@users.command("unlock")
@click.argument("username")
@click.pass_obj
def unlock_user(settings_of, username: str) -> None:
    """Unlock USERNAME after failed sign-ins locked it (the failures stay in the log)."""
    from precimed.ops import signin

    ops = _ops(settings_of())
    user = _user_named(ops, username)
    signin.unlock(ops, user.username, actor="cli")
    click.echo(f"user {user.username} unlocked")


@users.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="PRECIMED_NEW_PASSWORD", help="Prompted for unless given.")
@click.pass_obj
def reset_password(settings_of, username: str, password: str) -> None:
    """Set USERNAME's password; every session and API token of the account ends."""
    from precimed.ops import accounts, audit

    ops = _ops(settings_of())
    user = _user_named(ops, username)
    accounts.update_user(ops, user.id, password=password)
    audit.record(ops, actor="cli", action="user.change", outcome="ok",
                 resource=f"user {user.username}",
                 detail={"password": "changed", "sessions_and_tokens": "revoked"})
    click.echo(f"password of {user.username} changed; its sessions and tokens ended")


@users.command("list")
@click.pass_obj
def list_users(settings_of) -> None:
    """Every account with roles and centres."""
    from precimed.ops import accounts

    for user in accounts.users(_ops(settings_of())):
        state = "" if user.active else "  (disabled)"
        click.echo(f"{user.username:<20} {','.join(user.roles):<28} "
                   f"{','.join(user.centres) or '*'}{state}")


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.pass_obj
def verify(settings_of) -> None:
    """Recompute the chain and check it against its head signed outside the database
    (HOME/keys/audit.anchor); exit 10 and name the first broken entry if it was changed.
    Intact means: no event was changed, removed or reordered, and, up to the signed head,
    not even by someone who can write the database but not read HOME/keys."""
    from precimed.ops import audit

    result = audit.verify(_ops(settings_of()))
    if result.ok:
        click.echo(f"audit log intact: {result.events:,} events")
        click.echo(f"this proves: {result.proves}")
        return
    click.echo(f"audit log BROKEN at event {result.first_broken}: {result.reason} "
               f"({result.events:,} events verified before it)", err=True)
    raise click.exceptions.Exit(10)


@audit_group.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--actor", default=None)
@click.option("--action", default=None)
@click.pass_obj
def list_events(settings_of, limit: int, actor, action) -> None:
    """The newest events."""
    from precimed.ops import audit

    for e in audit.events(_ops(settings_of()), limit=limit, actor=actor, action=action):
        click.echo(f"{e.seq:>7} {e.at:%Y-%m-%d %H:%M:%S} {e.actor:<16} {e.action:<16} "
                   f"{e.outcome:<6} {e.resource}")

