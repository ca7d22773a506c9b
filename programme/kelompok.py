"""A pendamping's kelompok as the bot shows them: who has linked, invite batches, P2K2 topics.

Plain functions of a session (the caller owns the transaction), for /kelompok, /undangan and the
module and session steps of /jadwal. Meetings and broadcasts have their own modules.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Exists, Select, delete, exists, select
from sqlalchemy.orm import Session, selectinload

from programme import meetings
from programme.invites import derived_invite_code, hash_invite_code
from programme.meetings import MeetingView
from programme.models import (
    AuditLog,
    Family,
    InviteCode,
    Kelompok,
    P2K2Module,
    P2K2Session,
    Pendamping,
    TelegramUser,
    TimeZone,
    UserRole,
)
from programme.recipients import IN_PROGRAMME, family_name

INVITE_VALID_FOR = timedelta(days=14)


@dataclass(frozen=True)
class FamilyLine:
    """One family of a kelompok: its name (the pengurus) and whether anyone linked the bot."""

    name: str
    linked: bool


@dataclass(frozen=True)
class KelompokRoster:
    name: str
    families: list[FamilyLine]
    next_meeting: MeetingView | None


@dataclass(frozen=True)
class Invite:
    family_name: str
    code: str  # only its hash is stored; derived again while valid (programme.invites)
    expires_at: datetime


@dataclass(frozen=True)
class InviteBatch:
    kelompok_name: str
    time_zone: TimeZone
    expires_at: datetime  # the soonest expiry among its links
    invites: list[Invite]
    reissued: int = 0  # links sent before and still valid, shown again


@dataclass(frozen=True)
class ModuleChoice:
    code: str
    number: int
    name: str
    sessions: int


@dataclass(frozen=True)
class SessionChoice:
    id: int
    number: int
    title: str


def own_kelompok(session: Session, *, pendamping_id: int, kelompok_id: int) -> Kelompok | None:
    """The kelompok if this pendamping leads it."""
    kelompok = session.get(Kelompok, kelompok_id)
    return kelompok if kelompok is not None and kelompok.pendamping_id == pendamping_id else None


def kelompok_roster(
    session: Session, *, pendamping_id: int, kelompok_id: int, now: datetime
) -> KelompokRoster | None:
    """The kelompok's families (✅ linked / ⏳ not yet) and its next meeting; None if not theirs."""
    kelompok = own_kelompok(session, pendamping_id=pendamping_id, kelompok_id=kelompok_id)
    if kelompok is None:
        return None
    rows = session.execute(_families(kelompok_id).add_columns(_linked()))
    families = sorted(
        (FamilyLine(family_name(family), bool(linked)) for family, linked in rows),
        key=lambda line: line.name,
    )
    upcoming = meetings.upcoming_meetings(session, pendamping_id=pendamping_id, now=now)
    next_meeting = next((m for m in upcoming if m.kelompok_id == kelompok_id), None)
    return KelompokRoster(kelompok.name, families, next_meeting)


