"""What the pendamping's tools share: the role check, signed buttons, steps, times and long lists.

Button kinds (`programme.buttons.ButtonKind`; callback_data starts with the kind): JADWAL and
SIARAN are the steps of the /jadwal and /siaran conversations; KELOMPOK, UNDANGAN, MEETING and
BROADCAST are one-tap actions that need no conversation (a kelompok's roster, an invite batch, a
meeting's or a broadcast's buttons in a list).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ConversationHandler

from actions import Asker
from bot.context import BotContext, current_asker
from bot.handlers import refuse_staff
from bot.replies import chunks
from core.i18n import Translator, translator
from core.when import ParsedWhen, WhenProblem, parse_when
from programme.buttons import ButtonKind
from programme.models import TimeZone
from programme.refusals import Refusal

CONVERSATION_TIMEOUT = 15 * 60  # seconds without an answer before a /jadwal or /siaran step ends
END = ConversationHandler.END
Rows = list[list[InlineKeyboardButton]]


@dataclass(frozen=True)
class Staff:
    """The registered pendamping behind an update, and their language."""

    asker: Asker
    pendamping_id: int
    tr: Translator


async def pendamping_staff(update: Update, context: BotContext) -> Staff | None:
    """The pendamping, if registered and in a private chat; anyone else is refused politely."""
    asker = await current_asker(update, context)
    chat = update.effective_chat
    if asker.pendamping_id is not None and chat is not None and chat.type == ChatType.PRIVATE:
        return Staff(asker, asker.pendamping_id, translator(asker.language))
    if update.callback_query is not None:
        await update.callback_query.answer()
    await refuse_staff(update, context, asker)
    return None


def button(context: BotContext, label: str, kind: ButtonKind, value: str) -> InlineKeyboardButton:
    """An inline button whose callback_data this bot signs."""
    return InlineKeyboardButton(label, callback_data=context.sign(kind, value))


def cancel_markup(context: BotContext, tr: Translator, kind: ButtonKind) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([cancel_row(context, tr, kind)])


Step = Callable[[Update, BotContext], Coroutine[Any, Any, object]]


def tap_handler(kind: ButtonKind, callback: Step, values: str) -> CallbackQueryHandler:  # type: ignore[type-arg]
    """A conversation step's button handler: data of `kind` whose value matches `values`."""
    return CallbackQueryHandler(callback, pattern=rf"^{kind}:({values}):")


def typed(update: Update) -> str:
    """The text of the message, trimmed."""
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


def cancel_row(context: BotContext, tr: Translator, kind: ButtonKind) -> list[InlineKeyboardButton]:
    return [button(context, tr._("Batal"), kind, "batal")]


async def tapped(
    update: Update, context: BotContext, kind: ButtonKind, *, answer: bool = True
) -> str | None:
    """The value of the tapped button if this bot signed it (recently); otherwise refuse the tap."""
    query = update.callback_query
    if query is None:
        return None
    callback = context.services.signer.verify(query.data)
    if callback is None or callback.kind != kind:
        asker = await current_asker(update, context)
        await query.answer(
            translator(asker.language)._("Tombol ini sudah tidak berlaku."), show_alert=True
        )
        return None
    if answer:
        await query.answer()
    return callback.value


def number_after(value: str, prefix: str) -> int | None:
    """12 from "t.12" with prefix "t."; None if the value is not that."""
    rest = value.removeprefix(prefix)
    return int(rest) if rest != value and rest.isdigit() else None


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Reply with a new message (the tapped message, e.g. an item of a list, stays as it is)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A button step edits the tapped message into the next question; a typed step replies."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
        except BadRequest as error:  # tapped twice: the message already says this
            if "not modified" not in str(error).lower():
                raise
        return
    await say(update, text, markup)


