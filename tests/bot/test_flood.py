"""One noisy user does not delay everyone: a flooding chat holds a few workers, gets one notice.

Through the Bot API emulator, on SQLite and PostgreSQL, with a stand-in NLU server. The latency
bar itself (p99 ≤ 500 ms for other users while one chat floods at 40 msg/s) is measured by
`make bench-bot`, not here; this checks that the flood is contained.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from bot.app import build_application, polling_in_this_loop
from bot.lanes import PRIVATE_BACKLOG
from devtools.emulator import BotApiEmulator
from programme.db import make_engine, make_session_factory
from programme.models import AuditLog
from tests.bot.botkit import TOKEN, Chat, settings_for
from tests.bot.fake_nlu import FakeNlu
from tests.bot.waiting import eventually

FLOODER, OTHER = 777_700_001, 777_700_002


@pytest.fixture(scope="module")
async def nlu() -> AsyncIterator[FakeNlu]:
    async with FakeNlu() as server:
        yield server


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, first_update_id=4_000_001) as running:
        yield running


@pytest.fixture(scope="module")
async def bot(
    emulator: BotApiEmulator, fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    settings = settings_for(emulator, fresh_seeded_database, nlu.url, secret_key)
    async with polling_in_this_loop(build_application(settings)) as application:
        yield application


@pytest.fixture(scope="module")
def db(fresh_seeded_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_seeded_database)
    yield make_session_factory(engine)
    engine.dispose()


def to_flooder(emulator: BotApiEmulator, since: int) -> list[str]:
    return [m.text or "" for m in emulator.sent[since:] if m.chat_id == FLOODER]


def notices(emulator: BotApiEmulator, since: int) -> list[str]:
    return [text for text in to_flooder(emulator, since) if text.startswith("Pelan-pelan ya")]


async def test_a_flooding_chat_gets_one_notice_and_another_user_is_still_answered_at_once(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    await Chat(emulator, FLOODER).say("halo")  # both accounts exist before the flood
    await Chat(emulator, OTHER).say("halo")
    other, since = Chat(emulator, OTHER), len(emulator.sent)
    for number in range(120):  # 120 messages at once: faster than anyone can be answered
        emulator.user_sends(FLOODER, f"kapan cair {number}")
    started, before = time.monotonic(), other.count()
    emulator.user_sends(OTHER, "kapan pkh tahap 4 cair")
    await other.expect(before, timeout=5)
    assert time.monotonic() - started < 3  # not behind the flooder's 1 message per second

    await eventually(lambda: len(notices(emulator, since)) == 1, 15)
    await asyncio.sleep(8)  # the lane drains: the few kept questions answered, one a second
    assert len(notices(emulator, since)) == 1
    answered = len(to_flooder(emulator, since)) - 1
    assert 1 <= answered <= 1 + PRIVATE_BACKLOG  # the one running and the ones waiting

    def flood_rows() -> list[AuditLog]:
        with db() as session:
            return list(
                session.scalars(
                    select(AuditLog).where(
                        AuditLog.action == "flood_dropped", AuditLog.actor == f"telegram:{FLOODER}"
                    )
                )
            )

    await eventually(lambda: len(flood_rows()) == 1, 10)
    (row,) = flood_rows()
    assert row.actor == f"telegram:{FLOODER}" and row.details["chat"] == "private"
    assert row.details["dropped"] == 120 - answered
    assert "kapan" not in str(row.details)  # what they wrote is not kept
