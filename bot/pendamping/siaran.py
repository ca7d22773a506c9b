"""/siaran: the pendamping's broadcasts — recent ones with their delivery counts, and a new one.

New: kelompok (several may be ticked) → the message → now or later (typed) → biasa or mendesak →
preview (exactly what members will read, and how many) → Kirim. A listed broadcast's buttons
show its report, cancel it (after a confirmation) or send its failed messages again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext, in_session
from bot.pendamping.staff import (
    END,
    Staff,
    actor,
    button,
    cancel_markup,
    cancel_row,
    clear_drafts,
    no_kelompok_text,
    number_after,
    pendamping_staff,
    refusal_text,
    say,
    send_long,
    show,
    tap_handler,
    tapped,
    typed,
    typed_moment,
    utc_now,
    when_examples,
    when_text,
)
from core.i18n import Translator
from programme import broadcasts, kelompok, meetings
from programme.broadcasts import BroadcastError, BroadcastView
from programme.buttons import ButtonKind
from programme.meetings import KelompokChoice
from programme.models import BroadcastStatus, OutboxState, TimeZone

KIND = ButtonKind.SIARAN  # the conversation's buttons
ONE_TAP = (
    ButtonKind.BROADCAST
)  # a listed broadcast's buttons: report, resend, cancel and its confirmation
PICK, WRITE, WHEN, LATER, URGENCY, PREVIEW = (
    f"siaran.{step}" for step in ("pick", "write", "when", "later", "urgency", "preview")
)
DRAFT = "siaran"  # UserData.drafts key
Handlers = list[BaseHandler]  # type: ignore[type-arg]


@dataclass
class BroadcastDraft:
    """A new broadcast, filled in step by step."""

    choices: list[KelompokChoice]
    pendamping_name: str
    selected: set[int] = field(default_factory=set)
    text: str = ""
    send_at: datetime | None = None  # UTC; None is "now"
    day: date | None = None  # a day typed without a time, waiting for "jam berapa?"
    urgent: bool = False
    recipients: int = 0

    @property
    def kelompok(self) -> list[KelompokChoice]:
        return [c for c in self.choices if c.id in self.selected]

    @property
    def time_zone(self) -> TimeZone:
        """The zone "later" is read and shown in: the (first) chosen kelompok's."""
        return (self.kelompok or self.choices)[0].time_zone


# --- the list ---------------------------------------------------------------------------------


async def show_broadcasts(update: Update, context: BotContext) -> object:
    """/siaran: recent broadcasts with their counts and buttons, then "+ Siaran baru"."""
    staff = await pendamping_staff(update, context)
    if staff is None:
        return END
    clear_drafts(context)

    def read(session: Session) -> tuple[list[BroadcastView], TimeZone]:
        views = broadcasts.recent_broadcasts(session, pendamping_id=staff.pendamping_id)
        return views, pendamping_zone(session, staff.pendamping_id)

    views, zone = await in_session(context, read)
    for view in reversed(views):  # oldest first, so the newest is next to "+ Siaran baru"
        await send_long(
            update,
            context,
            broadcast_text(staff.tr, view, zone, held_until(context, view)),
            broadcast_buttons(context, staff.tr, view),
        )
    new = InlineKeyboardMarkup([[button(context, staff.tr._("+ Siaran baru"), KIND, "new")]])
    footer = (
        staff.tr._("Kirim pengumuman baru?")
        if views
        else staff.tr._("Belum ada siaran. Kirim pengumuman baru?")
    )
    await send_long(update, context, footer, new)
    return END


# --- a new broadcast --------------------------------------------------------------------------


