"""The outbox: every bulk message is a row, written before it is sent and updated after.

Anyone may enqueue (a bot worker, a scheduler job, the admin CLI); only the leader drains
(`bot.delivery.drain`). A message's life: queued → sending → sent / failed / blocked, or cancelled /
expired while still queued. Rows left in `sending` by a crash are the in-flight window: they are
queued again on the next start (see `recover_interrupted`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CursorResult,
    Integer,
    Result,
    Select,
    Table,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.quiet import QuietHours
from programme.models import (
    Broadcast,
    Kelompok,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    P2K2Meeting,
    TimeZone,
)

# Reminders and roll-ups are about a meeting that will not wait; news can.
PRIORITY = {
    OutboxKind.REMINDER: 0,
    OutboxKind.ROLLUP: 0,
    OutboxKind.MEETING_CHANGE: 0,
    OutboxKind.ADMIN_REPLY: 0,  # someone is waiting for this answer
    OutboxKind.STAGE_OPEN: 1,
    OutboxKind.BROADCAST: 2,
}
_INSERT_CHUNK = 500
BLOCKED_ERROR = "chat unreachable (blocked the bot)"
MAX_ATTEMPTS = 5  # transient failures (5xx, flood control) before a message is marked failed
_OUTBOX: Final = cast(Table, OutboxMessage.__table__)
_INTEGERS: Final = postgresql.ARRAY(Integer)
# Written as a literal, not a parameter: only then do PostgreSQL (with a generic plan) and SQLite
# use the partial index ix_outbox_message_queued, whose WHERE clause this is.
_IS_QUEUED: Final = OutboxMessage.state == literal_column(f"'{OutboxState.QUEUED.value}'")
_IS_SENDING: Final = OutboxMessage.state == literal_column(f"'{OutboxState.SENDING.value}'")
# The columns `enqueue_select` fills, in the order its SELECT must give them.
ENQUEUE_COLUMNS: Final = (
    "dedupe_key",
    "kind",
    "chat_id",
    "user_id",
    "text",
    "broadcast_id",
    "meeting_id",
    "priority",
    "urgent",
    "time_zone",
    "state",
    "not_before",
    "expires_at",
    "attempts",
    "created_at",
    "updated_at",
    "error",
)


@dataclass(frozen=True)
class NewMessage:
    """A bulk message to put in the outbox."""

    dedupe_key: str
    kind: OutboxKind
    chat_id: int
    user_id: int | None
    text: str
    time_zone: TimeZone
    not_before: datetime
    buttons: list[list[dict[str, str]]] | None = None
    broadcast_id: int | None = None
    meeting_id: int | None = None
    urgent: bool = False
    expires_at: datetime | None = None
    state: OutboxState = OutboxState.QUEUED  # BLOCKED for a chat already known unreachable


@dataclass(frozen=True)
class ClaimedMessage:
    """A message the drain has marked `sending` and must now send and finish."""

    id: int
    chat_id: int
    text: str
    buttons: list[list[dict[str, str]]] | None
    attempts: int


def enqueue(session: Session, messages: Iterable[NewMessage], *, now: datetime) -> int:
    """Add the messages whose dedupe_key is new; returns how many were added."""
    rows = [_row(message, now) for message in messages]
    added = 0
    for first in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[first : first + _INSERT_CHUNK]
        statement = _insert_ignoring_duplicates(session, chunk)
        # RETURNING, not rowcount: a multi-row INSERT's rowcount is -1 on some drivers.
        added += len(session.execute(statement.returning(OutboxMessage.id)).all())
    return added


def _row(message: NewMessage, now: datetime) -> dict[str, object]:
    return {
        "dedupe_key": message.dedupe_key,
        "kind": message.kind,
        "chat_id": message.chat_id,
        "user_id": message.user_id,
        "text": message.text,
        "buttons": message.buttons,
        "broadcast_id": message.broadcast_id,
        "meeting_id": message.meeting_id,
        "priority": PRIORITY[message.kind],
        "urgent": message.urgent,
        "time_zone": message.time_zone,
        "state": message.state,
        "not_before": message.not_before,
        "expires_at": message.expires_at,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
        "telegram_message_id": None,
        "error": BLOCKED_ERROR if message.state is OutboxState.BLOCKED else None,
    }


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, object]]) -> Any:
    return _insert(session).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage)
    if dialect == "sqlite":
        return sqlite.insert(OutboxMessage)
    raise NotImplementedError(f"the outbox supports PostgreSQL and SQLite, not {dialect}")


def enqueue_select(session: Session, rows: Select[Any]) -> int:
    """Add the rows `rows` selects (the ENQUEUE_COLUMNS, in order) whose dedupe_key is new.

    One INSERT … SELECT … ON CONFLICT (dedupe_key) DO NOTHING: a stage notice to a province's
    linked families is written by the database, never built as objects. Returns how many rows
    were added.
    """
    statement = (
        _insert(session)
        .from_select(ENQUEUE_COLUMNS, rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    # RETURNING, not rowcount: sqlite3 reports -1 for a statement that starts with WITH.
    return len(session.execute(statement).all())


def keys_in(session: Session, column: Any, keys: Sequence[int]) -> ColumnElement[bool]:
    """`column IN (keys)`; on PostgreSQL as one array parameter (`= ANY`), for a batch of
    thousands of keys costs the driver far more as thousands of parameters than the query."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(None, list(keys), _INTEGERS)))
    return cast(ColumnElement[bool], column.in_(keys))


