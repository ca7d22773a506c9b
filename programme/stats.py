"""What the statistics page counts, per day in the viewer's zone, in their scope (all, or one
pendamping's).

Everything is counted in SQL. For the whole programme (an admin's view), the hours before the
roll-up's watermark are read from hourly roll-ups that `roll_up` keeps (a scheduled job), the
hours after it from the rows themselves; a pendamping's own scope is small and always read from
the rows. Either way the figures are the same.
"""

# Days are the viewer's (WIB, WITA or WIT: whole hours from UTC, no summer time), whatever the
# family's own zone. Day boundaries are computed here and passed to SQL, which numbers each
# row's day by arithmetic on its UTC timestamp (cheaper than converting every row to a time
# zone, and the same on SQLite and PostgreSQL). The roll-ups are per UTC hour, so they serve
# every zone; only the active users' day bits are WIB days, and a WITA or WIT period reads the
# hours at its edges that no whole WIB day covers from the rows.
#
# What can be rolled up is what never changes once written: a question_log row (kept, without
# its user, when an account is deleted), and a bulk message's sent_at. Blocked and failed
# messages count at their updated_at, which moves ("resend to failed", an account deleted), so
# they are always counted from the outbox itself; there are few of them.

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    cast,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from programme.models import (
    ActiveUserMonth,
    AnswerRating,
    Broadcast,
    Family,
    Kelompok,
    OutboxHour,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    P2K2Meeting,
    QuestionHour,
    QuestionLog,
    Region,
    StatisticsRollUp,
    TelegramUser,
    UtcDateTime,
)

WIB = ZoneInfo("Asia/Jakarta")
TOP_INTENTS = 15
# The bulk messages the statistics follow, and the final states they report.
OUTBOX_KINDS = (OutboxKind.REMINDER, OutboxKind.BROADCAST)
OUTBOX_STATES = (OutboxState.SENT, OutboxState.BLOCKED, OutboxState.FAILED)
# Hours are rolled up once they ended this long ago, so a transaction still open at the end of
# the hour (a question being answered) has committed its rows by then.
ROLL_UP_LAG = timedelta(minutes=15)
ROLL_UP_MAX_HOURS = 31 * 24  # per call: a long backlog is rolled up over several transactions
_HOUR = timedelta(hours=1)
_DAY_SECONDS = 86_400
_HOUR_SECONDS = 3_600
_ROLL_UP_ROW = 1
_Rows: TypeAlias = list[Row[*tuple[Any, ...]]]


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, both included, as days in `zone`."""

    first: date
    last: date
    zone: ZoneInfo = WIB

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)


@dataclass(frozen=True)
class DayFigures:
    """One day's numbers."""

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


@dataclass(frozen=True)
class _Scope:
    """Everything (pendamping_id unused), or the kelompok of one pendamping (None: nobody's)."""

    everything: bool
    pendamping_id: int | None


