"""Browser-facing defences: cross-site request forgery, security headers, cookie flags.

CSRF. A state change (POST, PUT, PATCH, DELETE) that a browser sends with the session
cookie must

1. come from the platform's own origin: an ``Origin`` (or, without one, ``Referer``)
   header naming another site is refused, and
2. carry the session's CSRF token, in the ``X-CSRF-Token`` header (the pages' scripts)
   or, for a plain HTML form, a ``csrf_token`` field.

The token is an HMAC of the session token, so it needs no storage, changes with every
sign-in and cannot be computed without the HttpOnly cookie. Pages get it as
``{{ csrf_token }}`` (``<meta name="csrf-token">`` in ``base.html``; forms add
``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``); ``static/app.js``
sends it on every ``fetch``. Requests with ``Authorization: Bearer`` carry no cookie
credential and are not checked; signing in needs only the origin check.

Headers. Every response gets a Content-Security-Policy whose script source is the
platform itself plus a per-request nonce (``{{ csp_nonce }}`` on every inline
``<script>``), ``frame-ancestors 'none'`` with ``X-Frame-Options: DENY``,
``Referrer-Policy: same-origin`` and ``X-Content-Type-Options: nosniff``; HTTPS responses
also get ``Strict-Transport-Security``. The API documentation page (``/api/docs``) runs
under the same policy: Swagger UI is served from the platform and started from a script
file, not inline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.requests import cookie_parser

from precimed.settings import Settings

SESSION_COOKIE = "precimed_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# signing in has no session to protect yet; the origin check still applies
TOKEN_EXEMPT = frozenset({"/login", "/api/v1/auth/login"})
MAX_FORM = 64 * 1024  # a form posted by a page: the logout button, the login form

POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
          # Plotly sets inline styles on the charts it draws
          "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'")


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: HMAC-SHA256 of a fixed label under the session token."""
    return hmac.new(session_token.encode("utf-8"), b"precimed-csrf",
                    hashlib.sha256).hexdigest()


def _refuse(what: str, hint: str):
    body = json.dumps({"error": {"kind": "forbidden", "what": what, "where": "request",
                                 "hint": hint}}).encode("utf-8")

    async def respond(send) -> None:
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return respond


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class BrowserGuard:
    """Plain ASGI middleware: the CSRF check on state changes and the security headers on
    every response (cheap enough for the Beacon's hot path: a few header lookups)."""

    def __init__(self, app, *, settings: Settings) -> None:
        self.app = app
        self.secure_cookies = settings.secure_cookies
        self.origins = {o.strip().rstrip("/").lower()
                        for o in settings.public_origins.split(",") if o.strip()}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        if scope["method"] in UNSAFE:
            refused, receive = await self._check(scope, receive)
            if refused is not None:
                await refused(self._with_headers(scope, send, nonce))
                return
        await self.app(scope, receive, self._with_headers(scope, send, nonce))

    def _with_headers(self, scope, send, nonce: str):
        policy = POLICY.format(nonce=nonce)
        extra = [(b"content-security-policy", policy.encode()),
                 (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
                 (b"x-content-type-options", b"nosniff")]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000"))
        secure = self.secure_cookies or scope.get("scheme") == "https"

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, _secured(v) if secure and k == b"set-cookie" else v)
                           for k, v in message.get("headers", [])]
                message = {**message, "headers": headers + extra}
            await send(message)

        return sending

    def _own_origin(self, scope, origin: str) -> bool:
        if origin.lower().rstrip("/") in self.origins:
            return True
        host = (_header(scope, b"host") or "").lower()
        return bool(host) and urlsplit(origin).netloc.lower() == host

    async def _check(self, scope, receive):
        """(a refusal or None, the receive to pass on: a form's body is read here and
        replayed)."""
        origin = _header(scope, b"origin")
        if origin is None and (referer := _header(scope, b"referer")):
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None and not self._own_origin(scope, origin):
            return _refuse("Cross-site request refused",
                           "State changes are accepted only from the platform's own pages "
                           "(setting public_origins names others)."), receive
        authorization = (_header(scope, b"authorization") or "").lower()
        session = _session_of(_header(scope, b"cookie"))
        if (session is None or authorization.startswith("bearer ")
                or scope.get("path") in TOKEN_EXEMPT):
            return None, receive
        sent = _header(scope, CSRF_HEADER.encode())
        content_type = _header(scope, b"content-type") or ""
        if sent is None and content_type.startswith("application/x-www-form-urlencoded"):
            body, receive = await _read_body(receive)
            values = parse_qs(body.decode("latin-1")) if body is not None else {}
            sent = (values.get(CSRF_FIELD) or [None])[0]
        if sent is None or not hmac.compare_digest(sent, csrf_token(session)):
            return _refuse("The request lacks this session's CSRF token",
                           "Reload the page and try again; scripts send the token in the "
                           "X-CSRF-Token header (GET /api/v1/auth/me returns it)."), receive
        return None, receive


def _secured(cookie: bytes) -> bytes:
    return cookie if b"; secure" in cookie.lower() else cookie + b"; Secure"


def _session_of(cookie_header: str | None) -> str | None:
    if not cookie_header or SESSION_COOKIE not in cookie_header:
        return None
    return cookie_parser(cookie_header).get(SESSION_COOKIE) or None


async def _read_body(receive):
    """The whole body (None past :data:`MAX_FORM`) and a receive that replays it."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
        if size > MAX_FORM:
            break
    body = b"".join(chunks)
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return (None if size > MAX_FORM else body), replay
