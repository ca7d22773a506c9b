"""A pendamping opens the admin's link (`/start pdp-…`): the account gets the pendamping role and
the pendamping's command menu at once."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update

from actions import Asker
from bot.commands import show_commands_for
from bot.context import BotContext, reply_text, with_account
from core.i18n import Translator, translator
from programme import pendamping_access
from programme.kelompok import pendamping_name
from programme.models import UserRole

Result = pendamping_access.PendampingLinkResult


async def link_pendamping(update: Update, context: BotContext, code: str, asker: Asker) -> None:
    """Use the admin's one-time link; say how it went; show the staff menu when it worked."""
    secret_key = context.services.secret_key

    def link(session, user):  # type: ignore[no-untyped-def]
        result = pendamping_access.link_pendamping(
            session, user, code=code[:64], secret_key=secret_key, now=datetime.now(UTC)
        )
        linked = user.pendamping_id
        return result, pendamping_name(session, pendamping_id=linked) if linked else ""

    result, name = await with_account(context, asker, link)
    await reply_text(update, link_text(translator(asker.language), result, name))
    chat = update.effective_chat
    if result in (Result.LINKED, Result.ALREADY_LINKED) and chat is not None:
        await show_commands_for(context.bot, chat_id=chat.id, role=UserRole.PENDAMPING)


def link_text(tr: Translator, result: Result, name: str) -> str:
    """What the pendamping is told after opening the link."""
    if result in (Result.LINKED, Result.ALREADY_LINKED):
        return tr._(
            "Selamat datang, {name}. Akun Telegram ini sekarang terhubung sebagai pendamping. "
            "Menu pendamping sudah aktif: /kelompok, /undangan, /jadwal dan /siaran.",
            name=name,
        )
    if result is Result.FAMILY_ACCOUNT:
        return tr._(
            "Akun Telegram ini terhubung ke data keluarga penerima, jadi tidak bisa dipakai "
            "sebagai akun pendamping. Pakai akun Telegram lain, atau minta admin program membantu."
        )
    if result is Result.TAKEN:
        return tr._(
            "Data pendamping ini sudah terhubung ke akun Telegram lain. Minta admin program "
            "mencabut akses akun lama dulu, lalu buat tautan baru."
        )
    return tr._(
        "Maaf, tautan pendamping ini tidak berlaku: sudah dipakai, dicabut, atau kedaluwarsa. "
        "Minta tautan baru ke admin program."
    )