def statistics(
    session: Session, *, period: Period, everything: bool, pendamping_id: int | None = None
) -> Statistics:
    """Count questions, ratings, bulk messages and active users in the period and scope."""
    _prepare_for_counting(session)
    scope = _Scope(everything, pendamping_id)
    # [start, split) is read from the roll-ups, [split, end) from the rows.
    split = period.start
    if everything:
        rolled_up_until = session.scalar(select(StatisticsRollUp.rolled_up_until))
        if rolled_up_until is not None:
            split = min(max(rolled_up_until, period.start), period.end)
    counts: list[Counter[str]] = [Counter() for _ in period.days]
    intents: Counter[str | None] = Counter()
    for day, intent, answered, asked in _questions(session, scope, period, split):
        counts[day]["questions"] += asked
        if not answered:
            counts[day]["unanswered"] += asked
        intents[intent] += asked
    for day, is_helpful, rated in _ratings(session, scope, period):
        counts[day]["helpful" if is_helpful else "unhelpful"] += rated
    by_kind: Counter[tuple[OutboxKind, OutboxState]] = Counter()
    for day, kind, state, messages in _outbox(session, scope, period, split):
        counts[day][str(state.value)] += messages
        by_kind[kind, state] += messages
    # Most asked first; ties by intent name, "not understood" (None) last.
    ranked = sorted(intents.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
    return Statistics(
        period=period,
        days=[DayFigures(day=day, **count) for day, count in zip(period.days, counts, strict=True)],
        intents=ranked[:TOP_INTENTS],
        outbox=[
            OutboxFigures(
                kind=kind,
                sent=by_kind[kind, OutboxState.SENT],
                blocked=by_kind[kind, OutboxState.BLOCKED],
                failed=by_kind[kind, OutboxState.FAILED],
            )
            for kind in OUTBOX_KINDS
        ],
        regions=_active_users_per_kabupaten(session, scope, period, split),
    )


def _prepare_for_counting(session: Session) -> None:
    # psycopg prepares a statement after 5 executions, and PostgreSQL may then switch to a
    # generic plan that cannot see the period: it estimates a small slice of question_log and
    # joins row by row. At 1M questions that made the former active-users query 7x slower, and
    # these queries together 1.5x (devtools/bench_stats.py). A custom plan per execution costs
    # a millisecond of planning. The distinct active users of a month (~100k at 1M questions)
    # fit in memory with 32 MB instead of spilling to disk at the default 4 MB. SET LOCAL ends
    # with the request's transaction.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        session.execute(text("SET LOCAL work_mem = '32MB'"))


# --- the rows of each figure, as (day number in the period, ..., count) ----------------------


def _questions(session: Session, scope: _Scope, period: Period, split: datetime) -> _Rows:
    rows: _Rows = []
    if split > period.start:
        rolled = _grouped(
            select(
                _whole(session, QuestionHour.hour, period.start, _DAY_SECONDS).label("day"),
                QuestionHour.intent,
                QuestionHour.answered,
                QuestionHour.questions.label("n"),
            ).where(QuestionHour.hour >= period.start, QuestionHour.hour < split),
            total="n",
        )
        rows += session.execute(rolled).all()
    if split < period.end:
        raw = select(
            _whole(session, QuestionLog.created_at, period.start, _DAY_SECONDS).label("day"),
            QuestionLog.intent,
            QuestionLog.answered,
        ).where(QuestionLog.created_at >= split, QuestionLog.created_at < period.end)
        if not scope.everything:
            raw = raw.where(QuestionLog.user_id.in_(_scope_users(scope)))
        rows += session.execute(_grouped(raw)).all()
    return rows


def _ratings(session: Session, scope: _Scope, period: Period) -> _Rows:
    # Ratings are few (and deleted with an account), so they are always read from the rows.
    raw = select(
        _whole(session, AnswerRating.created_at, period.start, _DAY_SECONDS).label("day"),
        AnswerRating.is_helpful,
    ).where(AnswerRating.created_at >= period.start, AnswerRating.created_at < period.end)
    if not scope.everything:
        raw = raw.where(AnswerRating.user_id.in_(_scope_users(scope)))
    return list(session.execute(_grouped(raw)).all())


def _outbox(session: Session, scope: _Scope, period: Period, split: datetime) -> _Rows:
    # A message counts on the day it reached its final state: sent_at, else its last update.
    rows: _Rows = []
    if split > period.start:
        rolled = _grouped(
            select(
                _whole(session, OutboxHour.hour, period.start, _DAY_SECONDS).label("day"),
                OutboxHour.kind,
                OutboxHour.state,
                OutboxHour.messages.label("n"),
            ).where(
                OutboxHour.hour >= period.start,
                OutboxHour.hour < split,
                OutboxHour.kind.in_(OUTBOX_KINDS),
                OutboxHour.state.in_(OUTBOX_STATES),
            ),
            total="n",
        )
        rows += session.execute(rolled).all()
    # Sent after the roll-up (by sent_at), and finished without being sent (by updated_at):
    # between them, every message by coalesce(sent_at, updated_at).
    queries = [
        _final_outbox(session, OutboxMessage.updated_at, period).where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.updated_at >= period.start,
            OutboxMessage.updated_at < period.end,
        )
    ]
    if split < period.end:
        queries.append(
            _final_outbox(session, OutboxMessage.sent_at, period).where(
                OutboxMessage.sent_at >= split, OutboxMessage.sent_at < period.end
            )
        )
    for raw in queries:
        if not scope.everything:
            # As on the home page: the pendamping's broadcasts and their kelompok's reminders.
            raw = (
                raw.outerjoin(Broadcast, OutboxMessage.broadcast_id == Broadcast.id)
                .outerjoin(P2K2Meeting, OutboxMessage.meeting_id == P2K2Meeting.id)
                .outerjoin(Kelompok, P2K2Meeting.kelompok_id == Kelompok.id)
                .where(
                    or_(
                        Broadcast.pendamping_id == scope.pendamping_id,
                        Kelompok.pendamping_id == scope.pendamping_id,
                    )
                )
            )
        rows += session.execute(_grouped(raw)).all()
    return rows


