"""The pendamping's tools: /kelompok (who has linked) and /undangan (invite links), and the one
conversation that holds the steps of /jadwal and /siaran.
"""

from __future__ import annotations

import warnings
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    TypeHandler,
)

from bot.context import BotContext, in_session, reply_text
from bot.pendamping import jadwal, siaran
from bot.pendamping.staff import (
    CONVERSATION_TIMEOUT,
    actor,
    button,
    cancel,
    end_after_silence,
    no_kelompok_text,
    pendamping_staff,
    refuse_old_button,
    send_long,
    show,
    tapped,
    utc_now,
    when_text,
)
from core.i18n import Translator
from programme import kelompok, meetings
from programme.buttons import ButtonKind
from programme.kelompok import InviteBatch, KelompokRoster
from programme.meetings import KelompokChoice

KELOMPOK = ButtonKind.KELOMPOK
UNDANGAN = ButtonKind.UNDANGAN


# --- /kelompok ------------------------------------------------------------------------------


async def show_kelompok(update: Update, context: BotContext) -> None:
    """/kelompok: the kelompok and how many of their families linked; a tap shows the families."""
    staff = await pendamping_staff(update, context)
    if staff is None:
        return
    choices = await in_session(
        context, lambda s: meetings.kelompok_choices(s, pendamping_id=staff.pendamping_id)
    )
    if not choices:
        await reply_text(update, no_kelompok_text(staff.tr))
        return
    rows = [[button(context, choice.name, KELOMPOK, str(choice.id))] for choice in choices]
    await send_long(
        update, context, kelompok_list_text(staff.tr, choices), InlineKeyboardMarkup(rows)
    )


async def show_families(update: Update, context: BotContext) -> None:
    """A kelompok tapped under /kelompok: its families (✅ linked, ⏳ not yet), its next meeting."""
    staff = await pendamping_staff(update, context)
    value = await tapped(update, context, KELOMPOK) if staff is not None else None
    if staff is None or value is None or not value.isdigit():
        return
    roster = await in_session(
        context,
        lambda s: kelompok.kelompok_roster(
            s, pendamping_id=staff.pendamping_id, kelompok_id=int(value), now=utc_now()
        ),
    )
    if roster is None:
        await reply_text(
            update, staff.tr._("Kelompok itu tidak ada di daftar dampingan Bapak/Ibu.")
        )
        return
    await send_long(update, context, roster_text(staff.tr, roster))


# --- /undangan ------------------------------------------------------------------------------


async def choose_kelompok_for_invites(update: Update, context: BotContext) -> None:
    """/undangan: which kelompok to make invite links for."""
    staff = await pendamping_staff(update, context)
    if staff is None:
        return
    choices = await in_session(
        context, lambda s: meetings.kelompok_choices(s, pendamping_id=staff.pendamping_id)
    )
    if not choices:
        await reply_text(update, no_kelompok_text(staff.tr))
        return
    rows = [
        [button(context, invite_choice_label(staff.tr, choice), UNDANGAN, str(choice.id))]
        for choice in choices
    ]
    await show(
        update,
        staff.tr._(
            "Buat tautan undangan untuk kelompok mana? Setiap keluarga yang belum terhubung "
            "mendapat satu tautan."
        ),
        InlineKeyboardMarkup(rows),
    )


async def make_invites(update: Update, context: BotContext) -> None:
    """A kelompok tapped under /undangan: one invite link per family not linked yet."""
    staff = await pendamping_staff(update, context)
    value = await tapped(update, context, UNDANGAN) if staff is not None else None
    if staff is None or value is None or not value.isdigit():
        return
    svc = context.services
    batch = await in_session(
        context,
        lambda s: kelompok.create_invites(
            s,
            pendamping_id=staff.pendamping_id,
            kelompok_id=int(value),
            secret_key=svc.secret_key,
            now=utc_now(),
            actor=actor(update),
            actor_user_id=staff.asker.user_id,
        ),
    )
    if batch is None:
        await show(update, staff.tr._("Kelompok itu tidak ada di daftar dampingan Bapak/Ibu."))
        return
    await show(update, invites_header(staff.tr, batch))
    if batch.invites:
        await send_long(update, context, invite_lines(batch, svc.bot_username))


# --- /jadwal and /siaran: one conversation ----------------------------------------------------


