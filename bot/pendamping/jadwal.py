"""/jadwal: the pendamping's P2K2 meetings — the list, a new one step by step, moving, cancelling.

New: kelompok → module → session → when (typed, read in the kelompok's zone) → place → summary →
Simpan; the reminders are scheduled once it is saved. A meeting's own buttons move it (a typed
time or place) or cancel it after a confirmation; members are told of every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Update
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
    Rows,
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
from programme import kelompok, meetings, outbox
from programme.buttons import ButtonKind
from programme.kelompok import ModuleChoice, SessionChoice
from programme.meetings import MAX_PLACE, KelompokChoice, MeetingError, MeetingView
from programme.models import TimeZone

KIND = ButtonKind.JADWAL  # the conversation's buttons
ONE_TAP = ButtonKind.MEETING  # a listed meeting's Batalkan and its confirmation
NEW_KELOMPOK, NEW_MODULE, NEW_SESSION, NEW_WHEN, NEW_PLACE, NEW_SUMMARY, NEW_CHANGE = (
    f"jadwal.{step}"
    for step in ("kelompok", "module", "session", "when", "place", "summary", "change")
)
MOVE_WHEN, MOVE_CONFIRM, MOVE_PLACE = (
    f"jadwal.{step}" for step in ("move_when", "move_confirm", "move_place")
)
DRAFT = "jadwal"  # UserData.drafts key
MAX_LISTED = 10
Handlers = list[BaseHandler]  # type: ignore[type-arg]


@dataclass
class MeetingDraft:
    """A new meeting, filled in step by step; a step is asked while its field is empty."""

    choices: list[KelompokChoice]
    kelompok: KelompokChoice | None = None
    modules: list[ModuleChoice] = field(default_factory=list)
    module: ModuleChoice | None = None
    sessions: list[SessionChoice] = field(default_factory=list)
    session: SessionChoice | None = None
    topic_chosen: bool = False  # module and session chosen or skipped
    starts_at: datetime | None = None  # UTC
    read_in: TimeZone | None = None  # the zone `starts_at` was typed in
    day: date | None = None  # a day typed without a time, waiting for "jam berapa?"
    place: str | None = None


@dataclass
class MeetingMove:
    """A change of time or place to a saved meeting."""

    meeting: MeetingView
    starts_at: datetime | None = None
    day: date | None = None


# --- the list ---------------------------------------------------------------------------------


async def show_meetings(update: Update, context: BotContext) -> object:
    """/jadwal: the upcoming meetings with their buttons, then "+ Jadwal baru"."""
    staff = await pendamping_staff(update, context)
    if staff is None:
        return END
    clear_drafts(context)
    views = await in_session(
        context,
        lambda s: meetings.upcoming_meetings(s, pendamping_id=staff.pendamping_id, now=utc_now()),
    )
    for view in views[:MAX_LISTED]:
        await send_long(
            update, context, meeting_text(staff.tr, view), meeting_buttons(context, staff.tr, view)
        )
    new = InlineKeyboardMarkup([[button(context, staff.tr._("+ Jadwal baru"), KIND, "new")]])
    await send_long(
        update,
        context,
        list_footer(staff.tr, shown=min(len(views), MAX_LISTED), total=len(views)),
        new,
    )
    return END


# --- a new meeting ----------------------------------------------------------------------------


async def start_new(update: Update, context: BotContext) -> object:
    """The "+ Jadwal baru" button: start a draft and ask its first step."""
    staff = await pendamping_staff(update, context)
    if staff is None or await tapped(update, context, KIND) is None:
        return END
    clear_drafts(context)
    choices = await in_session(
        context, lambda s: meetings.kelompok_choices(s, pendamping_id=staff.pendamping_id)
    )
    if not choices:
        await show(update, no_kelompok_text(staff.tr))
        return END
    draft = MeetingDraft(choices)
    if len(choices) == 1:
        draft.kelompok, draft.read_in = choices[0], choices[0].time_zone
    assert context.user_data is not None
    context.user_data.drafts[DRAFT] = draft
    return await ask_next(update, context, staff, draft)


async def choose_kelompok(update: Update, context: BotContext) -> object:
    """A kelompok tapped (a time typed for another zone is asked again)."""
    staff, draft, value = await draft_step(update, context)
    if staff is None or draft is None or value is None:
        return None
    chosen = next((c for c in draft.choices if c.id == number_after(value, "k.")), None)
    if chosen is None:
        return None
    if draft.starts_at is not None and draft.read_in is not chosen.time_zone:
        draft.starts_at = None
    draft.kelompok = chosen
    return await ask_next(update, context, staff, draft)


async def choose_module(update: Update, context: BotContext) -> object:
    """A module tapped, or "Lewati" (no module)."""
    staff, draft, value = await draft_step(update, context)
    if staff is None or draft is None or value is None:
        return None
    code = value.removeprefix("m.")
    draft.module = next((m for m in draft.modules if m.code == code), None)
    if draft.module is None and code != "-":
        return None
    draft.session = None
    draft.topic_chosen = draft.module is None or draft.module.sessions == 0
    return await ask_next(update, context, staff, draft)


async def choose_session(update: Update, context: BotContext) -> object:
    """A session tapped, or "Lewati" (the module only)."""
    staff, draft, value = await draft_step(update, context)
    if staff is None or draft is None or value is None:
        return None
    draft.session = next((s for s in draft.sessions if s.id == number_after(value, "s.")), None)
    draft.topic_chosen = True
    return await ask_next(update, context, staff, draft)


async def receive_when(update: Update, context: BotContext) -> object:
    """The typed time, read in the kelompok's zone; a problem is explained, the step asked again."""
    staff, draft = await pendamping_staff(update, context), meeting_draft(context)
    if staff is None or draft is None or draft.kelompok is None:
        return END
    zone = draft.kelompok.time_zone
    at, draft.day = await typed_moment(
        update, context, staff, time_zone=zone, day=draft.day, kind=KIND
    )
    if at is None:
        return None
    draft.starts_at, draft.read_in = at, zone
    return await ask_next(update, context, staff, draft)


