"""What the dashboard counts and lists, within a viewer's scope (all, or one pendamping's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from admin.auth import Scope
from programme import meetings, outbox
from programme.models import Family, Kelompok, TelegramUser, UnansweredQuery


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
    pendamping_id = None if scope.everything else scope.pendamping_id
    return HomeNumbers(
        waiting_queries=waiting_query_count(session, scope=scope),
        outbox_waiting=outbox.pending_count(session, pendamping_id=pendamping_id),
        upcoming_meetings=meetings.upcoming_meeting_count(
            session, pendamping_id=pendamping_id, now=now
        ),
    )
