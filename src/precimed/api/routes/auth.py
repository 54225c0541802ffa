"""Sign in and out, who am I, my password, and personal API tokens.

Sign-in is throttled from the audit log (:mod:`precimed.ops.signin`, shared with the
login page) per account and per address, in ways that cannot lock the administrator out.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from precimed.api.deps import (
    SESSION_COOKIE,
    client_of,
    platform,
    require,
    resolve,
    set_session_cookie,
)
from precimed.api.guard import csrf_token
from precimed.ops import accounts, audit, signin
from precimed.ops.accounts import Principal

router = APIRouter(prefix="/auth", tags=["auth"])

class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    password: str = Field(min_length=1, max_length=256)


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=64)


def sign_in(request: Request, response: Response, username: str, password: str
            ) -> tuple[Principal, str]:
    """Sign in (:func:`precimed.ops.signin.sign_in`) and set the session cookie; return who
    signed in and the session's CSRF token."""
    principal, token = signin.sign_in(platform(request).ops, username, password,
                                      client=client_of(request))
    set_session_cookie(request, response, token)
    return principal, csrf_token(token)


@router.post("/login", summary="Sign in; sets an HttpOnly session cookie and returns the "
                               "session's CSRF token (send it as X-CSRF-Token)")
def login(body: Login, request: Request, response: Response) -> dict:
    principal, csrf = sign_in(request, response, body.username, body.password)
    return {**principal.to_dict(), "csrf_token": csrf}


@router.post("/logout", summary="Sign out of this browser session")
def logout(request: Request, response: Response) -> dict:
    signin.sign_out(platform(request).ops, request.cookies.get(SESSION_COOKIE),
                    resolve(request), client=client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_out": True}


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


@router.post("/password", summary="Change my password; ends every session and API token, "
                                  "this one included")
def change_password(body: PasswordChange, request: Request, response: Response,
                    principal: Principal = Depends(require("dashboard.read"))) -> dict:
    ops = platform(request).ops
    accounts.change_password(ops, principal, body.current_password, body.new_password)
    audit.record(ops, actor=principal.username, action="user.password", outcome="ok",
                 resource=f"user {principal.username}", client=client_of(request),
                 detail={"sessions_and_tokens": "revoked"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"changed": True, "signed_out": True}


@router.get("/me", summary="The signed-in user, roles, centres and permissions (and, signed "
                           "in by cookie, the session's CSRF token)")
def me(request: Request, principal: Principal = Depends(require("dashboard.read"))) -> dict:
    session = request.cookies.get(SESSION_COOKIE)
    extra = {"csrf_token": csrf_token(session)} if principal.via == "session" and session else {}
    return {**principal.to_dict(), **extra}


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
