"""Accounts: users, argon2 password hashes, web sessions and bearer API tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set). Session and API tokens are 256-bit random strings; only
their SHA-256 is stored, so a copy of the database signs nobody in. Failed sign-ins are
counted from the audit log, which makes the rate limit hold across server workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update

from precimed.errors import Conflict, NotFound, UserError
from precimed.ops.db import ApiToken, OpsDatabase, User, WebSession
from precimed.ops.roles import CENTRE_SCOPED, ROLES, permissions_of
from precimed.standard import CENTRES

SESSION_HOURS = 12
TOKEN_PREFIX = "pmt_"
_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# verifying against this keeps the time of an unknown-user attempt like a known one's
_DUMMY_HASH = _hasher.hash("precimed-dummy-password")


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user and what they may do, resolved once per request."""

    user_id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    centres: tuple[str, ...]  # empty: every centre
    via: str  # session or token
    # datasets the caller's GA4GH ControlledAccessGrants visas grant (precimed.sharing.visas):
    # the Beacon's controlled tier per dataset comes from an approval, not a role
    grants: frozenset[str] = frozenset()

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def sees_centre(self, centre: str) -> bool:
        if self.centres:
            return centre in self.centres
        # an account of centre-scoped roles only, made without a centre (before they
        # required one), sees no centre rather than every one
        return bool(set(self.roles) - CENTRE_SCOPED)

    def to_dict(self) -> dict:
        return {"username": self.username, "display_name": self.display_name,
                "roles": list(self.roles), "centres": list(self.centres),
                "permissions": sorted(self.permissions)}


def check_centre(principal: Principal, centre: str, what: str) -> None:
    """Another centre's object is reported exactly like a missing one (OWASP API1)."""
    if not principal.sees_centre(centre):
        raise NotFound(f"No {what} here", where=what,
                       hint="It does not exist, or it belongs to a centre you do not serve.")


def user_dict(user: User) -> dict:
    """A user as JSON (never the password hash), for the admin API and page."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "roles": user.roles, "centres": user.centres, "active": user.active,
            "created_at": user.created_at.isoformat()}


def _principal(user: User, via: str) -> Principal:
    return Principal(user.id, user.username, user.display_name, tuple(user.roles),
                     tuple(user.centres), via)


def principal_for(ops: OpsDatabase, username: str, *, via: str = "cli") -> Principal:
    """An active account as a principal, for the command line (``--as``): the person at
    the keyboard has the home, and acts under that account's roles and centres."""
    with ops.session() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound("No active account of that name", where="--as",
                       hint="List accounts with 'precimed users list'.")
    return _principal(user, via)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


MIN_PASSWORD_LENGTH = 12
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses or more), 4 "very"
MIN_PASSWORD_SCORE = 3
ZXCVBN_MAX_LENGTH = 72