async def start_new(update: Update, context: BotContext) -> object:
    """The "+ Siaran baru" button: which kelompok."""
    staff = await pendamping_staff(update, context)
    if staff is None or await tapped(update, context, KIND) is None:
        return END
    clear_drafts(context)

    def read(session: Session) -> tuple[list[KelompokChoice], str]:
        choices = meetings.kelompok_choices(session, pendamping_id=staff.pendamping_id)
        return choices, kelompok.pendamping_name(session, pendamping_id=staff.pendamping_id)

    choices, name = await in_session(context, read)
    if not choices:
        await show(update, no_kelompok_text(staff.tr))
        return END
    draft = BroadcastDraft(choices, name, selected={choices[0].id} if len(choices) == 1 else set())
    assert context.user_data is not None
    context.user_data.drafts[DRAFT] = draft
    await show(update, pick_text(staff.tr), pick_markup(context, staff.tr, draft))
    return PICK


async def pick_kelompok(update: Update, context: BotContext) -> object:
    """Tick or untick a kelompok, or all of them; "Lanjut" asks for the message."""
    staff, draft = await pendamping_staff(update, context), broadcast_draft(context)
    value = await tapped(update, context, KIND, answer=False) if staff is not None else None
    query = update.callback_query
    if staff is None or draft is None or value is None or query is None:
        return None
    if value == "next":
        if not draft.selected:
            await query.answer(staff.tr._("Pilih minimal satu kelompok dulu."), show_alert=True)
            return None
        await query.answer()
        await show(
            update,
            chosen_text(staff.tr, draft) + "\n\n" + write_text(staff.tr),
            cancel_markup(context, staff.tr, KIND),
        )
        return WRITE
    await query.answer()
    every = {c.id for c in draft.choices}
    if value == "all":
        draft.selected = set() if draft.selected == every else every
    elif (kelompok_id := number_after(value, "k.")) in every:
        draft.selected ^= {kelompok_id}
    await show(update, pick_text(staff.tr), pick_markup(context, staff.tr, draft))
    return None


async def receive_text(update: Update, context: BotContext) -> object:
    """The message to send; too long is said, and the step asked again."""
    staff, draft = await pendamping_staff(update, context), broadcast_draft(context)
    if staff is None or draft is None:
        return END
    text = typed(update)
    if len(text) > broadcasts.MAX_TEXT:
        await say(
            update, too_long_text(staff.tr, len(text)), cancel_markup(context, staff.tr, KIND)
        )
        return None
    draft.text = text
    tr = staff.tr
    rows = [
        [
            button(context, tr._("Sekarang"), KIND, "now"),
            button(context, tr._("Nanti"), KIND, "later"),
        ],
        cancel_row(context, tr, KIND),
    ]
    await say(update, tr._("Kapan dikirim?"), InlineKeyboardMarkup(rows))
    return WHEN


async def choose_when(update: Update, context: BotContext) -> object:
    """When: "Sekarang" goes on to the urgency, "Nanti" asks for the time."""
    staff, draft = await pendamping_staff(update, context), broadcast_draft(context)
    value = await tapped(update, context, KIND) if staff is not None else None
    if staff is None or draft is None or value is None:
        return None
    if value == "now":
        draft.send_at = None
        await show(update, urgency_text(staff.tr), urgency_markup(context, staff.tr))
        return URGENCY
    await show(update, later_text(staff.tr), cancel_markup(context, staff.tr, KIND))
    return LATER


async def receive_later(update: Update, context: BotContext) -> object:
    """The typed sending time, read in the kelompok's zone."""
    staff, draft = await pendamping_staff(update, context), broadcast_draft(context)
    if staff is None or draft is None:
        return END
    zone = draft.time_zone
    at, draft.day = await typed_moment(
        update, context, staff, time_zone=zone, day=draft.day, kind=KIND
    )
    if at is None:
        return None
    draft.send_at = at
    text = (
        staff.tr._("Dikirim {when}.", when=when_text(staff.tr, draft.send_at, zone))
        + "\n\n"
        + urgency_text(staff.tr)
    )
    await say(update, text, urgency_markup(context, staff.tr))
    return URGENCY


