"""The Bot API emulator, driven over real HTTP by python-telegram-bot and by plain aiohttp."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from devtools.emulator import BotApiEmulator

TOKEN = "123456:TEST-TOKEN"
SITI = 5001
BUDI = 5002
GROUP = -4001
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Ya", callback_data="ya"),
            InlineKeyboardButton("Tidak", callback_data="tidak"),
        ]
    ]
)

# The emulator's server and the test must share one event loop, whatever the project's defaults.
pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB 23's RetryAfter.retry_after type, which PTB 22 warns about otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emulator.base_url) as bot:
        yield bot


async def raw_call(emulator: BotApiEmulator, method: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.base_url}{emulator.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


async def test_get_me_describes_the_bot_and_base_url_is_local(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "pkh_assistant_bot"
    assert emulator.base_url == f"http://127.0.0.1:{emulator.port}/bot"


async def test_wrong_token_is_unauthorized(emulator: BotApiEmulator) -> None:
    with pytest.raises(InvalidToken, match="rejected"):
        async with Bot("999:WRONG", base_url=emulator.base_url) as wrong:
            await wrong.get_me()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.base_url}999:WRONG/getMe") as response,
    ):
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_sent_message_arrives_with_its_keyboard_parsed(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    message = await bot.send_message(SITI, "Apakah Ibu sudah menerima?", reply_markup=KEYBOARD)

    assert message.text == "Apakah Ibu sudah menerima?"
    assert message.from_user is not None and message.from_user.id == 123456
    assert message.chat.id == SITI
    assert message.reply_markup == KEYBOARD
    [sent] = emulator.sent
    assert sent.method == "sendMessage"
    assert sent.chat_id == SITI
    assert sent.message_id == message.message_id
    assert sent.reply_markup == KEYBOARD.to_dict()
    assert emulator.calls[-1][0] == "sendMessage"


async def test_get_updates_returns_every_kind_of_injected_update(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    first = emulator.user_sends(SITI, "kapan cair?")
    emulator.user_sends_sticker(SITI)
    emulator.user_sends_photo(SITI, caption="kartu saya")
    emulator.user_sends_voice(SITI)
    emulator.user_sends_location(SITI, -6.2, 106.8)
    emulator.user_sends_document(SITI)
    emulator.user_sends_command(SITI, "/start", "ABC123")
    emulator.user_edits(SITI, first["message"]["message_id"], "kapan cair tahap 3?")
    emulator.group_message(GROUP, BUDI, "tolong jelaskan", mention_bot=True)
    sent = await bot.send_message(SITI, "Pilih:", reply_markup=KEYBOARD)
    emulator.user_taps(SITI, emulator.sent[-1], "ya")

    updates = await bot.get_updates()

    assert all(isinstance(update, Update) for update in updates)
    ids = [update.update_id for update in updates]
    assert ids == sorted(ids) and len(set(ids)) == 10
    text, sticker, photo, voice, location, document, command, edited, group, tap = updates
    assert text.message is not None and text.message.text == "kapan cair?"
    assert text.message.chat.type == "private" and text.message.chat.id == SITI
    assert sticker.message is not None and sticker.message.sticker is not None
    assert photo.message is not None and photo.message.photo and photo.message.caption
    assert voice.message is not None and voice.message.voice is not None
    assert location.message is not None and location.message.location is not None
    assert location.message.location.latitude == pytest.approx(-6.2)
    assert document.message is not None and document.message.document is not None
    assert command.message is not None and command.message.text == "/start ABC123"
    assert command.message.parse_entities([MessageEntity.BOT_COMMAND]) == {
        command.message.entities[0]: "/start"
    }
    assert edited.edited_message is not None
    assert edited.edited_message.text == "kapan cair tahap 3?"
    assert edited.edited_message.message_id == first["message"]["message_id"]
    assert group.message is not None and group.message.chat.type == "group"
    assert group.message.chat.id == GROUP and group.message.from_user is not None
    assert group.message.parse_entities([MessageEntity.MENTION]).popitem()[1] == (
        "@pkh_assistant_bot"
    )
    assert tap.callback_query is not None and tap.callback_query.data == "ya"
    assert tap.callback_query.message is not None
    assert tap.callback_query.message.message_id == sent.message_id


async def test_offset_confirms_and_drops_earlier_updates(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    for text in ("satu", "dua", "tiga"):
        emulator.user_sends(SITI, text)

    first = await bot.get_updates(limit=2)
    again = await bot.get_updates(limit=2)
    rest = await bot.get_updates(offset=first[-1].update_id + 1)

    assert [u.message.text for u in first if u.message] == ["satu", "dua"]
    assert [u.update_id for u in again] == [u.update_id for u in first]  # not yet confirmed
    assert [u.message.text for u in rest if u.message] == ["tiga"]
    assert emulator.pending_update_count == 1


async def test_long_poll_returns_as_soon_as_an_update_is_injected(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    emulator.user_sends(SITI, "halo")
    updates = await poll

    assert len(updates) == 1
    assert time.monotonic() - started < 1.5


async def test_long_poll_without_updates_answers_empty_after_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2.0


async def test_stopping_answers_a_pending_long_poll_at_once() -> None:
    emulator = BotApiEmulator(token=TOKEN)
    await emulator.start()
    async with Bot(TOKEN, base_url=emulator.base_url) as polling_bot:
        poll = asyncio.create_task(polling_bot.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await emulator.stop()
        assert await poll == ()
    assert time.monotonic() - started < 1.0


async def test_reinjected_update_id_is_delivered_again(emulator: BotApiEmulator, bot: Bot) -> None:
    original = emulator.user_sends(SITI, "halo")
    [first] = await bot.get_updates()
    emulator.inject_raw(original)

    [again] = await bot.get_updates(offset=first.update_id + 1)

    assert again.update_id == first.update_id
    assert await bot.get_updates(offset=again.update_id + 1) == ()


async def test_429_raises_retry_after_with_the_seconds_to_wait(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.fail_next("sendMessage", status=429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(SITI, "halo")
    await bot.send_message(SITI, "halo")

    assert caught.value.retry_after == timedelta(seconds=7)
    assert [m.text for m in emulator.sent] == ["halo"]
    assert emulator.status_counts[429] == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, Forbidden), (500, NetworkError), (502, NetworkError), (400, BadRequest)],
)
async def test_injected_failures_raise_the_matching_ptb_error(
    emulator: BotApiEmulator, bot: Bot, status: int, error: type[Exception]
) -> None:
    emulator.fail_next("sendMessage", status=status, times=2)

    for _ in range(2):
        with pytest.raises(error):
            await bot.send_message(SITI, "halo")
    await bot.send_message(SITI, "halo")

    assert len(emulator.sent) == 1


async def test_failure_for_one_chat_leaves_other_chats_alone(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.fail_next("sendMessage", status=403, chat_id=BUDI)

    await bot.send_message(SITI, "untuk Siti")
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(BUDI, "untuk Budi")
    await bot.send_message(BUDI, "untuk Budi")

    assert [m.chat_id for m in emulator.sent] == [SITI, BUDI]


async def test_blocked_chat_answers_403_from_then_on(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.block_chat(BUDI)

    for _ in range(3):
        with pytest.raises(Forbidden):
            await bot.send_message(BUDI, "halo")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(BUDI, "typing")

    assert emulator.sent == []


async def test_slow_api_times_the_client_out_but_the_message_still_lands(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.delay_next("sendMessage", 0.5)

    with pytest.raises(TimedOut):
        await bot.send_message(SITI, "halo", read_timeout=0.1)
    [landed] = await emulator.wait_for_sent(chat_id=SITI, timeout=2)

    assert landed.text == "halo"


async def test_commands_are_stored_per_scope(emulator: BotApiEmulator, bot: Bot) -> None:
    everyone = [BotCommand("start", "Mulai"), BotCommand("bantuan", "Bantuan")]
    private = [BotCommand("jadwal", "Jadwal pencairan")]
    pendamping = [BotCommand("kelompok", "Daftar kelompok")]

    await bot.set_my_commands(everyone)
    await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(pendamping, scope=BotCommandScopeChat(SITI))

    assert emulator.commands["default"] == [c.to_dict() for c in everyone]
    assert emulator.commands["all_private_chats"] == [c.to_dict() for c in private]
    assert emulator.commands[f"chat:{SITI}"] == [c.to_dict() for c in pendamping]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(SITI)) == tuple(pendamping)
    await bot.delete_my_commands(scope=BotCommandScopeChat(SITI))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(SITI)) == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Jadwal-Bayar", "huruf besar tidak boleh")])


async def test_edits_change_the_stored_message_and_unchanged_edits_are_refused(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    message = await bot.send_message(SITI, "Memproses…", reply_markup=KEYBOARD)

    edited = await bot.edit_message_text("Selesai", chat_id=SITI, message_id=message.message_id)
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Selesai", chat_id=SITI, message_id=message.message_id)
    await bot.edit_message_reply_markup(SITI, message.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("x", chat_id=SITI, message_id=999_999)

    assert isinstance(edited, type(message)) and edited.text == "Selesai"
    assert edited.reply_markup is None  # editing the text without a keyboard removes it
    assert [(m.method, m.text) for m in emulator.sent] == [
        ("sendMessage", "Memproses…"),
        ("editMessageText", "Selesai"),
        ("editMessageReplyMarkup", "Selesai"),
    ]


async def test_callback_answers_are_recorded_once(emulator: BotApiEmulator, bot: Bot) -> None:
    await bot.send_message(SITI, "Pilih:", reply_markup=KEYBOARD)
    tap = emulator.user_taps(SITI, emulator.sent[-1], "tidak")
    query_id = tap["callback_query"]["id"]

    await bot.answer_callback_query(query_id, text="Baik")
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await bot.answer_callback_query(query_id)

    forged = dict(tap, update_id=tap["update_id"] + 10)
    forged["callback_query"] = dict(tap["callback_query"], id="forged", data="hadiah")
    emulator.inject_raw(forged)
    await bot.answer_callback_query("forged", text="Tombol tidak berlaku", show_alert=True)

    first, second = emulator.answered_callbacks
    assert (first.user_id, first.text, first.show_alert) == (SITI, "Baik", False)
    assert (second.callback_query_id, second.user_id, second.show_alert) == ("forged", SITI, True)
    with pytest.raises(ValueError, match="no button"):
        emulator.user_taps(SITI, emulator.sent[-1], "mungkin")


async def test_limits_refuse_a_second_send_to_one_private_chat_within_a_second(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.enforce_limits = True

    await bot.send_message(SITI, "satu")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(SITI, "dua")
    await bot.send_message(BUDI, "untuk Budi")

    assert caught.value.retry_after == timedelta(seconds=1)
    assert emulator.over_limit == {"chat": 1}
    assert [m.text for m in emulator.sent] == ["satu", "untuk Budi"]


async def test_limits_refuse_the_31st_send_within_a_second(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.enforce_limits = True

    await asyncio.gather(*(bot.send_message(1000 + i, "pengumuman") for i in range(30)))
    with pytest.raises(RetryAfter):
        await bot.send_message(2000, "pengumuman")

    assert emulator.over_limit == {"global": 1}
    assert len(emulator.sent) == 30


async def test_limits_allow_20_messages_a_minute_to_a_group(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.enforce_limits = True

    for i in range(20):
        await bot.send_message(GROUP, f"pesan {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "pesan 21")

    assert timedelta(seconds=58) <= caught.value.retry_after <= timedelta(seconds=60)
    assert emulator.over_limit == {"group": 1}


async def test_webhook_receives_updates_with_the_secret_and_retries_until_200(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    answers = iter([500, 200, 200])

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        update = emulator.user_sends(SITI, "halo")
        for _ in range(100):
            if emulator.pending_update_count == 0:
                break
            await asyncio.sleep(0.02)
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict):
            await bot.get_updates()
    finally:
        await runner.cleanup()

    assert received == [("s3cret", update), ("s3cret", update)]  # once refused, then accepted
    assert info.url == f"http://127.0.0.1:{port}/hook"
    assert info.pending_update_count == 0
    assert info.last_error_message is not None and "500" in info.last_error_message
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_raw_http_takes_json_query_strings_and_answers_unknown_methods_404(
    emulator: BotApiEmulator,
) -> None:
    markup = {"inline_keyboard": [[{"text": "Ya", "callback_data": "ya"}]]}
    status, body = await raw_call(
        emulator, "sendmessage", json={"chat_id": SITI, "text": "halo", "reply_markup": markup}
    )
    assert status == 200 and body["ok"] and body["result"]["reply_markup"] == markup
    status, body = await raw_call(
        emulator, "sendMessage", params={"chat_id": str(BUDI), "text": "x"}
    )
    assert status == 200 and body["result"]["chat"]["id"] == BUDI
    form = aiohttp.FormData({"chat_id": str(SITI), "text": "dengan lampiran"})
    form.add_field("document", b"%PDF-1.4", filename="kartu.pdf")  # forces multipart
    status, body = await raw_call(emulator, "sendMessage", data=form)
    assert status == 200 and emulator.calls[-1][1]["document"] == "kartu.pdf"
    status, body = await raw_call(emulator, "sendPoll", data={"chat_id": SITI})
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    status, body = await raw_call(emulator, "sendMessage", data={"chat_id": SITI, "text": " "})
    assert status == 400 and body["description"] == "Bad Request: message text is empty"
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{emulator.port}/file/bot{TOKEN}/photos/a.jpg"
        async with session.get(url) as response:
            assert response.status == 404


async def test_wait_for_sent_counts_matches_and_sent_counts_shows_duplicates(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    waiting = asyncio.create_task(
        emulator.wait_for_sent(count=2, predicate=lambda m: m.text == "pengingat")
    )
    await bot.send_message(SITI, "pengingat")
    await bot.send_message(BUDI, "lain")
    await bot.send_message(SITI, "pengingat")

    found = await waiting

    assert [m.chat_id for m in found] == [SITI, SITI]
    assert emulator.sent_counts()[(SITI, "pengingat")] == 2
    with pytest.raises(TimeoutError):
        await emulator.wait_for_sent(chat_id=BUDI, count=2, timeout=0.2)
    emulator.clear()
    assert emulator.sent == [] and emulator.calls == [] and not emulator.sent_counts()


async def test_a_ptb_application_answers_commands_text_and_taps_through_the_emulator(
    emulator: BotApiEmulator,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Kode: {context.args}", reply_markup=KEYBOARD)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text.upper())

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("Terima kasih")
        await update.callback_query.edit_message_text(f"Pilihan: {update.callback_query.data}")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(tapped))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        emulator.user_sends_command(SITI, "/start", "ABC123")
        [welcome] = await emulator.wait_for_sent(chat_id=SITI)
        emulator.user_sends(SITI, "halo")
        emulator.user_taps(SITI, welcome, "ya")
        await emulator.wait_for_sent(chat_id=SITI, count=3)
        await app.updater.stop()
        await app.stop()

    texts = [m.text for m in emulator.sent]
    assert texts[0] == "Kode: ['ABC123']"
    assert sorted(texts[1:]) == ["HALO", "Pilihan: ya"]
    assert [a.text for a in emulator.answered_callbacks] == ["Terima kasih"]
    assert emulator.pending_update_count == 0
