"""The pendamping's tools end to end: /kelompok, /undangan, /jadwal, /siaran and the KPM's RSVP.

Through the Bot API emulator as the demo pendamping Maria (WITA), against a freshly seeded
database of the module's own, with the real scheduler job store and outbox.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application

from bot.app import build_application, polling_in_this_loop
from bot.context import BotServices
from bot.pendamping import kelompok as pendamping_tools
from core.formatting import long_date
from core.quiet import QuietHours
from core.settings import Settings
from devtools.emulator import BotApiEmulator, SentMessage
from programme import broadcasts, meetings, pendamping_access
from programme.buttons import ButtonKind
from programme.db import make_engine, make_session_factory
from programme.demo import demo_handles
from programme.models import (
    AuditLog,
    Broadcast,
    BroadcastStatus,
    InviteCode,
    MeetingRsvp,
    MeetingStatus,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    P2K2Meeting,
    RsvpAnswer,
    TelegramUser,
    apscheduler_jobs,
)

pytestmark = pytest.mark.integration

TOKEN = "123456:TEST-TOKEN"
MARIA = demo_handles()["pendamping"]  # DEMO-PDP-5315-1, Manggarai Barat (WITA)
YULIANA = demo_handles()["kpm-wita"]  # a linked KPM in one of Maria's kelompok
ADMIN = demo_handles()["admin"]
NEW_USER = 777_200_001  # not in the demo roster: links with a code from /undangan
NEW_PENDAMPING = 777_200_009  # becomes Fransiskus (DEMO-PDP-5315-2) by an admin's link
WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture(scope="module")
def database(fresh_seeded_database: str) -> str:
    return fresh_seeded_database


@pytest.fixture(scope="module")
def db(database: str) -> Iterator[sessionmaker[Session]]:
    """Sessions for the test's own look into the database the bot writes."""
    engine = make_engine(database)
    yield make_session_factory(engine)
    engine.dispose()


def settings_for(emulator: BotApiEmulator, database: str, nlu_url: str, key: str) -> Settings:
    return Settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.base_url,
        DATABASE_URL=database,
        NLU_URL=nlu_url,
        PKH_SECRET_KEY=key,
        QUIET_HOURS="off",  # the test may run at night; quiet hours are the outbox's tests
    )


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as running_emulator:
        yield running_emulator


@pytest.fixture(scope="module")
async def bot(
    emulator: BotApiEmulator, database: str, nlu_url: str, secret_key: str
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = build_application(settings_for(emulator, database, nlu_url, secret_key))
    async with polling_in_this_loop(application) as running:
        yield running


@dataclass
class Chat:
    """A user talking to the bot through the emulator; sends and edits both count as replies."""

    emulator: BotApiEmulator
    user_id: int

    def count(self) -> int:
        return sum(1 for m in self.emulator.sent if m.chat_id == self.user_id)

    async def expect(self, before: int, replies: int = 1) -> list[SentMessage]:
        sent = await self.emulator.wait_for_sent(
            chat_id=self.user_id, count=before + replies, timeout=15
        )
        return sent[before:]

    async def say(self, text: str, replies: int = 1) -> list[SentMessage]:
        before = self.count()
        self.emulator.user_sends(self.user_id, text)
        return await self.expect(before, replies)

    def seen(self, predicate: Callable[[SentMessage], bool]) -> int:
        return sum(1 for m in self.emulator.sent if m.chat_id == self.user_id and predicate(m))

    async def next_where(self, predicate: Callable[[SentMessage], bool], seen: int) -> SentMessage:
        """The first message after the `seen` ones that match (others may arrive in between)."""
        found = await self.emulator.wait_for_sent(
            chat_id=self.user_id, count=seen + 1, predicate=predicate, timeout=15
        )
        return found[seen]

    async def tap(self, message: SentMessage, label: str, replies: int = 1) -> list[SentMessage]:
        before = self.count()
        self.emulator.user_taps(self.user_id, message, data_of(message, label))
        return await self.expect(before, replies)


def labels(message: SentMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [str(button["text"]) for row in rows for button in row]


def data_of(message: SentMessage, label: str) -> str:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    for row in rows:
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} under {message.text!r}: {labels(message)}")


def first_button(message: SentMessage) -> str:
    return labels(message)[0]


def kelompok_of(db: sessionmaker[Session], telegram_user_id: int) -> tuple[int, str]:
    with db() as session:
        user = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == telegram_user_id)
        ).one()
        assert user.family is not None
        return user.family.kelompok.id, user.family.kelompok.name


