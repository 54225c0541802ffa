"""Request dependencies: who is asking, and the one permission gate.

Every route declares its permission with ``Depends(require("..."))``; the gate resolves
the caller from the session cookie or a bearer token, refuses anonymous callers (401)
and callers whose roles lack the permission (403), and writes the decision to the audit
log either way. Centre scoping is checked by :func:`check_centre` on every object that
belongs to a centre, after the object is found: another centre's object answers 404, the
same as a missing one, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response

from precimed.api.guard import SESSION_COOKIE
from precimed.errors import Forbidden, Unauthenticated
from precimed.ops import accounts, audit
from precimed.ops.accounts import Principal, check_centre
from precimed.workflows.platform import Platform


def platform(request: Request) -> Platform:
    return request.app.state.platform


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly, same-site strict, Secure over HTTPS."""
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/",
                        max_age=accounts.SESSION_HOURS * 3600)


def resolve(request: Request) -> Principal | None:
    """The caller, from ``Authorization: Bearer`` or the session cookie; cached per request."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    ops = platform(request).ops
    principal = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = accounts.from_token(ops, header[7:].strip())
    elif request.cookies.get(SESSION_COOKIE):
        principal = accounts.from_session(ops, request.cookies[SESSION_COOKIE])
    request.state.principal = principal
    return principal


def _resource(request: Request) -> str:
    """The route as a template (ids of objects put back as {names}), e.g.
    ``GET /api/v1/submissions/{submission_id}``."""
    by_value = {str(v): k for k, v in request.path_params.items()}
    segments = [f"{{{by_value[s]}}}" if s in by_value else s
                for s in request.url.path.split("/")]
    return f"{request.method} {'/'.join(segments)}"


def require(permission: str) -> Callable[[Request], Principal]:
    def gate(request: Request) -> Principal:
        ops = platform(request).ops
        principal = resolve(request)
        client = client_of(request)
        if principal is None:
            audit.record(ops, actor="anonymous", action="permission", outcome="deny",
                         resource=_resource(request), client=client,
                         detail={"permission": permission, "reason": "not signed in"})
            raise Unauthenticated("Sign in first", where=request.url.path,
                                  hint="Sign in at /login, or send 'Authorization: Bearer "
                                       "<token>'.")
        allowed = principal.can(permission)
        audit.record(ops, actor=principal.username, action="permission",
                     outcome="allow" if allowed else "deny", resource=_resource(request),
                     client=client, detail={"permission": permission, "via": principal.via})
        if not allowed:
            raise Forbidden(f"Your roles do not allow {permission}", where=request.url.path,
                            hint="Ask a platform administrator for the role you need.")
        return principal

    gate.__name__ = f"require_{permission.replace('.', '_')}"
    return gate


def read_rows(request: Request, principal: Principal, *, what: str, count: int,
              detail: dict | None = None, action: str = "read.row_level") -> None:
    """Record a read of row-level data (worklists, candidates) or an export."""
    audit.row_read(platform(request).ops, actor=principal.username, what=what, count=count,
                   client=client_of(request), detail=detail, action=action)


__all__ = ["SESSION_COOKIE", "check_centre", "client_of", "platform", "read_rows",
           "require", "resolve", "set_session_cookie"]
