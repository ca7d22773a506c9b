"""Telegram handlers: read the update, call one function, reply. No SQL and no formatting here."""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from actions import Asker, Reply
from bot import groups
from bot.callbacks import CallbackSigner
from bot.commands import show_commands_for
from bot.context import (
    BotContext,
    ChatData,
    current_asker,
    in_private_chat,
    in_session,
    reply_text,
    with_account,
)
from bot.handoff import (
    ask_what_to_forward,
    deliver_reply,
    forward_to_pendamping,
    forward_typed_message,
    has_question_to_forward,
    start_reply,
)
from bot.lanes import Flood, FloodOver
from bot.pendamping import onboarding
from bot.replies import chunks, keyboard
from core.i18n import Translator, translator
from nlu.schema import INTENTS, Intent
from programme import accounts, meetings, pendamping_access, questions
from programme.buttons import ButtonKind
from programme.models import (
    RsvpAnswer,
    TelegramUser,
    UserRole,
)

log = logging.getLogger(__name__)
MAX_REMEMBERED = 20
MAX_QUESTION = 1000  # longer texts are cut before the NLU: nobody asks a question that long
# What a handoff does not forward as "the question": asking for the pendamping, small talk.
NOT_A_QUESTION = frozenset(
    {
        Intent.REQUEST_HUMAN,
        Intent.ASK_PENDAMPING_CONTACT,
        Intent.GREET,
        Intent.THANK,
        Intent.GOODBYE,
        Intent.BOT_CHALLENGE,
        Intent.ASK_HELP,
        None,
    }
)
TOPICS = frozenset(INTENTS)  # "/start <topic>": a group's link to ask it in the private chat


async def send_reply(update: Update, context: BotContext, reply: Reply, asker: Asker) -> None:
    """Send a Reply: text in as many messages as needed, the keyboard under the last one."""
    message = update.effective_message
    if message is None:
        return
    if reply.handoff_pendamping_id is not None and not has_question_to_forward(context):
        await ask_what_to_forward(update, context, asker, reply.handoff_pendamping_id)
        return
    tr = translator(asker.language)
    markup = (
        keyboard(reply, context.services.signer, tr, rate=reply.unanswered is None, for_user=user)
        if (user := context.telegram_user_id) is not None
        else None
    )
    parts = chunks(reply.text)
    for number, part in enumerate(parts, 1):
        sent = await message.reply_text(part, reply_markup=markup if number == len(parts) else None)
    question = question_text(update.message) if update.message else None  # not a button's text
    if context.chat_data is not None and question:
        remember_question(context.chat_data, sent.message_id, question, reply)
    if reply.handoff_pendamping_id is not None:
        await forward_to_pendamping(update, context, asker, reply.handoff_pendamping_id)


def remember_question(chat_data: ChatData, answer_id: int, question: str, reply: Reply) -> None:
    """Keep the question behind an answer, so a 👎 or a handoff can pass it on (last 20)."""
    questions = chat_data.questions
    questions[answer_id] = question
    for old in list(questions)[:-MAX_REMEMBERED]:
        del questions[old]
    if reply.intent not in NOT_A_QUESTION:
        chat_data.last_question = question


# --- ordering guard -------------------------------------------------------------------------


async def skip_repeated_update(update: Update, context: BotContext) -> None:
    """Handle each update_id once, also across restarts (Telegram re-delivers after a crash)."""
    if await in_session(context, lambda s: accounts.already_processed(s, update.update_id)):
        log.info("skipping update %s: already processed", update.update_id)
        raise ApplicationHandlerStop


async def remember_update(update: Update, context: BotContext) -> None:
    """Record the update as handled, after its handlers: a worker killed before this point gets
    it again from Telegram (or another worker does) instead of losing it. An update that
    arrives twice at once is kept in order by its chat's lane (bot.lanes)."""
    await in_session(context, lambda s: accounts.first_time(s, update.update_id))