async def receive_place(update: Update, context: BotContext) -> object:
    """The typed place."""
    staff, draft = await pendamping_staff(update, context), meeting_draft(context)
    if staff is None or draft is None:
        return END
    place = typed(update)
    if len(place) > MAX_PLACE:
        await say(update, place_too_long_text(staff.tr), cancel_markup(context, staff.tr, KIND))
        return None
    draft.place = place
    return await ask_next(update, context, staff, draft)


async def ask_what_to_change(update: Update, context: BotContext) -> object:
    """The summary's "Ubah": which part to change."""
    staff, draft, value = await draft_step(update, context)
    if staff is None or draft is None or value is None:
        return None
    tr = staff.tr
    rows = [
        [
            button(context, tr._("Kelompok"), KIND, "c.kelompok"),
            button(context, tr._("Materi"), KIND, "c.topic"),
        ],
        [
            button(context, tr._("Waktu"), KIND, "c.when"),
            button(context, tr._("Tempat"), KIND, "c.place"),
        ],
        cancel_row(context, tr, KIND),
    ]
    await show(
        update,
        summary_text(tr, draft) + "\n\n" + tr._("Apa yang mau diubah?"),
        InlineKeyboardMarkup(rows),
    )
    return NEW_CHANGE


async def change_part(update: Update, context: BotContext) -> object:
    """Empty the chosen part, so that its step is asked again (then the summary)."""
    staff, draft, value = await draft_step(update, context)
    if staff is None or draft is None or value is None:
        return None
    part = value.removeprefix("c.")
    if part == "kelompok":
        draft.kelompok = None
    elif part == "topic":
        draft.module, draft.session, draft.topic_chosen = None, None, False
    elif part == "when":
        draft.starts_at = None
    elif part == "place":
        draft.place = None
    return await ask_next(update, context, staff, draft)


async def save_meeting(update: Update, context: BotContext) -> object:
    """The summary's "Simpan": save, schedule the reminders (a refusal keeps the draft)."""
    staff, draft, value = await draft_step(update, context)
    if staff is None or draft is None or value is None:
        return None
    kelompok_choice, starts_at, place = draft.kelompok, draft.starts_at, draft.place
    if kelompok_choice is None or starts_at is None or place is None:
        return await ask_next(update, context, staff, draft)
    now, who = utc_now(), actor(update)

    def save(session: Session) -> int:
        meeting = meetings.create_meeting(
            session,
            pendamping_id=staff.pendamping_id,
            kelompok_id=kelompok_choice.id,
            session_id=draft.session.id if draft.session else None,
            starts_at=starts_at,
            place=place,
            now=now,
            actor=who,
        )
        session.flush()
        return meeting.id

    try:
        meeting_id = await in_session(context, save)
    except MeetingError as error:
        text = refusal_text(staff.tr, error) + "\n\n" + summary_text(staff.tr, draft)
        await show(update, text, summary_markup(context, staff.tr))
        return None
    reminders = await context.services.scheduling.meeting_saved(
        meeting_id, starts_at, kelompok_choice.time_zone
    )
    clear_drafts(context)
    text = (
        summary_text(staff.tr, draft)
        + "\n\n"
        + saved_text(staff.tr, reminders, kelompok_choice.time_zone)
    )
    await show(update, text)
    return END


