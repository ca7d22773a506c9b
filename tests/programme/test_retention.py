"""Retention on both databases: what is past its time goes, in batches; the rest stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.delivery.scheduling import RETENTION_JOB_ID, Scheduling
from programme import migrate, retention
from programme.db import make_engine, make_session_factory
from programme.models import (
    OutboxKind,
    OutboxMessage,
    OutboxState,
    ProcessedUpdate,
    QuestionLog,
    TimeZone,
    apscheduler_jobs,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def message(key: str, state: OutboxState, finished: datetime) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=key,
        kind=OutboxKind.BROADCAST,
        chat_id=1,
        text="Halo",
        time_zone=TimeZone.WIB,
        state=state,
        not_before=finished,
        created_at=finished,
        updated_at=finished,
    )


def count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_old_updates_finished_messages_and_question_logs_are_pruned(session: Session) -> None:
    session.add_all(
        [
            ProcessedUpdate(update_id=1, processed_at=days_ago(8)),
            ProcessedUpdate(update_id=2, processed_at=days_ago(6)),
            message("sent-long-ago", OutboxState.SENT, days_ago(91)),
            message("failed-long-ago", OutboxState.FAILED, days_ago(200)),
            message("sent-lately", OutboxState.SENT, days_ago(89)),
            # Never finished: kept however old, the drain still owes them.
            message("queued-long-ago", OutboxState.QUEUED, days_ago(200)),
            message("sending-long-ago", OutboxState.SENDING, days_ago(200)),
            QuestionLog(created_at=days_ago(401), answered=True),
            QuestionLog(created_at=days_ago(399), answered=False),
        ]
    )
    session.flush()

    pruned = retention.prune(session, now=NOW)

    assert (pruned.processed_updates, pruned.outbox_messages, pruned.question_logs) == (1, 2, 1)
    assert set(session.scalars(select(ProcessedUpdate.update_id))) == {2}
    assert set(session.scalars(select(OutboxMessage.dedupe_key))) == {
        "sent-lately",
        "queued-long-ago",
        "sending-long-ago",
    }
    assert count(session, QuestionLog) == 1
    assert retention.prune(session, now=NOW).total == 0


def test_pruning_goes_a_batch_at_a_time(session: Session) -> None:
    session.add_all(ProcessedUpdate(update_id=n, processed_at=days_ago(30)) for n in range(25))
    session.flush()

    batches = []
    while pruned := retention.prune(session, now=NOW, batch=10).total:
        batches.append(pruned)

    assert batches == [10, 10, 5]
    assert count(session, ProcessedUpdate) == 0


async def test_the_scheduler_runs_the_pruning_every_night(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    scheduling = Scheduling(engine, make_session_factory(engine))
    scheduling.start()
    try:
        job = scheduling.scheduler.get_job(RETENTION_JOB_ID)
        assert job is not None
        assert (job.next_run_time.hour, job.next_run_time.minute) == (19, 0)  # 02.00 WIB
        with engine.connect() as connection:  # persisted: a restarted leader runs it too
            stored = set(connection.scalars(select(apscheduler_jobs.c.id)))
        assert RETENTION_JOB_ID in stored
    finally:
        scheduling.shutdown()
        engine.dispose()
