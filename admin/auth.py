"""Dashboard logins: sessions behind an HttpOnly cookie, CSRF tokens, the login throttle, roles.

The cookie holds a random token and the database only its SHA-256, so a leaked database (or
backup) does not log anyone in. Every function here takes the caller's session and clock; the
web layer (`admin.web`) owns the transaction and the cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from admin.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from core.i18n import Translator, translator
from programme import logins
from programme.models import AdminSession, AdminUser, TimeZone, UserRole

COOKIE_NAME = "pkh_admin"
SESSION_LIFETIME = timedelta(hours=12)


def new_token() -> str:
    """A random, URL-safe token (256 bits) for a session cookie or a CSRF field."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a CSRF token with what a form sent."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def normalise_username(username: str) -> str:
    return username.strip().lower()


# --- who is looking -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose data a viewer sees: everything (admin) or the kelompok of one pendamping."""

    everything: bool
    pendamping_id: int | None = None


@dataclass(frozen=True)
class Viewer:
    """The logged-in dashboard user of one request."""

    user_id: int
    username: str
    role: UserRole
    pendamping_id: int | None
    language: str
    csrf_token: str
    time_zone: TimeZone = TimeZone.WIB  # the account's own region's zone, for every time shown

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN

    @property
    def scope(self) -> Scope:
        """The pendamping's own scope; a pendamping account whose pendamping is gone sees none."""
        if self.is_admin:
            return Scope(everything=True)
        return Scope(everything=False, pendamping_id=self.pendamping_id)

    @property
    def tr(self) -> Translator:
        return translator(self.language)


class NotAllowed(Exception):
    """The viewer's role may not open this page."""


def require_admin(viewer: Viewer) -> None:
    """Refuse anyone but an admin (the web layer shows a 403 page)."""
    if not viewer.is_admin:
        raise NotAllowed


# --- sessions -------------------------------------------------------------------------------


def start_session(session: Session, *, user: AdminUser, now: datetime) -> str:
    """Open a session for `user`; returns the token for the cookie (never stored as is)."""
    token = new_token()
    session.add(
        AdminSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def find_viewer(session: Session, *, token: str | None, now: datetime) -> Viewer | None:
    """The active user behind a cookie token, or None (unknown, expired, or deactivated)."""
    if not token:
        return None
    row = session.get(AdminSession, token_hash(token))
    if row is None:
        return None
    if row.expires_at <= now or not row.user.is_active:
        session.delete(row)
        return None
    user = row.user
    return Viewer(
        user_id=user.id,
        username=user.username,
        role=user.role,
        pendamping_id=user.pendamping_id,
        language=user.language,
        csrf_token=row.csrf_token,
        time_zone=user.time_zone,
    )


def end_session(session: Session, *, token: str) -> None:
    """Log out: the session's row goes, so the cookie is worthless even if kept."""
    session.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash(token)))


# --- logging in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """A login try: the user on success; `wait` when refused by the rate limit."""

    user: AdminUser | None = None
    wait: timedelta | None = None


def authenticate(
    session: Session, *, username: str, password: str, client: str | None, now: datetime
) -> LoginResult:
    """Check a login; every checked try is recorded, refused ones (programme.logins) are not."""
    username = normalise_username(username)[:64]
    wait = logins.login_wait(session, username=username, client=client, now=now)
    if wait is not None:
        return LoginResult(wait=wait)
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    # An unknown user is checked against a dummy hash, so the answer takes the same time.
    matches = verify_password(user.password_hash if user else dummy_hash(), password)
    succeeded = user is not None and user.is_active and matches
    logins.record_attempt(session, username=username, client=client, succeeded=succeeded, now=now)
    if not succeeded or user is None:
        return LoginResult()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.flush()
    return LoginResult(user=user)
