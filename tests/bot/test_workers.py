"""Several bot workers on one PostgreSQL: one leader drains the outbox; kill -9 it, another leads.

The workers are real `pkh bot run` processes against the Bot API emulator, which enforces
Telegram's limits; the leader is found through the advisory lock's connection in pg_stat_activity.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from bot.delivery.drain import OutboxDrain
from bot.delivery.leader import LEADER_APPLICATION_NAME, AdvisoryLock
from devtools.bench_broadcast import BotProcess, bot_environment
from devtools.emulator import BotApiEmulator
from programme import migrate, outbox
from programme.db import make_engine, make_session_factory
from programme.models import OutboxKind, OutboxMessage, OutboxState, TimeZone, utcnow
from programme.outbox import NewMessage
from tests.bot.waiting import eventually
from tests.conftest import DatabaseFactory

TOKEN = "123456:WORKERS-TEST"
FIRST_CHAT = 620_000_001


@pytest.fixture(scope="module")
def postgres_database(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    factory = DatabaseFactory("postgresql", tmp_path_factory.mktemp("workers"), postgres_url)
    url = factory.create()
    migrate.upgrade(url)
    yield url
    factory.drop_all()


@pytest.fixture(scope="module")
def engine(postgres_database: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database)
    yield engine
    engine.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, enforce_limits=True) as running:
        yield running


def enqueue(engine: Engine, prefix: str, chats: range) -> None:
    now = utcnow()
    rows = [
        NewMessage(
            dedupe_key=f"{prefix}:{chat}",
            kind=OutboxKind.BROADCAST,
            chat_id=chat,
            user_id=None,
            text=f"{prefix} {chat}",
            time_zone=TimeZone.WIT,
            not_before=now,
        )
        for chat in chats
    ]
    with make_session_factory(engine).begin() as session:
        outbox.enqueue(session, rows, now=now)


def sent_per_chat(emulator: BotApiEmulator, chats: range) -> Counter[int]:
    return Counter(m.chat_id for m in emulator.sent if m.chat_id in chats)


def leader_pid(engine: Engine) -> int | None:
    """The OS pid of the worker holding the advisory lock (followers only try it, briefly)."""
    with engine.connect() as connection:
        names = connection.execute(
            text(
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()"
            )
        ).scalars()
        pids = [int(m.group(1)) for name in names if (m := re.search(r"-(\d+)$", name or ""))]
    return pids[0] if len(pids) == 1 else None


def worker(emulator: BotApiEmulator, database: str, secret_key: str, log: Path) -> BotProcess:
    # The NLU is not asked: these bots get no questions.
    environment = bot_environment(emulator, database, "http://127.0.0.1:9")
    return BotProcess({**environment, "PKH_SECRET_KEY": secret_key}, log)


async def test_of_two_workers_one_leads_and_a_kill_9_hands_over_without_loss(
    emulator: BotApiEmulator,
    postgres_database: str,
    engine: Engine,
    secret_key: str,
    tmp_path: Path,
) -> None:
    chats = range(FIRST_CHAT, FIRST_CHAT + 400)
    first = worker(emulator, postgres_database, secret_key, tmp_path / "first.log")
    second = worker(emulator, postgres_database, secret_key, tmp_path / "second.log")
    first.start()
    second.start()
    try:
        await eventually(lambda: leader_pid(engine) is not None)
        enqueue(engine, "failover", chats)
        await eventually(lambda: sum(sent_per_chat(emulator, chats).values()) >= 150)
        killed = leader_pid(engine)
        assert killed in (first.pid, second.pid)
        survivor = second if killed == first.pid else first
        (first if killed == first.pid else second).kill()
        await eventually(lambda: leader_pid(engine) == survivor.pid, within=30)
        await eventually(lambda: len(sent_per_chat(emulator, chats)) == len(chats))
        await asyncio.sleep(2)  # anything sent twice shows up now
    finally:
        first.stop()
        second.stop()
    per_chat = sent_per_chat(emulator, chats)
    assert set(per_chat) == set(chats), "lost messages"
    with make_session_factory(engine)() as session:
        # A row claimed more than once was sent again: after the crash, or after a 429/5xx.
        resent = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("failover:%"), OutboxMessage.attempts > 1)
        )
        states = Counter(
            session.scalars(
                select(OutboxMessage.state).where(OutboxMessage.dedupe_key.like("failover:%"))
            ).all()
        )
    # Only a message whose send was in flight at the kill may arrive twice (documented window).
    duplicates = sum(count - 1 for count in per_chat.values())
    assert duplicates <= (resent or 0)
    assert states == Counter({OutboxState.SENT: len(chats)})
    assert sum(emulator.over_limit.values()) == 0


async def test_two_workers_running_together_send_nothing_twice(
    emulator: BotApiEmulator,
    postgres_database: str,
    engine: Engine,
    secret_key: str,
    tmp_path: Path,
) -> None:
    chats = range(FIRST_CHAT + 1000, FIRST_CHAT + 1200)
    first = worker(emulator, postgres_database, secret_key, tmp_path / "first.log")
    second = worker(emulator, postgres_database, secret_key, tmp_path / "second.log")
    first.start()
    second.start()
    try:
        await eventually(lambda: leader_pid(engine) is not None)
        enqueue(engine, "together", chats)
        await eventually(lambda: len(sent_per_chat(emulator, chats)) == len(chats))
        await asyncio.sleep(2)
    finally:
        first.stop()
        second.stop()
    assert sent_per_chat(emulator, chats) == Counter({chat: 1 for chat in chats})
    assert sum(emulator.over_limit.values()) == 0


async def test_even_two_drains_at_once_never_take_the_same_message(
    emulator: BotApiEmulator, engine: Engine, secret_key: str
) -> None:
    """Defence in depth: if two leaders ever overlapped, the atomic claim still sends once."""
    from telegram.ext import ApplicationBuilder

    from bot.callbacks import CallbackSigner
    from bot.delivery.sender import TelegramSender

    chats = range(FIRST_CHAT + 2000, FIRST_CHAT + 2150)
    enqueue(engine, "overlap", chats)
    sessions = make_session_factory(engine)
    applications = [
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emulator.base_url)
        .rate_limiter(TelegramSender())
        .build()
        for _ in range(2)
    ]
    drains = []
    for application in applications:
        await application.initialize()
        drain = OutboxDrain(
            application.bot, sessions, CallbackSigner(secret_key), clock=utcnow, quiet=None
        )
        drain.start()
        drains.append(drain)
    try:
        await eventually(lambda: len(sent_per_chat(emulator, chats)) == len(chats))
        await asyncio.sleep(1)
    finally:
        for drain, application in zip(drains, applications, strict=True):
            await drain.stop()
            await application.shutdown()
    assert sent_per_chat(emulator, chats) == Counter({chat: 1 for chat in chats})


def test_only_one_advisory_lock_holder_at_a_time(postgres_database: str) -> None:
    first, second = AdvisoryLock(postgres_database), AdvisoryLock(postgres_database)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.still_held()
        # The leader's connection dies (as with kill -9): PostgreSQL frees the lock at once.
        url = make_url(postgres_database).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE %s",
                (f"{LEADER_APPLICATION_NAME}-%",),
            )
        assert not first.still_held()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()