async def choose_urgency(update: Update, context: BotContext) -> object:
    """Biasa or mendesak; then the preview: the exact text, how many will get it, and when."""
    staff, draft = await pendamping_staff(update, context), broadcast_draft(context)
    value = await tapped(update, context, KIND) if staff is not None else None
    if staff is None or draft is None or value is None:
        return None
    draft.urgent = value == "urgent"
    ids, urgent = sorted(draft.selected), draft.urgent
    draft.recipients = await in_session(
        context, lambda s: broadcasts.recipient_count(s, kelompok_ids=ids, urgent=urgent)
    )
    tr = staff.tr
    await show(update, tr._("Pratinjau: pesan di bawah ini yang akan diterima anggota."))
    await send_long(update, context, recipient_text(tr, draft))
    rows = [
        [
            button(context, tr._("Kirim"), KIND, "send"),
            button(context, tr._("Batal"), KIND, "batal"),
        ]
    ]
    await send_long(update, context, preview_text(tr, draft), InlineKeyboardMarkup(rows))
    return PREVIEW


async def send_broadcast(update: Update, context: BotContext) -> object:
    """The preview's "Kirim": save the broadcast and schedule it (now or at its time)."""
    staff, draft = await pendamping_staff(update, context), broadcast_draft(context)
    value = await tapped(update, context, KIND) if staff is not None else None
    if staff is None or draft is None or value is None:
        return None
    now, who = utc_now(), actor(update)
    send_at = draft.send_at or now

    def save(session: Session) -> int:
        broadcast = broadcasts.create_broadcast(
            session,
            pendamping_id=staff.pendamping_id,
            author_user_id=staff.asker.user_id,
            kelompok_ids=sorted(draft.selected),
            text=draft.text,
            send_at=send_at,
            urgent=draft.urgent,
            now=now,
            actor=who,
        )
        return broadcast.id

    clear_drafts(context)
    try:
        broadcast_id = await in_session(context, save)
    except BroadcastError as error:
        await show(update, refusal_text(staff.tr, error))
        return END
    await context.services.scheduling.broadcast_saved(broadcast_id, send_at)
    await show(update, sent_text(staff.tr, draft))
    return END


# --- a listed broadcast's buttons (one tap, or a tap and its confirmation) --------------------


async def broadcast_action(update: Update, context: BotContext) -> None:
    """Laporan, Kirim ulang yang gagal, Batalkan → Ya, batalkan / Tidak."""
    staff = await pendamping_staff(update, context)
    value = await tapped(update, context, ONE_TAP) if staff is not None else None
    if staff is None or value is None:
        return
    try:
        if (broadcast_id := number_after(value, "r.")) is not None:
            await show_report(update, context, staff, broadcast_id)
        elif (broadcast_id := number_after(value, "f.")) is not None:
            await resend_failed(update, context, staff, broadcast_id)
        elif (broadcast_id := number_after(value, "c.")) is not None:
            await ask_to_cancel(update, context, staff, broadcast_id)
        elif (broadcast_id := number_after(value, "cy.")) is not None:
            await cancel_broadcast(update, context, staff, broadcast_id)
        else:
            await show(update, staff.tr._("Baik, siaran tidak dibatalkan."))
    except BroadcastError as error:
        await say(update, refusal_text(staff.tr, error))


async def show_report(update: Update, context: BotContext, staff: Staff, broadcast_id: int) -> None:
    """The delivery report of one broadcast."""

    def read(session: Session) -> tuple[BroadcastView, TimeZone]:
        view = broadcasts.broadcast_view(
            session, broadcast_id=broadcast_id, pendamping_id=staff.pendamping_id
        )
        return view, pendamping_zone(session, staff.pendamping_id)

    view, zone = await in_session(context, read)
    await say(
        update,
        report_text(staff.tr, view, zone, held_until(context, view)),
        broadcast_buttons(context, staff.tr, view, report=False),
    )