async def gate(update: Update, context: BotContext) -> None:
    """Stop what no handler should see: no person behind it, a command for another bot, a button
    tapped by someone it was not shown to, a button of an inline message (we send none)."""
    user, message, query = update.effective_user, update.effective_message, update.callback_query
    if user is None or user.is_bot or (message is not None and message.sender_chat is not None):
        raise ApplicationHandlerStop  # channel posts, anonymous admins, other bots
    if message is not None and query is None and for_another_bot(message, context):
        raise ApplicationHandlerStop
    if query is None:
        return
    tr = translator("en" if (user.language_code or "").startswith("en") else "id")
    if query.message is None:
        await query.answer(tr._("Tombol ini sudah tidak berlaku. Silakan ketik pertanyaan lagi."))
        raise ApplicationHandlerStop
    callback = context.services.signer.verify(query.data)
    if callback is not None and not callback.is_for(user.id):
        await query.answer(tr._("Tombol ini bukan untuk Anda."), show_alert=True)
        raise ApplicationHandlerStop


def for_another_bot(message: Message, context: BotContext) -> bool:
    """Whether the message is a command addressed to another bot ("/start@otherbot")."""
    text = message.text or ""
    if not text.startswith("/"):
        return False
    _, _, addressee = text.split(maxsplit=1)[0].partition("@")
    return bool(addressee) and addressee.lower() != context.services.bot_username.lower()


