"""APScheduler wiring: reminder, roll-up and broadcast jobs, persisted in the programme database.

Every worker starts the scheduler with the SQLAlchemy job store, paused, so that any worker can
add, move or remove jobs; only the leader (`bot.delivery.leader`) resumes it and so runs them. A
job only writes outbox rows (`programme.outbox`); the leader's drain sends them.

Job ids are deterministic ("reminder:12:day_before", "broadcast:7"), so saving a meeting again
replaces its jobs instead of adding a second set (`replace_existing=True`).

Misfire policy, per kind of job:
- a reminder or roll-up that is late but before the meeting starts is still sent
  (misfire_grace_time = time left until the meeting); one whose meeting has started is skipped by
  APScheduler and recorded in the audit log (`scheduler.job_missed`);
- a broadcast is sent however late (news is still news; the pendamping can cancel it);
- coalesce: a job that missed several runs runs once (all our jobs are one-off, so this only
  matters for a store restored from a backup).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from programme import broadcasts, meetings, outbox, retention, stats
from programme.meetings import ReminderKind
from programme.models import AuditLog, TimeZone, utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
JOB_RETRY_DELAYS = (1.0, 2.0, 5.0)


@dataclass
class _Runtime:
    """What job functions need; jobs are stored by reference, so they find it here."""

    sessions: sessionmaker[Session]
    clock: Clock
    outbox_changed: Callable[[], None]


_runtime: _Runtime | None = None


def _current() -> _Runtime:
    if _runtime is None:
        raise RuntimeError("the scheduler runtime is not set up (Scheduling.start)")
    return _runtime


async def _in_transaction(work: Callable[[Session, datetime], int]) -> int:
    """Run a job's database work, retrying a few times: a job that fails is not run again."""
    runtime = _current()

    def attempt() -> int:
        with runtime.sessions.begin() as session:
            return work(session, runtime.clock())

    for delay in JOB_RETRY_DELAYS:
        try:
            return await asyncio.to_thread(attempt)
        except OperationalError:  # database restarting, locked, connection dropped
            log.warning("job database work failed; retrying in %.0f s", delay, exc_info=True)
            await asyncio.sleep(delay)
    return await asyncio.to_thread(attempt)


async def _enqueue(build: Callable[[Session, datetime], list[outbox.NewMessage]]) -> int:
    added = await _in_transaction(
        lambda session, now: outbox.enqueue(session, build(session, now), now=now)
    )
    _current().outbox_changed()
    return added


# --- job functions (module level: the job store keeps a reference to them, not the function) ---


async def send_meeting_reminder(meeting_id: int, kind: str) -> None:
    """Put one meeting's reminder (or the pendamping's roll-up) in the outbox."""
    reminder = ReminderKind(kind)

    def build(session: Session, now: datetime) -> list[outbox.NewMessage]:
        if reminder is ReminderKind.ROLLUP:
            return meetings.rollup_messages(session, meeting_id=meeting_id, now=now)
        return meetings.reminder_messages(session, meeting_id=meeting_id, kind=reminder, now=now)

    added = await _enqueue(build)
    log.info("meeting %s %s: %d messages queued", meeting_id, kind, added)


async def send_broadcast(broadcast_id: int) -> None:
    """Put a broadcast's messages in the outbox (nothing if it was cancelled)."""
    added = await _in_transaction(
        lambda session, now: broadcasts.queue_broadcast(session, broadcast_id=broadcast_id, now=now)
    )
    _current().outbox_changed()
    log.info("broadcast %s: %d messages queued", broadcast_id, added)


async def prune_old_rows() -> None:
    """Nightly: delete what is past its retention (programme.retention), a batch at a time."""
    total = 0
    while pruned := await _in_transaction(lambda s, now: retention.prune(s, now=now).total):
        total += pruned
    log.info("retention: %d old rows deleted", total)


RETENTION_JOB_ID = "retention:nightly"


async def roll_up_statistics() -> None:
    """Every few minutes: the dashboard statistics' hourly roll-ups catch up (programme.stats)."""
    hours = 0
    while rolled := await _in_transaction(lambda s, now: stats.roll_up(s, now=now)):
        hours += rolled
    if hours:
        log.info("statistics: %d hours rolled up", hours)


STATISTICS_JOB_ID = "statistics:roll-up"
STATISTICS_EVERY_MINUTES = 10


def meeting_job_id(meeting_id: int, kind: ReminderKind) -> str:
    return f"reminder:{meeting_id}:{kind.value}"