async def resend_failed(
    update: Update, context: BotContext, staff: Staff, broadcast_id: int
) -> None:
    """Queue the failed messages again."""
    now, who = utc_now(), actor(update)
    count = await in_session(
        context,
        lambda s: broadcasts.resend_failed(
            s, broadcast_id=broadcast_id, pendamping_id=staff.pendamping_id, now=now, actor=who
        ),
    )
    context.services.scheduling.outbox_changed()
    if count:
        await say(update, staff.tr._("{count} pesan yang gagal akan dikirim ulang.", count=count))
    else:
        await say(update, staff.tr._("Tidak ada pesan gagal yang perlu dikirim ulang."))


async def ask_to_cancel(
    update: Update, context: BotContext, staff: Staff, broadcast_id: int
) -> None:
    """Ask before cancelling a broadcast."""

    def read(session: Session) -> tuple[BroadcastView, TimeZone]:
        view = broadcasts.broadcast_view(
            session, broadcast_id=broadcast_id, pendamping_id=staff.pendamping_id
        )
        return view, pendamping_zone(session, staff.pendamping_id)

    view, zone = await in_session(context, read)
    tr = staff.tr
    rows = [
        [
            button(context, tr._("Ya, batalkan"), ONE_TAP, f"cy.{broadcast_id}"),
            button(context, tr._("Tidak"), ONE_TAP, "cn"),
        ]
    ]
    text = (
        tr._("Batalkan siaran ini? Pesan yang belum terkirim tidak akan dikirim.")
        + "\n\n"
        + broadcast_text(tr, view, zone, held_until(context, view))
    )
    await say(update, text, InlineKeyboardMarkup(rows))


async def cancel_broadcast(
    update: Update, context: BotContext, staff: Staff, broadcast_id: int
) -> None:
    """Cancel the broadcast and its job."""
    now, who = utc_now(), actor(update)
    await in_session(
        context,
        lambda s: broadcasts.cancel_broadcast(
            s, broadcast_id=broadcast_id, pendamping_id=staff.pendamping_id, now=now, actor=who
        ),
    )
    await context.services.scheduling.broadcast_cancelled(broadcast_id)
    await show(
        update, staff.tr._("Siaran dibatalkan. Pesan yang belum terkirim tidak akan dikirim.")
    )


# --- the conversation's parts -----------------------------------------------------------------


def entry_points() -> Handlers:
    """/siaran and its "+ Siaran baru" button."""
    return [
        CommandHandler("siaran", show_broadcasts, filters.ChatType.PRIVATE),
        CallbackQueryHandler(start_new, pattern=rf"^{KIND}:new:"),
    ]


def states() -> dict[object, Handlers]:
    text = filters.TEXT & ~filters.COMMAND
    tap = partial(tap_handler, KIND)
    return {
        PICK: [tap(pick_kelompok, r"k\.\d+|all|next")],
        WRITE: [MessageHandler(text, receive_text)],
        WHEN: [tap(choose_when, "now|later")],
        LATER: [MessageHandler(text, receive_later)],
        URGENCY: [tap(choose_urgency, "normal|urgent")],
        PREVIEW: [tap(send_broadcast, "send")],
    }


def broadcast_draft(context: BotContext) -> BroadcastDraft | None:
    draft = context.user_data.drafts.get(DRAFT) if context.user_data else None
    return draft if isinstance(draft, BroadcastDraft) else None


def pendamping_zone(session: Session, pendamping_id: int) -> TimeZone:
    """Where the pendamping works, for showing times (their first kelompok's zone)."""
    choices = meetings.kelompok_choices(session, pendamping_id=pendamping_id)
    return choices[0].time_zone if choices else TimeZone.WIB


def pick_markup(context: BotContext, tr: Translator, draft: BroadcastDraft) -> InlineKeyboardMarkup:
    rows = [
        [button(context, f"✅ {c.name}" if c.id in draft.selected else c.name, KIND, f"k.{c.id}")]
        for c in draft.choices
    ]
    rows.append(
        [
            button(context, tr._("Semua kelompok"), KIND, "all"),
            button(context, tr._("Lanjut"), KIND, "next"),
        ]
    )
    rows.append(cancel_row(context, tr, KIND))
    return InlineKeyboardMarkup(rows)


