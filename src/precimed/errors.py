"""User errors versus internal errors.

A :class:`UserError` is something the person at the keyboard can fix: it says what went
wrong, where, and what to do next, and carries a stable exit code and HTTP status.
Anything else is an internal error and is reported only by a reference id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass
class UserError(Exception):
    """A problem with the user's input, request or environment.

    ``what`` is one sentence, ``where`` names the file, row, column or object, and
    ``hint`` says what to do. None of them may contain an identifier or a row-level value
    that is not already the user's own.
    """

    what: str
    where: str = ""
    hint: str = ""

    exit_code = 2
    http_status = 400
    kind = "invalid_input"

    def __post_init__(self) -> None:
        super().__init__(self.what)

    def one_line(self) -> str:
        parts = [self.what.rstrip(".")]
        if self.where:
            parts.append(f"({self.where})")
        line = " ".join(parts) + "."
        if self.hint:
            line += f" Hint: {self.hint}"
        return line

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "what": self.what, "where": self.where, "hint": self.hint}


class NotFound(UserError):
    exit_code = 3
    http_status = 404
    kind = "not_found"


class Conflict(UserError):
    exit_code = 4
    http_status = 409
    kind = "conflict"


class SubmissionRejected(UserError):
    """A submission package cannot be read; the pipeline turns it into a report."""

    exit_code = 5
    http_status = 422
    kind = "submission_rejected"


class NotInitialised(UserError):
    exit_code = 6
    http_status = 503
    kind = "not_initialised"


class TooManyAttempts(UserError):
    """Too many failed sign-ins for this account or client; wait and try again."""

    exit_code = 7
    http_status = 429
    kind = "rate_limited"


class Unauthenticated(UserError):
    """No valid session or token came with the request."""

    exit_code = 8
    http_status = 401
    kind = "unauthenticated"


class Forbidden(UserError):
    """Signed in, but the role or centre scope does not allow it."""

    exit_code = 9
    http_status = 403
    kind = "forbidden"


def internal_reference() -> str:
    """A short id to quote in an internal-error message and find in the server log."""
    return uuid.uuid4().hex[:12]
