"""Signing in and out, for the API and the login page alike: the rate limit read from the
audit log (5 failures for an account, or 20 from one client, within 15 minutes, answer
429 until the window passes), the password check, the session, and the audit events."""

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
    since = dt.datetime.now(dt.UTC) - WINDOW
    if (audit.recent_failures(ops, action="login", since=since, actor=username)
            >= MAX_PER_ACCOUNT
            or audit.recent_failures(ops, action="login", since=since, client=client)
            >= MAX_PER_CLIENT):
        audit.record(ops, actor=username, action="login", outcome="deny", client=client,
                     detail={"reason": "rate limited"})
        raise TooManyAttempts("Too many failed sign-ins", where="login",
                              hint="Wait 15 minutes, or ask an administrator to check the "
                                   "account.")
    principal = accounts.authenticate(ops, username, password)
    if principal is None:
        audit.record(ops, actor=username[:64], action="login", outcome="fail", client=client)
        raise Unauthenticated("Wrong user name or password", where="login",
                              hint="Check both; accounts lock for 15 minutes after 5 "
                                   "failures.")
    token = accounts.start_session(ops, principal)
    audit.record(ops, actor=principal.username, action="login", outcome="ok", client=client)
    return principal, token


def sign_out(ops: OpsDatabase, token: str | None, principal: Principal | None, *,
             client: str) -> None:
    """End the session (if any) and record who signed out."""
    if token:
        accounts.end_session(ops, token)
    if principal is not None:
        audit.record(ops, actor=principal.username, action="logout", outcome="ok",
                     client=client)