async def ask_next(
    update: Update, context: BotContext, staff: Staff, draft: MeetingDraft
) -> object:
    """Ask the first step whose part is still empty; the summary when none is."""
    tr, so_far = staff.tr, progress_text(staff.tr, draft)
    if draft.kelompok is None:
        rows = [[button(context, c.name, KIND, f"k.{c.id}")] for c in draft.choices]
        question = tr._("Pertemuan untuk kelompok mana?")
        await show(update, so_far + question, with_cancel(context, tr, rows))
        return NEW_KELOMPOK
    if not draft.topic_chosen:
        return await ask_topic(update, context, tr, draft)
    if draft.starts_at is None:
        await show(update, so_far + ask_when_text(tr), cancel_markup(context, tr, KIND))
        return NEW_WHEN
    if draft.place is None:
        await show(update, so_far + ask_place_text(tr), cancel_markup(context, tr, KIND))
        return NEW_PLACE
    await show(update, summary_text(tr, draft), summary_markup(context, tr))
    return NEW_SUMMARY


async def ask_topic(
    update: Update, context: BotContext, tr: Translator, draft: MeetingDraft
) -> object:
    """The module, then its session; either may be skipped ("Lewati")."""
    so_far, module = progress_text(tr, draft), draft.module
    if module is None:
        draft.modules = await in_session(context, kelompok.p2k2_modules)
        rows = [[button(context, module_label(tr, m), KIND, f"m.{m.code}")] for m in draft.modules]
        rows.append([button(context, tr._("Lewati"), KIND, "m.-")])
        await show(update, so_far + tr._("Materi modul apa?"), with_cancel(context, tr, rows))
        return NEW_MODULE
    draft.sessions = await in_session(
        context, lambda s: kelompok.p2k2_sessions(s, module_code=module.code)
    )
    rows = [[button(context, session_label(tr, s), KIND, f"s.{s.id}")] for s in draft.sessions]
    rows.append([button(context, tr._("Lewati"), KIND, "s.-")])
    await show(update, so_far + tr._("Sesi yang mana?"), with_cancel(context, tr, rows))
    return NEW_SESSION


# --- moving a meeting -------------------------------------------------------------------------


async def ask_new_time(update: Update, context: BotContext) -> object:
    """A listed meeting's "Ubah waktu"."""
    move = await start_move(update, context, "t.")
    if move is None:
        return END
    staff, view = move
    await say(
        update,
        meeting_text(staff.tr, view)
        + "\n\n"
        + staff.tr._("Kapan waktu barunya?")
        + "\n"
        + when_examples(staff.tr),
        cancel_markup(context, staff.tr, KIND),
    )
    return MOVE_WHEN


async def receive_new_time(update: Update, context: BotContext) -> object:
    """The typed new time; confirmed before the members are told."""
    staff, move = await pendamping_staff(update, context), meeting_move(context)
    if staff is None or move is None:
        return END
    zone = move.meeting.time_zone
    at, move.day = await typed_moment(
        update, context, staff, time_zone=zone, day=move.day, kind=KIND
    )
    if at is None:
        return None
    move.starts_at = at
    rows = [
        [button(context, staff.tr._("Ya, ubah"), KIND, "yes")],
        cancel_row(context, staff.tr, KIND),
    ]
    await say(
        update, move_question(staff.tr, move.meeting, move.starts_at), InlineKeyboardMarkup(rows)
    )
    return MOVE_CONFIRM


async def confirm_new_time(update: Update, context: BotContext) -> object:
    """The confirmation's "Ya, ubah": move the meeting."""
    staff, move = await pendamping_staff(update, context), meeting_move(context)
    if staff is None or move is None or await tapped(update, context, KIND) is None:
        return None
    return await apply_move(update, context, staff, move.meeting, starts_at=move.starts_at)


async def ask_new_place(update: Update, context: BotContext) -> object:
    """A listed meeting's "Ubah tempat"."""
    move = await start_move(update, context, "p.")
    if move is None:
        return END
    staff, view = move
    await say(
        update,
        meeting_text(staff.tr, view) + "\n\n" + staff.tr._("Di mana tempat barunya?"),
        cancel_markup(context, staff.tr, KIND),
    )
    return MOVE_PLACE