def maria_pendamping_id(db: sessionmaker[Session]) -> int:
    with db() as session:
        user = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == MARIA)
        ).one()
        assert user.pendamping_id is not None
        return user.pendamping_id


def job_ids(db: sessionmaker[Session]) -> set[str]:
    with db() as session:
        return set(session.scalars(select(apscheduler_jobs.c.id)))


def local_time_text(moment: datetime) -> str:
    """What the bot writes for a WITA moment, e.g. "pukul 09.00 WITA"."""
    return f"pukul {moment.astimezone(WITA):%H.%M} WITA"


async def eventually(check: object, seconds: float = 15) -> None:
    """Wait until `check()` is true (the scheduler and the drain work in the background)."""
    assert callable(check)
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    assert check()


async def open_new_meeting_flow(chat: Chat, db: sessionmaker[Session]) -> SentMessage:
    """/jadwal, then "+ Jadwal baru": the kelompok question."""
    with db() as session:
        upcoming = meetings.upcoming_meetings(
            session, pendamping_id=maria_pendamping_id(db), now=datetime.now(UTC)
        )
    listed = await chat.say("/jadwal", replies=min(len(upcoming), 10) + 1)
    footer = listed[-1]
    assert "+ Jadwal baru" in labels(footer)
    (question,) = await chat.tap(footer, "+ Jadwal baru")
    return question


# --- /kelompok and /undangan -----------------------------------------------------------------


async def test_kelompok_lists_her_kelompok_with_how_many_families_linked(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    (listing,) = await chat.say("/kelompok")
    with db() as session:
        choices = meetings.kelompok_choices(session, pendamping_id=maria_pendamping_id(db))
    assert len(choices) == 4
    for choice in choices:
        line = f"{choice.name} — {choice.families} keluarga, {choice.linked} terhubung"
        assert line in (listing.text or "")
    assert labels(listing) == [choice.name for choice in choices]

    _, yuliana_kelompok = kelompok_of(db, YULIANA)
    (roster,) = await chat.tap(listing, yuliana_kelompok)
    text = roster.text or ""
    assert "✅ Yuliana Ndahur" in text
    assert "⏳ " in text
    assert "Pertemuan berikutnya:" in text and "WITA" in text


async def test_an_admins_pendamping_link_onboards_a_new_pendamping_with_the_menu(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
    secret_key: str,
) -> None:
    with db.begin() as session:
        fransiskus = pendamping_access.find_pendamping(session, "DEMO-PDP-5315-2")
        assert fransiskus is not None
        fransiskus_id = fransiskus.id
        issued = pendamping_access.issue_pendamping_link(
            session,
            pendamping_id=fransiskus_id,
            secret_key=secret_key,
            now=datetime.now(UTC),
            actor="admin:test",
        )
    newcomer = Chat(emulator, NEW_PENDAMPING)
    before = newcomer.count()

    emulator.user_sends_command(NEW_PENDAMPING, "/start", issued.code, first_name="Frans")

    (welcome,) = await newcomer.expect(before)
    assert "Fransiskus Jelalu" in (welcome.text or "") and "pendamping" in (welcome.text or "")
    await eventually(lambda: f"chat:{NEW_PENDAMPING}" in emulator.commands)
    menu = [c["command"] for c in emulator.commands[f"chat:{NEW_PENDAMPING}"]]
    assert {"jadwal", "siaran", "kelompok", "undangan"} <= set(menu)
    (listing,) = await newcomer.say("/kelompok")
    assert "keluarga" in (listing.text or "") and labels(listing)  # Fransiskus' own kelompok
    with db() as session:
        user = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == NEW_PENDAMPING)
        ).one()
        assert user.pendamping_id == fransiskus_id