def value(column: str, given: object) -> BindParameter[Any]:
    """`given` as a parameter of the outbox column's type (time zone, masking, enum values)."""
    return literal(given, type_=_OUTBOX.c[column].type)


def claim_next(
    session: Session, *, now: datetime, quiet: QuietHours | None
) -> ClaimedMessage | None:
    """Mark the next due message `sending` and return it; None when nothing is due.

    One probe per time zone and urgency that may be sent now (a zone in quiet hours: urgent
    messages only), each the first entry of ix_outbox_message_queued (zone, urgent, priority,
    id) that is due, and the best of them is claimed. So a claim costs the same whether or not
    a province's messages are waiting for the morning. FOR UPDATE SKIP LOCKED (PostgreSQL) and
    the `state = queued` re-check make the claim atomic, so two drains can never take the same
    row, even if two leaders overlapped for a moment.
    """
    if session.get_bind().dialect.name == "postgresql":
        # The claim need not wait for its WAL flush: a claim lost in a crash leaves the row
        # queued, which is what recover_interrupted makes of a row left sending anyway, and the
        # send's outcome (mark_sent, …) is still committed durably. Saves a disk flush per claim.
        session.execute(text("SET LOCAL synchronous_commit = off"))
    resting: frozenset[TimeZone] = frozenset()
    if quiet is not None:
        resting = frozenset(zone for zone in TimeZone if quiet.contains(now, ZoneInfo(zone)))
    claimed = session.execute(_claim_statement(resting), {"now": now}).one_or_none()
    if claimed is None:
        return None
    return ClaimedMessage(*claimed)


@functools.cache
def _claim_statement(resting: frozenset[TimeZone]) -> Any:
    """claim_next's UPDATE when these zones rest: built once (it is built of many parts)."""
    now = bindparam("now", type_=_OUTBOX.c.updated_at.type)
    due = (
        _IS_QUEUED,
        OutboxMessage.not_before <= now,
        or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
    )
    probes = [
        select(OutboxMessage.id, OutboxMessage.priority)
        .where(*due, OutboxMessage.time_zone == zone, OutboxMessage.urgent == urgent)
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .subquery()
        for zone in TimeZone
        for urgent in (False, True)
        if urgent or zone not in resting
    ]
    candidates = union_all(*(select(probe) for probe in probes)).subquery()
    candidate = (
        select(candidates.c.id)
        .order_by(candidates.c.priority, candidates.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id == candidate, _IS_QUEUED)
        .values(state=OutboxState.SENDING, attempts=OutboxMessage.attempts + 1, updated_at=now)
        .returning(
            OutboxMessage.id,
            OutboxMessage.chat_id,
            OutboxMessage.text,
            OutboxMessage.buttons,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    )


def mark_sent(
    session: Session, message_id: int, *, telegram_message_id: int, now: datetime
) -> None:
    _finish(
        session,
        message_id,
        now,
        state=OutboxState.SENT,
        telegram_message_id=telegram_message_id,
        sent_at=now,
        error=None,
    )


def mark_blocked(session: Session, message_id: int, *, error: str, now: datetime) -> None:
    _finish(session, message_id, now, state=OutboxState.BLOCKED, error=error[:300])


def mark_failed(session: Session, message_id: int, *, error: str, now: datetime) -> None:
    _finish(session, message_id, now, state=OutboxState.FAILED, error=error[:300])


def retry_later(
    session: Session, message_id: int, *, error: str, not_before: datetime, now: datetime
) -> None:
    """A transient failure (flood control, 5xx): back to the queue until `not_before`."""
    _finish(
        session, message_id, now, state=OutboxState.QUEUED, error=error[:300], not_before=not_before
    )


def give_back(session: Session, message_id: int, *, now: datetime) -> None:
    """Un-claim a message that was never sent (the drain stopped before sending it)."""
    _finish(session, message_id, now, state=OutboxState.QUEUED)


def _finish(session: Session, message_id: int, now: datetime, **values: object) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.SENDING)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )


def recover_interrupted(
    session: Session, *, now: datetime, stale_before: datetime, keep: Iterable[int] = ()
) -> int:
    """Queue again what a crashed drain left in `sending`; returns how many.

    These are the in-flight window: each was claimed, and its send may or may not have reached
    Telegram before the crash. Sending again risks one duplicate per row; not sending risks
    losing it. A reminder lost is worse than one shown twice, so they go out again. Only rows
    claimed before `stale_before` count (a leader that lost its lock a moment ago may still be
    finishing its own), and never the rows in `keep` (this process's own, still in flight).
    """
    query = (
        update(OutboxMessage)
        .where(_IS_SENDING, OutboxMessage.updated_at < stale_before)  # ix_outbox_message_sending
        .values(state=OutboxState.QUEUED, updated_at=now, error="interrupted; sent again")
        .execution_options(synchronize_session=False)
    )
    own = list(keep)
    if own:
        query = query.where(OutboxMessage.id.not_in(own))
    return _rowcount(session.execute(query))


def expire_overdue(session: Session, *, now: datetime) -> int:
    """Queued messages past their expiry (a reminder for a meeting that started) are dropped."""
    result = session.execute(
        update(OutboxMessage)
        .where(_IS_QUEUED, OutboxMessage.expires_at <= now)  # ix_outbox_message_queued_expiry
        .values(state=OutboxState.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def cancel_queued(
    session: Session,
    *,
    now: datetime,
    broadcast_id: int | None = None,
    meeting_id: int | None = None,
) -> int:
    """Cancel what is still queued for a broadcast or a meeting; returns how many."""
    if (broadcast_id is None) == (meeting_id is None):
        raise ValueError("give exactly one of broadcast_id and meeting_id")
    owner = (
        OutboxMessage.broadcast_id == broadcast_id
        if broadcast_id is not None
        else OutboxMessage.meeting_id == meeting_id
    )
    result = session.execute(
        update(OutboxMessage)
        .where(owner, OutboxMessage.state == OutboxState.QUEUED)
        .values(state=OutboxState.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def requeue_failed(session: Session, *, broadcast_id: int, now: datetime) -> int:
    """ "Resend to failed": a broadcast's failed messages go back in the queue."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.state == OutboxState.FAILED,
        )
        .values(state=OutboxState.QUEUED, attempts=0, not_before=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def state_counts(
    session: Session, *, broadcast_id: int | None = None, meeting_id: int | None = None
) -> Counter[OutboxState]:
    """How many of a broadcast's (or meeting's) messages are in each state."""
    query = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    if broadcast_id is not None:
        query = query.where(OutboxMessage.broadcast_id == broadcast_id)
    if meeting_id is not None:
        query = query.where(OutboxMessage.meeting_id == meeting_id)
    return Counter({state: count for state, count in session.execute(query)})


def pending_count(session: Session, *, pendamping_id: int | None = None) -> int:
    """Messages waiting to be sent (queued or in flight): all, or one pendamping's.

    A pendamping's messages are their broadcasts and their kelompok's meeting reminders.
    """
    # OR of the two literals: each side is one of the partial indexes.
    query = select(func.count(OutboxMessage.id)).where(or_(_IS_QUEUED, _IS_SENDING))
    if pendamping_id is not None:
        query = (
            query.outerjoin(Broadcast, OutboxMessage.broadcast_id == Broadcast.id)
            .outerjoin(P2K2Meeting, OutboxMessage.meeting_id == P2K2Meeting.id)
            .outerjoin(Kelompok, P2K2Meeting.kelompok_id == Kelompok.id)
            .where(
                or_(
                    Broadcast.pendamping_id == pendamping_id,
                    Kelompok.pendamping_id == pendamping_id,
                )
            )
        )
    return session.scalar(query) or 0


def _rowcount(result: Result[Any]) -> int:
    """Rows an INSERT/UPDATE touched (DML results are cursor results)."""
    return cast(CursorResult[Any], result).rowcount or 0