def check_password_strength(password: str, *, username: str = "") -> None:
    """At least 12 characters and not guessable: zxcvbn (Dropbox's estimator, which ships
    lists of the most common passwords, names, words and keyboard patterns) must score it
    3 or more out of 4; the user name counts as known to an attacker."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("The password is too short", where="password",
                        hint=f"Use at least {MIN_PASSWORD_LENGTH} characters; a passphrase "
                             "of several unrelated words is best.")
    # zxcvbn's cost grows with length and zxcvbn 4.5 refuses more than 72 characters
    # (ValueError): the first 72 are scored, the whole password is hashed
    estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[username] if username else [])
    if estimate["score"] < MIN_PASSWORD_SCORE:
        warning = estimate["feedback"].get("warning") or "it is easy to guess"
        raise UserError(f"The password is too easy to guess: {warning.rstrip('.')}",
                        where="password",
                        hint="Avoid common passwords, repeats (aaaa), sequences (1234) and "
                             "keyboard rows; a passphrase of several unrelated words is best.")


def _checked(username: str, roles: list[str], centres: list[str]) -> None:
    if not _USERNAME.match(username):
        raise UserError(f"User name {username!r} is not allowed", where="username",
                        hint="Use 2-64 lower-case letters, digits, '.', '_' or '-'.")
    # no role at all is allowed: the least privilege, an account that can sign in and do
    # nothing until an administrator grants it roles
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise UserError(f"Unknown role {unknown[0]!r}", where="roles",
                        hint="Roles: " + ", ".join(ROLES))
    if len(set(roles)) != len(roles) or len(set(centres)) != len(centres):
        raise UserError("A role or centre is listed twice", where="roles",
                        hint="Name each role and centre once.")
    bad = [c for c in centres if c not in CENTRES]
    if bad:
        raise UserError(f"Unknown centre {bad[0]!r}", where="centres",
                        hint="Centres: " + ", ".join(sorted(CENTRES)))
    scoped = sorted(set(roles) & CENTRE_SCOPED)
    if scoped and not centres:
        raise UserError(f"Role {scoped[0]} serves centres: name at least one", where="centres",
                        hint="Give the centres this person serves (--centre SH01).")


def create_user(ops: OpsDatabase, username: str, password: str, *, roles: list[str] = (),
                centres: list[str] | None = None, display_name: str = "") -> User:
    centres, roles = list(centres or []), list(roles)
    _checked(username, roles, centres)
    check_password_strength(password, username=username)
    with ops.session() as session, session.begin():
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(f"User {username!r} already exists", where="username",
                           hint="Choose another name, or change that user's roles.")
        user = User(username=username, display_name=display_name or username,
                    password_hash=_hasher.hash(password), roles=list(roles),
                    centres=centres, active=True, created_at=_now())
        session.add(user)
    return user


def update_user(ops: OpsDatabase, user_id: int, *, roles: list[str] | None = None,
                centres: list[str] | None = None, active: bool | None = None,
                password: str | None = None) -> User:
    with ops.session() as session, session.begin():
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user {user_id}", where="user", hint="List users first.")
        _checked(user.username, roles if roles is not None else user.roles,
                 centres if centres is not None else user.centres)
        if roles is not None:
            user.roles = list(roles)
        if centres is not None:
            user.centres = list(centres)
        if password is not None:
            check_password_strength(password, username=user.username)
            user.password_hash = _hasher.hash(password)
        if (active is not None and active != user.active) or password is not None:
            # deactivating, reactivating and a new password each end every session and
            # token: a reactivated account starts with no old credential alive
            _revoke_all(session, user_id)
        if active is not None:
            user.active = active
    return user


def state_of(user: User) -> dict:
    """What an administrator can change about an account, for before/after audit entries."""
    return {"roles": list(user.roles), "centres": list(user.centres), "active": user.active}


def change_user(ops: OpsDatabase, by: Principal, user_id: int, *,
                roles: list[str] | None = None, centres: list[str] | None = None,
                active: bool | None = None, password: str | None = None
                ) -> tuple[User, dict, dict]:
    """An administrator's change of another account (or their own): the user and its state
    before and after. Nobody removes their own admin role or disables themselves, so the
    platform never loses its last administrator by a slip; nobody resets their own
    password here (their own change asks for the current one)."""
    before_user = get_user(ops, user_id)
    if user_id == by.user_id:
        if roles is not None and "admin" in before_user.roles and "admin" not in roles:
            raise Conflict("You cannot remove your own administrator role", where="roles",
                           hint="Another administrator can do it, after you have made sure "
                                "someone else holds the role.")
        if active is False:
            raise Conflict("You cannot disable your own account", where="active",
                           hint="Another administrator can do it.")
        if password is not None:
            raise Conflict("Change your own password on the password page", where="password",
                           hint="Your own change asks for your current password.")
    before = state_of(before_user)
    user = update_user(ops, user_id, roles=roles, centres=centres, active=active,
                       password=password)
    return user, before, state_of(user)


def one_time_password() -> str:
    """A random password for a reset: 16 URL-safe characters (96 bits), which zxcvbn
    scores 4 of 4; shown once to the administrator, stored only as its hash."""
    while True:
        password = secrets.token_urlsafe(12)
        with contextlib.suppress(UserError):
            check_password_strength(password)
            return password


def _revoke_all(session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id,
                                           ApiToken.revoked_at.is_(None))
                    .values(revoked_at=_now()))


def change_password(ops: OpsDatabase, principal: Principal, current: str, new: str) -> None:
    """A user's own change: the current password first; every session and token ends."""
    if authenticate(ops, principal.username, current) is None:
        # 400, not 401: the caller is signed in; only this field is wrong
        raise UserError("The current password is wrong", where="current_password",
                        hint="Type the password you signed in with.")
    update_user(ops, principal.user_id, password=new)


def users(ops: OpsDatabase) -> list[User]:
    with ops.session() as session:
        return list(session.scalars(select(User).order_by(User.username)))


def get_user(ops: OpsDatabase, user_id: int) -> User:
    with ops.session() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}", where="user", hint="List users first.")
    return user


def authenticate(ops: OpsDatabase, username: str, password: str) -> Principal | None:
    """The user if the password is right and the account active; None otherwise."""
    with ops.session() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password + "x")
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        _rehash(ops, user.id, password)
    return _principal(user, "session")


def _rehash(ops: OpsDatabase, user_id: int, password: str) -> None:
    """Store the same password under newer hashing parameters (no session ends)."""
    with ops.session() as session, session.begin():
        session.get(User, user_id).password_hash = _hasher.hash(password)


def start_session(ops: OpsDatabase, principal: Principal) -> str:
    token = secrets.token_urlsafe(32)
    now = _now()
    with ops.session() as session, session.begin():
        session.add(WebSession(token_hash=_digest(token), user_id=principal.user_id,
                               created_at=now,
                               expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
    return token


def end_session(ops: OpsDatabase, token: str) -> None:
    with ops.session() as session, session.begin():
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def from_session(ops: OpsDatabase, token: str) -> Principal | None:
    with ops.session() as session:
        row = session.get(WebSession, _digest(token))
        if row is None or _aware(row.expires_at) < _now():
            return None
        user = session.get(User, row.user_id)
    return _principal(user, "session") if user is not None and user.active else None


def issue_token(ops: OpsDatabase, principal: Principal, name: str) -> str:
    if not name or len(name) > 64:
        raise UserError("A token needs a name of 1-64 characters", where="name",
                        hint="Name it after the script that will use it.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ops.session() as session, session.begin():
        session.add(ApiToken(user_id=principal.user_id, name=name, token_hash=_digest(token),
                             created_at=_now()))
    return token


def from_token(ops: OpsDatabase, token: str) -> Principal | None:
    with ops.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        user = session.get(User, row.user_id)
    return _principal(user, "token") if user is not None and user.active else None


def tokens(ops: OpsDatabase, user_id: int) -> list[ApiToken]:
    with ops.session() as session:
        return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                    .order_by(ApiToken.id)))


def revoke_token(ops: OpsDatabase, user_id: int, token_id: int) -> None:
    with ops.session() as session, session.begin():
        row = session.get(ApiToken, token_id)
        # another user's token is reported exactly like a missing one
        if row is None or row.user_id != user_id:
            raise NotFound(f"No token {token_id}", where="token", hint="List your tokens.")
        row.revoked_at = _now()
