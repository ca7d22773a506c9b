"""One bad update never silences the bot: what cannot be read is skipped, confirmed, logged once.

Through the Bot API emulator, with the real database (SQLite and PostgreSQL) and a stand-in NLU
server (these tests are about the bot, not the model). A control user asks a real question in
the same getUpdates batch as the bad updates, and must always be answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.ext import Application

from bot.app import build_application, polling_in_this_loop, webhook_in_this_loop
from devtools.emulator import BotApiEmulator
from nlu.server import free_port
from tests.bot.botkit import TOKEN, Chat, captured_logs, settings_for
from tests.bot.fake_nlu import FakeNlu

CONTROL = 777_500_001  # the user who must always be answered
SECRET = "RAHASIA"  # in every generated text: must never reach the log
STRANGER = 900_000_001

JSON = dict[str, Any]


@pytest.fixture(scope="module")
async def nlu() -> AsyncIterator[FakeNlu]:
    async with FakeNlu() as server:
        yield server


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, first_update_id=2_000_001) as running_emulator:
        yield running_emulator


@pytest.fixture(scope="module")
async def bot(
    emulator: BotApiEmulator, fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    settings_ = settings_for(emulator, fresh_seeded_database, nlu.url, secret_key)
    async with polling_in_this_loop(build_application(settings_)) as application:
        yield application


def person(user_id: int = STRANGER, **fields: Any) -> JSON:
    return {"id": user_id, "is_bot": False, "first_name": "Rina"} | fields


def private_message(user_id: int = STRANGER, **fields: Any) -> JSON:
    return {
        "message_id": 1,
        "date": 1_790_000_000,
        "chat": {"id": user_id, "type": "private"},
        "from": person(user_id),
        "text": f"{SECRET} kapan cair",
    } | fields


def without(data: JSON, key: str) -> JSON:
    return {k: v for k, v in data.items() if k != key}


BAD_UPDATES: dict[str, JSON] = {
    "a message without date": {"message": without(private_message(), "date")},
    "a message without message_id": {"message": without(private_message(), "message_id")},
    "a chat without type": {"message": private_message(chat={"id": STRANGER})},
    "a from without first_name": {
        "message": private_message(**{"from": {"id": STRANGER, "is_bot": False}})
    },
    "a poll without its id": {"poll": {"question": f"{SECRET}?", "options": []}},
    "a text that is a number": {"message": private_message(text=12345)},
    "a chat id that is text": {"message": private_message(chat={"id": "x", "type": "private"})},
}


async def test_an_unreadable_update_is_skipped_confirmed_and_logged_once_and_the_batch_answered(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    chat = Chat(emulator, CONTROL)
    before = chat.count()
    with captured_logs() as logs:
        bad = [emulator.inject_raw(update) for update in BAD_UPDATES.values()]
        emulator.user_sends(CONTROL, "kapan pkh tahap 4 cair")  # the same getUpdates batch
        await chat.expect(before)
        await asyncio.sleep(1.0)  # time enough to be fetched again, if it were not confirmed
    assert emulator.pending_update_count == 0
    for update in bad:
        kind = next(key for key in update if key != "update_id")
        skipped = [
            line for line in logs.lines() if f"skipped update {update['update_id']} " in line
        ]
        assert len(skipped) == 1 and f"({kind})" in skipped[0]
    assert not any(SECRET in line for line in logs.lines(logging.DEBUG))
    assert not logs.errors()


async def test_unknown_fields_and_update_kinds_of_a_newer_bot_api_are_ignored(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    chat = Chat(emulator, CONTROL)
    with captured_logs() as logs:
        emulator.inject_raw({"quantum_post": {"id": 1, "text": SECRET}})
        before = chat.count()
        emulator.inject_raw(
            {
                "message": private_message(
                    CONTROL,
                    text="halo",
                    future_field={"nested": [1, 2]},
                    chat={"id": CONTROL, "type": "private", "new_chat_flag": True},
                )
            }
        )
        (reply,) = await chat.expect(before)
    assert "Halo" in (reply.text or "")
    assert not [line for line in logs.lines(logging.WARNING) if "skipped" in line]
    assert not logs.errors()


async def test_channel_posts_anonymous_admins_and_inline_buttons_raise_nothing(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    channel = {"id": -1_009_999, "type": "channel", "title": "Info PKH"}
    group = {"id": -1_008_888, "type": "supergroup", "title": "Kelompok"}
    anonymous = {
        "id": 1_087_968_824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    chat = Chat(emulator, CONTROL)
    before = chat.count()
    with captured_logs() as logs:
        emulator.inject_raw(
            {"channel_post": {"message_id": 5, "date": 1, "chat": channel, "text": "kapan cair"}}
        )
        emulator.inject_raw(
            {
                "message": {
                    "message_id": 6,
                    "date": 1,
                    "chat": group,
                    "from": anonymous,
                    "sender_chat": group,
                    "text": "@pkh_assistant_bot kapan cair",
                }
            }
        )
        emulator.inject_raw(
            {
                "callback_query": {
                    "id": "inline-1",
                    "from": person(),
                    "chat_instance": "1",
                    "inline_message_id": "AAAA",
                    "data": "ask:ask_help:0:0:x",
                }
            }
        )
        emulator.user_sends(CONTROL, "kapan pkh cair")
        await chat.expect(before)
        await asyncio.sleep(0.5)
    assert not logs.errors()
    assert not [m for m in emulator.sent if m.chat_id in (channel["id"], group["id"])]


async def test_webhook_mode_acknowledges_a_post_it_cannot_read_and_answers_the_next(
    fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    async with BotApiEmulator(TOKEN, first_update_id=2_500_001) as emulator:
        application = build_application(
            settings_for(emulator, fresh_seeded_database, nlu.url, secret_key)
        )
        with captured_logs() as logs:
            async with webhook_in_this_loop(
                application, listen="127.0.0.1", port=port, url=url, secret_token="webhook-secret"
            ):
                headers = {"X-Telegram-Bot-Api-Secret-Token": "webhook-secret"}
                async with httpx.AsyncClient() as client:
                    bad = await client.post(
                        url, json={"update_id": 2_500_500, **BAD_UPDATES["a message without date"]},
                        headers=headers,
                    )  # fmt: skip
                    not_json = await client.post(url, content=b"{not json", headers=headers)
                    no_secret = await client.post(url, json={"update_id": 2_500_501})
                assert (bad.status_code, not_json.status_code) == (200, 200)
                assert no_secret.status_code == 403
                chat = Chat(emulator, CONTROL)
                assert "Halo" in ((await chat.say("halo")).text or "")  # pushed by the emulator
    skipped = [line for line in logs.lines() if "skipped" in line]
    assert len(skipped) == 2 and "2500500 (message)" in skipped[0]
    assert not any(SECRET in line for line in logs.lines(logging.DEBUG))


# --- the property: whatever arrives, the control user is answered ----------------------------

ids = st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=5), st.none(), st.booleans())
texts = st.one_of(
    st.builds(lambda t: f"{SECRET} {t}", st.text(max_size=50)),
    st.just(""),
    st.builds(lambda n: f"{SECRET} " + "a" * n, st.integers(4000, 5000)),  # huge
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.builds(lambda t: f"/start@other_bot {SECRET}{t}", st.text(max_size=5)),
    st.just(f"@pkh_assistant_bot {SECRET} bantuan saya berapa"),
)
strangers = st.integers(STRANGER, STRANGER + 50)
chat_kinds = st.sampled_from(["private", "group", "supergroup", "channel", "kelompok-baru", 7])


@st.composite
def users(draw: st.DrawFn) -> Any:
    user: JSON = {"id": draw(strangers), "is_bot": draw(st.booleans()), "first_name": "Rina"}
    for key in draw(st.sets(st.sampled_from(["id", "first_name", "is_bot"]), max_size=1)):
        user[key] = draw(st.one_of(st.none(), ids)) if draw(st.booleans()) else user.pop(key)
    if draw(st.booleans()):
        user["username"] = draw(st.one_of(st.text(max_size=8), st.integers()))
    return (
        draw(st.one_of(st.just(user), st.just("Rina"), st.none())) if draw(st.booleans()) else user
    )


@st.composite
def chats(draw: st.DrawFn, user_id: int) -> Any:
    kind = draw(chat_kinds)
    chat_id = user_id if kind == "private" else -draw(st.integers(1, 10**12))
    chat: JSON = {"id": chat_id, "type": kind, "title": "Kelompok"}
    if draw(st.integers(0, 4)) == 0:
        chat.pop(draw(st.sampled_from(["id", "type"])))
    if draw(st.integers(0, 6)) == 0:
        chat["id"] = draw(ids)
    return chat


@st.composite
def messages(draw: st.DrawFn, depth: int = 0) -> JSON:
    sender = draw(users())
    user_id = sender["id"] if isinstance(sender, dict) and isinstance(sender.get("id"), int) else 1
    message: JSON = {
        "message_id": draw(st.one_of(st.integers(1, 10**9), ids)),
        "date": draw(st.one_of(st.integers(0, 2**31), st.text(max_size=3), st.none())),
        "chat": draw(chats(user_id)),
        "from": sender,
    }
    field = draw(st.sampled_from(["text", "caption", "sticker", "photo", "poll", None]))
    if field in ("text", "caption"):
        message[field] = draw(texts)
        if draw(st.booleans()):
            offsets = st.one_of(st.integers(-5, 60), st.text(max_size=2))
            message[f"{'' if field == 'text' else 'caption_'}entities"] = [
                {"type": draw(st.sampled_from(["bot_command", "mention", "url", 3])),
                 "offset": draw(offsets), "length": draw(offsets)}
            ]  # fmt: skip
        if field == "caption":
            message["photo"] = [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
    elif field == "sticker":
        message["sticker"] = {"file_id": "s"}  # most of a sticker missing
    elif field == "photo":
        message["photo"] = draw(st.one_of(st.just([]), st.just("photo"), st.just([{}])))
    elif field == "poll":
        message["poll"] = {"question": f"{SECRET}?"}
    if draw(st.integers(0, 3)) == 0:
        message.pop(draw(st.sampled_from(sorted(message))))
    if draw(st.integers(0, 5)) == 0:
        message["sender_chat"] = draw(chats(-1))
    if depth == 0 and draw(st.integers(0, 5)) == 0:
        message["reply_to_message"] = draw(messages(depth=1))
    for key in draw(st.sets(st.from_regex(r"[a-z_]{3,12}", fullmatch=True), max_size=2)):
        message.setdefault(key, draw(st.one_of(st.integers(), st.text(max_size=5), st.none())))
    return message


@st.composite
def callback_queries(draw: st.DrawFn) -> JSON:
    query: JSON = {
        "id": draw(st.one_of(st.text(min_size=1, max_size=6), ids)),
        "from": draw(users()),
        "chat_instance": "1",
        "data": draw(st.one_of(st.text(max_size=64), st.integers(), st.just("ask:ask_help:0:0:x"))),
    }
    if draw(st.booleans()):
        query["inline_message_id"] = "AAAA"
    else:
        query["message"] = draw(messages(depth=1))
    return query


kind_names = st.from_regex(r"[a-z_]{3,20}", fullmatch=True)  # update kinds Telegram may add
unusual_updates = st.one_of(
    st.builds(lambda m: {"message": m}, messages()),
    st.builds(lambda m: {"edited_message": m}, messages()),
    st.builds(lambda m: {"channel_post": m}, messages()),
    st.builds(lambda m: {"edited_channel_post": m}, messages()),
    st.builds(lambda q: {"callback_query": q}, callback_queries()),
    st.builds(lambda q: {"inline_query": {"id": q, "from": person(), "query": SECRET}}, ids),
    st.just({"poll": {"question": f"{SECRET}?"}}),
    st.builds(lambda k: {k: {"id": 1, "text": SECRET}}, kind_names),
    st.builds(lambda v: {"message": v}, st.one_of(st.text(max_size=8), st.integers(), st.none())),
)  # fmt: skip


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(unusual_updates, min_size=1, max_size=6), control_at=st.integers(0, 6))
async def test_whatever_telegram_sends_the_control_user_is_answered_and_the_log_stays_small(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    batch: list[JSON],
    control_at: int,
) -> None:
    chat = Chat(emulator, CONTROL)
    before = chat.count()
    with captured_logs() as logs:
        for number, update in enumerate(batch):
            if number == min(control_at, len(batch) - 1):
                emulator.user_sends(CONTROL, "kapan pkh tahap 4 cair")
            emulator.inject_raw(update)
        await chat.expect(before, timeout=20)
        await asyncio.sleep(0.3)  # what came after the control question is handled too
    lines = logs.lines()
    assert not logs.errors(), [f"{r.name}: {r.getMessage()}" for r in logs.errors()]
    assert sum(len(line) for line in lines) <= 400 * len(batch), lines
    assert not any(SECRET in line for line in logs.lines(logging.DEBUG))
    skipped = [int(m[1]) for line in lines if (m := re.search(r"skipped update (\d+)", line))]
    assert len(skipped) == len(set(skipped))  # each at most once
    json.dumps(batch)  # a batch Telegram could have sent: plain JSON