def _final_outbox(
    session: Session, finished: ColumnElement[Any] | Any, period: Period
) -> Select[*tuple[Any, ...]]:
    """The followed bulk messages in a final state, by the day `finished` falls on."""
    return select(
        _whole(session, finished, period.start, _DAY_SECONDS).label("day"),
        OutboxMessage.kind,
        OutboxMessage.state,
    ).where(OutboxMessage.kind.in_(OUTBOX_KINDS), OutboxMessage.state.in_(OUTBOX_STATES))


def _active_users_per_kabupaten(
    session: Session, scope: _Scope, period: Period, split: datetime
) -> list[tuple[str | None, int]]:
    """Distinct users who asked something in the period, by their family's kabupaten."""
    # The WIB days wholly rolled up are read from their bits; the rest of the period (all of
    # it for a pendamping, the hours after `split`, a WITA or WIT period's edges) from the
    # rows. The rows name the kabupaten of the user's family now; the roll-up, that of their
    # family when they asked (the same unless they moved or linked since). A user found in
    # both counts once, under a kabupaten rather than "not linked" if either names one.
    covered = _rolled_up_wib_days(period, split) if scope.everything else []
    if covered:
        first_start = datetime.combine(covered[0], time(), WIB)
        last_end = datetime.combine(covered[-1] + timedelta(days=1), time(), WIB)
        ranges = [(period.start, first_start), (last_end, period.end)]
    else:
        ranges = [(period.start, period.end)]
    raw = _askers_with_kabupaten().where(
        or_(
            *(
                and_(QuestionLog.created_at >= begin, QuestionLog.created_at < end)
                for begin, end in ranges
                if begin < end
            ),
            false(),
        )
    )
    if not scope.everything:
        raw = raw.where(QuestionLog.user_id.in_(_scope_users(scope)))
    askers = (union_all(_rolled_up_users(covered), raw) if covered else raw).subquery()
    users = (
        select(askers.c.user_id, func.max(askers.c.kabupaten_id).label("kabupaten_id"))
        .group_by(askers.c.user_id)
        .subquery()
    )
    active = func.count()
    query = (
        select(Region.name, active)
        .select_from(users)
        .outerjoin(Region, users.c.kabupaten_id == Region.id)
        .group_by(users.c.kabupaten_id, Region.name)
        .order_by(active.desc(), Region.name)
    )
    return [(name, count) for name, count in session.execute(query)]


def _rolled_up_wib_days(period: Period, split: datetime) -> list[date]:
    """The WIB days inside the period that the roll-up covers whole, in order."""
    first = period.start.astimezone(WIB).date()
    if datetime.combine(first, time(), WIB) < period.start:
        first += timedelta(days=1)
    covered_until = min(split, period.end)
    days = []
    day = first
    while datetime.combine(day + timedelta(days=1), time(), WIB) <= covered_until:
        days.append(day)
        day += timedelta(days=1)
    return days