async def receive_new_place(update: Update, context: BotContext) -> object:
    """The typed new place: saved at once (nothing to misread)."""
    staff, move = await pendamping_staff(update, context), meeting_move(context)
    if staff is None or move is None:
        return END
    place = typed(update)
    if len(place) > MAX_PLACE:
        await say(update, place_too_long_text(staff.tr), cancel_markup(context, staff.tr, KIND))
        return None
    return await apply_move(update, context, staff, move.meeting, place=place)


async def start_move(
    update: Update, context: BotContext, prefix: str
) -> tuple[Staff, MeetingView] | None:
    """The pendamping and the meeting whose button was tapped, kept as the draft of the move."""
    staff = await pendamping_staff(update, context)
    value = await tapped(update, context, KIND) if staff is not None else None
    meeting_id = number_after(value or "", prefix)
    if staff is None or meeting_id is None:
        return None
    clear_drafts(context)
    view = await in_session(
        context,
        lambda s: kelompok.own_meeting(s, pendamping_id=staff.pendamping_id, meeting_id=meeting_id),
    )
    if view is None or view.cancelled:
        await say(
            update,
            not_found_text(staff.tr),
        )
        return None
    assert context.user_data is not None
    context.user_data.drafts[DRAFT] = MeetingMove(view)
    return staff, view


async def apply_move(
    update: Update,
    context: BotContext,
    staff: Staff,
    view: MeetingView,
    *,
    starts_at: datetime | None = None,
    place: str | None = None,
) -> object:
    """Save the new time or place, queue the members' notices, reschedule the reminders."""
    now, who = utc_now(), actor(update)

    def change(session: Session) -> tuple[MeetingView | None, int]:
        meeting, notices = meetings.update_meeting(
            session,
            meeting_id=view.id,
            pendamping_id=staff.pendamping_id,
            now=now,
            actor=who,
            starts_at=starts_at,
            place=place,
        )
        told = outbox.enqueue(session, notices, now=now)
        return meetings.meeting_view(session, meeting.id), told

    clear_drafts(context)
    try:
        changed, told = await in_session(context, change)
    except MeetingError as error:
        await show(update, refusal_text(staff.tr, error))
        return END
    assert changed is not None
    scheduling = context.services.scheduling
    reminders = await scheduling.meeting_saved(changed.id, changed.starts_at, changed.time_zone)
    scheduling.outbox_changed()
    shown = reminders if starts_at is not None else None
    moved = moved_text(staff.tr, told, shown, changed.time_zone)
    await show(update, meeting_text(staff.tr, changed) + "\n\n" + moved)
    return END


# --- cancelling a meeting (one tap and its confirmation; no conversation needed) -------------


async def meeting_action(update: Update, context: BotContext) -> None:
    """A listed meeting's "Batalkan", then "Ya, batalkan" or "Tidak"."""
    staff = await pendamping_staff(update, context)
    value = await tapped(update, context, ONE_TAP) if staff is not None else None
    if staff is None or value is None:
        return
    if (meeting_id := number_after(value, "x.")) is not None:
        await ask_to_cancel(update, context, staff, meeting_id)
    elif (meeting_id := number_after(value, "xy.")) is not None:
        await cancel_meeting(update, context, staff, meeting_id)
    else:
        await show(update, staff.tr._("Baik, pertemuan tidak dibatalkan."))


async def ask_to_cancel(update: Update, context: BotContext, staff: Staff, meeting_id: int) -> None:
    """Ask before cancelling: the members will be told."""
    view = await in_session(
        context,
        lambda s: kelompok.own_meeting(s, pendamping_id=staff.pendamping_id, meeting_id=meeting_id),
    )
    if view is None or view.cancelled:
        await say(
            update,
            not_found_text(staff.tr),
        )
        return
    tr = staff.tr
    rows = [
        [
            button(context, tr._("Ya, batalkan"), ONE_TAP, f"xy.{meeting_id}"),
            button(context, tr._("Tidak"), ONE_TAP, "xn"),
        ]
    ]
    await say(update, cancel_question(tr, view), InlineKeyboardMarkup(rows))


