"""Schemathesis over every /api/v1 operation, as the platform administrator, on SQLite and
on PostgreSQL: whatever the request, valid or not, the server never answers 5xx, and every
error answers in the one shape ``{"error": {"kind", "what", "where", "hint"}}``.

The operations come from the app's own OpenAPI document, with one addition: cohort
definitions, typed there as any object, are described by their grammar (criteria kinds,
fields, windows), so generated definitions reach the parser and the query compiler.
Requests are answered in-process (ASGI) and signed with an API token of the admin.

The run is bounded and repeatable: a fixed seed, derandomised Hypothesis, no example
database; per operation schemathesis' examples and coverage phases (boundary and
type-violating values) and ``MAX_EXAMPLES`` fuzzed cases (fewer for the slow ones in
``SLOW``). About a minute per backend on a quiet 2-core machine.

Left out, because they would change other tests' state or run long: uploads (they start
the ingest pipeline), sign-out, revoking a token (it could be the one in use), changing a
user (it could disable the admin) and resetting a password (it would sign a shared test
user out) and recording a follow-up contact (it writes to the shared lake). Sign-in is
fuzzed from its own client address, and never with a real account's
name, so the rate limit it trips locks nobody else out.
"""

from __future__ import annotations

import copy
import json
import time
import uuid

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from precimed.ops.accounts import users

SEED = 20240611
MAX_EXAMPLES = 20
# each of these computes an analysis or a plot per request: fewer fuzzed cases, and for
# survival no coverage phase (its cases over the definition grammar cost a minute alone)
SLOW = {"POST /api/v1/cohorts/survival": 8, "GET /api/v1/qc/scorecard.html": 5}
NO_COVERAGE = {"POST /api/v1/cohorts/survival"}
EXCLUDED = {
    "POST /api/v1/submissions",  # an upload runs the whole ingest pipeline
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/auth/tokens/{token_id}",  # could revoke the token this run signs with
    "PATCH /api/v1/admin/users/{user_id}",  # could disable or demote the admin
    "POST /api/v1/admin/users/{user_id}/password",  # would end a shared test user's sessions
    "POST /api/v1/followup/contacts",  # writes to the shared lake (centre staff only)
}
# Only sign-in may refuse the administrator's requests (wrong password, rate limit)
MAY_REFUSE = {"POST /api/v1/auth/login"}
ERROR_KEYS = {"kind", "what", "where", "hint"}
FUZZ_CLIENT = {"sqlite": "198.51.100.1", "postgresql": "198.51.100.2"}

seen: dict[str, dict[str, set[int]]] = {}  # backend -> operation -> statuses answered


def one_error_shape(ctx, response, case) -> None:
    """Every 4xx/5xx answers ``{"error": {"kind","what","where","hint"}}``, strings all."""
    if response.status_code < 400:
        return
    label = f"{response.status_code} from {case.operation.label}"
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"{label}: {content_type or 'none'}"
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{label}: the body is not JSON: {response.content[:200]!r}"
                             ) from None
    assert isinstance(body, dict) and set(body) == {"error"}, f"{label}: {body!r:.300}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ERROR_KEYS, f"{label}: {error!r:.300}"
    assert all(isinstance(error[k], str) for k in ERROR_KEYS), f"{label}: {error!r:.300}"
    assert error["kind"] and error["what"], f"{label}: an empty kind or what: {error!r:.300}"


def signed_in_as_admin(ctx, response, case) -> None:
    """The administrator holds every permission: a 401 or 403 means the token was not
    accepted, and the run would test nothing beyond the permission gate."""
    if case.operation.label not in MAY_REFUSE:
        assert response.status_code not in {401, 403}, (
            f"{case.operation.label} refused the administrator: {response.content[:300]!r}")


CHECKS = [not_a_server_error, one_error_shape, signed_in_as_admin]


def with_client_address(app, host: str):
    """The app as a server runs it, seeing every request come from ``host``: failed
    sign-ins are rate-limited per client, and the other tests sign in as 'testclient'.

    Starlette re-raises an unhandled exception after it has answered 500; a server logs
    it, and so does the app. Swallowing it here lets the 500 reach the checks, which
    report the request that caused it (as a curl command) instead of a bare traceback.
    """
    async def asgi(scope, receive, send):
        if scope["type"] not in {"http", "websocket"}:
            await app(scope, receive, send)
            return
        answered = False

        async def sent(message):
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await app({**scope, "client": (host, 50000)}, receive, sent)
        except Exception:
            if not answered:
                raise

    return asgi


