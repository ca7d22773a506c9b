"""What the dashboard counts and lists, within a viewer's scope (all, or one pendamping's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from admin.auth import Scope
from programme.models import (
    Broadcast,
    Family,
    Kelompok,
    MeetingStatus,
    OutboxMessage,
    OutboxState,
    P2K2Meeting,
    TelegramUser,
    UnansweredQuery,
)


@dataclass(frozen=True)
class HomeNumbers:
    """The home page's figures."""

    waiting_queries: int
    outbox_waiting: int
    upcoming_meetings: int


def _waiting_queries(scope: Scope) -> Select[UnansweredQuery]:
    query = select(UnansweredQuery).where(UnansweredQuery.resolved_at.is_(None))
    if scope.everything:
        return query
    # A pendamping sees the questions of the families in their own kelompok only.
    return (
        query.join(TelegramUser, UnansweredQuery.user_id == TelegramUser.id)
        .join(Family, TelegramUser.family_id == Family.id)
        .join(Kelompok, Family.kelompok_id == Kelompok.id)
        .where(Kelompok.pendamping_id == scope.pendamping_id)
    )


def waiting_query_count(session: Session, *, scope: Scope) -> int:
    """Unanswered queries nobody has resolved yet."""
    inner = _waiting_queries(scope).with_only_columns(UnansweredQuery.id).subquery()
    return session.scalar(select(func.count()).select_from(inner)) or 0


def newest_waiting_queries(
    session: Session, *, scope: Scope, limit: int = 5
) -> list[UnansweredQuery]:
    """The latest waiting queries, newest first."""
    query = _waiting_queries(scope).order_by(
        UnansweredQuery.created_at.desc(), UnansweredQuery.id.desc()
    )
    return list(session.scalars(query.limit(limit)))


def home_numbers(session: Session, *, scope: Scope, now: datetime) -> HomeNumbers:
    return HomeNumbers(
        waiting_queries=waiting_query_count(session, scope=scope),
        outbox_waiting=_outbox_waiting(session, scope),
        upcoming_meetings=_upcoming_meetings(session, scope, now),
    )


def _outbox_waiting(session: Session, scope: Scope) -> int:
    query = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.SENDING))
    )
    if not scope.everything:
        # A pendamping's messages: their broadcasts and their kelompok's meeting reminders.
        query = (
            query.outerjoin(Broadcast, OutboxMessage.broadcast_id == Broadcast.id)
            .outerjoin(P2K2Meeting, OutboxMessage.meeting_id == P2K2Meeting.id)
            .outerjoin(Kelompok, P2K2Meeting.kelompok_id == Kelompok.id)
            .where(
                or_(
                    Broadcast.pendamping_id == scope.pendamping_id,
                    Kelompok.pendamping_id == scope.pendamping_id,
                )
            )
        )
    return session.scalar(query) or 0


def _upcoming_meetings(session: Session, scope: Scope, now: datetime) -> int:
    query = select(func.count(P2K2Meeting.id)).where(
        P2K2Meeting.status == MeetingStatus.SCHEDULED, P2K2Meeting.starts_at >= now
    )
    if not scope.everything:
        query = query.join(Kelompok, P2K2Meeting.kelompok_id == Kelompok.id).where(
            Kelompok.pendamping_id == scope.pendamping_id
        )
    return session.scalar(query) or 0