async def cancel_meeting(
    update: Update, context: BotContext, staff: Staff, meeting_id: int
) -> None:
    """Cancel the meeting, queue the members' notices, remove its reminders."""
    now, who = utc_now(), actor(update)

    def cancel(session: Session) -> tuple[MeetingView | None, int]:
        meeting, notices = meetings.cancel_meeting(
            session, meeting_id=meeting_id, pendamping_id=staff.pendamping_id, now=now, actor=who
        )
        told = outbox.enqueue(session, notices, now=now)
        return meetings.meeting_view(session, meeting.id), told

    try:
        view, told = await in_session(context, cancel)
    except MeetingError as error:
        await show(update, refusal_text(staff.tr, error))
        return
    await context.services.scheduling.meeting_cancelled(meeting_id)
    assert view is not None
    await show(update, cancelled_text(staff.tr, view, told))


# --- the conversation's parts -----------------------------------------------------------------


def entry_points() -> Handlers:
    """/jadwal and the buttons that start a step from a list: new, move time, move place."""
    return [
        CommandHandler("jadwal", show_meetings, filters.ChatType.PRIVATE),
        CallbackQueryHandler(start_new, pattern=rf"^{KIND}:new:"),
        CallbackQueryHandler(ask_new_time, pattern=rf"^{KIND}:t\.\d+:"),
        CallbackQueryHandler(ask_new_place, pattern=rf"^{KIND}:p\.\d+:"),
    ]


def states() -> dict[object, Handlers]:
    text = filters.TEXT & ~filters.COMMAND
    tap = partial(tap_handler, KIND)
    return {
        NEW_KELOMPOK: [tap(choose_kelompok, r"k\.\d+")],
        NEW_MODULE: [tap(choose_module, r"m\.[^:]+")],
        NEW_SESSION: [tap(choose_session, r"s\.[^:]+")],
        NEW_WHEN: [MessageHandler(text, receive_when)],
        NEW_PLACE: [MessageHandler(text, receive_place)],
        NEW_SUMMARY: [tap(save_meeting, "save"), tap(ask_what_to_change, "edit")],
        NEW_CHANGE: [tap(change_part, r"c\.\w+")],
        MOVE_WHEN: [MessageHandler(text, receive_new_time)],
        MOVE_CONFIRM: [tap(confirm_new_time, "yes")],
        MOVE_PLACE: [MessageHandler(text, receive_new_place)],
    }


def meeting_draft(context: BotContext) -> MeetingDraft | None:
    draft = context.user_data.drafts.get(DRAFT) if context.user_data else None
    return draft if isinstance(draft, MeetingDraft) else None


def meeting_move(context: BotContext) -> MeetingMove | None:
    move = context.user_data.drafts.get(DRAFT) if context.user_data else None
    return move if isinstance(move, MeetingMove) else None


async def draft_step(
    update: Update, context: BotContext
) -> tuple[Staff | None, MeetingDraft | None, str | None]:
    """The pendamping, the draft and the tapped button's value (None where missing or forged)."""
    staff = await pendamping_staff(update, context)
    value = await tapped(update, context, KIND) if staff is not None else None
    return staff, meeting_draft(context), value


def with_cancel(context: BotContext, tr: Translator, rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([*rows, cancel_row(context, tr, KIND)])


def summary_markup(context: BotContext, tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(context, tr._("Simpan"), KIND, "save"),
                button(context, tr._("Ubah"), KIND, "edit"),
                button(context, tr._("Batal"), KIND, "batal"),
            ]
        ]
    )


def meeting_buttons(context: BotContext, tr: Translator, view: MeetingView) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(context, tr._("Ubah waktu"), KIND, f"t.{view.id}"),
                button(context, tr._("Ubah tempat"), KIND, f"p.{view.id}"),
                button(context, tr._("Batalkan"), ONE_TAP, f"x.{view.id}"),
            ]
        ]
    )


# --- texts ----------------------------------------------------------------------------------


def meeting_text(tr: Translator, view: MeetingView) -> str:
    lines = [
        view.kelompok_name,
        tr._("Waktu: {when}", when=when_text(tr, view.starts_at, view.time_zone)),
        tr._("Tempat: {place}", place=view.place),
    ]
    if view.module_name:
        topic = (
            f"{view.module_name} — {view.session_title}" if view.session_title else view.module_name
        )
        lines.append(tr._("Materi: {topic}", topic=topic))
    return "\n".join(lines)


def not_found_text(tr: Translator) -> str:
    return tr._(
        "Pertemuan itu tidak ditemukan atau sudah dibatalkan. Ketik /jadwal untuk melihat "
        "daftarnya."
    )


