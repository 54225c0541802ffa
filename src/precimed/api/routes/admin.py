"""Administration: users and roles (admins), the audit log and its verification (admins
and the data access committee)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from precimed.api.deps import client_of, platform, require
from precimed.ops import accounts, audit
from precimed.ops.accounts import Principal
from precimed.ops.roles import PERMISSIONS, ROLE_PERMISSIONS, ROLES

router = APIRouter(prefix="/admin", tags=["admin"])


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=12, max_length=256)
    roles: list[str] = Field(min_length=1, max_length=6)
    centres: list[str] = Field(default_factory=list, max_length=50)
    display_name: str = Field("", max_length=128)


class UserChange(BaseModel):
    roles: list[str] | None = Field(None, min_length=1, max_length=6)
    centres: list[str] | None = Field(None, max_length=50)
    active: bool | None = None
    password: str | None = Field(None, min_length=12, max_length=256)


@router.get("/roles", summary="Roles and the permissions each grants")
def roles(_: Principal = Depends(require("users.manage"))) -> dict:
    return {"roles": {r: {**labels, "permissions": sorted(ROLE_PERMISSIONS[r])}
                      for r, labels in ROLES.items()},
            "permissions": dict(PERMISSIONS)}


@router.get("/users", summary="Every user")
def list_users(request: Request, _: Principal = Depends(require("users.manage"))) -> list:
    return [accounts.user_dict(u) for u in accounts.users(platform(request).ops)]


@router.post("/users", status_code=201, summary="Create a user")
def create_user(body: NewUser, request: Request,
                principal: Principal = Depends(require("users.manage"))) -> dict:
    ops = platform(request).ops
    user = accounts.create_user(ops, body.username, body.password, roles=body.roles,
                                centres=body.centres, display_name=body.display_name)
    audit.record(ops, actor=principal.username, action="user.create", outcome="ok",
                 resource=f"user {user.username}", client=client_of(request),
                 detail={"roles": body.roles, "centres": body.centres})
    return accounts.user_dict(user)


@router.patch("/users/{user_id}", summary="Change a user's roles, centres, state or password")
def change_user(user_id: int, body: UserChange, request: Request,
                principal: Principal = Depends(require("users.manage"))) -> dict:
    ops = platform(request).ops
    user = accounts.update_user(ops, user_id, roles=body.roles, centres=body.centres,
                                active=body.active, password=body.password)
    changed = {k: v for k, v in body.model_dump(exclude={"password"}).items() if v is not None}
    if body.password is not None:
        changed["password"] = "changed"
    audit.record(ops, actor=principal.username, action="user.change", outcome="ok",
                 resource=f"user {user.username}", client=client_of(request), detail=changed)
    return accounts.user_dict(accounts.get_user(ops, user_id))


@router.post("/users/{user_id}/unlock",
             summary="Unlock an account locked by failed sign-ins (the failures stay logged)")
def unlock_user(user_id: int, request: Request,
                principal: Principal = Depends(require("users.manage"))) -> dict:
    ops = platform(request).ops
    user = accounts.get_user(ops, user_id)
    audit.record(ops, actor=principal.username, action="login.unlock", outcome="ok",
                 resource=f"user {user.username}", client=client_of(request))
    return accounts.user_dict(user)


@router.get("/audit", summary="The audit log, newest first")
def audit_log(request: Request, limit: int = Query(100, ge=1, le=1000),
              before: int | None = Query(None, ge=1, le=2**31 - 1), actor: str | None = Query(None,
                                                                              max_length=64),
              action: str | None = Query(None, max_length=64),
              _: Principal = Depends(require("audit.read"))) -> list:
    return [audit.event_dict(e) for e in audit.events(platform(request).ops, limit=limit,
                                                before=before, actor=actor, action=action)]


@router.get("/audit/verify", summary="Recompute the audit log's hash chain")
def audit_verify(request: Request, _: Principal = Depends(require("audit.read"))) -> dict:
    return audit.verify(platform(request).ops).to_dict()
