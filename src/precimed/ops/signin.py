"""Signing in and out, for the API and the login page alike: the throttle read from the
audit log, the password check, the session, and the audit events.

The throttle cannot lock the administrator out:

- per account: after 5 failures within 15 minutes the account is locked (429, whatever
  the password) until the window passes or an administrator unlocks it
  (``precimed users unlock NAME``, ``POST /api/v1/admin/users/{id}/unlock``), which is
  recorded as a ``login.unlock`` event;
- per address: after 20 failures from one address within 15 minutes a wrong password
  from it answers 429 instead of 401, but the right password for an unlocked account
  still signs in, so whoever shares the address (a NAT, a proxy) blocks nobody.

The address is the connecting one, or the X-Forwarded-For of a proxy named in the
``trusted_proxies`` setting.
"""

from __future__ import annotations

import datetime as dt

from precimed.errors import TooManyAttempts, Unauthenticated
from precimed.ops import accounts, audit
from precimed.ops.accounts import Principal
from precimed.ops.db import OpsDatabase

WINDOW = dt.timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_CLIENT = 20


def sign_in(ops: OpsDatabase, username: str, password: str, *, client: str
            ) -> tuple[Principal, str]:
    """The principal and a new session token; TooManyAttempts or Unauthenticated."""
    if account_locked(ops, username):
        audit.record(ops, actor=username, action="login", outcome="deny", client=client,
                     detail={"reason": "account locked"})
        raise TooManyAttempts("Too many failed sign-ins for this account", where="login",
                              hint="Wait 15 minutes, or ask an administrator to unlock the "
                                   "account.")
    principal = accounts.authenticate(ops, username, password)
    if principal is None:
        audit.record(ops, actor=username[:64], action="login", outcome="fail", client=client)
        since = dt.datetime.now(dt.UTC) - WINDOW
        if audit.recent_failures(ops, action="login", since=since,
                                 client=client) > MAX_PER_CLIENT:
            raise TooManyAttempts("Too many failed sign-ins from this address",
                                  where="login", hint="Wait 15 minutes; the right password "
                                                      "still signs in.")
        raise Unauthenticated("Wrong user name or password", where="login",
                              hint="Check both; accounts lock for 15 minutes after 5 "
                                   "failures.")
    token = accounts.start_session(ops, principal)
    audit.record(ops, actor=principal.username, action="login", outcome="ok", client=client)
    return principal, token


def account_locked(ops: OpsDatabase, username: str) -> bool:
    """Whether the account has had 5 failed sign-ins within 15 minutes since its last
    unlock by an administrator."""
    since = dt.datetime.now(dt.UTC) - WINDOW
    unlocked = audit.last_at(ops, action="login.unlock", resource=f"user {username}")
    if unlocked is not None:
        since = max(since, unlocked)
    return audit.recent_failures(ops, action="login", since=since,
                                 actor=username) >= MAX_PER_ACCOUNT


def sign_out(ops: OpsDatabase, token: str | None, principal: Principal | None, *,
             client: str) -> None:
    """End the session (if any) and record who signed out."""
    if token:
        accounts.end_session(ops, token)
    if principal is not None:
        audit.record(ops, actor=principal.username, action="logout", outcome="ok",
                     client=client)


def unlock(ops: OpsDatabase, username: str, *, actor: str, client: str = "") -> bool:
    """Unlock an account (the failures stay in the log): a ``login.unlock`` event, after
    which only newer failures count. Whether it was locked is recorded and returned."""
    was_locked = account_locked(ops, username)
    audit.record(ops, actor=actor, action="login.unlock", outcome="ok",
                 resource=f"user {username}", client=client,
                 detail={"was_locked": was_locked})
    return was_locked
