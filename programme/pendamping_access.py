"""Onboarding a pendamping: an admin's one-time link gives a Telegram account the pendamping role.

The admin makes a link for a pendamping record (dashboard or `pkh pendamping invite`); the
pendamping opens `t.me/<bot>?start=<code>`; the bot calls `link_pendamping`, and the account is
that pendamping from then on. Revoking voids the unused links and takes the role back from the
account that holds it. Only the code's hash is stored; every step is in the audit log.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from programme.invites import hash_invite_code
from programme.models import AuditLog, Pendamping, PendampingInvite, TelegramUser, UserRole

CODE_PREFIX = "pdp-"  # tells a pendamping link from a family's at /start
VALID_FOR = timedelta(days=7)


class PendampingLinkResult(enum.StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"  # this account is this pendamping already
    INVALID = "invalid"  # unknown, used, revoked or expired
    FAMILY_ACCOUNT = "family_account"  # the account is a linked KPM's: not mixed up
    TAKEN = "taken"  # another account holds this pendamping record


@dataclass(frozen=True)
class IssuedLink:
    code: str
    expires_at: datetime
    pendamping_name: str


def is_pendamping_code(code: str) -> bool:
    return code.startswith(CODE_PREFIX)


def find_pendamping(session: Session, ref: str) -> Pendamping | None:
    """A pendamping by its code (DEMO-PDP-5315-1) or its number in the database."""
    query = select(Pendamping).where(Pendamping.code == ref)
    if ref.isdigit():
        query = select(Pendamping).where(or_(Pendamping.code == ref, Pendamping.id == int(ref)))
    return session.scalars(query).first()


def issue_pendamping_link(
    session: Session,
    *,
    pendamping_id: int,
    secret_key: str,
    now: datetime,
    actor: str,
    valid_for: timedelta = VALID_FOR,
) -> IssuedLink:
    """A new one-time link for this pendamping; their older unused links stop working."""
    pendamping = session.get(Pendamping, pendamping_id)
    if pendamping is None:
        raise LookupError(f"no pendamping {pendamping_id}")
    _void_unused(session, pendamping_id, now)
    code = CODE_PREFIX + secrets.token_urlsafe(16)
    expires_at = now + valid_for
    session.add(
        PendampingInvite(
            code_hash=hash_invite_code(code, secret_key),
            pendamping_id=pendamping_id,
            created_by=actor[:100],
            created_at=now,
            expires_at=expires_at,
        )
    )
    _audit(session, actor, "pendamping.invite", pendamping_id, valid_days=valid_for.days)
    return IssuedLink(code, expires_at, pendamping.name)


def revoke_pendamping_access(
    session: Session, *, pendamping_id: int, now: datetime, actor: str
) -> tuple[int, int]:
    """Void the unused links and take the role back; (links voided, accounts unlinked)."""
    voided = _void_unused(session, pendamping_id, now)
    holders = session.scalars(
        select(TelegramUser).where(
            TelegramUser.pendamping_id == pendamping_id, TelegramUser.role == UserRole.PENDAMPING
        )
    ).all()
    for user in holders:
        user.role, user.pendamping_id = UserRole.KPM, None
    _audit(session, actor, "pendamping.revoke", pendamping_id, links=voided, accounts=len(holders))
    return voided, len(holders)


def link_pendamping(
    session: Session, user: TelegramUser, *, code: str, secret_key: str, now: datetime
) -> PendampingLinkResult:
    """Use an admin's link: this Telegram account becomes the record's pendamping."""
    invite = session.scalars(
        select(PendampingInvite).where(
            PendampingInvite.code_hash == hash_invite_code(code, secret_key)
        )
    ).one_or_none()
    if invite is None or invite.used_at or invite.revoked_at or _aware(invite.expires_at) <= now:
        return PendampingLinkResult.INVALID
    if user.role is UserRole.PENDAMPING and user.pendamping_id == invite.pendamping_id:
        return PendampingLinkResult.ALREADY_LINKED
    if user.family_id is not None:
        return PendampingLinkResult.FAMILY_ACCOUNT
    other = session.scalar(
        select(TelegramUser.id).where(
            TelegramUser.pendamping_id == invite.pendamping_id,
            TelegramUser.role == UserRole.PENDAMPING,
            TelegramUser.id != user.id,
        )
    )
    if other is not None:
        return PendampingLinkResult.TAKEN
    user.role, user.pendamping_id = UserRole.PENDAMPING, invite.pendamping_id
    invite.used_at, invite.used_by_user_id = now, user.id
    _audit(
        session,
        f"telegram:{user.telegram_user_id}",
        "pendamping.link",
        invite.pendamping_id,
        actor_user_id=user.id,
    )
    return PendampingLinkResult.LINKED


def pendamping_access(session: Session, *, pendamping_id: int, now: datetime) -> dict[str, object]:
    """For the dashboard: whether an account holds the role, and the link waiting, if any."""
    holder = session.scalars(
        select(TelegramUser).where(
            TelegramUser.pendamping_id == pendamping_id, TelegramUser.role == UserRole.PENDAMPING
        )
    ).first()
    waiting = session.scalars(
        select(PendampingInvite).where(
            PendampingInvite.pendamping_id == pendamping_id,
            PendampingInvite.used_at.is_(None),
            PendampingInvite.revoked_at.is_(None),
            PendampingInvite.expires_at > now,
        )
    ).first()
    return {
        "linked": holder is not None,
        "linked_name": holder.first_name if holder is not None else None,
        "link_expires_at": waiting.expires_at if waiting is not None else None,
    }


def _void_unused(session: Session, pendamping_id: int, now: datetime) -> int:
    result = session.execute(
        update(PendampingInvite)
        .where(
            PendampingInvite.pendamping_id == pendamping_id,
            PendampingInvite.used_at.is_(None),
            PendampingInvite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _audit(
    session: Session,
    actor: str,
    action: str,
    pendamping_id: int,
    *,
    actor_user_id: int | None = None,
    **details: object,
) -> None:
    session.add(
        AuditLog(
            actor_user_id=actor_user_id,
            actor=actor[:100],
            action=action,
            target_type="pendamping",
            target_id=str(pendamping_id),
            details=details,
        )
    )


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