def tools_conversation() -> ConversationHandler:  # type: ignore[type-arg]
    """The steps of /jadwal and /siaran, in private chats.

    One conversation, not two: starting one tool ends the other, so a typed answer can never go
    to a step of the tool the pendamping left. Its buttons are matched by their signed kind
    (JADWAL, SIARAN) and verified inside.
    """
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button is not tied to its message; on purpose:
        # the conversation is per user and chat, and every button is signed and checked.
        warnings.filterwarnings("ignore", message=".*per_message=False.*")
        return ConversationHandler(
            entry_points=[*jadwal.entry_points(), *siaran.entry_points()],
            states={
                **jadwal.states(),
                **siaran.states(),
                ConversationHandler.TIMEOUT: [TypeHandler(Update, end_after_silence)],
            },
            fallbacks=[
                CommandHandler("batal", cancel),
                CallbackQueryHandler(cancel, pattern=r"^(jd|sr):batal:"),
                CallbackQueryHandler(refuse_old_button, pattern=r"^(jd|sr):"),
            ],
            allow_reentry=True,
            per_message=False,
            conversation_timeout=CONVERSATION_TIMEOUT,
            name="pendamping_tools",
        )


# --- texts ----------------------------------------------------------------------------------


def kelompok_list_text(tr: Translator, choices: list[KelompokChoice]) -> str:
    lines = [tr._("Kelompok dampingan Bapak/Ibu:")]
    lines += [
        tr._(
            "• {name} — {families} keluarga, {linked} terhubung",
            name=c.name,
            families=c.families,
            linked=c.linked,
        )
        for c in choices
    ]
    lines += ["", tr._("Ketuk nama kelompok untuk melihat keluarganya.")]
    return "\n".join(lines)


def roster_text(tr: Translator, roster: KelompokRoster) -> str:
    linked = sum(1 for family in roster.families if family.linked)
    lines = [
        tr._(
            "{name} — {families} keluarga, {linked} terhubung",
            name=roster.name,
            families=len(roster.families),
            linked=linked,
        ),
        "",
    ]
    lines += [f"{'✅' if family.linked else '⏳'} {family.name}" for family in roster.families]
    lines += [
        "",
        tr._("✅ sudah terhubung dengan asisten, ⏳ belum (ketik /undangan untuk tautannya)."),
    ]
    meeting = roster.next_meeting
    if meeting is None:
        lines.append(tr._("Belum ada pertemuan berikutnya. Ketik /jadwal untuk menjadwalkan."))
    else:
        lines.append(
            tr._(
                "Pertemuan berikutnya: {when}, {place}.",
                when=when_text(tr, meeting.starts_at, meeting.time_zone),
                place=meeting.place,
            )
        )
    return "\n".join(lines)


def invite_choice_label(tr: Translator, choice: KelompokChoice) -> str:
    return tr._(
        "{name} ({count} belum terhubung)", name=choice.name, count=choice.families - choice.linked
    )


def invites_header(tr: Translator, batch: InviteBatch) -> str:
    if not batch.invites:
        return tr._(
            "Semua keluarga di {kelompok} sudah terhubung. Tidak perlu tautan undangan.",
            kelompok=batch.kelompok_name,
        )
    local_day = batch.expires_at.astimezone(ZoneInfo(batch.time_zone.value)).date()
    header = tr._(
        "Tautan undangan {kelompok}: {count} keluarga yang belum terhubung, berlaku sampai "
        "{date}.\n\nTeruskan setiap tautan hanya ke keluarga yang namanya tertulis di depannya "
        "(misalnya lewat WhatsApp). Satu tautan untuk satu keluarga dan hanya bisa dipakai sekali.",
        kelompok=batch.kelompok_name,
        count=len(batch.invites),
        date=tr.short_date(local_day),
    )
    if batch.reissued:
        header += " " + tr._(
            "Tautan yang sudah pernah Bapak/Ibu kirim tetap sama dan tetap berlaku ({count} "
            "keluarga).",
            count=batch.reissued,
        )
    return header


def invite_lines(batch: InviteBatch, bot_username: str) -> str:
    return "\n".join(
        f"{invite.family_name} — https://t.me/{bot_username}?start={invite.code}"
        for invite in batch.invites
    )