def _askers_with_kabupaten() -> Select[*tuple[Any, ...]]:
    """Question rows with an existing asker, and the kabupaten of the asker's family now."""
    desa, kecamatan = aliased(Region), aliased(Region)
    return (
        select(QuestionLog.user_id.label("user_id"), kecamatan.parent_id.label("kabupaten_id"))
        .join(TelegramUser, QuestionLog.user_id == TelegramUser.id)
        .outerjoin(Family, TelegramUser.family_id == Family.id)
        .outerjoin(desa, Family.desa_id == desa.id)
        .outerjoin(kecamatan, desa.parent_id == kecamatan.id)
    )


def _rolled_up_users(days: list[date]) -> Select[*tuple[Any, ...]]:
    """Users with a bit set, in their month's row, for one of these WIB days."""
    masks: dict[date, int] = {}
    for day in days:
        month = day.replace(day=1)
        masks[month] = masks.get(month, 0) | _day_bit(day)
    return select(
        ActiveUserMonth.user_id.label("user_id"),
        ActiveUserMonth.kabupaten_id.label("kabupaten_id"),
    ).where(
        or_(
            *(
                and_(ActiveUserMonth.month == month, ActiveUserMonth.days.op("&")(mask) != 0)
                for month, mask in masks.items()
            )
        )
    )


def _scope_users(scope: _Scope) -> Select[Any]:
    """The Telegram users of the families in the pendamping's own kelompok."""
    return (
        select(TelegramUser.id)
        .join(Family, TelegramUser.family_id == Family.id)
        .join(Kelompok, Family.kelompok_id == Kelompok.id)
        .where(Kelompok.pendamping_id == scope.pendamping_id)
    )


def _grouped(rows: Select[*tuple[Any, ...]], *, total: str | None = None) -> Select[Any]:
    """Count (or sum the `total` column of) `rows` per value of every other column."""
    inner = rows.subquery()
    keys = [column for column in inner.c if column.name != total]
    measure = func.count() if total is None else func.sum(inner.c[total])
    return select(*keys, measure).group_by(*keys)