async def track_blocking(update: Update, context: BotContext) -> None:
    """The user blocked or unblocked the bot in the private chat: stop or resume sending there."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    reachable = status not in (ChatMember.BANNED, ChatMember.LEFT)
    chat_id = change.chat.id
    if reachable:
        context.services.sender.mark_reachable(chat_id)
    else:
        context.services.sender.mark_blocked(chat_id)
    await in_session(
        context, lambda session: accounts.set_chat_reachable(session, chat_id, reachable=reachable)
    )
    log.info("chat %s %s the bot", chat_id, "unblocked" if reachable else "blocked")


# --- commands -------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """/start greets with the menu; /start <topic> (a group's link) answers that topic here;
    /start <code> links the account with an invite code."""
    asker = await current_asker(update, context)
    svc = context.services
    if not in_private_chat(update):
        if context.args:  # an invite code or a topic belongs in the private chat
            await reply_text(
                update, groups.private_only(translator(asker.language), svc.bot_username)
            )
            return
        greeting = await svc.assistant.reply_to_topic(
            Intent.GREET, asker, group_of_bot=svc.bot_username
        )
        await send_reply(update, context, greeting, asker)
        return
    if context.args and context.args[0] in TOPICS:
        await send_reply(
            update, context, await svc.assistant.reply_to_topic(context.args[0], asker), asker
        )
        return
    if context.args:
        await link_with_code(update, context, context.args[0], asker)
        return
    if update.effective_chat is not None:
        await show_commands_for(context.bot, chat_id=update.effective_chat.id, role=asker.role)
    await send_reply(
        update, context, await svc.assistant.reply_to_topic(Intent.GREET, asker), asker
    )


async def refuse_in_group(update: Update, context: BotContext) -> None:
    """/dataku, /hapus, /berhenti, /mulai, /hubungkan in a group: only in the private chat."""
    asker = await current_asker(update, context)
    tr = translator(asker.language)
    await reply_text(update, groups.private_only(tr, context.services.bot_username))


async def link_with_code(update: Update, context: BotContext, code: str, asker: Asker) -> None:
    """Link by a one-time invite code from the pendamping (or an admin's link for a pendamping)."""
    if pendamping_access.is_pendamping_code(code):
        await onboarding.link_pendamping(update, context, code, asker)
        return
    svc, tr = context.services, translator(asker.language)

    def link(session: Session, user: TelegramUser) -> accounts.LinkResult:
        return accounts.link_with_invite(
            session, user, code=code[:64], secret_key=svc.secret_key, now=datetime.now(UTC)
        )

    result = await with_account(context, asker, link)
    await reply_text(update, link_message(tr, result))
    if result is accounts.LinkResult.LINKED:
        greeting = await svc.assistant.reply_to_topic(
            Intent.GREET, await current_asker(update, context)
        )
        await send_reply(update, context, greeting, asker)


def link_message(tr: Translator, result: accounts.LinkResult) -> str:
    """What to say after a linking attempt."""
    messages = {
        accounts.LinkResult.LINKED: tr._(
            "Akun Telegram Bapak/Ibu sudah terhubung dengan data keluarga. Sekarang jawaban saya "
            "bisa sesuai data keluarga Bapak/Ibu."
        ),
        accounts.LinkResult.ALREADY_LINKED: tr._("Akun ini sudah terhubung dengan keluarga itu."),
        accounts.LinkResult.INVALID: tr._(
            "Maaf, kode atau data itu tidak cocok, sudah dipakai, atau sudah kedaluwarsa. Minta "
            "kode baru ke pendamping, atau ketik /hubungkan untuk memakai NIK dan tanggal lahir."
        ),
        accounts.LinkResult.LOCKED: tr._(
            "Terlalu banyak percobaan yang salah. Demi keamanan, coba lagi besok atau minta kode "
            "undangan ke pendamping."
        ),
        accounts.LinkResult.NOT_A_KPM: tr._(
            "Akun ini terdaftar sebagai petugas, jadi tidak dihubungkan ke data keluarga."
        ),
    }
    return messages[result]


async def show_help(update: Update, context: BotContext) -> None:
    """/bantuan: what the bot can do, with the topic menu."""
    asker = await current_asker(update, context)
    svc = context.services
    in_group = None if in_private_chat(update) else svc.bot_username
    help_reply = await svc.assistant.reply_to_topic(Intent.ASK_HELP, asker, group_of_bot=in_group)
    await send_reply(update, context, help_reply, asker)


async def stop_reminders(update: Update, context: BotContext) -> None:
    """/berhenti: no more reminders or broadcasts."""
    await set_reminders(update, context, enabled=False)


async def resume_reminders(update: Update, context: BotContext) -> None:
    """/mulai: reminders and broadcasts again."""
    await set_reminders(update, context, enabled=True)


async def set_reminders(update: Update, context: BotContext, *, enabled: bool) -> None:
    asker = await current_asker(update, context)

    def save(session: Session, user: TelegramUser) -> None:
        user.reminders_enabled = enabled

    await with_account(context, asker, save)
    tr = translator(asker.language)
    text = (
        tr._("Baik, pengingat dan pengumuman akan saya kirim lagi. Ketik /berhenti untuk berhenti.")
        if enabled
        else tr._(
            "Baik, saya tidak akan mengirim pengingat dan pengumuman lagi, kecuali pesan penting "
            "dari pendamping. Ketik /mulai kalau ingin menerimanya lagi. Bapak/Ibu tetap bisa "
            "bertanya kapan saja."
        )
    )
    await reply_text(update, text)


async def show_my_data(update: Update, context: BotContext) -> None:
    """/dataku: everything the bot stores about this person."""
    asker = await current_asker(update, context)

    data = await with_account(context, asker, accounts.stored_data)
    tr = translator(asker.language)
    linked = data["family"] or tr._("belum terhubung")
    await reply_text(
        update,
        tr._(
            "Data Bapak/Ibu yang disimpan asisten ini:\n"
            "• ID Telegram: {telegram_user_id}\n"
            "• Nama Telegram: {first_name}\n"
            "• Peran: {role}\n"
            "• Keluarga PKH yang terhubung: {family}\n"
            "• Pengingat: {reminders}\n"
            "• Pertanyaan yang disimpan untuk perbaikan: {questions}\n"
            "• Penilaian jawaban: {ratings}\n"
            "• Catatan pesan yang kami kirim: {messages}\n\n"
            "Pertanyaan dibaca petugas agar jawaban saya makin baik (NIK selalu disamarkan); "
            "catatan pesan memastikan pengingat dan pengumuman sampai.\n\n"
            "Ketik /hapus untuk menghapus semua itu. Yang tetap disimpan, tanpa nama dan tanpa "
            "ID Telegram: jumlah pertanyaan untuk statistik, catatan keamanan (misalnya kapan "
            "akun dihubungkan), dan contoh pertanyaan yang sudah dipakai melatih asisten. Data "
            "program (anggota keluarga, komponen, penyaluran) dikelola Kementerian Sosial.",
            telegram_user_id=data["telegram_user_id"],
            first_name=data["first_name"] or "-",
            role=data["role"],
            family=linked,
            reminders=tr._("aktif") if data["reminders_enabled"] else tr._("mati"),
            questions=data["questions_kept"],
            ratings=data["ratings"],
            messages=data["messages"],
        ),
    )


async def ask_to_delete(update: Update, context: BotContext) -> None:
    """/hapus: ask for confirmation before deleting."""
    asker = await current_asker(update, context)
    tr = translator(asker.language)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("Ya, hapus"), callback_data=context.sign(ButtonKind.DELETE, "yes")
                ),
                InlineKeyboardButton(
                    tr._("Batal"), callback_data=context.sign(ButtonKind.DELETE, "no")
                ),
            ]
        ]
    )
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            tr._(
                "Yakin ingin menghapus data Telegram Bapak/Ibu di asisten ini? Tautan ke data "
                "keluarga, pertanyaan yang disimpan, penilaian, dan catatan pesan yang kami kirim "
                "akan dihapus."
            ),
            reply_markup=buttons,
        )


