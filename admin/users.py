"""Dashboard accounts: created from the command line or by admins in the dashboard, and changed."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from admin.auth import normalise_username
from admin.passwords import MIN_PASSWORD_LENGTH, hash_password
from core.i18n import LANGUAGES
from programme.models import (
    AdminSession,
    AdminUser,
    AuditLog,
    Pendamping,
    TelegramUser,
    TimeZone,
    UserRole,
)

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


class AccountRefused(ValueError):
    """An account that cannot be created or changed as asked; the message says why (in English,
    for the command line) and `reason` is a stable key the dashboard shows in the viewer's language.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: UserRole,
    pendamping_code: str | None = None,
    language: str = "id",
    time_zone: TimeZone = TimeZone.WIB,
    actor: str,
) -> AdminUser:
    """Create a dashboard account (audit-logged); raises AccountRefused with the reason."""
    username = normalise_username(username)
    if not _USERNAME.fullmatch(username):
        raise AccountRefused(
            "a username is 3-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            reason="username_format",
        )
    _check_password(password)
    _check_language(language)
    _check_role(role)
    pendamping = _pendamping_for(session, role, pendamping_code)
    if session.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
        raise AccountRefused(f"the username {username!r} is taken", reason="username_taken")

    user = AdminUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        pendamping_id=pendamping.id if pendamping else None,
        language=language,
        time_zone=time_zone,
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
            raise AccountRefused(
                "only a pendamping account has a pendamping code", reason="admin_with_code"
            )
        return None
    if not code:
        raise AccountRefused("a pendamping account needs --pendamping CODE", reason="code_missing")
    pendamping = session.scalar(select(Pendamping).where(Pendamping.code == code))
    if pendamping is None or not pendamping.is_active:
        raise AccountRefused(f"no active pendamping has the code {code!r}", reason="code_unknown")
    return pendamping


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            reason="password_short",
        )


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise AccountRefused(f"language must be one of {', '.join(LANGUAGES)}", reason="language")


def _check_role(role: UserRole) -> None:
    if role not in (UserRole.ADMIN, UserRole.PENDAMPING):
        raise AccountRefused("the role must be admin or pendamping", reason="role")


def update_user(
    session: Session,
    *,
    user_id: int,
    role: UserRole,
    pendamping_code: str | None,
    language: str,
    is_active: bool,
    changed_by: int,
    actor: str,
    time_zone: TimeZone | None = None,
) -> AdminUser:
    """Change an account's role, pendamping, language or active flag (audit-logged).

    Deactivating or changing the role ends the account's sessions. `changed_by` (the acting
    account) may not deactivate or demote itself, and the last active admin stays an admin.
    """
    user = _user(session, user_id)
    _check_language(language)
    _check_role(role)
    pendamping = _pendamping_for(session, role, pendamping_code)
    loses_admin = user.role is UserRole.ADMIN and user.is_active
    loses_admin = loses_admin and (role is not UserRole.ADMIN or not is_active)
    if user.id == changed_by and (role is not user.role or not is_active):
        raise AccountRefused("you cannot deactivate or demote yourself", reason="self")
    if loses_admin and _active_admin_count(session) <= 1:
        raise AccountRefused("the last active admin must stay an active admin", reason="last_admin")

    ends_sessions = role is not user.role or (user.is_active and not is_active)
    user.role = role
    user.pendamping_id = pendamping.id if pendamping else None
    user.language = language
    user.time_zone = time_zone or user.time_zone  # None: the zone stays as it was
    user.is_active = is_active
    ended = end_sessions(session, user_id=user.id) if ends_sessions else 0
    _audit(
        session,
        actor=actor,
        action="admin.update_user",
        user=user,
        details={
            "username": user.username,
            "role": role.value,
            "pendamping": pendamping.code if pendamping else None,
            "language": language,
            "time_zone": user.time_zone.abbreviation,
            "active": is_active,
            "sessions_ended": ended,
        },
    )
    return user


def set_password(session: Session, *, user_id: int, password: str, actor: str) -> AdminUser:
    """Give an account a new password and end its sessions (audit-logged, without the password)."""
    user = _user(session, user_id)
    _check_password(password)
    user.password_hash = hash_password(password)
    ended = end_sessions(session, user_id=user.id)
    _audit(
        session,
        actor=actor,
        action="admin.set_password",
        user=user,
        details={"username": user.username, "sessions_ended": ended},
    )
    return user


def end_sessions(session: Session, *, user_id: int) -> int:
    """Log an account out everywhere; returns how many sessions ended."""
    result = session.execute(delete(AdminSession).where(AdminSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def list_accounts(session: Session) -> list[AdminUser]:
    """Every dashboard account with its pendamping, admins first, then by name."""
    return list(
        session.scalars(
            select(AdminUser)
            .options(selectinload(AdminUser.pendamping))
            .order_by(AdminUser.role, AdminUser.username)
        )
    )


def active_pendamping(session: Session) -> list[Pendamping]:
    """The pendamping an account can be linked to."""
    return list(
        session.scalars(select(Pendamping).where(Pendamping.is_active).order_by(Pendamping.code))
    )


def staff_telegram_accounts(session: Session) -> list[TelegramUser]:
    """The bot's Telegram accounts with a staff role (read-only in the dashboard)."""
    return list(
        session.scalars(
            select(TelegramUser)
            .options(selectinload(TelegramUser.pendamping))
            .where(TelegramUser.role.in_([UserRole.PENDAMPING, UserRole.ADMIN]))
            .order_by(TelegramUser.role, TelegramUser.telegram_user_id)
        )
    )


def _user(session: Session, user_id: int) -> AdminUser:
    user = session.get(AdminUser, user_id)
    if user is None:
        raise AccountRefused(f"no account has the id {user_id}", reason="not_found")
    return user


def _active_admin_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AdminUser)
            .where(AdminUser.role == UserRole.ADMIN, AdminUser.is_active)
        )
        or 0
    )


def _audit(
    session: Session, *, actor: str, action: str, user: AdminUser, details: dict[str, object]
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            target_type="admin_user",
            target_id=str(user.id),
            details=details,
        )
    )
