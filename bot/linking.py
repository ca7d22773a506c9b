"""/hubungkan: link the account by the pengurus' NIK and date of birth, in a short conversation.

The NIK never reaches the NLU, the logs or the admins' inbox: the messages are read here only,
and the one holding the NIK is deleted from the chat once read.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

from babel.dates import get_month_names
from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext, current_asker, reply_text, with_account
from bot.handlers import link_message
from core.i18n import translator
from programme import accounts
from programme.models import TelegramUser

log = logging.getLogger(__name__)
ASK_NIK, ASK_BIRTH_DATE = range(2)
_MONTHS = {
    name.lower(): number
    for locale in ("id", "en")
    for width in ("wide", "abbreviated")
    for number, name in get_month_names(width, locale=locale).items()
}


def parse_birth_date(text: str) -> date | None:
    """14-03-1991, 14/3/1991, 14.03.1991, 1991-03-14 or "14 Maret 1991"; None if not a date."""
    text = text.strip().lower()
    try:
        if match := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := re.fullmatch(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})", text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if match := re.fullmatch(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})", text):
            month = _MONTHS.get(match[2])
            return date(int(match[3]), month, int(match[1])) if month else None
    except ValueError:
        return None
    return None


async def begin(update: Update, context: BotContext) -> int:
    """Ask for the NIK of the pengurus (the KKS holder)."""
    asker = await current_asker(update, context)
    await reply_text(
        update,
        translator(asker.language)._(
            "Untuk menghubungkan akun, ketik NIK pengurus (pemegang kartu KKS), 16 angka. Pesan "
            "berisi NIK akan saya hapus dari chat setelah dibaca. Ketik /batal untuk berhenti."
        ),
    )
    return ASK_NIK


async def receive_nik(update: Update, context: BotContext) -> int:
    """Keep the NIK for this conversation only, delete the message, ask for the birth date."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    context.user_data.nik = message.text or ""
    try:
        await message.delete()
    except TelegramError:
        log.info("could not delete the NIK message")  # the conversation goes on regardless
    asker = await current_asker(update, context)
    await reply_text(
        update,
        translator(asker.language)._(
            "Terima kasih. Sekarang ketik tanggal lahir pengurus, misalnya 14-03-1991."
        ),
    )
    return ASK_BIRTH_DATE


async def receive_birth_date(update: Update, context: BotContext) -> int:
    """Try to link; say how it went; forget the NIK."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    asker = await current_asker(update, context)
    tr = translator(asker.language)
    birth_date = parse_birth_date(message.text or "")
    if birth_date is None:
        await reply_text(update, tr._("Tanggalnya belum terbaca. Contoh: 14-03-1991."))
        return ASK_BIRTH_DATE
    nik, context.user_data.nik = context.user_data.nik or "", None
    secret_key = context.services.secret_key

    def link(session: Session, user: TelegramUser) -> accounts.LinkResult:
        return accounts.link_with_nik(
            session, user, nik=nik, birth_date=birth_date, secret_key=secret_key,
            now=datetime.now(UTC),
        )  # fmt: skip

    await reply_text(update, link_message(tr, await with_account(context, asker, link)))
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """/batal: stop without linking."""
    if context.user_data is not None:
        context.user_data.nik = None
    asker = await current_asker(update, context)
    await reply_text(update, translator(asker.language)._("Baik, tidak jadi dihubungkan."))
    return ConversationHandler.END


def linking_conversation() -> ConversationHandler:  # type: ignore[type-arg]
    """The /hubungkan conversation, for private chats."""
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return ConversationHandler(
        entry_points=[CommandHandler("hubungkan", begin, filters.ChatType.PRIVATE)],
        states={
            ASK_NIK: [MessageHandler(text, receive_nik)],
            ASK_BIRTH_DATE: [MessageHandler(text, receive_birth_date)],
        },
        fallbacks=[CommandHandler("batal", cancel)],
        conversation_timeout=600,
    )
