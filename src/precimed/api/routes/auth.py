"""Sign in and out, who am I, and personal API tokens.

Sign-in is rate-limited from the audit log: after 5 failures for an account, or 20 from
one client, within 15 minutes, further attempts answer 429 until the window passes.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from precimed.api.deps import SESSION_COOKIE, client_of, platform, require, resolve
from precimed.errors import TooManyAttempts, Unauthenticated
from precimed.ops import accounts, audit
from precimed.ops.accounts import Principal

router = APIRouter(prefix="/auth", tags=["auth"])

WINDOW = dt.timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_CLIENT = 20


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    password: str = Field(min_length=1, max_length=256)


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=64)


def sign_in(request: Request, response: Response, username: str, password: str) -> Principal:
    """Check the rate limit and the password; set the session cookie. Shared with the
    login page."""
    ops = platform(request).ops
    client = client_of(request)
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
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/",
                        max_age=accounts.SESSION_HOURS * 3600)
    return principal


@router.post("/login", summary="Sign in; sets an HttpOnly session cookie")
def login(body: Login, request: Request, response: Response) -> dict:
    return sign_in(request, response, body.username, body.password).to_dict()


@router.post("/logout", summary="Sign out of this browser session")
def logout(request: Request, response: Response) -> dict:
    token = request.cookies.get(SESSION_COOKIE)
    principal = resolve(request)
    if token:
        accounts.end_session(platform(request).ops, token)
    if principal is not None:
        audit.record(platform(request).ops, actor=principal.username, action="logout",
                     outcome="ok", client=client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_out": True}


@router.get("/me", summary="The signed-in user, roles, centres and permissions")
def me(principal: Principal = Depends(require("dashboard.read"))) -> dict:
    return principal.to_dict()


@router.get("/tokens", summary="My API tokens (never the secrets)")
def list_tokens(request: Request,
                principal: Principal = Depends(require("dashboard.read"))) -> list[dict]:
    return [{"id": t.id, "name": t.name, "created_at": t.created_at.isoformat(),
             "revoked": t.revoked_at is not None}
            for t in accounts.tokens(platform(request).ops, principal.user_id)]


@router.post("/tokens", status_code=201, summary="Issue an API token; shown once")
def new_token(body: NewToken, request: Request,
              principal: Principal = Depends(require("dashboard.read"))) -> dict:
    token = accounts.issue_token(platform(request).ops, principal, body.name)
    audit.record(platform(request).ops, actor=principal.username, action="token.issue",
                 outcome="ok", resource=body.name, client=client_of(request))
    return {"name": body.name, "token": token,
            "use": "Send 'Authorization: Bearer <token>'. It is shown only now."}


@router.delete("/tokens/{token_id}", summary="Revoke one of my API tokens")
def revoke(token_id: int, request: Request,
           principal: Principal = Depends(require("dashboard.read"))) -> dict:
    accounts.revoke_token(platform(request).ops, principal.user_id, token_id)
    audit.record(platform(request).ops, actor=principal.username, action="token.revoke",
                 outcome="ok", resource=str(token_id), client=client_of(request))
    return {"revoked": token_id}
