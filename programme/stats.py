"""What the statistics page counts, per WIB day, in a viewer's scope (all, or one pendamping's)."""

# Days are WIB days (the programme's head office), whatever the family's own zone. Rows are
# bucketed into days in Python rather than in SQL, so the same code runs on SQLite and
# PostgreSQL; only timestamps and a few small columns are read.

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from admin.auth import Scope
from programme.models import (
    AnswerRating,
    Broadcast,
    Family,
    Kelompok,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    P2K2Meeting,
    QuestionLog,
    Region,
    TelegramUser,
)

WIB = ZoneInfo("Asia/Jakarta")
TOP_INTENTS = 15
# The bulk messages the statistics follow, and the final states they report.
OUTBOX_KINDS = (OutboxKind.REMINDER, OutboxKind.BROADCAST)
OUTBOX_STATES = (OutboxState.SENT, OutboxState.BLOCKED, OutboxState.FAILED)


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, both included, as WIB days."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), WIB).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), WIB).astimezone(UTC)


@dataclass(frozen=True)
class DayFigures:
    """One WIB day's numbers."""

    day: date
    questions: int = 0
    unanswered: int = 0
    helpful: int = 0
    unhelpful: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def fallback_rate(self) -> float | None:
        """Unanswered questions as a percentage of all questions; None on a day without any."""
        return 100 * self.unanswered / self.questions if self.questions else None


@dataclass(frozen=True)
class OutboxFigures:
    """One kind of bulk message: how many were sent, blocked by the user, or failed."""

    kind: OutboxKind
    sent: int
    blocked: int
    failed: int


@dataclass(frozen=True)
class Statistics:
    """Everything on the statistics page for one period and scope."""

    period: Period
    days: list[DayFigures]
    intents: list[tuple[str | None, int]]  # top intents, most asked first; None: not understood
    outbox: list[OutboxFigures]
    regions: list[tuple[str | None, int]]  # active users per kabupaten; None: not linked

    @property
    def total(self) -> DayFigures:
        return DayFigures(
            day=self.period.last,
            questions=sum(d.questions for d in self.days),
            unanswered=sum(d.unanswered for d in self.days),
            helpful=sum(d.helpful for d in self.days),
            unhelpful=sum(d.unhelpful for d in self.days),
            sent=sum(d.sent for d in self.days),
            blocked=sum(d.blocked for d in self.days),
            failed=sum(d.failed for d in self.days),
        )


def statistics(session: Session, *, scope: Scope, period: Period) -> Statistics:
    """Count questions, ratings, bulk messages and active users in the period and scope."""
    return Statistics(
        period=period,
        days=_days(session, scope, period),
        intents=_top_intents(session, scope, period),
        outbox=_outbox_by_kind(session, scope, period),
        regions=_active_users_per_kabupaten(session, scope, period),
    )


def _scope_users(scope: Scope) -> Select[int]:
    """The Telegram users of the families in the pendamping's own kelompok."""
    return (
        select(TelegramUser.id)
        .join(Family, TelegramUser.family_id == Family.id)
        .join(Kelompok, Family.kelompok_id == Kelompok.id)
        .where(Kelompok.pendamping_id == scope.pendamping_id)
    )


def _questions(scope: Scope, period: Period) -> list[ColumnElement[bool]]:
    where = [QuestionLog.created_at >= period.start, QuestionLog.created_at < period.end]
    if not scope.everything:
        where.append(QuestionLog.user_id.in_(_scope_users(scope)))
    return where


def _outbox(
    scope: Scope, period: Period
) -> Select[datetime | None, datetime, OutboxKind, OutboxState]:
    # A message counts on the day it reached its final state: sent_at, else its last update.
    finished = func.coalesce(OutboxMessage.sent_at, OutboxMessage.updated_at)
    query = select(
        OutboxMessage.sent_at, OutboxMessage.updated_at, OutboxMessage.kind, OutboxMessage.state
    ).where(
        OutboxMessage.kind.in_(OUTBOX_KINDS),
        OutboxMessage.state.in_(OUTBOX_STATES),
        finished >= period.start,
        finished < period.end,
    )
    if scope.everything:
        return query
    # As on the home page: the pendamping's broadcasts and their kelompok's meeting reminders.
    return (
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


def _days(session: Session, scope: Scope, period: Period) -> list[DayFigures]:
    counts: dict[date, Counter[str]] = {day: Counter() for day in period.days}

    def add(moment: datetime, field: str) -> None:
        day = moment.astimezone(WIB).date()
        if day in counts:
            counts[day][field] += 1

    questions = select(QuestionLog.created_at, QuestionLog.answered).where(
        *_questions(scope, period)
    )
    for created_at, answered in session.execute(questions):
        add(created_at, "questions")
        if not answered:
            add(created_at, "unanswered")

    ratings = select(AnswerRating.created_at, AnswerRating.is_helpful).where(
        AnswerRating.created_at >= period.start, AnswerRating.created_at < period.end
    )
    if not scope.everything:
        ratings = ratings.where(AnswerRating.user_id.in_(_scope_users(scope)))
    for created_at, is_helpful in session.execute(ratings):
        add(created_at, "helpful" if is_helpful else "unhelpful")

    for sent_at, updated_at, _, state in session.execute(_outbox(scope, period)):
        add(sent_at or updated_at, str(state.value))

    return [DayFigures(day=day, **count) for day, count in counts.items()]


def _top_intents(session: Session, scope: Scope, period: Period) -> list[tuple[str | None, int]]:
    asked = func.count(QuestionLog.id)
    query = (
        select(QuestionLog.intent, asked)
        .where(*_questions(scope, period))
        .group_by(QuestionLog.intent)
        .order_by(asked.desc(), QuestionLog.intent)
        .limit(TOP_INTENTS)
    )
    return [(intent, count) for intent, count in session.execute(query)]


def _outbox_by_kind(session: Session, scope: Scope, period: Period) -> list[OutboxFigures]:
    counts: Counter[tuple[OutboxKind, OutboxState]] = Counter(
        (kind, state) for _, _, kind, state in session.execute(_outbox(scope, period))
    )
    return [
        OutboxFigures(
            kind=kind,
            sent=counts[kind, OutboxState.SENT],
            blocked=counts[kind, OutboxState.BLOCKED],
            failed=counts[kind, OutboxState.FAILED],
        )
        for kind in OUTBOX_KINDS
    ]


def _active_users_per_kabupaten(
    session: Session, scope: Scope, period: Period
) -> list[tuple[str | None, int]]:
    """Distinct users who asked something in the period, by their family's kabupaten."""
    desa, kecamatan, kabupaten = aliased(Region), aliased(Region), aliased(Region)
    users = func.count(QuestionLog.user_id.distinct())
    query = (
        select(kabupaten.name, users)
        .join(TelegramUser, QuestionLog.user_id == TelegramUser.id)
        .outerjoin(Family, TelegramUser.family_id == Family.id)
        .outerjoin(desa, Family.desa_id == desa.id)
        .outerjoin(kecamatan, desa.parent_id == kecamatan.id)
        .outerjoin(kabupaten, kecamatan.parent_id == kabupaten.id)
        .where(*_questions(scope, period))
        .group_by(kabupaten.id, kabupaten.name)
        .order_by(users.desc(), kabupaten.name)
    )
    return [(name, count) for name, count in session.execute(query)]