def broadcast_job_id(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


class Scheduling:
    """The scheduler of one worker: paused unless this worker leads."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        *,
        clock: Clock = utcnow,
        outbox_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._outbox_changed = outbox_changed
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_missed_or_failed, EVENT_JOB_MISSED | EVENT_JOB_ERROR)

    def set_outbox_changed(self, callback: Callable[[], None]) -> None:
        self._outbox_changed = callback
        if _runtime is not None:
            _runtime.outbox_changed = callback

    def start(self) -> None:
        """Open the job store; jobs can be added from now on, but none runs until `lead`."""
        global _runtime
        _runtime = _Runtime(self._sessions, self._clock, self._outbox_changed)
        self.scheduler.start(paused=True)
        # 19.00 UTC: 02.00 WIB, 03.00 WITA, 04.00 WIT, when hardly anyone writes.
        self.scheduler.add_job(
            prune_old_rows,
            trigger="cron",
            hour=19,
            id=RETENTION_JOB_ID,
            name="retention",
            replace_existing=True,
        )
        self.scheduler.add_job(
            roll_up_statistics,
            trigger="interval",
            minutes=STATISTICS_EVERY_MINUTES,
            id=STATISTICS_JOB_ID,
            name="statistics roll-up",
            replace_existing=True,
        )

    def lead(self) -> None:
        """This worker became the leader: run due jobs (missed ones too) from now on."""
        self.scheduler.resume()

    def follow(self) -> None:
        """This worker lost the lead: stop running jobs (they stay in the store)."""
        self.scheduler.pause()

    def wakeup(self) -> None:
        """Look at the store again: another worker may have added a job that is due sooner."""
        self.scheduler.wakeup()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # --- what the bot calls after saving a meeting or a broadcast ------------------------------

    async def meeting_saved(
        self, meeting_id: int, starts_at: datetime, time_zone: TimeZone
    ) -> list[datetime]:
        """(Re)schedule a meeting's reminders and roll-up; returns when they will go out."""
        plan = meetings.reminder_plan(starts_at, time_zone, now=self._clock())
        planned = {send.kind for send in plan}

        def apply() -> None:
            for send in plan:
                self.scheduler.add_job(
                    send_meeting_reminder,
                    trigger="date",
                    run_date=send.at,
                    args=(meeting_id, send.kind.value),
                    id=meeting_job_id(meeting_id, send.kind),
                    name=f"meeting {meeting_id} {send.kind.value}",
                    replace_existing=True,
                    # Late but before the meeting: still useful. After it started: skipped.
                    misfire_grace_time=max(1, int((starts_at - send.at).total_seconds())),
                )
            for kind in ReminderKind:
                if kind not in planned:
                    self._remove(meeting_job_id(meeting_id, kind))

        await asyncio.to_thread(apply)
        return [send.at for send in plan]

    async def meeting_cancelled(self, meeting_id: int) -> None:
        def apply() -> None:
            for kind in ReminderKind:
                self._remove(meeting_job_id(meeting_id, kind))

        await asyncio.to_thread(apply)
        self._outbox_changed()  # the cancellation notices

    async def broadcast_saved(self, broadcast_id: int, send_at: datetime) -> None:
        def apply() -> None:
            self.scheduler.add_job(
                send_broadcast,
                trigger="date",
                run_date=send_at,
                args=(broadcast_id,),
                id=broadcast_job_id(broadcast_id),
                name=f"broadcast {broadcast_id}",
                replace_existing=True,
                misfire_grace_time=None,  # however late: the pendamping can still cancel it
            )

        await asyncio.to_thread(apply)

    async def broadcast_cancelled(self, broadcast_id: int) -> None:
        await asyncio.to_thread(self._remove, broadcast_job_id(broadcast_id))

    def outbox_changed(self) -> None:
        """Tell the drain there is something new to send (it also looks every second)."""
        self._outbox_changed()

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)

    def _on_missed_or_failed(self, event: Any) -> None:
        """Record a skipped or failed job where admins look (the audit log)."""
        assert isinstance(event, JobExecutionEvent)
        missed = event.code == EVENT_JOB_MISSED
        if not missed:
            log.error("job %s failed", event.job_id, exc_info=event.exception)
        with self._sessions.begin() as session:
            session.add(
                AuditLog(
                    actor="system:scheduler",
                    action="scheduler.job_missed" if missed else "scheduler.job_failed",
                    target_type="job",
                    target_id=event.job_id[:50],
                    details={
                        "scheduled_run_time": event.scheduled_run_time.isoformat(),
                        "error": None if missed else repr(event.exception)[:300],
                    },
                )
            )
