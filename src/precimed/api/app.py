"""The application factory: ``create_app(settings)`` builds the FastAPI app.

REST API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``, docs at ``/api/docs``),
pages at ``/`` (``precimed.web``), static assets at ``/static``. Every error, from any
layer, answers in one JSON shape (pages render it)::

    {"error": {"kind": "...", "what": "...", "where": "...", "hint": "..."}}

An internal error answers 500 with only a reference id; the traceback goes to the
server's log, never to the caller.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from precimed import __version__
from precimed.api.guard import BrowserGuard
from precimed.errors import UserError, internal_reference
from precimed.ops.migrate import current, head
from precimed.settings import Settings
from precimed.workflows.platform import Platform

log = logging.getLogger("precimed.api")

_STATUS_KIND = {400: "invalid_input", 401: "unauthenticated", 403: "forbidden",
                404: "not_found", 405: "method_not_allowed", 409: "conflict",
                413: "too_large", 415: "unsupported_media_type", 422: "invalid_input",
                429: "rate_limited"}


def error_body(kind: str, what: str, where: str = "", hint: str = "") -> dict:
    return {"error": {"kind": kind, "what": what, "where": where, "hint": hint}}


class RefuseNul:
    """Refuse a request whose path or query string holds a NUL character (0x00): no
    parameter of precimed needs one, and PostgreSQL text cannot store it. Plain ASGI, so
    the check costs two byte searches on the Beacon's hot path."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and (b"%00" in scope.get("query_string", b"")
                                        or "\x00" in scope.get("path", "")):
            where = "query string" if b"%00" in scope.get("query_string", b"") else "path"
            response = JSONResponse(error_body(
                "invalid_input", "The request holds a NUL character (0x00)", where,
                "Remove the character (%00) from the URL."), status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _route_of(request: Request) -> str:
    """The matched route's template for the server log (``/api/beacon/v2/individuals/
    {entry_id}``), never the path itself, which can hold a pseudonym."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route matched)"


def create_app(settings: Settings) -> FastAPI:
    from precimed.api import routes
    from precimed.web import pages

    platform = Platform(settings)
    if current(platform.ops.engine) != head():
        # the server never migrates in a worker: 'precimed serve' and 'init' do it once
        from precimed.ops.migrate import upgrade

        upgrade(platform.ops.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        platform.close()

    app = FastAPI(title="precimed", version=__version__, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", redoc_url=None,
                  # /api/docs is precimed.web's page: Swagger UI served from the installed
                  # fastapi-offline package (FastAPI's own loads it from a CDN)
                  docs_url=None,
                  description="The precimed platform API. Aggregates pass through "
                              "disclosure control; every request is authorised and audited.")
    app.state.platform = platform
    # the last added runs first: proxy headers, then the browser guard, then NUL refusal
    app.add_middleware(RefuseNul)
    app.add_middleware(BrowserGuard, settings=settings)
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # X-Forwarded-For/-Proto only from the proxies named in the settings: otherwise
        # any caller could choose its address (sign-in throttling) or scheme (cookies)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        if pages.wants_page(request):
            return pages.error_page(request, exc.http_status, exc.to_dict())
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return JSONResponse(error_body(exc.kind, exc.what, exc.where, exc.hint),
                            status_code=exc.http_status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        kind = _STATUS_KIND.get(exc.status_code, "error")
        what = exc.detail if isinstance(exc.detail, str) else "Request refused"
        body = error_body(kind, what, request.url.path)
        if pages.wants_page(request):
            return pages.error_page(request, exc.status_code, body["error"])
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(error_body("invalid_input", first.get("msg", "Invalid request"),
                                       where, "See the API documentation at /api/docs."),
                            status_code=422)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError):
        # a value the database cannot hold (PostgreSQL text with a NUL byte, a number
        # out of its column's range) is the request's fault, not the server's
        log.info("refused a value the database cannot store on %s %s: %s", request.method,
                 _route_of(request), type(exc.orig).__name__)
        return JSONResponse(error_body("invalid_input", "A value in the request cannot be "
                                       "stored", request.url.path,
                                       "Remove control characters such as NUL (0x00) and "
                                       "keep numbers in range."), status_code=400)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        ref = internal_reference()
        log.error("internal error ref %s on %s %s", ref, request.method, _route_of(request),
                  exc_info=exc)
        return JSONResponse(error_body("internal", "Internal error", "",
                                       f"Quote reference {ref} to your administrator."),
                            status_code=500)

    from precimed.api.routes import beacon

    # /api/beacon/v2 first: discovery traffic is the heaviest, and routes match in order
    app.include_router(beacon.router)
    app.state.beacon = _beacon_source(platform)
    routes.mount(app)
    pages.mount(app)
    return app


def _beacon_source(platform: Platform):
    """The Beacon's source, kept current (:class:`precimed.discovery.source.LiveSource`):
    the genotype store with its samples labelled from the newest release (without the
    people consent keeps out of genetics: precimed.genomics.consent) and each dataset's
    DUO conditions from its catalogue entry, rebuilt when a dataset is published, a
    release made or an entry's conditions change; None (the Beacon's data routes then
    answer 503) until a store exists."""
    from precimed.discovery.source import BeaconSource, LiveSource
    from precimed.genomics import GenotypeStore
    from precimed.genomics.consent import consented_store
    from precimed.sharing import catalogue

    store = platform.settings.genotypes_dir

    def stamp() -> tuple:
        meta = store / "store.json"
        releases = platform.releases()
        return (meta.stat().st_mtime_ns if meta.exists() else None,
                releases[0]["name"] if releases else None,
                catalogue.conditions_stamp(platform.ops))

    def build() -> BeaconSource | None:
        if not (store / "store.json").exists():
            return None
        participants = None
        releases = platform.releases()
        newest = releases[0]["name"] if releases else None
        if newest:
            table = platform.lake.snapshot(newest).to_arrow(
                "participant", columns=["pseudonym", "sex", "native_province", "cohort"])
            participants = table.to_pandas()
        consented = consented_store(GenotypeStore.open(store), platform.lake, newest)
        return BeaconSource.from_store(consented, policy=platform.policy,
                                       participants=participants,
                                       duo=catalogue.beacon_conditions(platform.ops))

    return LiveSource(build, stamp)