def urgency_markup(context: BotContext, tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(context, tr._("Biasa"), KIND, "normal"),
                button(context, tr._("Penting/mendesak"), KIND, "urgent"),
            ],
            cancel_row(context, tr, KIND),
        ]
    )


def broadcast_buttons(
    context: BotContext, tr: Translator, view: BroadcastView, *, report: bool = True
) -> InlineKeyboardMarkup | None:
    row: list[InlineKeyboardButton] = []
    if report:
        row.append(button(context, tr._("Laporan"), ONE_TAP, f"r.{view.id}"))
    if is_pending(view):
        row.append(button(context, tr._("Batalkan"), ONE_TAP, f"c.{view.id}"))
    rows = [row] if row else []
    if view.counts[OutboxState.FAILED] > 0 and view.status is not BroadcastStatus.CANCELLED:
        rows.append([button(context, tr._("Kirim ulang yang gagal"), ONE_TAP, f"f.{view.id}")])
    return InlineKeyboardMarkup(rows) if rows else None


def is_pending(view: BroadcastView) -> bool:
    """Not all sent yet, so it can still be cancelled."""
    if view.status is BroadcastStatus.SCHEDULED:
        return True
    return view.status is BroadcastStatus.QUEUED and waiting(view) > 0


def waiting(view: BroadcastView) -> int:
    return view.counts[OutboxState.QUEUED] + view.counts[OutboxState.SENDING]


# --- texts ----------------------------------------------------------------------------------


def held_until(context: BotContext, view: BroadcastView) -> datetime | None:
    """When quiet hours let its waiting messages go, if they hold all of them now."""
    return view.held_until(context.services.quiet, utc_now())


def status_text(
    tr: Translator, view: BroadcastView, zone: TimeZone, held: datetime | None = None
) -> str:
    if view.status is BroadcastStatus.CANCELLED:
        return tr._("Dibatalkan")
    if view.status is BroadcastStatus.SCHEDULED:
        return tr._("Terjadwal")
    if held is not None and waiting(view):
        return tr._(
            "Menunggu jam tenang selesai; dikirim pukul {time}",
            time=tr.local_time(held, zone.value),
        )
    return tr._("Sedang dikirim") if waiting(view) else tr._("Selesai dikirim")


def counts_text(tr: Translator, view: BroadcastView) -> str:
    if view.status is BroadcastStatus.SCHEDULED:
        return tr._("Akan dikirim ke {count} anggota.", count=view.recipients)
    counts = view.counts
    return tr._(
        "Terkirim {sent} · Diblokir {blocked} · Gagal {failed} · Menunggu {waiting}",
        sent=counts[OutboxState.SENT],
        blocked=counts[OutboxState.BLOCKED],
        failed=counts[OutboxState.FAILED],
        waiting=waiting(view),
    )


def broadcast_text(
    tr: Translator, view: BroadcastView, zone: TimeZone, held: datetime | None = None
) -> str:
    shortened = view.text if len(view.text) <= 120 else view.text[:117].rstrip() + "…"
    return "\n".join(
        [
            f"{status_text(tr, view, zone, held)} · {when_text(tr, view.send_at, zone)}",
            tr._("Ke: {kelompok}", kelompok=", ".join(view.kelompok_names)),
            f"“{shortened}”",
            counts_text(tr, view),
        ]
    )


