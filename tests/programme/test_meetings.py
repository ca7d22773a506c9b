"""P2K2 meetings on both databases: plans, reminders, edits, cancelling, RSVPs and the roll-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.i18n import Translator
from programme import outbox
from programme.meetings import (
    MeetingError,
    PlannedSend,
    ReminderKind,
    cancel_meeting,
    create_meeting,
    kelompok_choices,
    meeting_view,
    record_rsvp,
    reminder_messages,
    reminder_plan,
    rollup,
    rollup_messages,
    upcoming_meetings,
    update_meeting,
)
from programme.models import (
    AuditLog,
    Family,
    FamilyStatus,
    MeetingRsvp,
    MeetingStatus,
    OutboxKind,
    OutboxState,
    P2K2Meeting,
    P2K2Session,
    RsvpAnswer,
    TimeZone,
)
from programme.outbox import NewMessage
from tests.programme.roster import (
    DAHLIA,
    FRANSISKUS,
    KPM_WITA,
    MARIA,
    MARIA_ACCOUNT,
    MAWAR,
    MELATI,
    account,
    families,
    kelompok,
    link,
    outbox_rows,
    pendamping,
    pendamping_account,
    pengurus,
)

# Saturday 28 November 2026, 09.00 WITA; the demo's "now" is Monday 23 November, 11.00 WITA.
SATURDAY_9_WITA = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
ACTOR = "telegram:990000101"


def plan_times(plan: list[PlannedSend]) -> dict[ReminderKind, datetime]:
    return {send.kind: send.at for send in plan}


def new_meeting(
    session: Session,
    now: datetime,
    *,
    kelompok_code: str = MELATI,
    starts_at: datetime = SATURDAY_9_WITA,
    place: str = "Balai Desa Batu Cermin",
    with_session: bool = True,
) -> P2K2Meeting:
    lesson = session.scalars(select(P2K2Session).order_by(P2K2Session.id)).first()
    assert lesson is not None
    return create_meeting(
        session,
        pendamping_id=pendamping(session, MARIA).id,
        kelompok_id=kelompok(session, kelompok_code).id,
        session_id=lesson.id if with_session else None,
        starts_at=starts_at,
        place=place,
        now=now,
        actor=ACTOR,
    )


def enqueued(session: Session, messages: list[NewMessage], now: datetime) -> int:
    return outbox.enqueue(session, messages, now=now)


# --- the plan --------------------------------------------------------------------------------


def test_plan_for_a_saturday_morning_meeting_in_wita(demo_now: datetime) -> None:
    plan = reminder_plan(SATURDAY_9_WITA, TimeZone.WITA, now=demo_now)

    assert plan_times(plan) == {
        # Friday 16.00 WITA, Friday 23.00 UTC = Saturday 07.00 WITA, Saturday 08.00 WITA
        ReminderKind.DAY_BEFORE: datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        ReminderKind.HOURS_BEFORE: datetime(2026, 11, 27, 23, 0, tzinfo=UTC),
        ReminderKind.ROLLUP: datetime(2026, 11, 28, 0, 0, tzinfo=UTC),
    }
    assert all(send.at.tzinfo is UTC for send in plan)


@pytest.mark.parametrize(
    ("time_zone", "starts_at", "day_before"),
    [
        # 09.00 WIB on Saturday is 02.00 UTC; Friday 16.00 WIB is 09.00 UTC.
        (TimeZone.WIB, datetime(2026, 11, 28, 2, 0, tzinfo=UTC), datetime(2026, 11, 27, 9, 0)),
        # 09.00 WIT on Saturday is 00.00 UTC; Friday 16.00 WIT is 07.00 UTC.
        (TimeZone.WIT, datetime(2026, 11, 28, 0, 0, tzinfo=UTC), datetime(2026, 11, 27, 7, 0)),
    ],
)
def test_the_day_before_reminder_is_at_four_in_the_afternoon_local_time(
    time_zone: TimeZone, starts_at: datetime, day_before: datetime, demo_now: datetime
) -> None:
    times = plan_times(reminder_plan(starts_at, time_zone, now=demo_now))

    assert times[ReminderKind.DAY_BEFORE] == day_before.replace(tzinfo=UTC)
    assert times[ReminderKind.HOURS_BEFORE] == starts_at - timedelta(hours=2)
    assert times[ReminderKind.ROLLUP] == starts_at - timedelta(hours=1)


def test_plan_keeps_only_the_sends_still_ahead() -> None:
    friday_evening = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 20.00 WITA

    plan = reminder_plan(SATURDAY_9_WITA, TimeZone.WITA, now=friday_evening)

    assert [send.kind for send in plan] == [ReminderKind.HOURS_BEFORE, ReminderKind.ROLLUP]
    assert reminder_plan(SATURDAY_9_WITA, TimeZone.WITA, now=SATURDAY_9_WITA) == []


def test_a_meeting_the_day_after_at_three_still_gets_its_day_before_reminder(
    demo_now: datetime,
) -> None:
    saturday_15_wita = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)

    times = plan_times(reminder_plan(saturday_15_wita, TimeZone.WITA, now=demo_now))

    assert times[ReminderKind.DAY_BEFORE] == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert len(times) == 3


# --- creating -----------------------------------------------------------------------------------


def test_creating_a_meeting_schedules_it_and_audits(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now, place="  Kapela Batu Cermin  ")

    assert meeting.status is MeetingStatus.SCHEDULED
    assert meeting.place == "Kapela Batu Cermin"
    entry = seeded.scalars(
        select(AuditLog).where(
            AuditLog.action == "meeting.create", AuditLog.target_id == str(meeting.id)
        )
    ).one()
    assert entry.actor == ACTOR
    assert entry.details["kelompok_id"] == meeting.kelompok_id
    assert entry.details["starts_at"] == "2026-11-28T01:00:00+00:00"
    assert entry.details["place"] == "Kapela Batu Cermin"


def test_a_local_time_is_stored_in_utc(seeded: Session, demo_now: datetime) -> None:
    nine_wita = datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("Asia/Makassar"))

    meeting = new_meeting(seeded, demo_now, starts_at=nine_wita)

    assert meeting.starts_at == SATURDAY_9_WITA
    assert meeting.starts_at.tzinfo is UTC


def test_a_pendamping_cannot_schedule_for_another_pendampings_kelompok(
    seeded: Session, demo_now: datetime
) -> None:
    with pytest.raises(MeetingError, match="daftar dampingan Bapak/Ibu"):
        new_meeting(seeded, demo_now, kelompok_code=DAHLIA)


@pytest.mark.parametrize(
    ("starts_at", "place", "refusal"),
    [
        (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), "Balai Desa", "sudah lewat"),
        (SATURDAY_9_WITA, "   ", "belum diisi"),
        (SATURDAY_9_WITA, "x" * 201, "terlalu panjang"),
    ],
)
def test_a_meeting_needs_a_future_time_and_a_place(
    seeded: Session, demo_now: datetime, starts_at: datetime, place: str, refusal: str
) -> None:
    with pytest.raises(MeetingError, match=refusal):
        new_meeting(seeded, demo_now, starts_at=starts_at, place=place)


def test_a_meeting_needs_a_known_session(seeded: Session, demo_now: datetime) -> None:
    with pytest.raises(MeetingError, match="Sesi P2K2"):
        create_meeting(
            seeded,
            pendamping_id=pendamping(seeded, MARIA).id,
            kelompok_id=kelompok(seeded, MELATI).id,
            session_id=999_999,
            starts_at=SATURDAY_9_WITA,
            place="Balai Desa",
            now=demo_now,
            actor=ACTOR,
        )


# --- reminders ----------------------------------------------------------------------------------


def test_reminders_go_to_linked_members_who_want_them(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    first, second, third = families(seeded, MELATI)[:3]
    wants = link(seeded, first)
    link(seeded, second, reminders=False)  # sent /berhenti
    unreachable = link(seeded, third, unreachable=True)
    link(seeded, families(seeded, MAWAR)[0])  # another kelompok
    link(seeded, families(seeded, MELATI, status=FamilyStatus.GRADUATED)[0])  # left PKH
    pendamping_account(seeded, MARIA)

    messages = reminder_messages(
        seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=demo_now
    )

    kpm_wita = account(seeded, KPM_WITA)
    assert [m.user_id for m in messages] == [kpm_wita.id, wants.id, unreachable.id]
    assert [m.state for m in messages] == [
        OutboxState.QUEUED,
        OutboxState.QUEUED,
        OutboxState.BLOCKED,
    ]
    reminder = messages[1]
    assert reminder.kind is OutboxKind.REMINDER
    assert reminder.chat_id == wants.chat_id
    assert reminder.meeting_id == meeting.id
    assert reminder.time_zone is TimeZone.WITA
    assert reminder.not_before == demo_now
    assert reminder.expires_at == SATURDAY_9_WITA
    assert reminder.dedupe_key == (
        f"reminder:{meeting.id}:day_before:{int(SATURDAY_9_WITA.timestamp())}:user:{wants.id}"
    )
    assert reminder.buttons == [
        [
            {"text": "Hadir", "kind": "rsvp", "value": f"{meeting.id}.hadir"},
            {"text": "Tidak bisa", "kind": "rsvp", "value": f"{meeting.id}.tidak_bisa"},
        ]
    ]


def test_an_unreachable_member_is_recorded_as_blocked(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    gone = link(seeded, families(seeded, MELATI)[0], unreachable=True)

    enqueued(
        seeded,
        reminder_messages(
            seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=demo_now
        ),
        demo_now,
    )

    (row,) = outbox_rows(seeded, user_id=gone.id)
    assert row.state is OutboxState.BLOCKED
    assert outbox.pending_count(seeded) == 1  # only kpm-wita's


def test_the_day_before_reminder_says_when_where_and_what(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    friday_16_wita = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

    (message,) = reminder_messages(
        seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=friday_16_wita
    )

    assert message.text.startswith(
        "Bapak/Ibu, besok ada pertemuan P2K2 kelompok Melati Batu Cermin."
    )
    assert "Waktu: Sabtu, 28 November 2026, 09.00 WITA" in message.text
    assert "Tempat: Balai Desa Batu Cermin" in message.text
    assert "Materi: Modul 1" in message.text
    assert "Menjadi Orang Tua yang Lebih Baik" in message.text
    assert message.text.endswith("Mohon tekan tombol Hadir atau Tidak bisa di bawah ini.")


def test_the_two_hours_reminder_says_it_starts_soon(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now, with_session=False)

    (message,) = reminder_messages(
        seeded,
        meeting_id=meeting.id,
        kind=ReminderKind.HOURS_BEFORE,
        now=SATURDAY_9_WITA - timedelta(hours=2),
    )

    assert "sebentar lagi pertemuan P2K2 kelompok Melati Batu Cermin dimulai" in message.text
    assert "Materi" not in message.text
    assert "reminder:" in message.dedupe_key and ":hours_before:" in message.dedupe_key


def test_reminding_twice_queues_each_reminder_once(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    link(seeded, families(seeded, MELATI)[0])

    def remind() -> int:
        return enqueued(
            seeded,
            reminder_messages(
                seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=demo_now
            ),
            demo_now,
        )

    assert remind() == 2
    assert remind() == 0


def test_no_reminders_for_a_cancelled_started_or_missing_meeting(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    kind = ReminderKind.HOURS_BEFORE

    assert reminder_messages(seeded, meeting_id=meeting.id, kind=kind, now=SATURDAY_9_WITA) == []
    assert reminder_messages(seeded, meeting_id=999_999, kind=kind, now=demo_now) == []
    meeting.status = MeetingStatus.CANCELLED
    assert reminder_messages(seeded, meeting_id=meeting.id, kind=kind, now=demo_now) == []


def test_the_rollup_is_not_a_member_reminder(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)

    with pytest.raises(ValueError, match="rollup_messages"):
        reminder_messages(seeded, meeting_id=meeting.id, kind=ReminderKind.ROLLUP, now=demo_now)


# --- editing and cancelling --------------------------------------------------------------------


def test_moving_a_meeting_tells_its_members_and_drops_the_old_reminders(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    member = link(seeded, families(seeded, MELATI)[0])
    link(seeded, families(seeded, MELATI)[1], reminders=False)
    enqueued(
        seeded,
        reminder_messages(
            seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=demo_now
        ),
        demo_now,
    )
    monday_14_wita = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)

    moved, notices = update_meeting(
        seeded,
        meeting_id=meeting.id,
        pendamping_id=pendamping(seeded, MARIA).id,
        now=demo_now,
        actor=ACTOR,
        starts_at=monday_14_wita,
    )

    assert moved.starts_at == monday_14_wita
    assert {row.state for row in outbox_rows(seeded, meeting_id=meeting.id)} == {
        OutboxState.CANCELLED
    }
    assert [n.user_id for n in notices] == [account(seeded, KPM_WITA).id, member.id]
    notice = notices[1]
    assert notice.kind is OutboxKind.MEETING_CHANGE
    assert notice.text.startswith(
        "Bapak/Ibu, ada perubahan jadwal pertemuan P2K2 kelompok Melati Batu Cermin."
    )
    assert "Waktu: Senin, 30 November 2026, 14.00 WITA" in notice.text
    assert "Tempat: Balai Desa Batu Cermin" in notice.text
    assert notice.buttons is not None  # asked again: the answers were for the old time
    assert notice.expires_at == monday_14_wita
    assert enqueued(seeded, notices, demo_now) == 2
    # The reminders of the new time are new messages, not duplicates of the old ones.
    again = reminder_messages(
        seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=demo_now
    )
    assert enqueued(seeded, again, demo_now) == 2
    entry = seeded.scalars(select(AuditLog).where(AuditLog.action == "meeting.update")).one()
    assert entry.details["before"]["starts_at"] == "2026-11-28T01:00:00+00:00"
    assert entry.details["after"]["starts_at"] == "2026-11-30T06:00:00+00:00"


def test_every_edit_notifies_even_when_a_time_comes_back(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    maria = pendamping(seeded, MARIA).id
    sunday = SATURDAY_9_WITA + timedelta(days=1)
    added = []
    for starts_at in (sunday, SATURDAY_9_WITA, sunday):
        _, notices = update_meeting(
            seeded,
            meeting_id=meeting.id,
            pendamping_id=maria,
            now=demo_now,
            actor=ACTOR,
            starts_at=starts_at,
        )
        added.append(enqueued(seeded, notices, demo_now))

    assert added == [1, 1, 1]  # kpm-wita heard of every change


def test_a_new_place_keeps_the_answers_and_does_not_ask_again(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    kpm_wita = account(seeded, KPM_WITA)
    record_rsvp(seeded, meeting_id=meeting.id, user=kpm_wita, answer=RsvpAnswer.HADIR, now=demo_now)

    _, notices = update_meeting(
        seeded,
        meeting_id=meeting.id,
        pendamping_id=pendamping(seeded, MARIA).id,
        now=demo_now,
        actor=ACTOR,
        place="Posyandu Batu Cermin",
    )

    (notice,) = notices
    assert "Tempat: Posyandu Batu Cermin" in notice.text
    assert notice.buttons is None
    assert kpm_wita.family is not None
    assert rollup(seeded, meeting_id=meeting.id).hadir == [pengurus(kpm_wita.family)]


def test_a_new_time_clears_the_answers(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    kpm_wita = account(seeded, KPM_WITA)
    record_rsvp(seeded, meeting_id=meeting.id, user=kpm_wita, answer=RsvpAnswer.HADIR, now=demo_now)

    update_meeting(
        seeded,
        meeting_id=meeting.id,
        pendamping_id=pendamping(seeded, MARIA).id,
        now=demo_now,
        actor=ACTOR,
        starts_at=SATURDAY_9_WITA + timedelta(hours=1),
    )

    assert rollup(seeded, meeting_id=meeting.id).hadir == []


def test_saving_without_a_change_tells_nobody(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)

    _, notices = update_meeting(
        seeded,
        meeting_id=meeting.id,
        pendamping_id=pendamping(seeded, MARIA).id,
        now=demo_now,
        actor=ACTOR,
        starts_at=SATURDAY_9_WITA,
        place=" Balai Desa Batu Cermin ",
    )

    assert notices == []
    assert seeded.scalar(select(func.count()).where(AuditLog.action == "meeting.update")) == 0


def test_only_the_kelompoks_pendamping_may_edit_or_cancel(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    other = pendamping(seeded, FRANSISKUS).id

    with pytest.raises(MeetingError, match="bukan untuk kelompok dampingan"):
        update_meeting(
            seeded, meeting_id=meeting.id, pendamping_id=other, now=demo_now, actor=ACTOR, place="X"
        )
    with pytest.raises(MeetingError, match="bukan untuk kelompok dampingan"):
        cancel_meeting(seeded, meeting_id=meeting.id, pendamping_id=other, now=demo_now, actor="x")
    with pytest.raises(MeetingError, match="tidak ditemukan"):
        cancel_meeting(seeded, meeting_id=999_999, pendamping_id=other, now=demo_now, actor="x")


def test_a_started_meeting_or_a_past_time_cannot_be_set(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    maria = pendamping(seeded, MARIA).id

    with pytest.raises(MeetingError, match="sudah lewat"):
        update_meeting(
            seeded,
            meeting_id=meeting.id,
            pendamping_id=maria,
            now=demo_now,
            actor=ACTOR,
            starts_at=demo_now - timedelta(minutes=1),
        )
    with pytest.raises(MeetingError, match="sudah dimulai"):
        update_meeting(
            seeded,
            meeting_id=meeting.id,
            pendamping_id=maria,
            now=SATURDAY_9_WITA,
            actor=ACTOR,
            place="Kapela",
        )


def test_cancelling_tells_the_members_and_drops_what_is_queued(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    member = link(seeded, families(seeded, MELATI)[0])
    enqueued(
        seeded,
        reminder_messages(
            seeded, meeting_id=meeting.id, kind=ReminderKind.DAY_BEFORE, now=demo_now
        ),
        demo_now,
    )
    maria = pendamping(seeded, MARIA).id

    cancelled, notices = cancel_meeting(
        seeded, meeting_id=meeting.id, pendamping_id=maria, now=demo_now, actor=ACTOR
    )

    assert cancelled.status is MeetingStatus.CANCELLED
    assert outbox.state_counts(seeded, meeting_id=meeting.id) == {OutboxState.CANCELLED: 2}
    assert [n.user_id for n in notices] == [account(seeded, KPM_WITA).id, member.id]
    assert notices[0].kind is OutboxKind.MEETING_CHANGE
    assert notices[0].buttons is None
    assert notices[0].text == (
        "Bapak/Ibu, pertemuan P2K2 kelompok Melati Batu Cermin pada Sabtu, 28 November 2026, "
        "09.00 WITA dibatalkan. Mohon maaf, jadwal berikutnya akan dikabarkan lagi."
    )
    assert enqueued(seeded, notices, demo_now) == 2
    entry = seeded.scalars(select(AuditLog).where(AuditLog.action == "meeting.cancel")).one()
    assert entry.target_id == str(meeting.id)
    with pytest.raises(MeetingError, match="sudah dibatalkan"):
        cancel_meeting(
            seeded, meeting_id=meeting.id, pendamping_id=maria, now=demo_now, actor=ACTOR
        )
    assert (
        reminder_messages(
            seeded, meeting_id=meeting.id, kind=ReminderKind.HOURS_BEFORE, now=demo_now
        )
        == []
    )


# --- what the pendamping sees ------------------------------------------------------------------


def test_upcoming_meetings_are_the_pendampings_scheduled_ones_soonest_first(
    seeded: Session, demo_now: datetime
) -> None:
    maria = pendamping(seeded, MARIA).id
    mine = new_meeting(seeded, demo_now, kelompok_code=MAWAR)
    dropped = new_meeting(seeded, demo_now, starts_at=SATURDAY_9_WITA + timedelta(days=2))
    cancel_meeting(seeded, meeting_id=dropped.id, pendamping_id=maria, now=demo_now, actor=ACTOR)

    upcoming = upcoming_meetings(seeded, pendamping_id=maria, now=demo_now)

    assert [view.starts_at for view in upcoming] == sorted(view.starts_at for view in upcoming)
    assert mine.id in [view.id for view in upcoming]
    assert dropped.id not in [view.id for view in upcoming]
    assert {view.kelompok_name.split()[0] for view in upcoming} <= {
        "Melati",
        "Mawar",
        "Anggrek",
        "Kenanga",
    }
    assert all(view.starts_at > demo_now and not view.cancelled for view in upcoming)


def test_meeting_view_names_the_kelompok_module_and_zone(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)

    view = meeting_view(seeded, meeting.id)

    assert view is not None
    assert view.kelompok_name == "Melati Batu Cermin"
    assert view.session_title == "Menjadi Orang Tua yang Lebih Baik"
    assert view.module_name is not None
    assert view.time_zone is TimeZone.WITA
    assert view.starts_at == SATURDAY_9_WITA
    assert not view.cancelled
    assert meeting_view(seeded, 999_999) is None


def test_kelompok_choices_count_families_and_those_linked(seeded: Session) -> None:
    link(seeded, families(seeded, MELATI)[0])
    link(seeded, families(seeded, MELATI, status=FamilyStatus.GRADUATED)[0])  # not counted

    choices = kelompok_choices(seeded, pendamping_id=pendamping(seeded, MARIA).id)

    assert [c.name for c in choices] == [
        "Anggrek Golo Bilas",
        "Kenanga Siru",
        "Mawar Batu Cermin",
        "Melati Batu Cermin",
    ]
    melati = choices[-1]
    in_programme = seeded.scalar(
        select(func.count())
        .select_from(Family)
        .where(
            Family.kelompok_id == melati.id,
            Family.status.in_((FamilyStatus.ACTIVE, FamilyStatus.SUSPENDED)),
        )
    )
    assert (melati.families, melati.linked) == (in_programme, 2)  # kpm-wita and the new one
    assert melati.time_zone is TimeZone.WITA
    assert all(c.linked == 0 for c in choices[:-1])


# --- answers and the roll-up -------------------------------------------------------------------


def test_the_latest_answer_counts(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    kpm_wita = account(seeded, KPM_WITA)

    for answer in (RsvpAnswer.HADIR, RsvpAnswer.TIDAK_BISA):
        view = record_rsvp(
            seeded, meeting_id=meeting.id, user=kpm_wita, answer=answer, now=demo_now
        )

    assert view.id == meeting.id
    answers = seeded.execute(
        select(MeetingRsvp.family_id, MeetingRsvp.answer, MeetingRsvp.user_id).where(
            MeetingRsvp.meeting_id == meeting.id
        )
    ).all()
    assert [tuple(row) for row in answers] == [
        (kpm_wita.family_id, RsvpAnswer.TIDAK_BISA, kpm_wita.id)
    ]


def test_another_family_member_changes_the_familys_answer(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    kpm_wita = account(seeded, KPM_WITA)
    family = kpm_wita.family
    assert family is not None
    husband = link(seeded, family)
    record_rsvp(seeded, meeting_id=meeting.id, user=kpm_wita, answer=RsvpAnswer.HADIR, now=demo_now)

    record_rsvp(
        seeded, meeting_id=meeting.id, user=husband, answer=RsvpAnswer.TIDAK_BISA, now=demo_now
    )

    result = rollup(seeded, meeting_id=meeting.id)
    assert (result.hadir, result.tidak_bisa) == ([], [pengurus(family)])


def test_only_members_of_the_meetings_kelompok_may_answer(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    outsider = link(seeded, families(seeded, MAWAR)[0])
    maria_account = account(seeded, MARIA_ACCOUNT)

    for user in (outsider, maria_account):
        with pytest.raises(MeetingError, match="kelompok lain"):
            record_rsvp(
                seeded, meeting_id=meeting.id, user=user, answer=RsvpAnswer.HADIR, now=demo_now
            )
    assert seeded.scalar(select(func.count()).select_from(MeetingRsvp)) == 0


def test_no_answers_once_the_meeting_started_or_was_cancelled(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    kpm_wita = account(seeded, KPM_WITA)

    with pytest.raises(MeetingError, match="sudah dimulai"):
        record_rsvp(
            seeded,
            meeting_id=meeting.id,
            user=kpm_wita,
            answer=RsvpAnswer.HADIR,
            now=SATURDAY_9_WITA,
        )
    cancel_meeting(
        seeded,
        meeting_id=meeting.id,
        pendamping_id=pendamping(seeded, MARIA).id,
        now=demo_now,
        actor=ACTOR,
    )
    with pytest.raises(MeetingError, match="sudah dibatalkan"):
        record_rsvp(
            seeded, meeting_id=meeting.id, user=kpm_wita, answer=RsvpAnswer.HADIR, now=demo_now
        )


def test_the_rollup_sorts_every_family_into_one_bucket(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    kpm_wita = account(seeded, KPM_WITA)
    coming, not_coming, silent = families(seeded, MELATI)[:3]
    for family, answer in ((coming, RsvpAnswer.HADIR), (not_coming, RsvpAnswer.TIDAK_BISA)):
        user = link(seeded, family)
        record_rsvp(seeded, meeting_id=meeting.id, user=user, answer=answer, now=demo_now)
    link(seeded, silent, reminders=False)
    record_rsvp(seeded, meeting_id=meeting.id, user=kpm_wita, answer=RsvpAnswer.HADIR, now=demo_now)

    result = rollup(seeded, meeting_id=meeting.id)

    assert kpm_wita.family is not None
    assert result.hadir == sorted([pengurus(kpm_wita.family), pengurus(coming)], key=str.casefold)
    assert result.tidak_bisa == [pengurus(not_coming)]
    assert result.no_answer == [pengurus(silent)]
    unlinked = [f for f in families(seeded, MELATI) if f not in (coming, not_coming, silent)]
    unlinked += families(seeded, MELATI, status=FamilyStatus.SUSPENDED)
    assert sorted(result.not_linked) == sorted(pengurus(f) for f in unlinked)
    graduated = families(seeded, MELATI, status=FamilyStatus.GRADUATED)
    assert not {pengurus(f) for f in graduated} & set(result.not_linked)
    assert result.meeting.id == meeting.id


def test_a_family_without_members_is_named_by_its_pkh_id(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    melati = kelompok(seeded, MELATI)
    seeded.add(
        Family(
            pkh_id="TEST-NO-MEMBERS",
            kelompok_id=melati.id,
            desa_id=melati.desa_id,
            channel_code="bri",
        )
    )
    seeded.flush()

    assert "TEST-NO-MEMBERS" in rollup(seeded, meeting_id=meeting.id).not_linked


def test_the_rollup_goes_to_every_account_of_the_pendamping(
    seeded: Session, demo_now: datetime
) -> None:
    meeting = new_meeting(seeded, demo_now)
    record_rsvp(
        seeded,
        meeting_id=meeting.id,
        user=account(seeded, KPM_WITA),
        answer=RsvpAnswer.HADIR,
        now=demo_now,
    )
    second = pendamping_account(seeded, MARIA)
    second.is_unreachable = True
    an_hour_before = SATURDAY_9_WITA - timedelta(hours=1)

    messages = rollup_messages(seeded, meeting_id=meeting.id, now=an_hour_before)

    maria = account(seeded, MARIA_ACCOUNT)
    assert [m.user_id for m in messages] == [maria.id, second.id]
    assert [m.state for m in messages] == [OutboxState.QUEUED, OutboxState.BLOCKED]
    message = messages[0]
    assert message.kind is OutboxKind.ROLLUP
    assert message.dedupe_key == (
        f"rollup:{meeting.id}:{int(SATURDAY_9_WITA.timestamp())}:user:{maria.id}"
    )
    assert message.expires_at == SATURDAY_9_WITA
    assert message.buttons is None
    assert message.text.startswith(
        "Rekap jawaban pertemuan P2K2 kelompok Melati Batu Cermin:\n"
        "Waktu: Sabtu, 28 November 2026, 09.00 WITA\n"
        "Tempat: Balai Desa Batu Cermin"
    )
    assert "Hadir: 1 keluarga\nYuliana Ndahur" in message.text
    assert "Tidak bisa: 0 keluarga" in message.text
    assert "Belum menjawab: 0 keluarga" in message.text
    assert "Belum terhubung ke bot: 12 keluarga\n" in message.text
    assert "tidak menerima pengingat" in message.text
    assert enqueued(seeded, messages, an_hour_before) == 2
    assert (
        enqueued(
            seeded,
            rollup_messages(seeded, meeting_id=meeting.id, now=an_hour_before),
            an_hour_before,
        )
        == 0
    )
    assert rollup_messages(seeded, meeting_id=meeting.id, now=SATURDAY_9_WITA) == []


def test_a_long_rollup_still_fits_one_message(seeded: Session, demo_now: datetime) -> None:
    meeting = new_meeting(seeded, demo_now)
    melati = kelompok(seeded, MELATI)
    seeded.add_all(
        Family(
            pkh_id=f"TEST-LONG-ROLLUP-{number:04d}",
            kelompok_id=melati.id,
            desa_id=melati.desa_id,
            channel_code="bri",
        )
        for number in range(300)
    )
    seeded.flush()
    record_rsvp(
        seeded,
        meeting_id=meeting.id,
        user=account(seeded, KPM_WITA),
        answer=RsvpAnswer.HADIR,
        now=demo_now,
    )

    (message,) = rollup_messages(seeded, meeting_id=meeting.id, now=demo_now)

    assert len(message.text) <= 3500
    assert "Hadir: 1 keluarga\nYuliana Ndahur" in message.text
    assert "Belum terhubung ke bot: 312 keluarga" in message.text
    assert "TEST-LONG-ROLLUP-0000" not in message.text  # counted, not named


def test_rollup_of_a_missing_meeting_is_refused(seeded: Session) -> None:
    with pytest.raises(MeetingError):
        rollup(seeded, meeting_id=999_999)


def test_a_refusal_can_be_shown_in_the_readers_language(
    seeded: Session, demo_now: datetime
) -> None:
    with pytest.raises(MeetingError) as refused:
        new_meeting(seeded, demo_now, place="x" * 201)

    assert (
        str(refused.value)
        == "Nama tempatnya terlalu panjang (paling banyak 200 huruf). Mohon tulis lebih singkat."
    )
    assert refused.value.text(Translator("id")) == str(refused.value)


def test_a_meeting_set_less_than_two_hours_ahead_is_reminded_at_once() -> None:
    seventy_minutes_before = SATURDAY_9_WITA - timedelta(minutes=70)
    forty_minutes_before = SATURDAY_9_WITA - timedelta(minutes=40)

    assert [
        (s.kind, s.at)
        for s in reminder_plan(SATURDAY_9_WITA, TimeZone.WITA, now=seventy_minutes_before)
    ] == [
        (ReminderKind.HOURS_BEFORE, seventy_minutes_before),
        (ReminderKind.ROLLUP, SATURDAY_9_WITA - timedelta(hours=1)),
    ]
    assert [
        (s.kind, s.at)
        for s in reminder_plan(SATURDAY_9_WITA, TimeZone.WITA, now=forty_minutes_before)
    ] == [(ReminderKind.HOURS_BEFORE, forty_minutes_before)]
