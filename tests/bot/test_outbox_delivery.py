"""The leader's outbox drain against the emulator: sends once, 429, 5xx, 403, quiet hours."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from telegram.ext import Application

from bot.app import build_application, polling_in_this_loop
from bot.callbacks import CallbackSigner
from core.settings import Settings
from devtools.emulator import BotApiEmulator
from programme import outbox
from programme.db import make_engine, make_session_factory
from programme.models import OutboxKind, OutboxMessage, OutboxState, TelegramUser, TimeZone, utcnow
from programme.outbox import NewMessage
from tests.bot.waiting import eventually

TOKEN = "123456:OUTBOX-TEST"
FIRST_CHAT = 610_000_001


@pytest.fixture(scope="module")
def database(fresh_seeded_database: str) -> str:
    return fresh_seeded_database


@pytest.fixture(scope="module")
def engine(database: str) -> Engine:  # type: ignore[misc]
    engine = make_engine(database)
    yield engine  # type: ignore[misc]
    engine.dispose()


def settings_for(emulator: BotApiEmulator, database: str, key: str, **extra: str) -> Settings:
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "DATABASE_URL": database,
        "NLU_URL": "http://127.0.0.1:9",  # not asked: these tests send no questions
        "PKH_SECRET_KEY": key,
        "QUIET_HOURS": "off",
        **extra,
    }
    return Settings.model_validate(values)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, enforce_limits=True) as running:
        yield running


def enqueue(engine: Engine, messages: list[NewMessage]) -> None:
    with make_session_factory(engine).begin() as session:
        outbox.enqueue(session, messages, now=utcnow())


def broadcast_rows(prefix: str, chats: range, **changes: object) -> list[NewMessage]:
    values: dict[str, object] = {
        "kind": OutboxKind.BROADCAST,
        "user_id": None,
        "time_zone": TimeZone.WIB,
        "not_before": utcnow(),
    }
    values.update(changes)
    return [
        NewMessage(  # type: ignore[arg-type]
            dedupe_key=f"{prefix}:{chat}", chat_id=chat, text=f"{prefix} untuk {chat}", **values
        )
        for chat in chats
    ]


def states(engine: Engine, prefix: str) -> Counter[OutboxState]:
    with make_session_factory(engine)() as session:
        rows = session.scalars(
            select(OutboxMessage.state).where(OutboxMessage.dedupe_key.like(f"{prefix}:%"))
        ).all()
    return Counter(rows)


def running(settings: Settings, clock: Callable[[], datetime] = utcnow) -> object:
    return polling_in_this_loop(build_application(settings, clock=clock))


async def test_every_queued_message_is_sent_once_with_signed_buttons(
    emulator: BotApiEmulator, database: str, engine: Engine, secret_key: str
) -> None:
    chats = range(FIRST_CHAT, FIRST_CHAT + 40)
    buttons = [[{"text": "Hadir", "kind": "rsvp", "value": "1.hadir"}]]
    enqueue(engine, broadcast_rows("once", chats, buttons=buttons))
    async with running(settings_for(emulator, database, secret_key)):  # type: ignore[attr-defined]
        await eventually(lambda: states(engine, "once")[OutboxState.SENT] == 40)
        await asyncio.sleep(1.5)  # time for anything to be sent twice
    per_chat = Counter(m.chat_id for m in emulator.sent if m.chat_id in chats)
    assert per_chat == Counter({chat: 1 for chat in chats})
    assert sum(emulator.over_limit.values()) == 0
    markup = next(m.reply_markup for m in emulator.sent if m.chat_id == FIRST_CHAT)
    assert markup is not None
    data = markup["inline_keyboard"][0][0]["callback_data"]
    verified = CallbackSigner(secret_key).verify(data)
    assert verified is not None and (verified.kind, verified.value) == ("rsvp", "1.hadir")


async def test_flood_control_and_server_errors_delay_but_lose_nothing(
    emulator: BotApiEmulator, database: str, engine: Engine, secret_key: str
) -> None:
    chats = range(FIRST_CHAT + 100, FIRST_CHAT + 130)
    emulator.fail_next("sendMessage", status=429, retry_after=1, times=2)
    # Five 502s in a row outlast the sender's own retries: the drain queues it again for later.
    emulator.fail_next("sendMessage", status=502, times=5)
    enqueue(engine, broadcast_rows("flaky", chats))
    async with running(settings_for(emulator, database, secret_key)):  # type: ignore[attr-defined]
        await eventually(lambda: states(engine, "flaky")[OutboxState.SENT] == 30, within=40)
        await asyncio.sleep(1.5)
    per_chat = Counter(m.chat_id for m in emulator.sent if m.chat_id in chats)
    assert per_chat == Counter({chat: 1 for chat in chats})
    assert emulator.status_counts[429] >= 2 and emulator.status_counts[502] == 5
    assert sum(emulator.over_limit.values()) == 0


async def test_a_chat_that_blocked_the_bot_is_marked_blocked_and_unreachable(
    emulator: BotApiEmulator, database: str, engine: Engine, secret_key: str
) -> None:
    blocked = FIRST_CHAT + 200
    with make_session_factory(engine).begin() as session:
        session.add(TelegramUser(telegram_user_id=blocked, chat_id=blocked, first_name="Ani"))
    emulator.block_chat(blocked)
    enqueue(engine, broadcast_rows("block", range(blocked, blocked + 3)))
    async with running(settings_for(emulator, database, secret_key)):  # type: ignore[attr-defined]
        await eventually(
            lambda: (
                sum(states(engine, "block").values()) == 3
                and not (
                    states(engine, "block")[OutboxState.QUEUED]
                    + states(engine, "block")[OutboxState.SENDING]
                )
            )
        )
    assert states(engine, "block") == Counter({OutboxState.SENT: 2, OutboxState.BLOCKED: 1})
    with make_session_factory(engine)() as session:
        user = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == blocked)
        ).one()
        assert user.is_unreachable


async def test_quiet_hours_hold_routine_messages_but_not_urgent_ones(
    emulator: BotApiEmulator, database: str, engine: Engine, secret_key: str
) -> None:
    def late_evening() -> datetime:
        return datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 22.30 WIB

    quiet = settings_for(emulator, database, secret_key, QUIET_HOURS="21-6")
    routine = FIRST_CHAT + 300
    urgent = FIRST_CHAT + 301
    now = late_evening()
    enqueue(engine, broadcast_rows("quiet", range(routine, routine + 1), not_before=now))
    enqueue(
        engine, broadcast_rows("urgent", range(urgent, urgent + 1), not_before=now, urgent=True)
    )
    async with running(quiet, clock=late_evening):  # type: ignore[attr-defined]
        await eventually(lambda: states(engine, "urgent")[OutboxState.SENT] == 1)
        await asyncio.sleep(2)
    assert states(engine, "quiet") == Counter({OutboxState.QUEUED: 1})
    assert not any(m.chat_id == routine for m in emulator.sent)


async def test_a_restarted_drain_sends_what_a_crash_left_in_flight(
    emulator: BotApiEmulator, database: str, engine: Engine, secret_key: str
) -> None:
    chat = FIRST_CHAT + 400
    enqueue(engine, broadcast_rows("crash", range(chat, chat + 1)))
    with make_session_factory(engine).begin() as session:  # claimed, then the process died
        claimed = outbox.claim_next(session, now=utcnow(), quiet=None)
        assert claimed is not None
        session.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.id == claimed.id)
            .values(updated_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    async with running(settings_for(emulator, database, secret_key)):  # type: ignore[attr-defined]
        await eventually(lambda: states(engine, "crash")[OutboxState.SENT] == 1)
    assert sum(1 for m in emulator.sent if m.chat_id == chat) == 1


async def test_the_reply_to_a_question_is_not_stuck_behind_a_broadcast(
    emulator: BotApiEmulator, database: str, engine: Engine, secret_key: str
) -> None:
    application: Application  # type: ignore[type-arg]
    chats = range(FIRST_CHAT + 500, FIRST_CHAT + 620)
    enqueue(engine, broadcast_rows("backlog", chats))
    async with running(settings_for(emulator, database, secret_key)) as application:  # type: ignore[attr-defined]
        await eventually(lambda: states(engine, "backlog")[OutboxState.SENT] >= 20)
        started = asyncio.get_running_loop().time()
        await application.bot.send_message(FIRST_CHAT + 999, "balasan")
        took = asyncio.get_running_loop().time() - started
        assert states(engine, "backlog")[OutboxState.QUEUED] > 0  # the backlog is still there
    assert took < 1.0