def report_text(
    tr: Translator, view: BroadcastView, zone: TimeZone, held: datetime | None = None
) -> str:
    counts = view.counts
    lines = [
        tr._("Laporan siaran {when}", when=when_text(tr, view.send_at, zone)),
        tr._("Ke: {kelompok}", kelompok=", ".join(view.kelompok_names)),
        tr._("Status: {status}", status=status_text(tr, view, zone, held)),
        "",
        tr._("✅ Terkirim: {count}", count=counts[OutboxState.SENT]),
        tr._("🚫 Diblokir (pengguna memblokir bot): {count}", count=counts[OutboxState.BLOCKED]),
        tr._("⚠️ Gagal: {count}", count=counts[OutboxState.FAILED]),
        tr._("⏳ Menunggu: {count}", count=waiting(view)),
    ]
    blocked = view.undelivered.get(OutboxState.BLOCKED, [])
    failed = view.undelivered.get(OutboxState.FAILED, [])
    if blocked:
        lines += [
            "",
            tr._("Memblokir bot (mohon dihubungi langsung):"),
            *(f"• {n}" for n in blocked),
        ]
    if failed:
        lines += ["", tr._("Gagal terkirim:")]
        lines += [f"• {name}" for name in failed]
        lines.append(tr._('Tekan "Kirim ulang yang gagal" untuk mencoba lagi.'))
    return "\n".join(lines)


def pick_text(tr: Translator) -> str:
    return tr._("Kirim ke kelompok mana? Ketuk untuk memilih (boleh lebih dari satu), lalu Lanjut.")


def chosen_text(tr: Translator, draft: BroadcastDraft) -> str:
    return tr._("Kelompok: {kelompok}", kelompok=", ".join(c.name for c in draft.kelompok))


def write_text(tr: Translator) -> str:
    return tr._(
        "Tulis pesan yang akan dikirim. Anggota menerimanya persis seperti yang Bapak/Ibu tulis."
    )


def too_long_text(tr: Translator, length: int) -> str:
    too_long = tr._(
        "Pesannya terlalu panjang: {length} huruf, paling banyak {limit}.",
        length=length,
        limit=broadcasts.MAX_TEXT,
    )
    return too_long + " " + tr._("Mohon dipersingkat lalu kirim lagi.")


def later_text(tr: Translator) -> str:
    return tr._("Kapan dikirim?") + "\n" + when_examples(tr)


def urgency_text(tr: Translator) -> str:
    return tr._(
        "Seberapa penting pesan ini?\n"
        "• Biasa: kalau waktunya jatuh di jam tenang (21.00–06.00), pesan menunggu sampai "
        "pukul 06.00.\n"
        "• Penting/mendesak: tetap dikirim di jam tenang."
    )


def recipient_text(tr: Translator, draft: BroadcastDraft) -> str:
    """The message as a member of the first chosen kelompok will read it.

    The header is the one programme.broadcasts puts above every broadcast (same message id).
    """
    header = tr._(
        "📢 Pesan dari pendamping {name} untuk kelompok {kelompok}:",
        name=draft.pendamping_name,
        kelompok=draft.kelompok[0].name,
    )
    return f"{header}\n\n{draft.text}"


def preview_text(tr: Translator, draft: BroadcastDraft) -> str:
    when = (
        tr._("sekarang") if draft.send_at is None else when_text(tr, draft.send_at, draft.time_zone)
    )
    lines = [
        tr._("Penerima: {count} anggota yang terhubung", count=draft.recipients),
        chosen_text(tr, draft),
        tr._("Dikirim: {when}", when=when),
        tr._("Jenis: penting/mendesak") if draft.urgent else tr._("Jenis: biasa"),
    ]
    if draft.recipients == 0:
        lines += [
            "",
            tr._(
                "Belum ada anggota yang terhubung di kelompok ini, jadi belum ada yang akan "
                "menerima pesan ini."
            ),
        ]
    return "\n".join(
        [
            *lines,
            "",
            tr._("Kirim sekarang?")
            if draft.send_at is None
            else tr._("Simpan dan kirim pada waktunya?"),
        ]
    )


def sent_text(tr: Translator, draft: BroadcastDraft) -> str:
    if draft.send_at is None:
        return tr._(
            "Siaran sedang dikirim ke {count} anggota. Ketik /siaran untuk melihat laporannya.",
            count=draft.recipients,
        )
    return tr._(
        "Siaran tersimpan dan akan dikirim {when}. Ketik /siaran untuk melihat atau "
        "membatalkannya.",
        when=when_text(tr, draft.send_at, draft.time_zone),
    )
