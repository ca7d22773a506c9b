"""The command menus Telegram shows, per role (set_my_commands)."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat

from programme.models import UserRole

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
    """A pendamping's or admin's chat gets the staff commands too (KPM keep the default menu)."""
    if role is not UserRole.KPM:
        await bot.set_my_commands(
            [*KPM_COMMANDS, *STAFF_COMMANDS], scope=BotCommandScopeChat(chat_id)
        )