@pytest.fixture(scope="session")
def admin_token(as_user) -> str:
    r = as_user("admin").post("/api/v1/auth/tokens",
                              json={"name": f"schemathesis-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def definition_grammar() -> dict:
    """JSON Schema of a precimed-cohort definition. The OpenAPI document types it as any
    object, which random generation never makes into a definition; with the grammar the
    fuzzer reaches the criteria parser and the query compiler (and negative cases break
    the grammar one rule at a time)."""
    from precimed.query.model import PARTICIPANT_FIELDS
    from precimed.standard import EXPOSURE_ITEMS, MEASUREMENT_ITEMS, vocabulary

    number = {"type": ["number", "null"]}
    codes = {"type": "array", "items": {"enum": ["I21", "I10", "E11.9", "I6", "C34"]}}
    window = {"type": "object", "properties": {
        "start": {"type": ["integer", "null"]}, "end": {"type": ["integer", "null"]},
        "baseline": {"type": "boolean"}, "anchor": codes,
        "anchor_source": {"enum": ["condition", "endpoint"]}}}

    def kind(name: str, required: list[str], **fields) -> dict:
        return {"type": "object", "required": ["kind", *required],
                "properties": {"kind": {"const": name}, **fields}}

    simple = [
        kind("participant", ["field", "values"], field={"enum": sorted(PARTICIPANT_FIELDS)},
             values={"type": "array", "items": {"enum": ["1", "2", "SH01", "NP-EAST"]}}),
        kind("age", [], min=number, max=number),
        kind("measurement", ["code"], code={"enum": [*sorted(MEASUREMENT_ITEMS)[:8], "SBP"]},
             min=number, max=number, window=window),
        kind("exposure", ["code"], code={"enum": sorted(EXPOSURE_ITEMS)[:6]},
             values={"type": "array", "items": {"enum": ["never", "current", "daily"]}},
             min=number, max=number, window=window),
        kind("diagnosis", ["codes"], codes=codes, source={"enum": ["condition", "endpoint"]},
             window=window),
        kind("specimen", ["types"], min_volume_ml=number, types={
            "type": "array", "items": {"enum": list(vocabulary("specimen_type").codes)[:4]}}),
        kind("assay", ["types"], types={
            "type": "array", "items": {"enum": list(vocabulary("assay_type").codes)[:4]}}),
    ]
    criterion = {"anyOf": [*simple, kind("not", ["criterion"], criterion={"anyOf": simple})]}
    return {"type": "object", "required": ["format", "version", "criteria"], "properties": {
        "format": {"const": "precimed-cohort"}, "version": {"const": 1},
        "name": {"type": "string"}, "description": {"type": "string"},
        "criteria": {"type": "array", "items": criterion, "maxItems": 4}}}


def v1_only(spec: dict) -> dict:
    """The /api/v1 part of the spec. The Beacon (/api/beacon/v2) answers in the GA4GH
    shapes and is checked against the official Beacon schemas in tests/validation."""
    return {**spec, "paths": {k: v for k, v in spec["paths"].items()
                              if k.startswith("/api/v1/")}}


def with_grammar(spec: dict) -> dict:
    """The app's OpenAPI document, its definitions described by the grammar."""
    spec = copy.deepcopy(v1_only(spec))
    for name, model in spec["components"]["schemas"].items():
        if "definition" in model.get("properties", {}):
            model["properties"]["definition"] = {**definition_grammar(),
                                                 "description": name + " definition"}
    return spec


def fuzz_target(app, client_host: str) -> schemathesis.BaseSchema:
    """The app's own OpenAPI document (cohort definitions described by the grammar),
    requests answered in-process by the app."""
    config = schemathesis.Config.from_dict({
        # Hypothesis runs derandomised, no deadline, no example database, health checks off
        "seed": SEED, "suppress-health-check": ["all"],
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none", "mode": "all"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "operations": [{"include-name": name, "generation": {"max-examples": n},
                        "phases": {"coverage": {"enabled": name not in NO_COVERAGE}}}
                       for name, n in SLOW.items()],
    })
    schema = schemathesis.openapi.from_dict(with_grammar(app.openapi()), config=config)
    schema.app = with_client_address(app, client_host)  # as from_asgi sets it
    schema.location = "/api/v1/openapi.json"
    accounts = {u.username for u in users(app.state.platform.ops)}

    @schema.hook("filter_body")
    def never_a_real_account(context, body) -> bool:
        # five failures lock an account for 15 minutes; the other tests sign in as these
        # (a generated username may be any JSON value, a list included: only a string can
        # name an account)
        name = body.get("username") if isinstance(body, dict) else None
        return not (isinstance(name, str) and name in accounts)

    return schema.exclude(name=sorted(EXCLUDED))


