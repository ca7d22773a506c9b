"""Retention: rows the bot only needs for a while are deleted once they are old enough.

Kept for:
- `processed_update`, 7 days: Telegram re-delivers an update for at most a day; a week covers a
  worker that was down over a weekend.
- finished outbox messages (sent, failed, blocked, cancelled, expired), 90 days after they
  finished: broadcast reports and "resend to failed" look back a few weeks; queued messages and
  messages in flight are never pruned.
- `question_log`, 400 days: the statistics show at most a year (366 days) at a time; 400 days
  keep every such period whole, and the log holds no text, only intents and counts.

The leader's scheduler runs `prune` every night (bot.scheduling), in batches, each in its own
short transaction so that the bot's own writes never wait long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from programme.models import OutboxMessage, OutboxState, ProcessedUpdate, QuestionLog

PROCESSED_UPDATE_DAYS: Final = 7
OUTBOX_DAYS: Final = 90
QUESTION_LOG_DAYS: Final = 400
BATCH: Final = 10_000  # rows deleted per table and call
FINISHED: Final = (
    OutboxState.SENT,
    OutboxState.FAILED,
    OutboxState.BLOCKED,
    OutboxState.CANCELLED,
    OutboxState.EXPIRED,
)


@dataclass(frozen=True)
class Pruned:
    """How many rows one call deleted, per table."""

    processed_updates: int
    outbox_messages: int
    question_logs: int

    @property
    def total(self) -> int:
        return self.processed_updates + self.outbox_messages + self.question_logs


def prune(session: Session, *, now: datetime, batch: int = BATCH) -> Pruned:
    """Delete up to `batch` rows of each kind that are past their time; call until total is 0."""
    updates = select(ProcessedUpdate.update_id).where(
        ProcessedUpdate.processed_at < now - timedelta(days=PROCESSED_UPDATE_DAYS)
    )
    messages = select(OutboxMessage.id).where(
        OutboxMessage.state.in_(FINISHED),
        OutboxMessage.updated_at < now - timedelta(days=OUTBOX_DAYS),
    )
    logs = select(QuestionLog.id).where(
        QuestionLog.created_at < now - timedelta(days=QUESTION_LOG_DAYS)
    )
    return Pruned(
        processed_updates=_delete(session, ProcessedUpdate.update_id, updates.limit(batch)),
        outbox_messages=_delete(session, OutboxMessage.id, messages.limit(batch)),
        question_logs=_delete(session, QuestionLog.id, logs.limit(batch)),
    )


def _delete(session: Session, key: Any, rows: Any) -> int:
    # DELETE … WHERE key IN (SELECT … LIMIT n): neither database has DELETE … LIMIT by default.
    result = session.execute(
        delete(key.class_).where(key.in_(rows)).execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount or 0