def create_invites(
    session: Session,
    *,
    pendamping_id: int,
    kelompok_id: int,
    secret_key: str,
    now: datetime,
    actor: str,
    actor_user_id: int | None = None,
) -> InviteBatch | None:
    """An invite link for every family of the kelompok not linked yet; None if not theirs.

    A family whose link from an earlier batch is still valid gets that same link again, so links
    already forwarded keep working; the others get a new code (and their expired or older,
    non-reissuable codes go).
    """
    kelompok = own_kelompok(session, pendamping_id=pendamping_id, kelompok_id=kelompok_id)
    if kelompok is None:
        return None
    families = sorted(session.scalars(_families(kelompok_id).where(~_linked())), key=family_name)
    valid = _reissuable_codes(session, [f.id for f in families], secret_key=secret_key, now=now)
    issued_at = now.replace(microsecond=0)  # the code is derived from the whole second
    invites, reissued = [], 0
    for family in families:
        if family.id in valid:
            code, expires_at = valid[family.id]
            reissued += 1
        else:
            session.execute(
                delete(InviteCode).where(
                    InviteCode.family_id == family.id, InviteCode.used_at.is_(None)
                )
            )
            code = derived_invite_code(secret_key, family_id=family.id, issued_at=issued_at)
            expires_at = issued_at + INVITE_VALID_FOR
            session.add(
                InviteCode(
                    code_hash=hash_invite_code(code, secret_key),
                    family_id=family.id,
                    issued_by_pendamping_id=pendamping_id,
                    created_at=issued_at,
                    expires_at=expires_at,
                )
            )
        invites.append(Invite(family_name(family), code, expires_at))
    session.add(
        AuditLog(
            actor_user_id=actor_user_id,
            actor=actor,
            action="invite.create_batch",
            target_type="kelompok",
            target_id=str(kelompok_id),
            details={
                "families": len(invites),
                "reissued": reissued,
                "valid_days": INVITE_VALID_FOR.days,
            },
        )
    )
    soonest = min((i.expires_at for i in invites), default=issued_at + INVITE_VALID_FOR)
    return InviteBatch(kelompok.name, kelompok.desa.time_zone, soonest, invites, reissued)


def _reissuable_codes(
    session: Session, family_ids: list[int], *, secret_key: str, now: datetime
) -> dict[int, tuple[str, datetime]]:
    """Family id → (code, expiry) of its newest unused, unexpired code that can be shown again."""
    rows = session.scalars(
        select(InviteCode)
        .where(
            InviteCode.family_id.in_(family_ids),
            InviteCode.used_at.is_(None),
            InviteCode.expires_at > now,
        )
        .order_by(InviteCode.created_at)
    )
    found: dict[int, tuple[str, datetime]] = {}
    for row in rows:
        issued_at = _aware(row.created_at)
        code = derived_invite_code(secret_key, family_id=row.family_id, issued_at=issued_at)
        if hmac.compare_digest(hash_invite_code(code, secret_key), row.code_hash):
            found[row.family_id] = (code, _aware(row.expires_at))
    return found


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def pendamping_name(session: Session, *, pendamping_id: int) -> str:
    pendamping = session.get(Pendamping, pendamping_id)
    return pendamping.name if pendamping is not None else ""


def own_meeting(session: Session, *, pendamping_id: int, meeting_id: int) -> MeetingView | None:
    """The meeting if it belongs to one of this pendamping's kelompok."""
    view = meetings.meeting_view(session, meeting_id)
    if view is None:
        return None
    mine = own_kelompok(session, pendamping_id=pendamping_id, kelompok_id=view.kelompok_id)
    return view if mine is not None else None


def p2k2_modules(session: Session) -> list[ModuleChoice]:
    """The P2K2 modules in order, for choosing a meeting's topic."""
    modules = session.scalars(
        select(P2K2Module).options(selectinload(P2K2Module.sessions)).order_by(P2K2Module.number)
    )
    return [ModuleChoice(m.code, m.number, m.name, len(m.sessions)) for m in modules]


def p2k2_sessions(session: Session, *, module_code: str) -> list[SessionChoice]:
    """The sessions of one module in order."""
    sessions = session.scalars(
        select(P2K2Session)
        .where(P2K2Session.module_code == module_code)
        .order_by(P2K2Session.number)
    )
    return [SessionChoice(s.id, s.number, s.title) for s in sessions]


def _families(kelompok_id: int) -> Select[Family]:
    """The kelompok's families still in the programme, with their members (for the names)."""
    return (
        select(Family)
        .where(Family.kelompok_id == kelompok_id, Family.status.in_(IN_PROGRAMME))
        .options(selectinload(Family.members))
    )


def _linked() -> Exists:
    """Whether a KPM account is linked to the family (correlated with the outer Family)."""
    return exists().where(TelegramUser.family_id == Family.id, TelegramUser.role == UserRole.KPM)