async def refuse_staff_command(update: Update, context: BotContext) -> None:
    """A pendamping command where it cannot run (a KPM, an admin, a group chat): a polite no."""
    await refuse_staff(update, context, await current_asker(update, context))


async def refuse_staff(update: Update, context: BotContext, asker: Asker) -> None:
    """KPM are told it is for pendamping (and it is logged); other staff why it cannot run."""
    message = update.effective_message
    tr = translator(asker.language)
    if asker.role is UserRole.KPM:
        query = update.callback_query
        if query is not None:  # a pendamping's button in a KPM's hands (a forwarded message)
            command = f"button:{(query.data or '').split(':')[0][:20]}"
        else:
            command = (message.text or "").split()[0][:40] if message and message.text else ""
        log.info("user %s tried staff command %s", asker.user_id, command)
        actor = f"telegram:{update.effective_user.id if update.effective_user else 0}"
        await in_session(
            context,
            lambda session: accounts.record_refused_staff_command(
                session, user_id=asker.user_id, actor=actor, command=command
            ),
        )
        await reply_text(
            update,
            tr._(
                "Maaf, perintah itu khusus untuk pendamping. Ketik /bantuan untuk melihat yang "
                "bisa saya bantu."
            ),
        )
    elif asker.pendamping_id is None:
        await reply_text(
            update,
            tr._(
                "Maaf, fitur ini hanya untuk pendamping yang terdaftar. Akun ini belum terhubung "
                "ke data pendamping; hubungi admin program kalau seharusnya sudah."
            ),
        )
    else:
        await reply_text(update, tr._("Silakan pakai perintah ini di chat pribadi dengan saya."))


async def answer_unknown_command(update: Update, context: BotContext) -> None:
    """An unknown command is a question for help; in a group only when it names this bot."""
    message = update.effective_message
    if message is None:
        return
    if not in_private_chat(update):
        first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
        if not first.lower().endswith(f"@{context.services.bot_username}".lower()):
            return  # "/kapan" in a group may be for another bot, or for nobody
    await show_help(update, context)


# --- messages -------------------------------------------------------------------------------


async def answer_text(update: Update, context: BotContext) -> None:
    """A free-text question (or a photo's caption): NLU, action, reply. In groups only when the
    bot is addressed, and only with general facts (bot.groups)."""
    message = update.effective_message
    text = question_text(message) if message is not None else None
    if message is None or not text:
        return
    svc, private = context.services, in_private_chat(update)
    if not private:
        text = addressed_text(message, text, svc.bot_username)
    if not text:
        return
    asker = await current_asker(update, context)
    if private and await deliver_reply(update, context, asker):
        return
    if private and await forward_typed_message(update, context, asker, text[:MAX_QUESTION]):
        return
    reply = await svc.assistant.reply_to_text(
        text[:MAX_QUESTION], asker, group_of_bot=None if private else svc.bot_username
    )
    await send_reply(update, context, reply, asker)


def question_text(message: Message | None) -> str | None:
    """What a message asks: its text, or the caption of a photo or document."""
    if message is None:
        return None
    return message.text or message.caption


