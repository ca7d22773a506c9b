"""The command menus Telegram shows, per role (set_my_commands)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from programme.models import UserRole

log = logging.getLogger(__name__)

KPM_COMMANDS = (
    BotCommand("start", "Mulai dan lihat menu"),
    BotCommand("bantuan", "Apa saja yang bisa ditanyakan"),
    BotCommand("hubungkan", "Hubungkan akun dengan NIK dan tanggal lahir"),
    BotCommand("dataku", "Data saya yang disimpan"),
    BotCommand("berhenti", "Berhenti menerima pengingat"),
    BotCommand("mulai", "Menerima pengingat lagi"),
    BotCommand("hapus", "Hapus data Telegram saya"),
)
STAFF_COMMANDS = (
    BotCommand("kelompok", "Kelompok dan anggota saya"),
    BotCommand("undangan", "Kode undangan untuk KPM"),
    BotCommand("jadwal", "Jadwalkan pertemuan P2K2"),
    BotCommand("siaran", "Kirim pengumuman ke kelompok"),
)


async def show_commands_for(bot: Bot, *, chat_id: int, role: UserRole) -> None:
    """A pendamping's or admin's chat gets the staff commands too (KPM keep the default menu).

    The menu is cosmetic: if Telegram refuses it, the greeting still goes out (and the commands
    still work when typed).
    """
    if role is not UserRole.KPM:
        try:
            await bot.set_my_commands(
                [*KPM_COMMANDS, *STAFF_COMMANDS], scope=BotCommandScopeChat(chat_id)
            )
        except TelegramError as error:
            log.warning("could not set the staff menu for chat %s: %s", chat_id, error.message)