def list_footer(tr: Translator, *, shown: int, total: int) -> str:
    if total == 0:
        return tr._("Belum ada pertemuan P2K2 yang dijadwalkan. Buat jadwal baru?")
    if shown < total:
        return tr._(
            "Itu {shown} pertemuan terdekat dari {total}. Buat jadwal baru?",
            shown=shown,
            total=total,
        )
    return tr._("Buat jadwal pertemuan baru?")


def progress_text(tr: Translator, draft: MeetingDraft) -> str:
    """What is chosen so far, above the next question ("" before the first answer)."""
    lines = []
    if draft.kelompok is not None:
        lines.append(tr._("Kelompok: {name}", name=draft.kelompok.name))
    if draft.topic_chosen:
        lines.append(tr._("Materi: {topic}", topic=topic_text(tr, draft)))
    if draft.starts_at is not None and draft.kelompok is not None:
        lines.append(
            tr._("Waktu: {when}", when=when_text(tr, draft.starts_at, draft.kelompok.time_zone))
        )
    if draft.place is not None:
        lines.append(tr._("Tempat: {place}", place=draft.place))
    return "\n".join(lines) + "\n\n" if lines else ""


def summary_text(tr: Translator, draft: MeetingDraft) -> str:
    return tr._("Jadwal pertemuan P2K2:") + "\n" + progress_text(tr, draft).rstrip()


def topic_text(tr: Translator, draft: MeetingDraft) -> str:
    if draft.module is None:
        return tr._("tidak ditentukan")
    if draft.session is None:
        return module_label(tr, draft.module)
    return f"{module_label(tr, draft.module)} — {session_label(tr, draft.session)}"


def module_label(tr: Translator, module: ModuleChoice) -> str:
    return tr._("Modul {number}: {name}", number=module.number, name=module.name)


def session_label(tr: Translator, session: SessionChoice) -> str:
    return tr._("Sesi {number}: {title}", number=session.number, title=session.title)


def ask_when_text(tr: Translator) -> str:
    return tr._("Kapan pertemuannya?") + "\n" + when_examples(tr)


def ask_place_text(tr: Translator) -> str:
    return tr._("Di mana tempatnya? Contoh: Balai Desa, atau Rumah Ketua Kelompok.")


def place_too_long_text(tr: Translator) -> str:
    too_long = tr._("Nama tempatnya terlalu panjang; paling banyak {limit} huruf.", limit=MAX_PLACE)
    return too_long + " " + tr._("Mohon dipersingkat lalu kirim lagi.")


def reminder_lines(tr: Translator, reminders: list[datetime], zone: TimeZone) -> str:
    if not reminders:
        return tr._(
            "Waktunya sudah terlalu dekat untuk pengingat otomatis; mohon kabari anggota langsung."
        )
    lines = [tr._("Pengingat untuk anggota dan rekap kehadiran untuk Bapak/Ibu akan dikirim:")]
    lines += [f"• {when_text(tr, at, zone)}" for at in sorted(reminders)]
    return "\n".join(lines)


def saved_text(tr: Translator, reminders: list[datetime], zone: TimeZone) -> str:
    return tr._("Tersimpan.") + " " + reminder_lines(tr, reminders, zone)


def move_question(tr: Translator, view: MeetingView, starts_at: datetime) -> str:
    return tr._(
        "Ubah waktu pertemuan {kelompok} dari {old} menjadi {new}? Anggota yang terhubung akan "
        "diberi tahu.",
        kelompok=view.kelompok_name,
        old=when_text(tr, view.starts_at, view.time_zone),
        new=when_text(tr, starts_at, view.time_zone),
    )


def moved_text(tr: Translator, told: int, reminders: list[datetime] | None, zone: TimeZone) -> str:
    """After a change; the reminder times only when the time changed (`reminders` not None)."""
    saved = tr._("Perubahan tersimpan; {told} anggota yang terhubung akan diberi tahu.", told=told)
    return saved if reminders is None else saved + "\n" + reminder_lines(tr, reminders, zone)


def cancel_question(tr: Translator, view: MeetingView) -> str:
    return (
        tr._("Batalkan pertemuan ini? Anggota yang terhubung akan diberi tahu.")
        + "\n\n"
        + meeting_text(tr, view)
    )


def cancelled_text(tr: Translator, view: MeetingView, told: int) -> str:
    return (
        tr._("Pertemuan dibatalkan; {told} anggota yang terhubung akan diberi tahu.", told=told)
        + "\n\n"
        + meeting_text(tr, view)
    )