def addressed_text(message: Message, text: str, bot_username: str) -> str | None:
    """The question in a group message, or None when the message is not for the bot."""
    replying_to_bot = bool(
        message.reply_to_message
        and message.reply_to_message.from_user
        and message.reply_to_message.from_user.username
        and message.reply_to_message.from_user.username.lower() == bot_username.lower()
    )
    without_mention, mentioned = re.subn(
        rf"@{re.escape(bot_username)}\b", "", text, count=1, flags=re.IGNORECASE
    )
    if mentioned:
        return without_mention.strip()
    return text if replying_to_bot else None


async def answer_other(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice, locations, documents…: say kindly that only text is read."""
    message = update.effective_message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    asker = await current_asker(update, context)
    tr = translator(asker.language)
    await reply_text(
        update,
        tr._(
            "Maaf, saya baru bisa membaca pesan teks. Silakan ketik pertanyaan Bapak/Ibu, "
            'misalnya: "kapan PKH tahap 4 cair?", atau ketik /bantuan untuk melihat menu.'
        ),
    )


async def answer_edited(update: Update, context: BotContext) -> None:
    """An edited message is not answered again; say so once."""
    message = update.edited_message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    asker = await current_asker(update, context)
    await message.reply_text(
        translator(asker.language)._(
            "Pesan yang diubah tidak saya jawab ulang. Kalau ada pertanyaan baru, silakan kirim "
            "sebagai pesan baru."
        )
    )


# --- buttons --------------------------------------------------------------------------------


async def answer_button(update: Update, context: BotContext) -> None:
    """A tapped button: a topic, a rating, an RSVP, a confirmation… (signed, else refused)."""
    query = update.callback_query
    if query is None:
        return
    svc = context.services
    asker = await current_asker(update, context)
    tr = translator(asker.language)
    callback = svc.signer.verify(query.data)
    if callback is None:
        await query.answer(tr._("Tombol ini sudah tidak berlaku. Silakan ketik pertanyaan lagi."))
        return
    if callback.kind is ButtonKind.RSVP:
        await answer_rsvp(update, context, asker, callback.value)
        return
    await query.answer()
    kind = callback.kind
    if kind is ButtonKind.ASK:
        in_group = None if in_private_chat(update) else svc.bot_username
        reply = await svc.assistant.reply_to_topic(callback.value, asker, group_of_bot=in_group)
        await send_reply(update, context, reply, asker)
    elif kind in (ButtonKind.RATE_UP, ButtonKind.RATE_DOWN):
        helpful = kind is ButtonKind.RATE_UP
        await rate_answer(update, context, asker, intent=callback.value, helpful=helpful)
    elif kind is ButtonKind.DELETE:
        await confirm_delete(update, context, asker, confirmed=callback.value == "yes")
    elif kind is ButtonKind.REPLY:
        await start_reply(update, context, asker, callback.value)
    elif kind in (ButtonKind.JADWAL, ButtonKind.SIARAN):  # a step of /jadwal or /siaran that ended
        await reply_text(
            update, tr._("Langkah itu sudah selesai. Ketik /jadwal atau /siaran untuk mulai lagi.")
        )


async def answer_rsvp(update: Update, context: BotContext, asker: Asker, value: str) -> None:
    """Hadir / Tidak bisa under a reminder: record and tick it; the other button changes it."""
    query = update.callback_query
    assert query is not None
    tr = translator(asker.language)
    meeting_text, _, answer_text = value.partition(".")
    if not meeting_text.isdigit() or answer_text not in set(RsvpAnswer):
        await query.answer(tr._("Tombol ini sudah tidak berlaku."))
        return
    meeting_id, answer = int(meeting_text), RsvpAnswer(answer_text)

    def record(session: Session, user: TelegramUser) -> None:
        meetings.record_rsvp(
            session, meeting_id=meeting_id, user=user, answer=answer, now=datetime.now(UTC)
        )

    try:
        await with_account(context, asker, record)
    except meetings.MeetingError as error:
        await query.answer(error.text(tr), show_alert=True)
        return
    await query.answer(tr._("Terima kasih, jawaban Bapak/Ibu sudah dicatat."))
    with contextlib.suppress(BadRequest):  # the same answer again: the buttons already say so
        await query.edit_message_reply_markup(
            rsvp_keyboard(tr, context.services.signer, meeting_id, answer, query.from_user.id)
        )


def rsvp_keyboard(
    tr: Translator, signer: CallbackSigner, meeting_id: int, answer: RsvpAnswer, for_user: int
) -> InlineKeyboardMarkup:
    """The reminder's buttons with the recorded answer ticked; the other one still changes it."""
    hadir, tidak_bisa = RsvpAnswer.HADIR, RsvpAnswer.TIDAK_BISA
    labels = {
        hadir: tr._("✅ Hadir dicatat") if answer is hadir else tr._("Hadir"),
        tidak_bisa: tr._("✅ Tidak bisa dicatat") if answer is tidak_bisa else tr._("Tidak bisa"),
    }
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label,
                    callback_data=signer.sign(
                        ButtonKind.RSVP, f"{meeting_id}.{choice.value}", for_user=for_user
                    ),
                )
                for choice, label in labels.items()
            ]
        ]
    )