async def send_long(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send `text` in as many messages as it needs, the buttons under the last one."""
    chat = update.effective_chat
    if chat is None:
        return
    parts = chunks(text)
    for number, part in enumerate(parts, 1):
        await context.bot.send_message(
            chat.id, part, reply_markup=markup if number == len(parts) else None
        )


def when_text(tr: Translator, moment: datetime, time_zone: TimeZone) -> str:
    """`Sabtu, 28 November 2026 pukul 09.00 WITA`, in the kelompok's own zone."""
    local = moment.astimezone(ZoneInfo(time_zone.value))
    return tr._(
        "{date} pukul {time}",
        date=tr.long_date(local.date()),
        time=tr.local_time(moment, time_zone.value),
    )


def when_examples(tr: Translator) -> str:
    return tr._("Contoh: besok jam 9, Sabtu 14.00, 14/7 pukul 09.30")


def read_when(text: str, *, now: datetime, time_zone: TimeZone, day: date | None) -> ParsedWhen:
    """What was typed, as a moment; after "jam berapa?" (`day`), a time alone completes the day."""
    zone = ZoneInfo(time_zone.value)
    if day is not None:
        completed = parse_when(f"{day.day}/{day.month}/{day.year} {text}", now=now, tz=zone)
        if completed.problem is None:
            return completed
    return parse_when(text, now=now, tz=zone)


async def typed_moment(
    update: Update,
    context: BotContext,
    staff: Staff,
    *,
    time_zone: TimeZone,
    day: date | None,
    kind: ButtonKind,
) -> tuple[datetime | None, date | None]:
    """The typed time in UTC and no day to remember; or None, after explaining what to type.

    The second value is the day to remember when only a day was typed ("Sabtu"), so that the
    next answer ("jam 9") completes it.
    """
    parsed = read_when(typed(update), now=utc_now(), time_zone=time_zone, day=day)
    if parsed.problem is None and parsed.at is not None:
        return parsed.at.astimezone(UTC), None
    await say(
        update,
        when_problem_text(staff.tr, parsed, time_zone),
        cancel_markup(context, staff.tr, kind),
    )
    return None, day_without_time(parsed)


def day_without_time(parsed: ParsedWhen) -> date | None:
    """The day to remember when only a day was typed ("Sabtu"), so "jam 9" can complete it."""
    if parsed.problem is WhenProblem.NO_TIME and parsed.at is not None:
        return parsed.at.date()
    return None


def when_problem_text(tr: Translator, parsed: ParsedWhen, time_zone: TimeZone) -> str:
    """Why a typed time cannot be used, and what to type instead."""
    at = parsed.at
    if parsed.problem is WhenProblem.NO_TIME and at is not None:
        return tr._(
            "{date}, jam berapa? Contoh: jam 9 atau 14.00.",
            date=tr.long_date(at.date()),
        )
    if parsed.problem is WhenProblem.IN_THE_PAST and at is not None:
        return tr._(
            "{when} sudah lewat. Tulis waktu yang akan datang, misalnya: besok jam 9.",
            when=_day_or_moment(tr, at, time_zone),
        )
    if parsed.problem is WhenProblem.TOO_FAR and at is not None:
        return tr._(
            "{when} terlalu jauh (lebih dari setahun lagi). Tulis waktu yang lebih dekat.",
            when=_day_or_moment(tr, at, time_zone),
        )
    return tr._(
        "Maaf, waktunya belum saya pahami. Tulis hari dan jamnya, misalnya: besok jam 9, "
        "Sabtu 14.00, atau 14/7 pukul 09.30."
    )


def _day_or_moment(tr: Translator, at: datetime, time_zone: TimeZone) -> str:
    local = at.astimezone(ZoneInfo(time_zone.value))
    return (
        tr.long_date(local.date())
        if (local.hour, local.minute) == (0, 0)
        else when_text(tr, at, time_zone)
    )


def no_kelompok_text(tr: Translator) -> str:
    return tr._(
        "Belum ada kelompok yang terdaftar atas nama Bapak/Ibu. Hubungi admin program kalau "
        "seharusnya sudah ada."
    )


def refusal_text(tr: Translator, error: Exception) -> str:
    """A domain refusal in the reader's language."""
    return error.text(tr) if isinstance(error, Refusal) else str(error)


def actor(update: Update) -> str:
    """Who did it, for the audit log."""
    return f"telegram:{update.effective_user.id if update.effective_user else 0}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def clear_drafts(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.drafts.clear()


# --- what every step of /jadwal and /siaran answers -----------------------------------------


async def cancel(update: Update, context: BotContext) -> object:
    """/batal or a Batal button: stop, nothing saved."""
    query = update.callback_query
    if query is not None:
        callback = context.services.signer.verify(query.data)
        kind = callback.kind if callback is not None else ButtonKind.JADWAL  # refused below
        if await tapped(update, context, kind) is None:
            return None
    clear_drafts(context)
    asker = await current_asker(update, context)
    await show(update, translator(asker.language)._("Baik, dibatalkan. Tidak ada yang disimpan."))
    return END


async def refuse_old_button(update: Update, context: BotContext) -> None:
    """A button of an earlier step: say so and keep waiting for this step's answer."""
    query = update.callback_query
    if query is not None:
        asker = await current_asker(update, context)
        await query.answer(
            translator(asker.language)._(
                "Tombol itu dari langkah sebelumnya. Silakan jawab pertanyaan terakhir, atau "
                "ketik /batal."
            ),
            show_alert=True,
        )


async def end_after_silence(update: object, context: BotContext) -> None:
    """No answer for 15 minutes: end the step politely."""
    clear_drafts(context)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    asker = await current_asker(update, context)
    await context.bot.send_message(
        update.effective_chat.id,
        translator(asker.language)._(
            "Karena tidak ada jawaban selama {minutes} menit, langkah ini saya hentikan dan belum "
            "ada yang disimpan. Ketik /jadwal atau /siaran untuk mulai lagi.",
            minutes=CONVERSATION_TIMEOUT // 60,
        ),
    )