async def test_undangan_makes_codes_that_link_a_new_telegram_user(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    (chooser,) = await chat.say("/undangan")
    # Agustina Janggur (the demo's link-test family) is not linked yet; her kelompok is in Siru.
    siru = next(label for label in labels(chooser) if "Siru" in label)
    header, links = await chat.tap(chooser, siru, replies=2)
    assert "berlaku sampai" in (header.text or "") and "Teruskan" in (header.text or "")
    lines = (links.text or "").splitlines()
    agustina = next(line for line in lines if line.startswith("Agustina Janggur — "))
    code = re.fullmatch(r".* — https://t\.me/pkh_assistant_bot\?start=(\S+)", agustina)
    assert code is not None

    with db() as session:
        codes = session.scalars(select(InviteCode).where(InviteCode.used_at.is_(None))).all()
        audit = session.scalars(
            select(AuditLog).where(AuditLog.action == "invite.create_batch")
        ).one()
    assert audit.details["families"] == len(lines)
    # One fresh code per unlinked family; the demo's older code for Agustina was replaced.
    assert len(codes) == len(lines)

    newcomer = Chat(emulator, NEW_USER)
    before = newcomer.count()
    emulator.user_sends_command(NEW_USER, "/start", code[1], first_name="Agustina")
    linked, _greeting = await newcomer.expect(before, replies=2)
    assert "sudah terhubung" in (linked.text or "")
    other = Chat(emulator, 777_200_002)
    before = other.count()
    emulator.user_sends_command(777_200_002, "/start", "DEMO-LINK-WITA")
    (refused,) = await other.expect(before)
    assert "tidak cocok" in (refused.text or "")


# --- /jadwal -----------------------------------------------------------------------------------


async def test_jadwal_schedules_a_meeting_step_by_step_and_its_reminders(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    kelompok_id, kelompok_name = kelompok_of(db, YULIANA)
    question = await open_new_meeting_flow(chat, db)
    assert "kelompok mana" in (question.text or "")
    (modules,) = await chat.tap(question, kelompok_name)
    assert f"Kelompok: {kelompok_name}" in (modules.text or "")
    module = first_button(modules)
    (sessions,) = await chat.tap(modules, module)
    session_label = first_button(sessions)
    (when_question,) = await chat.tap(sessions, session_label)
    assert "Kapan pertemuannya?" in (when_question.text or "")

    # Something that is not a time: said clearly, and the step is asked again.
    (unclear,) = await chat.say("kapan-kapan saja bu")
    assert "belum saya pahami" in (unclear.text or "")
    assert "Batal" in labels(unclear)

    tomorrow = datetime.now(WITA).date() + timedelta(days=1)
    expected = datetime.combine(tomorrow, time(9), tzinfo=WITA)
    (place_question,) = await chat.say("besok jam 9")
    assert local_time_text(expected) in (place_question.text or "")
    assert "Di mana tempatnya?" in (place_question.text or "")
    (summary,) = await chat.say("Balai Desa Uji Coba")
    assert "Balai Desa Uji Coba" in (summary.text or "") and module in (summary.text or "")
    assert labels(summary) == ["Simpan", "Ubah", "Batal"]
    (saved,) = await chat.tap(summary, "Simpan")
    assert "Tersimpan." in (saved.text or "")
    assert "akan dikirim" in (saved.text or "")

    with db() as session:
        meeting = session.scalars(
            select(P2K2Meeting).where(P2K2Meeting.place == "Balai Desa Uji Coba")
        ).one()
        assert meeting.kelompok_id == kelompok_id
        assert meeting.starts_at == expected.astimezone(UTC)
        assert meeting.status is MeetingStatus.SCHEDULED
        assert meeting.session is not None and meeting.session.title in session_label
    ahead = meetings.reminder_plan(expected, meetings.TimeZone.WITA, now=datetime.now(UTC))
    expected_jobs = {f"reminder:{meeting.id}:{send.kind.value}" for send in ahead}
    assert {f"reminder:{meeting.id}:hours_before", f"reminder:{meeting.id}:rollup"} <= expected_jobs
    assert expected_jobs <= job_ids(db)


async def test_a_day_without_a_time_is_completed_by_the_next_answer(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    question = await open_new_meeting_flow(chat, db)
    (modules,) = await chat.tap(question, first_button(question))
    (when_question,) = await chat.tap(modules, "Lewati")
    assert "Materi: tidak ditentukan" in (when_question.text or "")
    (which_hour,) = await chat.say("28/2")
    assert "jam berapa?" in (which_hour.text or "")
    (place_question,) = await chat.say("jam 14.30")
    assert "pukul 14.30 WITA" in (place_question.text or "")
    assert "28 Februari" in (place_question.text or "")
    (cancelled,) = await chat.say("/batal")
    assert "Tidak ada yang disimpan" in (cancelled.text or "")
    (after,) = await chat.say("Balai Desa Setelah Batal")  # now an ordinary question
    with db() as session:
        assert not session.scalars(
            select(P2K2Meeting).where(P2K2Meeting.place == "Balai Desa Setelah Batal")
        ).all()
    assert after.text


async def test_jadwal_moves_a_meeting_and_tells_its_members(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    meeting_id = await scheduled_test_meeting(db)
    listed = await list_meetings(chat, db)
    item = next(m for m in listed if "Balai Desa Uji Coba" in (m.text or ""))
    (question,) = await chat.tap(item, "Ubah waktu")
    assert "Kapan waktu barunya?" in (question.text or "")
    day_after = datetime.now(WITA).date() + timedelta(days=2)
    expected = datetime.combine(day_after, time(10), tzinfo=WITA)
    (confirm,) = await chat.say("lusa jam 10")
    assert f"menjadi {long_date(day_after)} {local_time_text(expected)}?" in (confirm.text or "")
    (moved,) = await chat.tap(confirm, "Ya, ubah")
    assert "Perubahan tersimpan" in (moved.text or "")

    with db() as session:
        meeting = session.get(P2K2Meeting, meeting_id)
        assert meeting is not None and meeting.starts_at == expected.astimezone(UTC)
        notices = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.meeting_id == meeting_id,
                OutboxMessage.kind == OutboxKind.MEETING_CHANGE,
            )
        ).all()
    assert notices  # Yuliana, a linked member of the kelompok, is told
    assert f"reminder:{meeting_id}:hours_before" in job_ids(db)

    listed = await list_meetings(chat, db)
    item = next(m for m in listed if "Balai Desa Uji Coba" in (m.text or ""))
    (question,) = await chat.tap(item, "Ubah tempat")
    (moved,) = await chat.say("Kapela Uji Coba")
    assert "Tempat: Kapela Uji Coba" in (moved.text or "")


async def test_jadwal_cancels_a_meeting_after_asking(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    meeting_id = await scheduled_test_meeting(db)
    listed = await list_meetings(chat, db)
    item = next(m for m in listed if "Kapela Uji Coba" in (m.text or ""))
    (confirm,) = await chat.tap(item, "Batalkan")
    (kept,) = await chat.tap(confirm, "Tidak")
    assert "tidak dibatalkan" in (kept.text or "")
    (confirm,) = await chat.tap(item, "Batalkan")
    assert labels(confirm) == ["Ya, batalkan", "Tidak"]
    (done,) = await chat.tap(confirm, "Ya, batalkan")
    assert "Pertemuan dibatalkan" in (done.text or "")

    with db() as session:
        meeting = session.get(P2K2Meeting, meeting_id)
        assert meeting is not None and meeting.status is MeetingStatus.CANCELLED
    assert not {job for job in job_ids(db) if job.startswith(f"reminder:{meeting_id}:")}


async def scheduled_test_meeting(db: sessionmaker[Session]) -> int:
    with db() as session:
        meeting = session.scalars(
            select(P2K2Meeting).where(
                P2K2Meeting.place.in_(["Balai Desa Uji Coba", "Kapela Uji Coba"]),
                P2K2Meeting.status == MeetingStatus.SCHEDULED,
            )
        ).one()
        return meeting.id


async def list_meetings(chat: Chat, db: sessionmaker[Session]) -> list[SentMessage]:
    with db() as session:
        upcoming = meetings.upcoming_meetings(
            session, pendamping_id=maria_pendamping_id(db), now=datetime.now(UTC)
        )
    return await chat.say("/jadwal", replies=min(len(upcoming), 10) + 1)


# --- /siaran -----------------------------------------------------------------------------------


async def test_siaran_now_to_one_kelompok_reaches_its_linked_members(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    _, kelompok_name = kelompok_of(db, YULIANA)
    pick = await start_broadcast(chat, db)
    (ticked,) = await chat.tap(pick, kelompok_name)
    assert f"✅ {kelompok_name}" in labels(ticked)
    (write,) = await chat.tap(ticked, "Lanjut")
    assert "Tulis pesan" in (write.text or "")
    text = "Besok bawa buku KKS dan kartu posyandu ya, Bapak/Ibu."
    (when,) = await chat.say(text)
    (urgency,) = await chat.tap(when, "Sekarang")
    assert "jam tenang" in (urgency.text or "")
    yuliana = Chat(emulator, YULIANA)

    def is_it(m: SentMessage) -> bool:
        return (m.text or "").endswith(text)

    received_before = yuliana.seen(is_it)
    _note, exact, preview = await chat.tap(urgency, "Biasa", replies=3)
    assert exact.text == (
        f"📢 Pesan dari pendamping Maria Fatima Hamur untuk kelompok {kelompok_name}:\n\n{text}"
    )
    assert "Penerima: 1 anggota" in (preview.text or "")
    (sent,) = await chat.tap(preview, "Kirim")
    assert "sedang dikirim ke 1 anggota" in (sent.text or "")

    with db() as session:
        broadcast = session.scalars(select(Broadcast).where(Broadcast.text == text)).one()
        assert [k.name for k in broadcast.kelompok] == [kelompok_name]
        broadcast_id = broadcast.id
    # Its job was stored; the leader runs it at once and the drain delivers the message.
    received = await yuliana.next_where(is_it, received_before)
    assert received.text == exact.text
    await eventually(lambda: f"broadcast:{broadcast_id}" not in job_ids(db))
    await eventually(lambda: state_count(db, broadcast_id, OutboxState.SENT) == 1)

    listed = await list_broadcasts(chat, db)
    item = next(m for m in listed if text[:40] in (m.text or ""))
    (report,) = await chat.tap(item, "Laporan")
    assert "✅ Terkirim: 1" in (report.text or "")


async def test_siaran_report_shows_a_failed_message_and_resends_it(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    _, kelompok_name = kelompok_of(db, YULIANA)
    text = "Posyandu bulan ini pindah ke hari Kamis."
    yuliana = Chat(emulator, YULIANA)

    def is_it(m: SentMessage) -> bool:
        return (m.text or "").endswith(text)

    received_before = yuliana.seen(is_it)
    emulator.fail_next("sendMessage", status=400, chat_id=YULIANA, description="Bad Request: uji")
    pick = await start_broadcast(chat, db)
    (ticked,) = await chat.tap(pick, kelompok_name)
    await chat.tap(ticked, "Lanjut")
    (when,) = await chat.say(text)
    (urgency,) = await chat.tap(when, "Sekarang")
    *_, preview = await chat.tap(urgency, "Biasa", replies=3)
    await chat.tap(preview, "Kirim")
    with db() as session:
        broadcast_id = session.scalars(select(Broadcast.id).where(Broadcast.text == text)).one()
    await eventually(lambda: state_count(db, broadcast_id, OutboxState.FAILED) == 1)

    listed = await list_broadcasts(chat, db)
    item = next(m for m in listed if text in (m.text or ""))
    assert "Gagal 1" in (item.text or "")
    (report,) = await chat.tap(item, "Laporan")
    assert "⚠️ Gagal: 1" in (report.text or "")
    assert "Gagal terkirim:\n• Yuliana" in (report.text or "")  # whom to phone
    (resent,) = await chat.tap(report, "Kirim ulang yang gagal")
    assert "1 pesan yang gagal akan dikirim ulang" in (resent.text or "")
    received = await yuliana.next_where(is_it, received_before)
    assert received.text and received.text.startswith("📢 Pesan dari pendamping")
    await eventually(lambda: state_count(db, broadcast_id, OutboxState.SENT) == 1)


async def test_siaran_says_when_quiet_hours_will_let_a_routine_broadcast_go(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    kelompok_id, _ = kelompok_of(db, YULIANA)
    pendamping_id, now = maria_pendamping_id(db), datetime.now(UTC)
    text = "Uji jam tenang: arisan kelompok pindah ke hari Jumat."
    with db.begin() as session:
        broadcast = broadcasts.create_broadcast(
            session, pendamping_id=pendamping_id, author_user_id=None,
            kelompok_ids=[kelompok_id], text=text, send_at=now, urgent=False, now=now,
            actor="test",
        )  # fmt: skip
        broadcast_id = broadcast.id
        broadcasts.queue_broadcast(session, broadcast_id=broadcast_id, now=now)
        session.execute(  # held back here, so the drain leaves it while the list is read
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .values(not_before=now + timedelta(days=1))
        )
    local_hour = now.astimezone(WITA).hour
    quiet = QuietHours(time((local_hour - 1) % 24), time((local_hour + 2) % 24))
    services = bot.bot_data.services
    kept, services.quiet = services.quiet, quiet  # quiet hours now, in the kelompok's WITA
    try:
        listed = await list_broadcasts(chat, db)
    finally:
        services.quiet = kept
        with db.begin() as session:
            broadcasts.cancel_broadcast(
                session, broadcast_id=broadcast_id, pendamping_id=pendamping_id, now=now,
                actor="test",
            )  # fmt: skip

    item = next(m for m in listed if text in (m.text or ""))
    ends = f"{(local_hour + 2) % 24:02d}.00 WITA"
    assert f"Menunggu jam tenang selesai; dikirim pukul {ends}" in (item.text or "")
    assert "Sedang dikirim" not in (item.text or "")


async def test_siaran_later_can_be_cancelled(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    pick = await start_broadcast(chat, db)
    before = len(emulator.answered_callbacks)
    emulator.user_taps(MARIA, pick, data_of(pick, "Lanjut"))  # nothing ticked yet
    await eventually(lambda: len(emulator.answered_callbacks) > before)
    assert "minimal satu" in (emulator.answered_callbacks[-1].text or "")
    (everyone,) = await chat.tap(pick, "Semua kelompok")
    assert all(label.startswith("✅ ") for label in labels(everyone)[:4])
    (write,) = await chat.tap(everyone, "Lanjut")
    assert "Kelompok: " in (write.text or "")
    text = "Rapat pengurus kelompok dipindah ke minggu depan."
    (when,) = await chat.say(text)
    (later,) = await chat.tap(when, "Nanti")
    assert "Kapan dikirim?" in (later.text or "")
    (unclear,) = await chat.say("secepatnya")
    assert "belum saya pahami" in (unclear.text or "")
    (urgency,) = await chat.say("besok jam 10")
    assert "Dikirim " in (urgency.text or "") and "pukul 10.00 WITA" in (urgency.text or "")
    _note, _exact, preview = await chat.tap(urgency, "Penting/mendesak", replies=3)
    assert "Jenis: penting/mendesak" in (preview.text or "")
    (saved,) = await chat.tap(preview, "Kirim")
    assert "akan dikirim" in (saved.text or "")

    with db() as session:
        broadcast = session.scalars(select(Broadcast).where(Broadcast.text == text)).one()
        assert broadcast.status is BroadcastStatus.SCHEDULED and broadcast.urgent
        assert len(broadcast.kelompok) == 4
        broadcast_id = broadcast.id
    assert f"broadcast:{broadcast_id}" in job_ids(db)

    listed = await list_broadcasts(chat, db)
    item = next(m for m in listed if text[:40] in (m.text or ""))
    assert "Terjadwal" in (item.text or "")
    (confirm,) = await chat.tap(item, "Batalkan")
    (done,) = await chat.tap(confirm, "Ya, batalkan")
    assert "Siaran dibatalkan" in (done.text or "")
    with db() as session:
        cancelled = session.get(Broadcast, broadcast_id)
        assert cancelled is not None and cancelled.status is BroadcastStatus.CANCELLED
    assert f"broadcast:{broadcast_id}" not in job_ids(db)


async def start_broadcast(chat: Chat, db: sessionmaker[Session]) -> SentMessage:
    """/siaran, then "+ Siaran baru": the kelompok to tick."""
    listed = await list_broadcasts(chat, db)
    (pick,) = await chat.tap(listed[-1], "+ Siaran baru")
    assert "Lanjut" in labels(pick)
    return pick


async def list_broadcasts(chat: Chat, db: sessionmaker[Session]) -> list[SentMessage]:
    with db() as session:
        count = session.scalar(select(func.count()).select_from(Broadcast)) or 0
    return await chat.say("/siaran", replies=min(count, 5) + 1)


def state_count(db: sessionmaker[Session], broadcast_id: int, state: OutboxState) -> int:
    with db() as session:
        return len(
            session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.state == state
                )
            ).all()
        )


# --- who may use the tools ---------------------------------------------------------------------


async def test_a_kpm_or_an_admin_typing_jadwal_is_told_politely(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    (refusal,) = await Chat(emulator, YULIANA).say("/jadwal")
    assert "khusus untuk pendamping" in (refusal.text or "")
    with db() as session:
        logged = session.scalars(
            select(AuditLog).where(AuditLog.action == "refused_staff_command")
        ).all()
    assert any(entry.details == {"command": "/jadwal"} for entry in logged)
    (admin,) = await Chat(emulator, ADMIN).say("/siaran")
    assert "pendamping yang terdaftar" in (admin.text or "")


async def test_forged_buttons_and_pendamping_buttons_in_other_hands_are_refused(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    chat = Chat(emulator, MARIA)
    listed = await list_meetings(chat, db)
    footer = listed[-1]
    genuine = data_of(footer, "+ Jadwal baru")
    before = chat.count()
    tap = emulator.user_taps(MARIA, footer, genuine)
    await chat.expect(before)  # the genuine tap's question
    forged_id = f"forged-{len(emulator.answered_callbacks)}"
    forged = dict(tap["callback_query"], id=forged_id, data=genuine[:-2] + "xx")
    emulator.inject_raw({"callback_query": forged})
    await eventually(
        lambda: any(c.callback_query_id == forged_id for c in emulator.answered_callbacks)
    )
    refusal = next(c for c in emulator.answered_callbacks if c.callback_query_id == forged_id)
    assert "tidak berlaku" in (refusal.text or "")

    # A genuinely signed pendamping button tapped by a KPM (say, a forwarded message): refused.
    services: BotServices = bot.bot_data.services
    with db() as session:
        target = session.scalars(
            select(P2K2Meeting).where(P2K2Meeting.status == MeetingStatus.SCHEDULED)
        ).first()
        assert target is not None
        target_id = target.id
    seen = Chat(emulator, YULIANA).seen(lambda m: m.text == "Tombol pendamping")
    await bot.bot.send_message(
        YULIANA,
        "Tombol pendamping",
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "Ya",
                        callback_data=services.signer.sign(
                            ButtonKind.MEETING, f"xy.{target_id}", for_user=YULIANA
                        ),
                    )
                ]
            ]
        ),
    )
    yuliana = Chat(emulator, YULIANA)
    message = await yuliana.next_where(lambda m: m.text == "Tombol pendamping", seen)
    (refused,) = await yuliana.tap(message, "Ya")
    assert "khusus untuk pendamping" in (refused.text or "")
    with db() as session:
        still = session.get(P2K2Meeting, target_id)
        assert still is not None and still.status is MeetingStatus.SCHEDULED


# --- the KPM's answer to a reminder ------------------------------------------------------------


async def test_a_kpm_answers_a_reminder_and_can_change_her_mind(
    bot: Application,  # type: ignore[type-arg]
    emulator: BotApiEmulator,
    db: sessionmaker[Session],
) -> None:
    kelompok_id, _ = kelompok_of(db, YULIANA)
    starts_at = datetime.combine(
        datetime.now(WITA).date() + timedelta(days=3), time(10), tzinfo=WITA
    )
    with db.begin() as session:
        meeting = P2K2Meeting(kelompok_id=kelompok_id, starts_at=starts_at, place="Posyandu RSVP")
        session.add(meeting)
        session.flush()
        meeting_id = meeting.id
    services: BotServices = bot.bot_data.services
    yuliana = Chat(emulator, YULIANA)

    def is_reminder(m: SentMessage) -> bool:
        return "Posyandu RSVP" in (m.text or "") and m.method == "sendMessage"

    seen = yuliana.seen(is_reminder)
    # The reminder as the scheduler's job queues it; the leader's drain sends it.
    from bot.delivery.scheduling import send_meeting_reminder

    await send_meeting_reminder(meeting_id, meetings.ReminderKind.HOURS_BEFORE.value)
    services.scheduling.outbox_changed()
    reminder = await yuliana.next_where(is_reminder, seen)
    assert labels(reminder) == ["Hadir", "Tidak bisa"]

    (ticked,) = await yuliana.tap(reminder, "Hadir")
    assert ticked.method == "editMessageReplyMarkup"
    assert labels(ticked) == ["✅ Hadir dicatat", "Tidak bisa"]
    assert "dicatat" in (emulator.answered_callbacks[-1].text or "")
    assert rsvp_of(db, meeting_id) is RsvpAnswer.HADIR

    (changed,) = await yuliana.tap(ticked, "Tidak bisa")
    assert labels(changed) == ["Hadir", "✅ Tidak bisa dicatat"]
    assert rsvp_of(db, meeting_id) is RsvpAnswer.TIDAK_BISA


def rsvp_of(db: sessionmaker[Session], meeting_id: int) -> RsvpAnswer | None:
    with db() as session:
        return session.scalar(
            select(MeetingRsvp.answer).where(MeetingRsvp.meeting_id == meeting_id)
        )


# --- silence -----------------------------------------------------------------------------------


async def test_a_step_left_unanswered_ends_politely(
    database: str, nlu_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its own emulator and bot, with a one-second timeout instead of fifteen minutes.
    monkeypatch.setattr(pendamping_tools, "CONVERSATION_TIMEOUT", 1)
    async with BotApiEmulator(TOKEN, first_update_id=600_001) as emulator:
        application = build_application(settings_for(emulator, database, nlu_url, secret_key))
        async with polling_in_this_loop(application):
            chat = Chat(emulator, MARIA)
            emulator.user_sends(MARIA, "/siaran")
            (footer,) = await emulator.wait_for_sent(
                chat_id=MARIA, predicate=lambda m: "+ Siaran baru" in labels(m), timeout=15
            )
            (pick,) = await chat.tap(footer, "+ Siaran baru")
            assert "Lanjut" in labels(pick)
            (ended,) = await emulator.wait_for_sent(
                chat_id=MARIA, predicate=lambda m: "15 menit" in (m.text or ""), timeout=15
            )
            assert "langkah ini saya hentikan" in (ended.text or "")