async def rate_answer(
    update: Update, context: BotContext, asker: Asker, *, intent: str, helpful: bool
) -> None:
    """Record 👍/👎 once per answer; a 👎 puts the question in the admins' inbox."""
    query = update.callback_query
    assert query is not None and query.message is not None
    message_id = query.message.message_id
    question = context.chat_data.questions.get(message_id, "") if context.chat_data else ""

    recorded = await in_session(
        context,
        lambda session: questions.record_rating(
            session,
            user_id=asker.user_id,
            message_id=message_id,
            intent=intent,
            question=question,
            helpful=helpful,
            now=datetime.now(UTC),
        ),
    )
    tr = translator(asker.language)
    if not recorded:
        await reply_text(update, tr._("Penilaian untuk jawaban ini sudah tercatat. Terima kasih."))
    elif helpful:
        await reply_text(update, tr._("Terima kasih atas penilaiannya!"))
    else:
        await reply_text(
            update,
            tr._(
                "Terima kasih, masukan ini kami catat supaya jawaban saya lebih baik. Kalau perlu, "
                'ketik "hubungi pendamping" untuk bertanya langsung ke pendamping.'
            ),
        )


async def confirm_delete(
    update: Update, context: BotContext, asker: Asker, *, confirmed: bool
) -> None:
    """Delete the account's data after "Ya, hapus", or leave everything as it was."""
    tr = translator(asker.language)
    if not confirmed:
        await reply_text(update, tr._("Baik, tidak ada yang dihapus."))
        return

    await with_account(context, asker, accounts.delete_user_data)
    if context.chat_data is not None:
        context.chat_data.forget()
    await reply_text(
        update,
        tr._(
            "Data Telegram Bapak/Ibu di asisten ini sudah dihapus. Kalau mengirim pesan lagi, "
            "saya akan mulai dari awal."
        ),
    )


# --- floods ---------------------------------------------------------------------------------


async def tell_to_slow_down(bot: Bot, flood: Flood) -> None:
    """A private chat sends faster than it can be answered: one polite notice (bot.lanes)."""
    if not flood.private:
        return  # a group is not told off as a whole; what was dropped is recorded
    tr = translator("en" if (flood.language_code or "").startswith("en") else "id")
    await bot.send_message(
        flood.chat_id,
        tr._(
            "Pelan-pelan ya, Bapak/Ibu 🙏 Pesannya datang terlalu cepat, jadi sebagian tidak "
            "bisa saya baca. Kirim satu pertanyaan, tunggu jawabannya, lalu kirim berikutnya."
        ),
    )


def record_flood(sessions: sessionmaker[Session], over: FloodOver) -> None:
    """One audit row for the admins per flood: who, how many messages dropped (never the text)."""
    with sessions.begin() as session:
        accounts.record_flood(
            session,
            telegram_user_id=over.flood.telegram_user_id,
            chat="private" if over.flood.private else "group",
            dropped=over.dropped,
            seconds=over.seconds,
        )


# --- errors ---------------------------------------------------------------------------------


async def on_error(update: object, context: BotContext) -> None:
    """Log the error (no personal data) and tell the user something went wrong."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(
                Translator()._("Maaf, terjadi gangguan. Silakan coba lagi sebentar lagi.")
            )
        except Exception:
            log.warning("could not tell the user about the error")
