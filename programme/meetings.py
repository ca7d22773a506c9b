"""P2K2 meetings: scheduling, editing and cancelling, reminder plans, RSVPs and the roll-up.

Plain functions of a session (the caller owns the transaction); the bot's /jadwal conversation
and the scheduler's jobs both call them. Times are stored in UTC and shown in the kelompok's
local zone (its desa's WIB/WITA/WIT).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload

from core.i18n import Translator, translator
from programme import outbox
from programme.buttons import Button, ButtonKind
from programme.models import (
    AuditLog,
    Family,
    Kelompok,
    MeetingRsvp,
    MeetingStatus,
    OutboxKind,
    OutboxState,
    P2K2Meeting,
    P2K2Session,
    Region,
    RsvpAnswer,
    TelegramUser,
    TimeZone,
    UserRole,
)
from programme.outbox import NewMessage
from programme.recipients import IN_PROGRAMME, Member, family_name, kelompok_members
from programme.refusals import Refusal
from programme.refusals import mark as _

DAY_BEFORE_AT = time(16)  # the day-before reminder, local time
HOURS_BEFORE = timedelta(hours=2)  # the same-day reminder
ROLLUP_BEFORE = timedelta(hours=1)  # the pendamping's attendance roll-up
MAX_PLACE = 200
ROLLUP_MAX_TEXT = 3500  # Telegram allows 4,096


class ReminderKind(enum.StrEnum):
    """The scheduled sends of one meeting; part of the APScheduler job id."""

    DAY_BEFORE = "day_before"
    HOURS_BEFORE = "hours_before"
    ROLLUP = "rollup"


class MeetingError(Refusal):
    """A request the pendamping (or an answering KPM) must be told about: `error.text(tr)`."""


@dataclass(frozen=True)
class PlannedSend:
    kind: ReminderKind
    at: datetime  # UTC


@dataclass(frozen=True)
class KelompokChoice:
    id: int
    name: str
    time_zone: TimeZone
    families: int
    linked: int


@dataclass(frozen=True)
class MeetingView:
    """A meeting as the pendamping sees it in /jadwal."""

    id: int
    kelompok_id: int
    kelompok_name: str
    module_name: str | None
    session_title: str | None
    starts_at: datetime  # UTC
    time_zone: TimeZone
    place: str
    cancelled: bool


@dataclass(frozen=True)
class Rollup:
    """Who answered what for one meeting (family display names)."""

    meeting: MeetingView
    hadir: list[str]
    tidak_bisa: list[str]
    no_answer: list[str]
    not_linked: list[str]


# A meeting is always shown with its kelompok, zone and lesson.
_MEETING_OPTIONS = (
    joinedload(P2K2Meeting.kelompok).joinedload(Kelompok.desa),
    joinedload(P2K2Meeting.session).joinedload(P2K2Session.module),
)


def _load_meeting(session: Session, meeting_id: int) -> P2K2Meeting | None:
    return session.get(P2K2Meeting, meeting_id, options=_MEETING_OPTIONS)


# --- planning ------------------------------------------------------------------------------------


def reminder_plan(starts_at: datetime, time_zone: TimeZone, *, now: datetime) -> list[PlannedSend]:
    """The day-before (16.00 local), two-hours-before and roll-up sends still ahead of `now`.

    A meeting set (or moved) less than two hours ahead gets its reminder at once: the members
    must still hear of it. The roll-up is not hurried that way; nobody could have answered yet.
    """
    zone = ZoneInfo(time_zone.value)
    meeting_day = starts_at.astimezone(zone).date()
    day_before = datetime.combine(meeting_day - timedelta(days=1), DAY_BEFORE_AT, tzinfo=zone)
    hours_before = (starts_at - HOURS_BEFORE).astimezone(UTC)
    if hours_before <= now < starts_at:
        hours_before = now.astimezone(UTC)
    sends = [
        PlannedSend(ReminderKind.DAY_BEFORE, day_before.astimezone(UTC)),
        PlannedSend(ReminderKind.HOURS_BEFORE, hours_before),
        PlannedSend(ReminderKind.ROLLUP, (starts_at - ROLLUP_BEFORE).astimezone(UTC)),
    ]
    return [send for send in sends if send.at > now or send.at == hours_before == now]


# --- the pendamping's changes --------------------------------------------------------------------


def create_meeting(
    session: Session,
    *,
    pendamping_id: int,
    kelompok_id: int,
    session_id: int | None,
    starts_at: datetime,
    place: str,
    now: datetime,
    actor: str,
) -> P2K2Meeting:
    """A new scheduled meeting of one of the pendamping's kelompok (audited)."""
    kelompok = session.get(Kelompok, kelompok_id)
    if kelompok is None or kelompok.pendamping_id != pendamping_id:
        raise MeetingError(_("Kelompok itu tidak ada di daftar dampingan Bapak/Ibu."))
    _require_future(starts_at, now)
    place = _clean_place(place)
    if session_id is not None and session.get(P2K2Session, session_id) is None:
        raise MeetingError(_("Sesi P2K2 itu tidak ada di data kami."))
    meeting = P2K2Meeting(
        kelompok_id=kelompok.id,
        session_id=session_id,
        starts_at=starts_at.astimezone(UTC),
        place=place,
        status=MeetingStatus.SCHEDULED,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    session.flush()
    _audit(
        session,
        actor,
        "meeting.create",
        meeting,
        now,
        kelompok_id=kelompok.id,
        session_id=session_id,
        starts_at=starts_at.astimezone(UTC).isoformat(),
        place=place,
    )
    return meeting


def update_meeting(
    session: Session,
    *,
    meeting_id: int,
    pendamping_id: int,
    now: datetime,
    actor: str,
    starts_at: datetime | None = None,
    place: str | None = None,
) -> tuple[P2K2Meeting, list[NewMessage]]:
    """Change the time or place; returns the meeting and the change notices for its members.

    The meeting's messages still queued (reminders for the old time or place) are cancelled. A new
    time also clears the answers: they were given for the old time, and the members are asked
    again. Nothing changed: no audit entry, no notices.
    """
    meeting = _own_meeting(session, meeting_id, pendamping_id)
    _require_changeable(meeting, now)
    new_start = meeting.starts_at if starts_at is None else starts_at.astimezone(UTC)
    new_place = meeting.place if place is None else _clean_place(place)
    time_changed = new_start != meeting.starts_at
    if time_changed:
        _require_future(new_start, now)
    if not time_changed and new_place == meeting.place:
        return meeting, []
    before = {"starts_at": meeting.starts_at.isoformat(), "place": meeting.place}
    meeting.starts_at, meeting.place, meeting.updated_at = new_start, new_place, now
    if time_changed:
        session.execute(delete(MeetingRsvp).where(MeetingRsvp.meeting_id == meeting.id))
    cancelled = outbox.cancel_queued(session, now=now, meeting_id=meeting.id)
    entry = _audit(
        session,
        actor,
        "meeting.update",
        meeting,
        now,
        before=before,
        after={"starts_at": new_start.isoformat(), "place": new_place},
        cancelled_messages=cancelled,
    )
    session.flush()
    # The audit entry's id makes the key unique to this edit: moving a meeting A → B → A → B
    # must tell the members every time, which a key made of the new time and place would not.
    change = f"meeting-change:{meeting.id}:{entry.id}:{_epoch(new_start)}"
    notices = [
        _member_message(
            member,
            meeting,
            now,
            key=f"{change}:user:{member.user.id}",
            kind=OutboxKind.MEETING_CHANGE,
            text=_change_text(translator(member.user.language), meeting, ask=time_changed),
            ask=time_changed,
        )
        for member in _reminded_members(session, meeting)
    ]
    return meeting, notices


def cancel_meeting(
    session: Session, *, meeting_id: int, pendamping_id: int, now: datetime, actor: str
) -> tuple[P2K2Meeting, list[NewMessage]]:
    """Cancel a meeting; returns it and the cancellation notices for its members."""
    meeting = _own_meeting(session, meeting_id, pendamping_id)
    _require_changeable(meeting, now)
    meeting.status, meeting.updated_at = MeetingStatus.CANCELLED, now
    cancelled = outbox.cancel_queued(session, now=now, meeting_id=meeting.id)
    _audit(
        session,
        actor,
        "meeting.cancel",
        meeting,
        now,
        starts_at=meeting.starts_at.isoformat(),
        cancelled_messages=cancelled,
    )
    notices = [
        _member_message(
            member,
            meeting,
            now,
            key=f"meeting-cancel:{meeting.id}:user:{member.user.id}",
            kind=OutboxKind.MEETING_CHANGE,
            text=_cancel_text(translator(member.user.language), meeting),
        )
        for member in _reminded_members(session, meeting)
    ]
    return meeting, notices


def _own_meeting(session: Session, meeting_id: int, pendamping_id: int) -> P2K2Meeting:
    meeting = _load_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingError(_("Pertemuan itu tidak ditemukan."))
    if meeting.kelompok.pendamping_id != pendamping_id:
        raise MeetingError(_("Pertemuan itu bukan untuk kelompok dampingan Bapak/Ibu."))
    return meeting


def _require_changeable(meeting: P2K2Meeting, now: datetime) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise MeetingError(_("Pertemuan ini sudah dibatalkan."))
    if meeting.status is MeetingStatus.HELD or meeting.starts_at <= now:
        raise MeetingError(_("Pertemuan ini sudah dimulai, jadi tidak bisa diubah lagi."))


def _require_future(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise MeetingError(_("Waktu itu sudah lewat. Pilih waktu yang akan datang."))


def _clean_place(place: str) -> str:
    place = place.strip()
    if not place:
        raise MeetingError(_("Tempat pertemuan belum diisi."))
    if len(place) > MAX_PLACE:
        raise MeetingError(
            _(
                "Nama tempatnya terlalu panjang (paling banyak {limit} huruf). "
                "Mohon tulis lebih singkat."
            ),
            limit=MAX_PLACE,
        )
    return place


def _audit(
    session: Session,
    actor: str,
    action: str,
    meeting: P2K2Meeting,
    now: datetime,
    **details: Any,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        action=action,
        target_type="p2k2_meeting",
        target_id=str(meeting.id),
        details=details,
        created_at=now,
    )
    session.add(entry)
    return entry


# --- what comes next ----------------------------------------------------------------------------


def upcoming(
    *, now: datetime, kelompok_id: int | None = None, pendamping_id: int | None = None
) -> Select[P2K2Meeting]:
    """The scheduled meetings still to come at `now` (of one kelompok or pendamping), soonest first.

    The one definition of "next" for the family's question, the pendamping's list and the
    dashboard's count. A meeting starting this very minute is still to come: the family on its
    way needs its time and place, and a clock a second late must not send them to next month's.
    """
    query = select(P2K2Meeting).where(
        P2K2Meeting.status == MeetingStatus.SCHEDULED, P2K2Meeting.starts_at >= now
    )
    if kelompok_id is not None:
        query = query.where(P2K2Meeting.kelompok_id == kelompok_id)
    if pendamping_id is not None:
        query = query.join(Kelompok, P2K2Meeting.kelompok_id == Kelompok.id).where(
            Kelompok.pendamping_id == pendamping_id
        )
    return query.order_by(P2K2Meeting.starts_at, P2K2Meeting.id)


def next_meeting(session: Session, *, kelompok_id: int, now: datetime) -> P2K2Meeting | None:
    """The kelompok's next scheduled meeting, with its lesson, kelompok and desa loaded."""
    query = upcoming(now=now, kelompok_id=kelompok_id).options(*_MEETING_OPTIONS).limit(1)
    return session.scalars(query).first()


def upcoming_meeting_count(session: Session, *, pendamping_id: int | None, now: datetime) -> int:
    """How many meetings are still to come: everyone's (None) or one pendamping's kelompok."""
    inner = upcoming(now=now, pendamping_id=pendamping_id).with_only_columns(P2K2Meeting.id)
    return session.scalar(select(func.count()).select_from(inner.order_by(None).subquery())) or 0


# --- what the pendamping sees --------------------------------------------------------------------


def upcoming_meetings(session: Session, *, pendamping_id: int, now: datetime) -> list[MeetingView]:
    """The pendamping's scheduled meetings still to come (see `upcoming`), soonest first."""
    meetings = session.scalars(
        upcoming(now=now, pendamping_id=pendamping_id).options(*_MEETING_OPTIONS)
    )
    return [_view(meeting) for meeting in meetings]


def meeting_view(session: Session, meeting_id: int) -> MeetingView | None:
    meeting = _load_meeting(session, meeting_id)
    return None if meeting is None else _view(meeting)


def kelompok_choices(session: Session, *, pendamping_id: int) -> list[KelompokChoice]:
    """The pendamping's kelompok with their size and how many families have linked the bot."""
    query = (
        select(
            Kelompok.id,
            Kelompok.name,
            Region.time_zone,
            func.count(Family.id.distinct()),
            func.count(TelegramUser.family_id.distinct()),
        )
        .join(Region, Kelompok.desa_id == Region.id)
        .outerjoin(Family, and_(Family.kelompok_id == Kelompok.id, Family.status.in_(IN_PROGRAMME)))
        .outerjoin(TelegramUser, TelegramUser.family_id == Family.id)
        .where(Kelompok.pendamping_id == pendamping_id)
        .group_by(Kelompok.id, Kelompok.name, Region.time_zone)
    )
    choices = [KelompokChoice(*row) for row in session.execute(query)]
    return sorted(choices, key=lambda choice: (choice.name.casefold(), choice.id))


def _view(meeting: P2K2Meeting) -> MeetingView:
    lesson = meeting.session
    return MeetingView(
        id=meeting.id,
        kelompok_id=meeting.kelompok_id,
        kelompok_name=meeting.kelompok.name,
        module_name=None if lesson is None else lesson.module.name,
        session_title=None if lesson is None else lesson.title,
        starts_at=meeting.starts_at,
        time_zone=meeting.kelompok.desa.time_zone,
        place=meeting.place,
        cancelled=meeting.status is MeetingStatus.CANCELLED,
    )


# --- reminders and answers -----------------------------------------------------------------------


def reminder_messages(
    session: Session, *, meeting_id: int, kind: ReminderKind, now: datetime
) -> list[NewMessage]:
    """The reminder for every linked member who wants reminders (with Hadir/Tidak bisa buttons).

    Empty if the meeting is cancelled or has started. The dedupe key names the meeting, the kind
    and the meeting's start time, so a rescheduled meeting gets fresh reminders.
    """
    if kind is ReminderKind.ROLLUP:
        raise ValueError("the roll-up goes to the pendamping: use rollup_messages")
    meeting = _load_meeting(session, meeting_id)
    if meeting is None or not _is_ahead(meeting, now):
        return []
    return [
        _member_message(
            member,
            meeting,
            now,
            key=(
                f"reminder:{meeting.id}:{kind.value}:{_epoch(meeting.starts_at)}"
                f":user:{member.user.id}"
            ),
            kind=OutboxKind.REMINDER,
            text=_reminder_text(translator(member.user.language), meeting, kind, now),
            ask=True,
        )
        for member in _reminded_members(session, meeting)
    ]


def record_rsvp(
    session: Session, *, meeting_id: int, user: TelegramUser, answer: RsvpAnswer, now: datetime
) -> MeetingView:
    """Save (or change) the family's answer; refused for a cancelled or started meeting."""
    meeting = _load_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingError(_("Pertemuan itu tidak ditemukan."))
    family = session.get(Family, user.family_id) if user.family_id is not None else None
    if user.role is not UserRole.KPM or family is None or family.kelompok_id != meeting.kelompok_id:
        raise MeetingError(_("Pertemuan ini untuk kelompok lain, jadi jawabannya tidak dicatat."))
    if meeting.status is MeetingStatus.CANCELLED:
        raise MeetingError(_("Pertemuan ini sudah dibatalkan."))
    if not _is_ahead(meeting, now):
        raise MeetingError(_("Pertemuan ini sudah dimulai, jadi jawabannya tidak bisa diubah."))
    _save_rsvp(session, meeting.id, family.id, user.id, answer, now)
    return _view(meeting)


def _is_ahead(meeting: P2K2Meeting, now: datetime) -> bool:
    return meeting.status is MeetingStatus.SCHEDULED and meeting.starts_at > now


def _save_rsvp(
    session: Session,
    meeting_id: int,
    family_id: int,
    user_id: int,
    answer: RsvpAnswer,
    now: datetime,
) -> None:
    # An upsert, so that two members of one family answering at once cannot collide.
    values = {
        "meeting_id": meeting_id,
        "family_id": family_id,
        "user_id": user_id,
        "answer": answer,
        "answered_at": now,
    }
    updated = ("user_id", "answer", "answered_at")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(MeetingRsvp).values(values)
        session.execute(
            pg.on_conflict_do_update(
                index_elements=["meeting_id", "family_id"],
                set_={name: pg.excluded[name] for name in updated},
            )
        )
    elif dialect == "sqlite":
        lite = sqlite.insert(MeetingRsvp).values(values)
        session.execute(
            lite.on_conflict_do_update(
                index_elements=["meeting_id", "family_id"],
                set_={name: lite.excluded[name] for name in updated},
            )
        )
    else:
        raise NotImplementedError(f"RSVPs support PostgreSQL and SQLite, not {dialect}")


def _reminded_members(session: Session, meeting: P2K2Meeting) -> list[Member]:
    return kelompok_members(session, kelompok_ids=[meeting.kelompok_id], opted_out_too=False)


def _member_message(
    member: Member,
    meeting: P2K2Meeting,
    now: datetime,
    *,
    key: str,
    kind: OutboxKind,
    text: str,
    ask: bool = False,
) -> NewMessage:
    tr = translator(member.user.language)
    return NewMessage(
        dedupe_key=key,
        kind=kind,
        chat_id=member.user.chat_id,
        user_id=member.user.id,
        text=text,
        buttons=_rsvp_buttons(tr, meeting.id) if ask else None,
        time_zone=member.time_zone,
        not_before=now,
        meeting_id=meeting.id,
        expires_at=meeting.starts_at,
        state=member.state,
    )


def _rsvp_buttons(tr: Translator, meeting_id: int) -> list[list[dict[str, str]]]:
    rsvp = ButtonKind.RSVP  # the drain signs kind and value into each button's callback data
    return [
        [
            Button(tr._("Hadir"), rsvp, f"{meeting_id}.{RsvpAnswer.HADIR}").as_dict(),
            Button(tr._("Tidak bisa"), rsvp, f"{meeting_id}.{RsvpAnswer.TIDAK_BISA}").as_dict(),
        ]
    ]


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# --- the members' texts --------------------------------------------------------------------------


def _reminder_text(tr: Translator, meeting: P2K2Meeting, kind: ReminderKind, now: datetime) -> str:
    kelompok = meeting.kelompok.name
    if kind is ReminderKind.HOURS_BEFORE:
        opening = tr._(
            "Bapak/Ibu, sebentar lagi pertemuan P2K2 kelompok {kelompok} dimulai.",
            kelompok=kelompok,
        )
    else:
        # Said as "besok" only when it is; a late day-before job may run on the day itself.
        zone = ZoneInfo(meeting.kelompok.desa.time_zone.value)
        days = (meeting.starts_at.astimezone(zone).date() - now.astimezone(zone).date()).days
        if days == 1:
            opening = tr._(
                "Bapak/Ibu, besok ada pertemuan P2K2 kelompok {kelompok}.", kelompok=kelompok
            )
        elif days == 0:
            opening = tr._(
                "Bapak/Ibu, hari ini ada pertemuan P2K2 kelompok {kelompok}.", kelompok=kelompok
            )
        else:
            opening = tr._(
                "Bapak/Ibu, jangan lupa pertemuan P2K2 kelompok {kelompok}.", kelompok=kelompok
            )
    return "\n\n".join((opening, _details(tr, meeting), _ask(tr)))


def _change_text(tr: Translator, meeting: P2K2Meeting, *, ask: bool) -> str:
    opening = tr._(
        "Bapak/Ibu, ada perubahan jadwal pertemuan P2K2 kelompok {kelompok}. Jadwal yang baru:",
        kelompok=meeting.kelompok.name,
    )
    closing = _ask(tr) if ask else tr._("Mohon maaf atas perubahannya. Sampai bertemu di sana.")
    return "\n\n".join((opening, _details(tr, meeting), closing))


def _cancel_text(tr: Translator, meeting: P2K2Meeting) -> str:
    return tr._(
        "Bapak/Ibu, pertemuan P2K2 kelompok {kelompok} pada {when} dibatalkan. Mohon maaf, "
        "jadwal berikutnya akan dikabarkan lagi.",
        kelompok=meeting.kelompok.name,
        when=tr.local_datetime(meeting.starts_at, meeting.kelompok.desa.time_zone.value),
    )


def _details(tr: Translator, meeting: P2K2Meeting) -> str:
    """When (in the kelompok's zone), where and, if known, what the meeting is about."""
    lines = [
        tr._(
            "Waktu: {when}",
            when=tr.local_datetime(meeting.starts_at, meeting.kelompok.desa.time_zone.value),
        ),
        tr._("Tempat: {place}", place=meeting.place),
    ]
    lesson = meeting.session
    if lesson is not None:
        lines.append(
            tr._(
                "Materi: Modul {module_number} ({module_name}), sesi {session_number}: {title}",
                module_number=lesson.module.number,
                module_name=lesson.module.name,
                session_number=lesson.number,
                title=lesson.title,
            )
        )
    return "\n".join(lines)


def _ask(tr: Translator) -> str:
    return tr._(
        "Apakah Bapak/Ibu bisa hadir? Mohon tekan tombol Hadir atau Tidak bisa di bawah ini."
    )


# --- the pendamping's roll-up --------------------------------------------------------------------


def rollup(session: Session, *, meeting_id: int) -> Rollup:
    meeting = _load_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingError(_("Pertemuan itu tidak ditemukan."))
    families = session.scalars(
        select(Family)
        .where(Family.kelompok_id == meeting.kelompok_id, Family.status.in_(IN_PROGRAMME))
        .options(selectinload(Family.members))
    ).all()
    family_ids = [family.id for family in families]
    linked = set(
        session.scalars(
            select(TelegramUser.family_id).where(TelegramUser.family_id.in_(family_ids))
        )
    )
    query = select(MeetingRsvp.family_id, MeetingRsvp.answer).where(
        MeetingRsvp.meeting_id == meeting.id
    )
    answers = {family_id: answer for family_id, answer in session.execute(query)}
    hadir: list[str] = []
    tidak_bisa: list[str] = []
    no_answer: list[str] = []
    not_linked: list[str] = []
    for family in families:
        # An answer counts even if its account has been unlinked since.
        answer = answers.get(family.id)
        if answer is RsvpAnswer.HADIR:
            bucket = hadir
        elif answer is RsvpAnswer.TIDAK_BISA:
            bucket = tidak_bisa
        else:
            bucket = no_answer if family.id in linked else not_linked
        bucket.append(family_name(family))
    for names in (hadir, tidak_bisa, no_answer, not_linked):
        names.sort(key=str.casefold)
    return Rollup(_view(meeting), hadir, tidak_bisa, no_answer, not_linked)


def rollup_messages(session: Session, *, meeting_id: int, now: datetime) -> list[NewMessage]:
    """The attendance roll-up for the pendamping's Telegram chat(s)."""
    meeting = _load_meeting(session, meeting_id)
    if meeting is None or not _is_ahead(meeting, now):
        return []
    result = rollup(session, meeting_id=meeting.id)
    accounts = session.scalars(
        select(TelegramUser)
        .where(
            TelegramUser.role == UserRole.PENDAMPING,
            TelegramUser.pendamping_id == meeting.kelompok.pendamping_id,
        )
        .order_by(TelegramUser.id)
    )
    return [
        NewMessage(
            dedupe_key=f"rollup:{meeting.id}:{_epoch(meeting.starts_at)}:user:{account.id}",
            kind=OutboxKind.ROLLUP,
            chat_id=account.chat_id,
            user_id=account.id,
            text=_rollup_text(translator(account.language), result),
            time_zone=result.meeting.time_zone,
            not_before=now,
            meeting_id=meeting.id,
            expires_at=meeting.starts_at,
            state=OutboxState.BLOCKED if account.is_unreachable else OutboxState.QUEUED,
        )
        for account in accounts
    ]


def _rollup_text(tr: Translator, rollup: Rollup) -> str:
    """Counts and names; for a very large kelompok, fewer names until it fits one message."""
    text = ""
    for name_everyone, most_names in ((True, None), (False, None), (False, 100), (False, 30)):
        text = _render_rollup(tr, rollup, name_everyone=name_everyone, most_names=most_names)
        if len(text) <= ROLLUP_MAX_TEXT:
            break
    return text[:ROLLUP_MAX_TEXT]


def _render_rollup(
    tr: Translator, rollup: Rollup, *, name_everyone: bool, most_names: int | None
) -> str:
    meeting = rollup.meeting
    heading = "\n".join(
        (
            tr._(
                "Rekap jawaban pertemuan P2K2 kelompok {kelompok}:", kelompok=meeting.kelompok_name
            ),
            tr._(
                "Waktu: {when}", when=tr.local_datetime(meeting.starts_at, meeting.time_zone.value)
            ),
            tr._("Tempat: {place}", place=meeting.place),
        )
    )
    parts = [heading]
    buckets = (
        (tr._("Hadir: {families}", families=_families(tr, rollup.hadir)), rollup.hadir, True),
        (
            tr._("Tidak bisa: {families}", families=_families(tr, rollup.tidak_bisa)),
            rollup.tidak_bisa,
            True,
        ),
        (
            tr._("Belum menjawab: {families}", families=_families(tr, rollup.no_answer)),
            rollup.no_answer,
            name_everyone,
        ),
        (
            tr._("Belum terhubung ke bot: {families}", families=_families(tr, rollup.not_linked)),
            rollup.not_linked,
            name_everyone,
        ),
    )
    for label, names, with_names in buckets:
        if names and with_names:
            parts.append(f"{label}\n{_name_list(tr, names, most_names)}")
        else:
            parts.append(label)
    if rollup.not_linked:
        parts.append(
            tr._(
                "Keluarga yang belum terhubung ke bot tidak menerima pengingat; "
                "mohon kabari mereka langsung."
            )
        )
    return "\n\n".join(parts)


def _families(tr: Translator, names: list[str]) -> str:
    return tr.n_("{count} keluarga", "{count} keluarga", len(names))


def _name_list(tr: Translator, names: list[str], most: int | None) -> str:
    if most is None or len(names) <= most:
        return ", ".join(names)
    return tr._(
        "{names}, dan {count} lainnya", names=", ".join(names[:most]), count=len(names) - most
    )
