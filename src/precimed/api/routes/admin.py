"""Administration: users and roles (admins), the audit log and its verification (admins
and the data access committee).

Every change of an account is one ``user.change`` (or ``user.create``) audit event that
says what changed: its roles, centres and state before and after, and whether the
password was reset (never the password). A refused change is recorded too (outcome
``deny``, with the reason). An administrator cannot remove their own admin role or
disable themselves.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from precimed.api.deps import client_of, platform, require
from precimed.errors import UserError
from precimed.ops import accounts, audit, signin
from precimed.ops.accounts import Principal
from precimed.ops.roles import PERMISSIONS, ROLE_PERMISSIONS, ROLES

router = APIRouter(prefix="/admin", tags=["admin"])


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    # the length and strength rules are checked by accounts.check_password_strength, so
    # the refusal says what to do instead of a schema message
    password: str = Field(max_length=256)
    # no role: the least privilege; roles are granted afterwards, explicitly
    roles: list[str] = Field(default_factory=list, max_length=6)
    centres: list[str] = Field(default_factory=list, max_length=50)
    display_name: str = Field("", max_length=128)


class UserChange(BaseModel):
    roles: list[str] | None = Field(None, max_length=6)
    centres: list[str] | None = Field(None, max_length=50)
    active: bool | None = None
    password: str | None = Field(None, max_length=256)


class PasswordReset(BaseModel):
    # empty: the platform makes a one-time password and answers it once
    password: str | None = Field(None, max_length=256)


def _with_lock(ops, user) -> dict:
    return {**accounts.user_dict(user), "locked": signin.account_locked(ops, user.username)}


def _changed(before: dict, after: dict) -> list[str]:
    return [k for k in before if before[k] != after[k]]


@router.get("/roles", summary="Roles and the permissions each grants")
def roles(_: Principal = Depends(require("users.manage"))) -> dict:
    return {"roles": {r: {**labels, "permissions": sorted(ROLE_PERMISSIONS[r])}
                      for r, labels in ROLES.items()},
            "permissions": dict(PERMISSIONS)}


@router.get("/users", summary="Every user, with whether failed sign-ins locked it")
def list_users(request: Request, _: Principal = Depends(require("users.manage"))) -> list:
    ops = platform(request).ops
    return [_with_lock(ops, u) for u in accounts.users(ops)]


def _refused(request: Request, principal: Principal, action: str, resource: str,
             exc: UserError) -> None:
    audit.record(platform(request).ops, actor=principal.username, action=action,
                 outcome="deny", resource=resource, client=client_of(request),
                 detail={"reason": exc.what, "where": exc.where})


@router.post("/users", status_code=201,
             summary="Create a user (no role unless given: the least privilege)")
def create_user(body: NewUser, request: Request,
                principal: Principal = Depends(require("users.manage"))) -> dict:
    ops = platform(request).ops
    try:
        user = accounts.create_user(ops, body.username, body.password, roles=body.roles,
                                    centres=body.centres, display_name=body.display_name)
    except UserError as exc:
        _refused(request, principal, "user.create", f"user {body.username}", exc)
        raise
    audit.record(ops, actor=principal.username, action="user.create", outcome="ok",
                 resource=f"user {user.username}", client=client_of(request),
                 detail={"roles": body.roles, "centres": body.centres,
                         "after": accounts.state_of(user)})
    return _with_lock(ops, user)


def _change(request: Request, principal: Principal, user_id: int, **change) -> tuple:
    ops = platform(request).ops
    resource = f"user {accounts.get_user(ops, user_id).username}"
    try:
        user, before, after = accounts.change_user(ops, principal, user_id, **change)
    except UserError as exc:
        _refused(request, principal, "user.change", resource, exc)
        raise
    detail: dict = {"before": before, "after": after, "changed": _changed(before, after)}
    if change.get("password") is not None:
        detail["password"] = "reset"
    if change.get("password") is not None or before["active"] != after["active"]:
        detail["sessions_and_tokens"] = "revoked"
    audit.record(ops, actor=principal.username, action="user.change", outcome="ok",
                 resource=resource, client=client_of(request), detail=detail)
    return user, detail


@router.patch("/users/{user_id}", summary="Change a user's roles, centres, state or password")
def change_user(user_id: int, body: UserChange, request: Request,
                principal: Principal = Depends(require("users.manage"))) -> dict:
    user, detail = _change(request, principal, user_id, roles=body.roles,
                           centres=body.centres, active=body.active, password=body.password)
    return {**_with_lock(platform(request).ops, user), "change": detail}


@router.post("/users/{user_id}/password",
             summary="Reset a user's password (given, or a one-time one answered once); "
                     "every session and token of the account ends")
def reset_password(user_id: int, body: PasswordReset, request: Request,
                   principal: Principal = Depends(require("users.manage"))) -> dict:
    generated = not body.password
    password = accounts.one_time_password() if generated else body.password
    user, detail = _change(request, principal, user_id, password=password)
    return {**_with_lock(platform(request).ops, user), "change": detail,
            "password": password if generated else None}


@router.post("/users/{user_id}/unlock",
             summary="Unlock an account locked by failed sign-ins (the failures stay logged)")
def unlock_user(user_id: int, request: Request,
                principal: Principal = Depends(require("users.manage"))) -> dict:
    ops = platform(request).ops
    user = accounts.get_user(ops, user_id)
    signin.unlock(ops, user.username, actor=principal.username, client=client_of(request))
    return _with_lock(ops, user)


def audit_filter(actor: str | None = Query(None, max_length=64),
                 action: str | None = Query(None, max_length=64),
                 resource: str | None = Query(None, max_length=200),
                 since: dt.date | None = Query(None, description="first day (UTC)"),
                 until: dt.date | None = Query(None, description="last day (UTC)"),
                 ) -> audit.EventFilter:
    return audit.EventFilter(actor=actor or None, action=action or None,
                             resource=resource or None, since=since, until=until)


@router.get("/audit", summary="The audit log, newest first (filtered; X-Total-Count)")
def audit_log(request: Request, response: Response, limit: int = Query(100, ge=1, le=1000),
              before: int | None = Query(None, ge=1, le=2**31 - 1),
              offset: int = Query(0, ge=0, le=2**31 - 1),
              where: audit.EventFilter = Depends(audit_filter),
              _: Principal = Depends(require("audit.read"))) -> list:
    ops = platform(request).ops
    response.headers["X-Total-Count"] = str(audit.count(ops, where))
    return [audit.event_dict(e) for e in audit.events(ops, limit=limit, before=before,
                                                      offset=offset, where=where)]


@router.get("/audit.csv", summary="The filtered audit log as CSV, oldest first (audited)")
def audit_csv(request: Request, where: audit.EventFilter = Depends(audit_filter),
              principal: Principal = Depends(require("audit.read"))) -> StreamingResponse:
    ops = platform(request).ops
    audit.record(ops, actor=principal.username, action="audit.export", outcome="ok",
                 resource="audit log", client=client_of(request),
                 detail={k: str(v) for k, v in vars(where).items() if v is not None})
    return StreamingResponse(audit.csv_rows(ops, where), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="precimed-audit.csv"'})


@router.get("/audit/verify", summary="Recompute the audit log's hash chain")
def audit_verify(request: Request, _: Principal = Depends(require("audit.read"))) -> dict:
    return audit.verify(platform(request).ops).to_dict()
