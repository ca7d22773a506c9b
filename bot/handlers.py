"""Telegram handlers: read the update, call one function, reply. No SQL and no formatting here."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from actions import Asker, Reply
from bot.callbacks import CallbackSigner
from bot.commands import show_commands_for
from bot.context import (
    BotContext,
    ChatData,
    current_asker,
    in_session,
    reply_text,
    with_account,
)
from bot.handoff import deliver_reply, forward_to_pendamping, start_reply
from bot.replies import chunks, keyboard
from core.i18n import Translator, translator
from nlu.schema import Intent
from programme import accounts, meetings, questions
from programme.buttons import ButtonKind
from programme.models import (
    RsvpAnswer,
    TelegramUser,
    UserRole,
)

log = logging.getLogger(__name__)
MAX_REMEMBERED = 20
MAX_QUESTION = 1000  # longer texts are cut before the NLU: nobody asks a question that long


async def send_reply(update: Update, context: BotContext, reply: Reply, asker: Asker) -> None:
    """Send a Reply: text in as many messages as needed, the keyboard under the last one."""
    message = update.effective_message
    if message is None:
        return
    tr = translator(asker.language)
    markup = keyboard(reply, context.services.signer, tr, rate=reply.unanswered is None)
    parts = chunks(reply.text)
    for number, part in enumerate(parts, 1):
        sent = await message.reply_text(part, reply_markup=markup if number == len(parts) else None)
    question = update.message.text if update.message else None  # not a tapped button's text
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
    if reply.intent not in (Intent.REQUEST_HUMAN, None):
        chat_data.last_question = question


# --- ordering guard -------------------------------------------------------------------------


async def skip_repeated_update(update: Update, context: BotContext) -> None:
    """Handle each update_id once, also across restarts (Telegram re-delivers after a crash)."""
    if not await in_session(context, lambda s: accounts.first_time(s, update.update_id)):
        log.info("skipping update %s: already processed", update.update_id)
        raise ApplicationHandlerStop


# --- commands -------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """/start greets with the menu; /start <code> links the account with an invite code."""
    asker = await current_asker(update, context)
    if context.args:
        await link_with_code(update, context, context.args[0], asker)
        return
    if update.effective_chat is not None:
        await show_commands_for(context.bot, chat_id=update.effective_chat.id, role=asker.role)
    await send_reply(
        update,
        context,
        await context.services.assistant.reply_to_topic(Intent.GREET, asker),
        asker,
    )


async def link_with_code(update: Update, context: BotContext, code: str, asker: Asker) -> None:
    """Link by a one-time invite code from the pendamping."""
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
    await send_reply(
        update,
        context,
        await context.services.assistant.reply_to_topic(Intent.ASK_HELP, asker),
        asker,
    )


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
    tr, signer = translator(asker.language), context.services.signer
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("Ya, hapus"), callback_data=signer.sign(ButtonKind.DELETE, "yes")
                ),
                InlineKeyboardButton(
                    tr._("Batal"), callback_data=signer.sign(ButtonKind.DELETE, "no")
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


# --- messages -------------------------------------------------------------------------------


async def answer_text(update: Update, context: BotContext) -> None:
    """A free-text question: NLU, action, reply (in groups only when the bot is addressed)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    text: str | None = message.text
    if message.chat.type != ChatType.PRIVATE:
        text = addressed_text(message, context.services.bot_username)
    if not text:
        return
    asker = await current_asker(update, context)
    if await deliver_reply(update, context, asker):
        return
    reply = await context.services.assistant.reply_to_text(text[:MAX_QUESTION], asker)
    await send_reply(update, context, reply, asker)


def addressed_text(message: Message, bot_username: str) -> str | None:
    """The question in a group message, or None when the message is not for the bot."""
    text = message.text or ""
    mention = f"@{bot_username}".lower()
    replying_to_bot = bool(
        message.reply_to_message
        and message.reply_to_message.from_user
        and message.reply_to_message.from_user.username
        and message.reply_to_message.from_user.username.lower() == bot_username.lower()
    )
    if mention in text.lower():
        start = text.lower().index(mention)
        return (text[:start] + text[start + len(mention) :]).strip()
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
        await send_reply(
            update, context, await svc.assistant.reply_to_topic(callback.value, asker), asker
        )
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
            rsvp_keyboard(tr, context.services.signer, meeting_id, answer)
        )


def rsvp_keyboard(
    tr: Translator, signer: CallbackSigner, meeting_id: int, answer: RsvpAnswer
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
                    callback_data=signer.sign(ButtonKind.RSVP, f"{meeting_id}.{choice.value}"),
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