def fuzz(schema, token: str) -> tuple[dict[str, set[int]], list[str], dict[str, float]]:
    """Every operation's Hypothesis test (examples, coverage, fuzzing phases), run one
    after another; a failing operation does not stop the others. Returns the statuses
    each operation answered, the failures (each with a curl command reproducing it) and
    the seconds each operation took.

    ``schemathesis.pytest.from_fixture`` would do the same, but it does not run under
    pytest 9.2 ('Function' object has no attribute '_nodeid'); this drives the same
    per-operation tests (``schemathesis.pytest.lazy.get_all_tests``) directly.
    """
    from schemathesis.pytest.lazy import get_all_tests

    auth = {"Authorization": f"Bearer {token}"}
    statuses: dict[str, set[int]] = {}
    failures: list[str] = []
    seconds: dict[str, float] = {}

    def test(case):
        response = case.call(headers=auth)
        statuses.setdefault(case.operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=auth)

    for result in get_all_tests(schema=schema, test_func=test, settings=None,
                                given_kwargs={}):
        try:
            operation, operation_test = result.ok()
        except Exception:  # the schema itself could not be read
            failures.append(f"schema: {result.err()!r}")
            continue
        started = time.perf_counter()
        try:
            operation_test()
        except (Exception, FailureGroup) as exc:  # a FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.label}: {exc}")
        seconds[operation.label] = time.perf_counter() - started
    return statuses, failures, seconds


def test_no_server_errors_and_one_error_shape(app, backend, admin_token):
    schema = fuzz_target(app, FUZZ_CLIENT[backend[0]])
    statuses, failures, _ = fuzz(schema, admin_token)
    seen[backend[0]] = statuses
    assert not failures, "\n\n".join(failures)


def spec_operations(app) -> set[str]:
    return {f"{method.upper()} {path}"
            for path, methods in v1_only(app.openapi())["paths"].items() for method in methods}


def test_every_operation_but_the_excluded_was_fuzzed(app, backend):
    """Runs after the fuzzing test of the same backend (pytest keeps module order)."""
    operations = spec_operations(app)
    assert operations >= EXCLUDED, f"excluded but gone: {EXCLUDED - operations}"
    fuzzed = seen.get(backend[0])
    assert fuzzed is not None, "run this module whole: the fuzzing test fills the record"
    assert set(fuzzed) == operations - EXCLUDED
    # the fuzzing reached the handlers, not only the request validation
    succeeded = {op for op, statuses in fuzzed.items() if any(s < 300 for s in statuses)}
    for op in ("GET /api/v1/dashboard", "GET /api/v1/admin/users", "POST /api/v1/auth/tokens",
               "GET /api/v1/endpoints/candidates", "GET /api/v1/admin/audit",
               "POST /api/v1/cohorts/count"):  # the grammar makes definitions that count
        assert op in succeeded, f"{op} answered only {sorted(fuzzed[op])}"


class _Response:
    def __init__(self, status: int, body: bytes, content_type: str = "application/json"):
        self.status_code, self.content = status, body
        self.headers = {"content-type": [content_type]}


class _Case:
    class operation:
        label = "GET /api/v1/x"


@pytest.mark.parametrize(("status", "body", "content_type"), [
    (404, b'{"detail": "Not Found"}', "application/json"),  # FastAPI's own shape
    (422, b'{"error": {"kind": "invalid_input", "what": "x", "where": ""}}', "application/json"),
    (400, b'{"error": {"kind": "", "what": "x", "where": "", "hint": ""}}', "application/json"),
    (500, b"Internal Server Error", "text/plain"),
    (409, b'{"error": {"kind": "conflict", "what": 3, "where": "", "hint": ""}}',
     "application/json"),
])
def test_the_error_shape_check_rejects_other_shapes(status, body, content_type):
    with pytest.raises(AssertionError):
        one_error_shape(None, _Response(status, body, content_type), _Case())


def test_the_error_shape_check_accepts_the_one_shape():
    good = b'{"error": {"kind": "not_found", "what": "No x", "where": "x", "hint": ""}}'
    one_error_shape(None, _Response(404, good), _Case())
    one_error_shape(None, _Response(200, b"[]"), _Case())
    with pytest.raises(AssertionError):
        signed_in_as_admin(None, _Response(401, good), _Case())
