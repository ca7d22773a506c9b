"""Reminders survive a crash: scheduled, bot killed with SIGKILL, restarted — sent once, on time.

The bot is a real `pkh bot run` process against the Bot API emulator; the meetings and their
jobs are made the way the /jadwal conversation makes them (the domain functions and a paused
scheduler writing to the job store), so the bot finds them only in the database.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.delivery.scheduling import Scheduling, meeting_job_id, send_meeting_reminder
from devtools.bench_broadcast import BotProcess, bot_environment
from devtools.emulator import BotApiEmulator
from programme import meetings
from programme.db import make_engine, make_session_factory
from programme.meetings import ReminderKind
from programme.models import (
    AuditLog,
    Family,
    Kelompok,
    Pendamping,
    TelegramUser,
    UserRole,
    utcnow,
)
from programme.recipients import IN_PROGRAMME
from tests.bot.waiting import eventually

TOKEN = "123456:RESTART-TEST"
FIRST_CHAT = 630_000_001


@pytest.fixture(scope="module")
def engine(fresh_seeded_database: str) -> Iterator[Engine]:
    engine = make_engine(fresh_seeded_database)
    yield engine
    engine.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, enforce_limits=True) as running:
        yield running


def link_members(engine: Engine, kelompok_id: int, first_chat: int) -> list[int]:
    """Every family of the kelompok still in the programme gets a linked Telegram account."""
    with make_session_factory(engine).begin() as session:
        families = session.scalars(
            select(Family)
            .where(Family.kelompok_id == kelompok_id, Family.status.in_(IN_PROGRAMME))
            .where(
                ~Family.id.in_(
                    select(TelegramUser.family_id).where(TelegramUser.family_id.is_not(None))
                )
            )
        ).all()
        chats = []
        for offset, family in enumerate(families):
            chat = first_chat + offset
            session.add(
                TelegramUser(
                    telegram_user_id=chat,
                    chat_id=chat,
                    first_name="Ibu",
                    role=UserRole.KPM,
                    family_id=family.id,
                    linked_at=utcnow(),
                )
            )
            chats.append(chat)
    return chats


def maria_kelompok(engine: Engine) -> list[int]:
    with make_session_factory(engine)() as session:
        return list(
            session.scalars(
                select(Kelompok.id)
                .join(Pendamping)
                .where(Pendamping.code == "DEMO-PDP-5315-1")
                .order_by(Kelompok.id)
            ).all()
        )


async def schedule(engine: Engine, kelompok_id: int, starts_at: datetime) -> int:
    """Save a meeting and its jobs as /jadwal does, from outside the bot process."""
    sessions = make_session_factory(engine)
    pendamping_id = _pendamping_of(engine, kelompok_id)
    with sessions.begin() as session:
        meeting = meetings.create_meeting(
            session,
            pendamping_id=pendamping_id,
            kelompok_id=kelompok_id,
            session_id=None,
            starts_at=starts_at,
            place="Balai Desa",
            now=utcnow(),
            actor="test",
        )
        meeting_id, time_zone = meeting.id, meeting.kelompok.desa.time_zone
    scheduling = Scheduling(engine, sessions)
    scheduling.start()
    try:
        await scheduling.meeting_saved(meeting_id, starts_at, time_zone)
    finally:
        scheduling.shutdown()
    return meeting_id


def _pendamping_of(engine: Engine, kelompok_id: int) -> int:
    with make_session_factory(engine)() as session:
        kelompok = session.get(Kelompok, kelompok_id)
        assert kelompok is not None
        return kelompok.pendamping_id


def reminders_to(emulator: BotApiEmulator, chats: list[int]) -> list[float]:
    return [
        m.received_at for m in emulator.sent if m.chat_id in chats and m.method == "sendMessage"
    ]


def bot_process(emulator: BotApiEmulator, database: str, key: str, log: Path) -> BotProcess:
    # The NLU is not asked: these bots get no questions.
    environment = bot_environment(emulator, database, "http://127.0.0.1:9")
    return BotProcess({**environment, "PKH_SECRET_KEY": key}, log)


async def test_reminders_scheduled_before_a_kill_9_are_sent_once_after_the_restart(
    emulator: BotApiEmulator,
    fresh_seeded_database: str,
    engine: Engine,
    secret_key: str,
    tmp_path: Path,
) -> None:
    first_kelompok, second_kelompok, third_kelompok = maria_kelompok(engine)[:3]
    on_time_chats = link_members(engine, first_kelompok, FIRST_CHAT)
    missed_chats = link_members(engine, second_kelompok, FIRST_CHAT + 100)
    passed_chats = link_members(engine, third_kelompok, FIRST_CHAT + 200)
    assert on_time_chats and missed_chats and passed_chats

    bot = bot_process(emulator, fresh_seeded_database, secret_key, tmp_path / "bot.log")
    bot.start()
    try:
        await eventually(lambda: any(name == "setMyCommands" for name, _ in emulator.calls))
        now = utcnow()
        # Due while the bot is down: sent late, right after the restart (the meeting is ahead).
        missed = await schedule(engine, second_kelompok, now + timedelta(hours=2, seconds=8))
        # Due after the restart: sent on time.
        on_time_due = now + timedelta(seconds=30)
        await schedule(engine, first_kelompok, on_time_due + timedelta(hours=2))
        # A reminder whose meeting starts while the bot is down: skipped, and recorded.
        passed = await _schedule_with_meeting_passing(engine, third_kelompok, now)
        await asyncio.sleep(2)
        bot.kill()
        await asyncio.sleep(18)  # down past the missed reminder and the passed meeting
        restarted = time.monotonic()
        bot.start()
        await eventually(lambda: len(reminders_to(emulator, missed_chats)) == len(missed_chats))
        late_by = max(reminders_to(emulator, missed_chats)) - restarted
        await eventually(lambda: len(reminders_to(emulator, on_time_chats)) == len(on_time_chats))
        on_time_at = time.monotonic()
        seconds_off = abs((utcnow() - on_time_due).total_seconds())
        await asyncio.sleep(3)  # anything sent twice shows up now
    finally:
        bot.stop()

    assert late_by < 60, "a missed reminder must go out within 60 s of the restart"
    assert seconds_off < 5, f"the on-time reminder was {seconds_off:.1f} s off"
    assert on_time_at > restarted
    per_chat = Counter(
        m.chat_id for m in emulator.sent if m.chat_id in on_time_chats + missed_chats
    )
    assert set(per_chat.values()) == {1}, "every member gets each reminder exactly once"
    assert not reminders_to(emulator, passed_chats)
    with make_session_factory(engine)() as session:
        recorded = session.scalars(
            select(AuditLog.target_id).where(AuditLog.action == "scheduler.job_missed")
        ).all()
    assert meeting_job_id(passed, ReminderKind.HOURS_BEFORE) in recorded
    assert missed != passed


async def _schedule_with_meeting_passing(engine: Engine, kelompok_id: int, now: datetime) -> int:
    """A meeting starting in 12 s with its reminder job due in 5 s (the bot will be down)."""
    meeting_id = await schedule(engine, kelompok_id, now + timedelta(hours=3))
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        meeting = session.get(meetings.P2K2Meeting, meeting_id)
        assert meeting is not None
        meeting.starts_at = now + timedelta(seconds=12)
    scheduling = Scheduling(engine, sessions)
    scheduling.start()
    try:
        for kind in ReminderKind:
            scheduling._remove(meeting_job_id(meeting_id, kind))
        scheduling.scheduler.add_job(
            send_meeting_reminder,
            trigger="date",
            run_date=now + timedelta(seconds=5),
            args=(meeting_id, ReminderKind.HOURS_BEFORE.value),
            id=meeting_job_id(meeting_id, ReminderKind.HOURS_BEFORE),
            replace_existing=True,
            misfire_grace_time=7,  # until the meeting starts, as meeting_saved computes it
        )
    finally:
        scheduling.shutdown()
    return meeting_id
