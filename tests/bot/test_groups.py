"""A family's data stays in the family's private chat; buttons act only for whom they were shown.

Through the Bot API emulator as the demo families, on SQLite and PostgreSQL, with a stand-in NLU
server (these tests are about the bot's rules, not the model).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from bot.app import build_application, polling_in_this_loop
from devtools.emulator import BotApiEmulator
from programme import broadcasts
from programme.db import make_engine, make_session_factory
from programme.demo import demo_handles
from programme.models import AnswerRating, OutboxMessage, TelegramUser
from tests.bot.botkit import TOKEN, Chat, buttons_of, settings_for
from tests.bot.fake_nlu import FakeNlu
from tests.bot.waiting import eventually

YULIANA = demo_handles()["kpm-wita"]  # linked: Manggarai Barat, pendamping Maria Fatima Hamur
SITI = demo_handles()["kpm-wib"]
GROUP = -100_777_001
BOT = "pkh_assistant_bot"


@pytest.fixture(scope="module")
async def nlu() -> AsyncIterator[FakeNlu]:
    async with FakeNlu() as server:
        yield server


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, first_update_id=3_000_001, bot_username=BOT) as running:
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


def account(db: sessionmaker[Session], telegram_user_id: int) -> TelegramUser | None:
    with db() as session:
        return session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == telegram_user_id)
        ).one_or_none()


async def silence(emulator: BotApiEmulator, chat_id: int, seconds: float = 1.5) -> None:
    before = sum(1 for m in emulator.sent if m.chat_id == chat_id)
    await asyncio.sleep(seconds)
    assert sum(1 for m in emulator.sent if m.chat_id == chat_id) == before


async def test_a_kpm_writing_in_a_group_keeps_her_private_chat_and_her_broadcasts_go_there(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    group = Chat(emulator, YULIANA, chat_id=GROUP)
    await group.say(f"@{BOT} halo")
    mine = account(db, YULIANA)
    assert mine is not None and mine.chat_id == YULIANA and not mine.is_unreachable
    now = datetime.now(UTC)
    with db.begin() as session:
        user = session.get(TelegramUser, mine.id)
        assert user is not None and user.family is not None
        kelompok = user.family.kelompok
        sent = broadcasts.create_broadcast(
            session,
            pendamping_id=kelompok.pendamping_id,
            author_user_id=None,
            kelompok_ids=[kelompok.id],
            text="Besok pertemuan P2K2 jam 9.",
            send_at=now,
            urgent=True,
            now=now,
            actor="test",
        )
        broadcasts.queue_broadcast(session, broadcast_id=sent.id, now=now)
        queued = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.broadcast_id == sent.id, OutboxMessage.user_id == mine.id
            )
        ).one()
        assert queued.chat_id == YULIANA  # her private chat, not the group


async def test_a_personal_question_in_a_group_gets_a_private_link_and_none_of_her_data(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    group = Chat(emulator, YULIANA, chat_id=GROUP)
    for question, topic in (
        ("bantuan saya berapa", "ask_benefit_amount"),
        ("status bantuan saya", "ask_payment_status"),
        ("pertemuan p2k2 kelompok saya kapan", "ask_p2k2_schedule"),
        ("nomor pendamping saya", "ask_pendamping_contact"),
    ):
        reply = await group.say(f"@{BOT} {question}")
        text = reply.text or ""
        assert f"https://t.me/{BOT}?start={topic}" in text
        assert "Maria" not in text and "Manggarai" not in text and "Rp" not in text
        assert not buttons_of(reply)


async def test_a_general_question_in_a_group_gets_general_facts_without_personal_buttons(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    group = Chat(emulator, YULIANA, chat_id=GROUP)
    reply = await group.say(f"@{BOT} anak sd dapat berapa")
    assert "Rp225.000" in (reply.text or "") and "Maria" not in (reply.text or "")
    labels = [b["text"] for b in buttons_of(reply)]
    assert "Status bantuan saya" not in labels
    greeting = await group.say("/start")
    assert all("saya" not in b["text"].lower() for b in buttons_of(greeting))


async def test_the_private_link_answers_the_topic_in_the_private_chat(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    private = Chat(emulator, YULIANA)
    before = private.count()
    emulator.user_sends_command(YULIANA, "/start", "ask_pendamping_contact")
    (reply,) = await private.expect(before)
    assert "Maria Fatima Hamur" in (reply.text or "")  # her own pendamping, privately


async def test_commands_about_her_own_data_work_only_in_the_private_chat(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    group = Chat(emulator, YULIANA, chat_id=GROUP)
    for command in ("/dataku", "/hapus", "/berhenti", "/hubungkan", "/start DEMO-LINK-WITA"):
        reply = await group.say(command)
        assert f"https://t.me/{BOT}" in (reply.text or "")
        assert not buttons_of(reply) and "ID Telegram" not in (reply.text or "")


async def test_a_button_tapped_by_someone_it_was_not_shown_to_is_refused(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    group = Chat(emulator, SITI, chat_id=GROUP)
    answer = await group.say(f"@{BOT} anak smp dapat berapa")
    down = next(b for b in buttons_of(answer) if b["text"] == "👎")
    emulator.user_taps(YULIANA, answer, down["callback_data"])
    await eventually(lambda: any(c.user_id == YULIANA for c in emulator.answered_callbacks), 10)
    refusal = next(c for c in emulator.answered_callbacks if c.user_id == YULIANA)
    assert refusal.text == "Tombol ini bukan untuk Anda." and refusal.show_alert
    yuliana = account(db, YULIANA)
    assert yuliana is not None
    with db() as session:
        assert not session.scalars(
            select(AnswerRating).where(AnswerRating.user_id == yuliana.id)
        ).all()

    # Her "Ya, hapus" in someone else's hands (a forwarded message) deletes nothing.
    asker, other = 777_600_001, 777_600_002
    private = Chat(emulator, asker)
    confirm = await private.say("/hapus")
    yes = buttons_of(confirm)[0]["callback_data"]
    await Chat(emulator, other).say("halo")
    emulator.user_taps(other, confirm, yes)
    await eventually(lambda: any(c.user_id == other for c in emulator.answered_callbacks), 10)
    assert account(db, asker) is not None and account(db, other) is not None
    before = private.count()
    emulator.user_taps(asker, confirm, yes)  # her own tap still works
    assert "sudah dihapus" in ((await private.expect(before))[-1].text or "")


async def test_commands_for_another_bot_are_ignored(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    emulator.user_sends(SITI, "/start@other_bot")
    emulator.group_message(GROUP, SITI, "/start@other_bot")
    emulator.group_message(GROUP, SITI, "/kapan")  # a bare unknown command in a group: not for us
    await silence(emulator, SITI)
    await silence(emulator, GROUP, 0)
    reply = await Chat(emulator, SITI, chat_id=GROUP).say(f"/bantuan@{BOT}")
    assert reply.text


async def test_blocking_the_bot_marks_her_unreachable_at_once_and_unblocking_reachable_again(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    user = 777_600_010
    await Chat(emulator, user).say("halo")

    def unreachable() -> bool | None:
        found = account(db, user)
        return None if found is None else found.is_unreachable

    emulator.user_blocks_bot(user)
    await eventually(lambda: unreachable() is True, 10)
    emulator.user_unblocks_bot(user)
    await eventually(lambda: unreachable() is False, 10)
    assert "Halo" in ((await Chat(emulator, user).say("halo")).text or "")


async def test_a_photo_or_document_with_a_caption_is_read_as_its_caption(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    user = 777_600_020
    chat = Chat(emulator, user)
    for send in (emulator.user_sends_photo, emulator.user_sends_document):
        before = chat.count()
        send(user, caption="anak sd dapat berapa")
        assert "Rp225.000" in ((await chat.expect(before))[-1].text or "")
    before = chat.count()
    emulator.user_sends_photo(user)
    assert "pesan teks" in ((await chat.expect(before))[-1].text or "")
