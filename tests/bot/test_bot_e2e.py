"""The Telegram bot end to end: the Bot API emulator, the real NLU server, a seeded database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest
from telegram.ext import Application

from bot.app import build_application, polling_in_this_loop
from core.settings import Settings
from devtools.emulator import BotApiEmulator, SentMessage
from programme.db import make_engine, make_session_factory
from programme.demo import demo_handles

pytestmark = pytest.mark.integration

TOKEN = "123456:TEST-TOKEN"
NEW_USER = 777_000_001  # not in the demo roster: links with the demo invite code


@pytest.fixture(scope="module")
def bot_database(fresh_seeded_database: str) -> str:
    return fresh_seeded_database


def settings_for(emulator: BotApiEmulator, database_url: str, nlu_url: str, key: str) -> Settings:
    return Settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        NLU_URL=nlu_url,
        PKH_SECRET_KEY=key,
    )


def running(settings: Settings) -> AbstractAsyncContextManager[Application]:  # type: ignore[type-arg]
    """The bot, polling the emulator, inside this event loop."""
    return polling_in_this_loop(build_application(settings))


@dataclass
class Chat:
    """A user talking to the bot through the emulator."""

    emulator: BotApiEmulator
    user_id: int

    def count(self) -> int:
        return sum(1 for m in self.emulator.sent if m.chat_id == self.user_id)

    async def expect(self, before: int, replies: int = 1) -> list[SentMessage]:
        sent = await self.emulator.wait_for_sent(
            chat_id=self.user_id, count=before + replies, timeout=15
        )
        return sent[before:]

    async def say(self, text: str) -> str:
        before = self.count()
        self.emulator.user_sends(self.user_id, text)
        return (await self.expect(before))[-1].text or ""


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as running_emulator:
        yield running_emulator


@pytest.fixture(scope="module")
async def bot(
    emulator: BotApiEmulator, bot_database: str, nlu_url: str, secret_key: str
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with running(settings_for(emulator, bot_database, nlu_url, secret_key)) as application:
        yield application


async def test_a_new_kpm_links_with_an_invite_code(
    bot: Application, emulator: BotApiEmulator
) -> None:  # type: ignore[type-arg]
    chat = Chat(emulator, NEW_USER)
    before = chat.count()
    emulator.user_sends_command(NEW_USER, "/start", "DEMO-LINK-WITA", first_name="Agustina")
    linked, greeting = await chat.expect(before, replies=2)
    assert "sudah terhubung" in (linked.text or "")
    assert "Agustina" in (greeting.text or "")
    assert greeting.reply_markup is not None
    # Answers are now about her own family (Manggarai Barat, WITA, pendamping Maria).
    assert "Manggarai Barat" in await chat.say("tahap 4 kpn cair ya")
    assert "WITA" in await chat.say("pertemuan p2k2 kelompok saya kapan")
    assert "Maria Fatima Hamur" in await chat.say("siapa pendamping saya")


async def test_a_linked_kpm_gets_the_facts_of_her_own_family(
    bot: Application, emulator: BotApiEmulator
) -> None:  # type: ignore[type-arg]
    chat = Chat(emulator, demo_handles()["kpm-wita"])
    assert "16–27 November 2026" in await chat.say("pkh tahap 4 kpn cair min")
    status = await chat.say("kok saldo kks saya blm masuk")
    assert "belum bisa disalurkan" in status
    assert "Rp225.000" in await chat.say("anak sd dapet brp sih")
    assert "WITA" in await chat.say("p2k2 kelompok saya kapan")
    assert "Maria Fatima Hamur" in await chat.say("nomor pendamping saya berapa")
    assert "tertelan" in await chat.say("kks saya ketelen atm gmn")
    assert "171" in await chat.say("ketua kelompok minta potongan 50rb tiap cair, lapor kemana")
    assert "Rp750.000" in await chat.say("bumil dapet berapa per tahap")
    assert "graduasi" in (await chat.say("graduasi mandiri itu apa")).lower()
    assert "cekbansos" in (await chat.say("cara cek bansos pake hp gmn")).lower()
    assert "Halo, Siti" in await chat.say("assalamualaikum bu")  # her Telegram name
    assert await chat.say("makasih ya min")


async def test_topic_buttons_and_ratings_work_and_forged_buttons_are_refused(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    user = demo_handles()["kpm-wib"]
    chat = Chat(emulator, user)
    before = chat.count()
    emulator.user_sends(user, "jadwal pkh tahap 4 kapan ya")
    (answer,) = await chat.expect(before)
    buttons = [b for row in (answer.reply_markup or {})["inline_keyboard"] for b in row]
    topic = next(b for b in buttons if b["text"] == "Status bantuan saya")
    before = chat.count()
    emulator.user_taps(user, answer, topic["callback_data"])
    assert "Tahap IV tahun 2026" in ((await chat.expect(before))[-1].text or "")

    down = next(b for b in buttons if b["text"] == "👎")
    before = chat.count()
    tap = emulator.user_taps(user, answer, down["callback_data"])
    assert "masukan ini kami catat" in ((await chat.expect(before))[-1].text or "")

    # A modified client can send any callback data: an altered signature must be refused.
    forged = dict(tap["callback_query"], id="forged", data=down["callback_data"][:-2] + "xx")
    emulator.inject_raw({"callback_query": forged})
    for _ in range(100):
        if any(c.callback_query_id == "forged" for c in emulator.answered_callbacks):
            break
        await asyncio.sleep(0.1)
    refusals = [c for c in emulator.answered_callbacks if c.callback_query_id == "forged"]
    assert refusals and "tidak berlaku" in (refusals[0].text or "")


async def test_what_is_not_a_question_gets_a_clear_answer(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    user = demo_handles()["kpm-wit"]
    chat = Chat(emulator, user)
    for send in (
        emulator.user_sends_sticker,
        emulator.user_sends_photo,
        emulator.user_sends_voice,
        emulator.user_sends_document,
    ):
        before = chat.count()
        send(user)
        assert "pesan teks" in ((await chat.expect(before))[-1].text or "")
    before = chat.count()
    emulator.user_sends_location(user, -2.5, 140.7)
    assert "pesan teks" in ((await chat.expect(before))[-1].text or "")

    before = chat.count()
    question = emulator.user_sends(user, "kapan cair")
    await chat.expect(before)
    before = chat.count()
    emulator.user_edits(user, question["message"]["message_id"], "kapan cair tahap 3")
    assert "diubah" in ((await chat.expect(before))[-1].text or "")

    long_text = await chat.say("kapan pkh cair " + "x" * 4080)
    assert long_text
    markup = await chat.say("<b>kapan</b> *cair* [link](http://evil.example) &amp;")
    assert markup
    sent = [m for m in emulator.sent if m.chat_id == user]
    assert all(m.parse_mode is None for m in sent)  # plain text: nothing to inject


async def test_a_kpm_trying_a_pendamping_command_is_told_politely(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    assert "khusus untuk pendamping" in await Chat(emulator, demo_handles()["kpm-wib"]).say(
        "/siaran"
    )


async def test_in_a_group_the_bot_answers_only_when_addressed(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    group, user = -100_555, demo_handles()["kpm-wib"]
    emulator.group_message(group, user, "ada yang tau kapan pkh cair?")
    await asyncio.sleep(1.5)
    assert not [m for m in emulator.sent if m.chat_id == group]
    emulator.group_message(group, user, "kapan pkh tahap 4 cair?", mention_bot=True)
    (reply,) = await emulator.wait_for_sent(chat_id=group, count=1)
    assert "Tahap IV" in (reply.text or "")


async def test_my_data_reminders_and_deleting_my_data(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    user = 777_000_009
    chat = Chat(emulator, user)
    assert "belum terhubung" in await chat.say("/dataku")
    assert "/mulai" in await chat.say("/berhenti")
    assert "mati" in await chat.say("/dataku")
    assert "/berhenti" in await chat.say("/mulai")
    before = chat.count()
    emulator.user_sends(user, "/hapus")
    (confirm,) = await chat.expect(before)
    yes = (confirm.reply_markup or {})["inline_keyboard"][0][0]["callback_data"]
    before = chat.count()
    emulator.user_taps(user, confirm, yes)
    assert "sudah dihapus" in ((await chat.expect(before))[-1].text or "")


async def test_a_restarted_bot_does_not_answer_an_old_update_again(
    bot_database: str, nlu_url: str, secret_key: str
) -> None:
    # Its own emulator: the module's bot must not take these updates.
    async with BotApiEmulator(TOKEN, first_update_id=500_001) as emulator:
        await restart_without_reprocessing(emulator, bot_database, nlu_url, secret_key)


async def restart_without_reprocessing(
    emulator: BotApiEmulator, bot_database: str, nlu_url: str, secret_key: str
) -> None:
    settings = settings_for(emulator, bot_database, nlu_url, secret_key)
    user = 777_000_002
    chat = Chat(emulator, user)
    async with running(settings):
        update = emulator.user_sends(user, "halo")
        await chat.expect(0)
    answered = chat.count()
    async with running(settings):
        emulator.inject_raw(update)  # Telegram re-delivers it after a crash
        await asyncio.sleep(2)
        assert chat.count() == answered
        assert "Halo" in await chat.say("halo lagi")


async def test_when_the_nlu_is_down_the_bot_apologises_and_recovers_when_it_is_back(
    bot_database: str, nlu_url: str, secret_key: str
) -> None:
    proxy = NluProxy(nlu_url)
    await proxy.start()
    try:
        async with (
            BotApiEmulator(TOKEN, first_update_id=600_001) as emulator,
            running(settings_for(emulator, bot_database, proxy.url, secret_key)),
        ):
            chat = Chat(emulator, 777_000_003)
            proxy.switch_off()
            down = await chat.say("kapan pkh cair")
            assert "Mohon maaf" in down
            proxy.up = True
            assert "Tahap" in await chat.say("kapan pkh cair")
    finally:
        await proxy.stop()


class NluProxy:
    """A TCP forwarder in front of the real NLU server that can be switched off and on."""

    def __init__(self, target: str) -> None:
        host_port = target.removeprefix("http://")
        self.target_host, port = host_port.split(":")
        self.target_port = int(port)
        self.up = True
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    def switch_off(self) -> None:
        """Refuse new connections and cut the open ones (the client keeps connections alive)."""
        self.up = False
        for writer in self.open:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self.target_host, self.target_port
        )
        self.open.update((writer, upstream_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    if not self.up:
                        break
                    sink.write(data)
                    await sink.drain()
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_a_user_who_blocked_the_bot_is_marked_unreachable(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    bot_database: str,
) -> None:
    from sqlalchemy import select

    from programme.models import TelegramUser

    user = 777_000_004
    emulator.block_chat(user)
    emulator.user_sends(user, "halo")
    engine = make_engine(bot_database)
    try:
        for _ in range(100):
            with make_session_factory(engine)() as session:
                found = session.scalars(
                    select(TelegramUser).where(TelegramUser.telegram_user_id == user)
                ).one_or_none()
                if found is not None and found.is_unreachable:
                    break
            await asyncio.sleep(0.1)
        assert found is not None and found.is_unreachable
    finally:
        engine.dispose()
        emulator.unblock_chat(user)


async def test_linking_by_nik_and_birth_date_keeps_the_nik_out_of_the_chat(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    user = 777_000_010
    chat = Chat(emulator, user)
    assert "NIK pengurus" in await chat.say("/hubungkan")
    before = chat.count()
    nik_message = emulator.user_sends(user, "9999 5315 0000 2001")
    assert "tanggal lahir" in ((await chat.expect(before))[-1].text or "")
    deleted = await emulator.wait_for_calls("deleteMessage")
    assert any(int(c["message_id"]) == nik_message["message"]["message_id"] for c in deleted)
    assert "belum terbaca" in await chat.say("kemarin sore")
    assert "sudah terhubung" in await chat.say("14-03-1991")
    assert all("9999531500002001" not in (m.text or "") for m in emulator.sent)


async def test_wrong_nik_tries_lock_the_linking_out(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    chat = Chat(emulator, 777_000_011)
    for _ in range(5):
        await chat.say("/hubungkan")
        await chat.say("9999531500002001")
        assert "tidak cocok" in await chat.say("01-01-1990")
    await chat.say("/hubungkan")
    await chat.say("9999531500002001")
    assert "Terlalu banyak" in await chat.say("14-03-1991")


async def test_request_human_reaches_the_pendamping_and_the_answer_comes_back(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    kpm, pendamping = demo_handles()["kpm-wita"], demo_handles()["pendamping"]
    kpm_chat, pendamping_chat = Chat(emulator, kpm), Chat(emulator, pendamping)
    await kpm_chat.say("kenapa bantuan tahap 4 saya gagal")
    before = pendamping_chat.count()
    await kpm_chat.say("saya mau bicara sama pendamping")
    (forwarded,) = await pendamping_chat.expect(before)
    assert "kenapa bantuan tahap 4 saya gagal" in (forwarded.text or "")
    reply_button = (forwarded.reply_markup or {})["inline_keyboard"][0][0]
    before = pendamping_chat.count()
    emulator.user_taps(pendamping, forwarded, reply_button["callback_data"])
    await pendamping_chat.expect(before)
    before = kpm_chat.count()
    confirmation = await pendamping_chat.say("Ibu, besok datang ke BRI bawa KTP dan KKS ya.")
    assert "terkirim" in confirmation
    (answer,) = await kpm_chat.expect(before)
    assert "Maria Fatima Hamur" in (answer.text or "") and "bawa KTP" in (answer.text or "")


async def test_asking_for_the_pendamping_first_asks_what_to_tell_them(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    kpm, pendamping = demo_handles()["kpm-wita"], demo_handles()["pendamping"]
    bot.chat_data[kpm].forget()  # no earlier question in this chat
    kpm_chat, start = Chat(emulator, kpm), len(emulator.sent)
    await kpm_chat.say("halo")  # small talk is not a question to forward

    asked = await kpm_chat.say("minta pendamping")

    assert "Apa yang ingin Bapak/Ibu sampaikan" in asked
    handoffs = [m for m in emulator.sent[start:] if "minta pendamping" in (m.text or "")]
    assert handoffs == []  # "minta pendamping" itself is never forwarded
    told = await kpm_chat.say("saldo saya kosong padahal tetangga sudah cair")
    assert "sudah saya teruskan" in told
    message = "saldo saya kosong padahal tetangga sudah cair"
    forwarded = [m for m in emulator.sent[start:] if message in (m.text or "")]
    assert [m.chat_id for m in forwarded] == [pendamping]  # Maria, her kelompok's pendamping


async def test_a_kpm_cannot_use_the_pendamping_reply_button(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    kpm = demo_handles()["kpm-wib"]
    chat = Chat(emulator, kpm)
    before = chat.count()
    emulator.user_sends(kpm, "halo")
    (greeting,) = await chat.expect(before)
    signer_key = "test-secret-key-not-for-production"
    from bot.callbacks import CallbackSigner
    from programme.buttons import ButtonKind

    forged_but_signed = CallbackSigner(signer_key).sign(
        ButtonKind.REPLY, str(demo_handles()["kpm-wita"]), for_user=kpm
    )
    tap = {
        "callback_query": {
            "id": "kpm-reply",
            "from": {"id": kpm, "is_bot": False, "first_name": "Siti"},
            "chat_instance": "1",
            "data": forged_but_signed,
            "message": {
                "message_id": greeting.message_id,
                "date": 0,
                "chat": {"id": kpm, "type": "private"},
                "text": greeting.text,
            },
        }
    }
    before = chat.count()
    emulator.inject_raw(tap)
    assert "khusus untuk pendamping" in ((await chat.expect(before))[-1].text or "")


async def test_each_role_sees_its_own_commands(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
) -> None:
    kpm_menu = [c["command"] for c in emulator.commands["all_private_chats"]]
    assert "dataku" in kpm_menu and "siaran" not in kpm_menu
    pendamping = demo_handles()["pendamping"]
    await Chat(emulator, pendamping).say("/start")
    staff_menu = [c["command"] for c in emulator.commands[f"chat:{pendamping}"]]
    assert "siaran" in staff_menu and "jadwal" in staff_menu


async def test_webhook_mode_accepts_telegram_and_refuses_requests_without_the_secret(
    bot_database: str, nlu_url: str, secret_key: str
) -> None:
    import httpx

    from bot.app import webhook_in_this_loop
    from nlu.server import free_port

    port = free_port()
    async with BotApiEmulator(TOKEN, first_update_id=700_001) as emulator:
        application = build_application(settings_for(emulator, bot_database, nlu_url, secret_key))
        async with webhook_in_this_loop(  # what `pkh bot run --webhook` serves
            application,
            listen="127.0.0.1",
            port=port,
            url=f"http://127.0.0.1:{port}/telegram",
            secret_token="webhook-secret",
        ):
            chat = Chat(emulator, 777_000_020)
            assert "Halo" in await chat.say("halo")  # pushed by the emulator, with the secret
            forged = emulator.user_sends(777_000_021, "halo")  # also queued for the webhook…
            async with httpx.AsyncClient() as client:  # …but here someone posts it without one
                response = await client.post(f"http://127.0.0.1:{port}/telegram", json=forged)
            assert response.status_code == 403


async def test_pkh_bot_run_polls_answers_and_stops_cleanly_on_sigterm(
    bot_database: str, nlu_url: str, secret_key: str
) -> None:
    import os
    import signal
    import sys
    from pathlib import Path

    async with BotApiEmulator(TOKEN, first_update_id=800_001) as emulator:
        env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=emulator.base_url,
            DATABASE_URL=bot_database,
            NLU_URL=nlu_url,
            PKH_SECRET_KEY=secret_key,
        )
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "pkh"), "bot", "run", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await emulator.wait_for_calls("getUpdates", timeout=60)
            assert "Halo" in await Chat(emulator, 777_000_030).say("halo")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=20) == 0
        finally:
            if process.returncode is None:
                process.kill()
