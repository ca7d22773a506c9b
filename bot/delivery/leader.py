"""One leader among the bot workers: it alone runs the scheduler and drains the outbox.

On PostgreSQL the lead is a session-level advisory lock held on a connection of its own:
PostgreSQL frees it the moment that connection ends, so when the leader dies (even `kill -9`) a
follower takes over within one check interval. On SQLite (one machine, development) an exclusive
`flock` on a file next to the database plays the same part; the kernel frees it when the process
dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bot.delivery.drain import OutboxDrain
from bot.delivery.scheduling import Scheduling
from programme import outbox

log = logging.getLogger(__name__)

# One key for "the scheduler and outbox leader" (the bytes of "PKH-LEAD" as a bigint).
ADVISORY_LOCK_KEY = int.from_bytes(b"PKH-LEAD", "big") & 0x7FFF_FFFF_FFFF_FFFF
LEADER_APPLICATION_NAME = "pkh-leader"


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated connection (not from the pool, never recycled)."""

    def __init__(self, url: str) -> None:
        # keepalives: a leader cut off from the database notices and steps down. The
        # application_name says which process leads (pg_stat_activity, for operators and tests).
        self._engine = create_engine(
            make_url(url),
            poolclass=NullPool,
            connect_args={
                "connect_timeout": 5,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "application_name": f"{LEADER_APPLICATION_NAME}-{os.getpid()}",
            },
        )
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        connection = self._engine.connect()
        try:
            acquired = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                ).scalar()
            )
            connection.commit()  # the lock belongs to the session, not to this transaction
        except Exception:
            connection.close()
            raise
        if acquired:
            self._connection = connection
        else:
            connection.close()
        return acquired

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            log.warning("lost the leader lock's database connection", exc_info=True)
            self._close()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                self._connection.commit()
        self._close()
        self._engine.dispose()

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class FileLock:
    """An exclusive flock on `<database>.leader`; for SQLite, whose workers share one machine."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class AlwaysLeader:
    """An in-memory SQLite database is private to one process: that process leads."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def leader_lock_for(database_url: str) -> LeaderLock:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(database_url)
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        return FileLock(Path(f"{url.database}.leader"))
    return AlwaysLeader()


class Leadership:
    """Tries for the lead every `interval`; while leading, runs the scheduler and the drain."""

    def __init__(
        self,
        lock: LeaderLock,
        scheduling: Scheduling,
        drain: OutboxDrain,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], datetime],
        interval: float = 1.0,
        takeover_grace: timedelta = timedelta(seconds=5),
    ) -> None:
        self._lock = lock
        self._scheduling = scheduling
        self._drain = drain
        self._sessions = sessions
        self._clock = clock
        self._interval = interval
        self._grace = takeover_grace
        self.leading = False
        self.became_leader = asyncio.Event()

    async def run(self) -> None:
        """Until cancelled: take the lead when it is free, keep it, give it up if it is lost."""
        try:
            while True:
                try:
                    await self._tick()
                except Exception:
                    # Never hold the lock without leading: give it up and try again next tick.
                    log.exception("leadership check failed; stepping down to try again")
                    await self._step_down()
                    await asyncio.to_thread(self._lock.release)
                await asyncio.sleep(self._interval)
        finally:
            await self._step_down()
            await asyncio.to_thread(self._lock.release)

    async def _tick(self) -> None:
        if not self.leading:
            try:
                acquired = await asyncio.to_thread(self._lock.try_acquire)
            except Exception:
                log.warning("could not reach the database to try for the lead", exc_info=True)
                return
            if acquired:
                await self._lead()
            return
        if not await asyncio.to_thread(self._lock.still_held):
            await self._step_down()
            return
        self._scheduling.wakeup()  # jobs another worker added since the last look
        try:
            await asyncio.to_thread(self._housekeeping)
        except Exception:
            log.warning("outbox housekeeping failed; retrying next tick", exc_info=True)

    async def _lead(self) -> None:
        log.info("this worker now leads: running the scheduler and the outbox")
        self.leading = True
        await asyncio.to_thread(self._housekeeping)
        self._scheduling.lead()
        self._drain.start()
        self.became_leader.set()

    async def _step_down(self) -> None:
        if not self.leading:
            return
        log.warning("this worker no longer leads: scheduler paused, outbox left to the leader")
        self.leading = False
        self.became_leader.clear()
        await self._drain.stop()
        self._scheduling.follow()

    def _housekeeping(self) -> None:
        """Queue again what a dead leader left in flight; drop reminders whose time has passed."""
        now = self._clock()
        with self._sessions.begin() as session:
            recovered = outbox.recover_interrupted(
                session, now=now, stale_before=now - self._grace, keep=set(self._drain.in_flight)
            )
            expired = outbox.expire_overdue(session, now=now)
        if recovered or expired:
            log.info("outbox: %d interrupted sends queued again, %d expired", recovered, expired)
        if recovered:
            self._drain.poke()
