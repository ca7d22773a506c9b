"""Dashboard accounts: created from the command line (and, later, by admins in the dashboard)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.auth import normalise_username
from admin.passwords import MIN_PASSWORD_LENGTH, hash_password
from pkh.i18n import LANGUAGES
from programme.models import AdminUser, AuditLog, Pendamping, UserRole

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


class AccountRefused(ValueError):
    """An account that cannot be created as asked; the message says why."""


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: UserRole,
    pendamping_code: str | None = None,
    language: str = "id",
    actor: str,
) -> AdminUser:
    """Create a dashboard account (audit-logged); raises AccountRefused with the reason."""
    username = normalise_username(username)
    if not _USERNAME.fullmatch(username):
        raise AccountRefused(
            "a username is 3-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if language not in LANGUAGES:
        raise AccountRefused(f"language must be one of {', '.join(LANGUAGES)}")
    if role not in (UserRole.ADMIN, UserRole.PENDAMPING):
        raise AccountRefused("the role must be admin or pendamping")
    pendamping = _pendamping_for(session, role, pendamping_code)
    if session.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
        raise AccountRefused(f"the username {username!r} is taken")

    user = AdminUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        pendamping_id=pendamping.id if pendamping else None,
        language=language,
    )
    session.add(user)
    session.flush()
    session.add(
        AuditLog(
            actor=actor,
            action="admin.create_user",
            target_type="admin_user",
            target_id=str(user.id),
            details={
                "username": username,
                "role": role.value,
                "pendamping": pendamping.code if pendamping else None,
            },
        )
    )
    return user


def _pendamping_for(session: Session, role: UserRole, code: str | None) -> Pendamping | None:
    if role is UserRole.ADMIN:
        if code:
            raise AccountRefused("only a pendamping account has a pendamping code")
        return None
    if not code:
        raise AccountRefused("a pendamping account needs --pendamping CODE")
    pendamping = session.scalar(select(Pendamping).where(Pendamping.code == code))
    if pendamping is None or not pendamping.is_active:
        raise AccountRefused(f"no active pendamping has the code {code!r}")
    return pendamping