def _whole(
    session: Session, moment: ColumnElement[Any] | Any, since: datetime, unit_seconds: int
) -> ColumnElement[int]:
    """How many whole units (days, hours) lie between `since` and `moment`, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        elapsed = func.date_part("epoch", moment - literal(since, UtcDateTime()))
        return cast(func.floor(elapsed / float(unit_seconds)), Integer)
    # SQLite keeps timestamps as UTC text; strftime('%s') makes them whole seconds.
    seconds = cast(func.strftime("%s", moment), Integer) - int(since.timestamp())
    return seconds.self_group().op("/")(unit_seconds)


def _day_bit(day: date) -> int:
    return 1 << (day.day - 1)


# --- keeping the roll-ups ----------------------------------------------------------------------


def roll_up(session: Session, *, now: datetime) -> int:
    """Roll up the hours that ended at least ROLL_UP_LAG ago (at most ROLL_UP_MAX_HOURS of
    them); returns how many hours it rolled up, 0 when it is up to date. Run it from a
    scheduled job, one transaction per call, until it returns 0."""
    target = _hour_floor(now - ROLL_UP_LAG)
    watermark = _locked_watermark(session, start=target)
    stop_at = min(target, watermark.rolled_up_until + ROLL_UP_MAX_HOURS * _HOUR)
    cursor = watermark.rolled_up_until
    while cursor < stop_at:
        # One WIB day at a time: its day bit and month are the same for every row in it.
        next_midnight = datetime.combine(
            cursor.astimezone(WIB).date() + timedelta(days=1), time(), WIB
        ).astimezone(UTC)
        stop = min(stop_at, next_midnight)
        _roll_up_questions(session, cursor, stop)
        _roll_up_sent(session, cursor, stop)
        _roll_up_active_users(session, cursor, stop)
        cursor = stop
    hours = int((cursor - watermark.rolled_up_until) / _HOUR)
    watermark.rolled_up_until = cursor
    watermark.updated_at = now
    session.flush()
    return hours


def _locked_watermark(session: Session, *, start: datetime) -> StatisticsRollUp:
    """The one watermark row, locked until the end of the transaction (made on first use)."""
    first = session.scalar(select(func.min(QuestionLog.created_at)))
    first_sent = session.scalar(select(func.min(OutboxMessage.sent_at)))
    beginnings = [moment for moment in (first, first_sent) if moment is not None]
    begin = _hour_floor(min(beginnings)) if beginnings else start
    row = {"id": _ROLL_UP_ROW, "rolled_up_until": begin, "updated_at": start}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(StatisticsRollUp).values(row).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(StatisticsRollUp).values(row).on_conflict_do_nothing())
    else:  # pragma: no cover - the programme runs on PostgreSQL and SQLite only
        raise NotImplementedError(dialect)
    watermark = session.scalars(
        select(StatisticsRollUp)
        .where(StatisticsRollUp.id == _ROLL_UP_ROW)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return watermark


def _roll_up_questions(session: Session, start: datetime, stop: datetime) -> None:
    _roll_up_hours(
        session,
        QuestionHour,
        QuestionLog.created_at,
        {"intent": QuestionLog.intent, "answered": QuestionLog.answered},
        "questions",
        start,
        stop,
    )


def _roll_up_sent(session: Session, start: datetime, stop: datetime) -> None:
    _roll_up_hours(
        session,
        OutboxHour,
        OutboxMessage.sent_at,
        {"kind": OutboxMessage.kind, "state": OutboxMessage.state},
        "messages",
        start,
        stop,
    )


def _roll_up_hours(
    session: Session,
    table: type[QuestionHour] | type[OutboxHour],
    moment: InstrumentedAttribute[Any],
    keys: dict[str, InstrumentedAttribute[Any]],
    count: str,
    start: datetime,
    stop: datetime,
) -> None:
    """Insert one row per hour in [start, stop) and per value of `keys`: how many rows of
    `moment`'s table fell in it (in the `count` column of `table`)."""
    hourly = _grouped(
        select(_whole(session, moment, start, _HOUR_SECONDS).label("hour"), *keys.values()).where(
            moment >= start, moment < stop
        )
    )
    rows = [
        {"hour": start + hour * _HOUR, **dict(zip(keys, values, strict=True)), count: n}
        for hour, *values, n in session.execute(hourly)
    ]
    if rows:
        session.execute(insert(table), rows)


def _roll_up_active_users(session: Session, start: datetime, stop: datetime) -> None:
    day = start.astimezone(WIB).date()
    found = (
        _askers_with_kabupaten()
        .where(QuestionLog.created_at >= start, QuestionLog.created_at < stop)
        .subquery()
    )
    askers = select(
        literal(day.replace(day=1)).label("month"),
        found.c.user_id,
        func.max(found.c.kabupaten_id),
        literal(_day_bit(day), Integer).label("days"),
    ).group_by(found.c.user_id)
    columns = ["month", "user_id", "kabupaten_id", "days"]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(ActiveUserMonth).from_select(columns, askers)
        session.execute(
            pg.on_conflict_do_update(
                index_elements=["month", "user_id"],
                set_={
                    "days": ActiveUserMonth.days.op("|")(pg.excluded.days),
                    "kabupaten_id": func.coalesce(
                        pg.excluded.kabupaten_id, ActiveUserMonth.kabupaten_id
                    ),
                },
            )
        )
    elif dialect == "sqlite":
        lite = sqlite.insert(ActiveUserMonth).from_select(columns, askers)
        session.execute(
            lite.on_conflict_do_update(
                index_elements=["month", "user_id"],
                set_={
                    "days": ActiveUserMonth.days.op("|")(lite.excluded.days),
                    "kabupaten_id": func.coalesce(
                        lite.excluded.kabupaten_id, ActiveUserMonth.kabupaten_id
                    ),
                },
            )
        )
    else:  # pragma: no cover - the programme runs on PostgreSQL and SQLite only
        raise NotImplementedError(dialect)


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
