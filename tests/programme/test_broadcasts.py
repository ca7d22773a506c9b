"""Pendamping broadcasts on both databases: create, queue once, cancel, resend, report."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.quiet import QuietHours
from programme import outbox
from programme.broadcasts import (
    MAX_TEXT,
    BroadcastError,
    broadcast_view,
    cancel_broadcast,
    create_broadcast,
    queue_broadcast,
    recent_broadcasts,
    recipient_count,
    resend_failed,
)
from programme.models import (
    AuditLog,
    Broadcast,
    BroadcastStatus,
    FamilyStatus,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    TelegramUser,
    TimeZone,
)
from programme.recipients import family_name
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
)

ACTOR = "telegram:990000101"
TEXT = "Besok pagi ada posyandu di balai desa. Jangan lupa bawa buku KIA, ya Bu."


def new_broadcast(
    session: Session,
    now: datetime,
    *,
    kelompok_codes: tuple[str, ...] = (MELATI, MAWAR),
    text: str = TEXT,
    send_at: datetime | None = None,
    urgent: bool = False,
    pendamping_code: str = MARIA,
) -> Broadcast:
    return create_broadcast(
        session,
        pendamping_id=pendamping(session, pendamping_code).id,
        author_user_id=account(session, MARIA_ACCOUNT).id,
        kelompok_ids=[kelompok(session, code).id for code in kelompok_codes],
        text=text,
        send_at=now if send_at is None else send_at,
        urgent=urgent,
        now=now,
        actor=ACTOR,
    )


def members(session: Session) -> dict[str, TelegramUser]:
    """kpm-wita (Melati) and new accounts in Melati and Mawar, one of them opted out."""
    melati = families(session, MELATI)
    return {
        "kpm_wita": account(session, KPM_WITA),
        "melati": link(session, melati[0]),
        "opted_out": link(session, melati[1], reminders=False),
        "unreachable": link(session, melati[2], unreachable=True),
        "mawar": link(session, families(session, MAWAR)[0], language="en"),
    }


def maria(session: Session) -> int:
    return pendamping(session, MARIA).id


# --- creating ------------------------------------------------------------------------------------


def test_creating_a_broadcast_schedules_it_and_audits(seeded: Session, demo_now: datetime) -> None:
    later = demo_now + timedelta(hours=3)

    broadcast = new_broadcast(seeded, demo_now, text=f"  {TEXT}\n", send_at=later, urgent=True)

    assert broadcast.status is BroadcastStatus.SCHEDULED
    assert broadcast.text == TEXT
    assert broadcast.send_at == later
    assert broadcast.urgent
    assert sorted(k.name for k in broadcast.kelompok) == ["Mawar Batu Cermin", "Melati Batu Cermin"]
    entry = seeded.scalars(select(AuditLog).where(AuditLog.action == "broadcast.create")).one()
    assert (entry.actor, entry.target_id) == (ACTOR, str(broadcast.id))
    assert entry.details["urgent"] is True
    assert len(entry.details["kelompok_ids"]) == 2


@pytest.mark.parametrize(
    ("kelompok_codes", "text", "refusal"),
    [
        ((), TEXT, "minimal satu kelompok"),
        ((MELATI, DAHLIA), TEXT, "daftar dampingan Bapak/Ibu"),
        ((MELATI,), "  \n ", "masih kosong"),
        ((MELATI,), "x" * (MAX_TEXT + 1), "terlalu panjang"),
    ],
)
def test_a_broadcast_needs_own_kelompok_and_a_text_that_fits(
    seeded: Session,
    demo_now: datetime,
    kelompok_codes: tuple[str, ...],
    text: str,
    refusal: str,
) -> None:
    with pytest.raises(BroadcastError, match=refusal):
        new_broadcast(seeded, demo_now, kelompok_codes=kelompok_codes, text=text)


def test_a_broadcast_cannot_be_sent_in_the_past(seeded: Session, demo_now: datetime) -> None:
    # "Now" chosen a few seconds before saving is fine; an hour ago is not.
    new_broadcast(seeded, demo_now, send_at=demo_now - timedelta(seconds=30))
    with pytest.raises(BroadcastError, match="sudah lewat"):
        new_broadcast(seeded, demo_now, send_at=demo_now - timedelta(hours=1))


def test_an_unknown_kelompok_is_refused(seeded: Session, demo_now: datetime) -> None:
    with pytest.raises(BroadcastError, match="daftar dampingan Bapak/Ibu"):
        create_broadcast(
            seeded,
            pendamping_id=maria(seeded),
            author_user_id=None,
            kelompok_ids=[999_999],
            text=TEXT,
            send_at=demo_now,
            urgent=False,
            now=demo_now,
            actor=ACTOR,
        )


# --- recipients and queueing ---------------------------------------------------------------------


def test_an_urgent_broadcast_also_reaches_those_who_opted_out(seeded: Session) -> None:
    members(seeded)
    link(seeded, families(seeded, MELATI, status=FamilyStatus.GRADUATED)[0])  # left PKH
    link(seeded, families(seeded, DAHLIA)[0])  # someone else's kelompok
    ids = [kelompok(seeded, MELATI).id, kelompok(seeded, MAWAR).id]

    assert recipient_count(seeded, kelompok_ids=ids, urgent=False) == 4
    assert recipient_count(seeded, kelompok_ids=ids, urgent=True) == 5
    assert recipient_count(seeded, kelompok_ids=[], urgent=True) == 0


def test_queueing_writes_one_message_per_member_with_the_header(
    seeded: Session, demo_now: datetime
) -> None:
    people = members(seeded)
    broadcast = new_broadcast(seeded, demo_now)

    added = queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)

    assert added == 4
    assert broadcast.status is BroadcastStatus.QUEUED
    rows = outbox_rows(seeded, broadcast_id=broadcast.id)
    by_user = {row.user_id: row for row in rows}
    assert set(by_user) == {
        people[name].id for name in ("kpm_wita", "melati", "unreachable", "mawar")
    }
    row = by_user[people["melati"].id]
    assert row.kind is OutboxKind.BROADCAST
    assert row.dedupe_key == f"broadcast:{broadcast.id}:user:{people['melati'].id}"
    assert row.text == (
        "📢 Pesan dari pendamping Maria Fatima Hamur untuk kelompok Melati Batu Cermin:\n\n" + TEXT
    )
    assert row.chat_id == people["melati"].chat_id
    assert row.time_zone is TimeZone.WITA
    assert row.state is OutboxState.QUEUED
    assert not row.urgent
    assert row.expires_at is None
    assert by_user[people["unreachable"].id].state is OutboxState.BLOCKED
    assert "Mawar Batu Cermin" in by_user[people["mawar"].id].text
    assert by_user[people["mawar"].id].text.endswith(TEXT)  # the pendamping's words, as written


def test_queueing_twice_adds_nothing_the_second_time(seeded: Session, demo_now: datetime) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now)

    assert queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now) == 4
    assert queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now) == 0
    assert len(outbox_rows(seeded, broadcast_id=broadcast.id)) == 4


def test_an_urgent_broadcast_is_queued_urgent_for_everyone(
    seeded: Session, demo_now: datetime
) -> None:
    people = members(seeded)
    broadcast = new_broadcast(seeded, demo_now, urgent=True)

    assert queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now) == 5
    rows = outbox_rows(seeded, broadcast_id=broadcast.id)
    assert all(row.urgent for row in rows)
    assert people["opted_out"].id in {row.user_id for row in rows}


def test_a_broadcast_queued_early_waits_for_its_time(seeded: Session, demo_now: datetime) -> None:
    later = demo_now + timedelta(hours=2)
    broadcast = new_broadcast(seeded, demo_now, kelompok_codes=(MELATI,), send_at=later)

    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)

    (row,) = outbox_rows(seeded, broadcast_id=broadcast.id)
    assert row.not_before == later


# --- cancelling and resending --------------------------------------------------------------------


def test_cancelling_a_scheduled_broadcast_sends_nothing(
    seeded: Session, demo_now: datetime
) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now, send_at=demo_now + timedelta(hours=1))

    cancelled = cancel_broadcast(
        seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded), now=demo_now, actor=ACTOR
    )

    assert cancelled == 0
    assert broadcast.status is BroadcastStatus.CANCELLED
    assert broadcast.cancelled_at == demo_now
    assert queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now) == 0
    assert outbox_rows(seeded, broadcast_id=broadcast.id) == []
    entry = seeded.scalars(select(AuditLog).where(AuditLog.action == "broadcast.cancel")).one()
    assert entry.details == {"was": "scheduled", "cancelled_messages": 0}


def test_cancelling_a_queued_broadcast_stops_what_is_not_sent_yet(
    seeded: Session, demo_now: datetime
) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now)
    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)
    sent = outbox.claim_next(seeded, now=demo_now, quiet=None)
    assert sent is not None
    outbox.mark_sent(seeded, sent.id, telegram_message_id=1, now=demo_now)

    cancelled = cancel_broadcast(
        seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded), now=demo_now, actor=ACTOR
    )

    assert cancelled == 2  # four rows: one sent, one blocked, two still queued
    assert broadcast.status is BroadcastStatus.CANCELLED
    assert outbox.state_counts(seeded, broadcast_id=broadcast.id) == {
        OutboxState.SENT: 1,
        OutboxState.BLOCKED: 1,
        OutboxState.CANCELLED: 2,
    }
    with pytest.raises(BroadcastError, match="sudah dibatalkan"):
        cancel_broadcast(
            seeded,
            broadcast_id=broadcast.id,
            pendamping_id=maria(seeded),
            now=demo_now,
            actor=ACTOR,
        )


def test_resending_puts_the_failed_messages_back_in_the_queue(
    seeded: Session, demo_now: datetime
) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now)
    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)
    for _ in range(2):
        claimed = outbox.claim_next(seeded, now=demo_now, quiet=None)
        assert claimed is not None
        outbox.mark_failed(seeded, claimed.id, error="Bad Gateway", now=demo_now)
    later = demo_now + timedelta(minutes=10)

    resent = resend_failed(
        seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded), now=later, actor=ACTOR
    )

    assert resent == 2
    assert outbox.state_counts(seeded, broadcast_id=broadcast.id) == {
        OutboxState.QUEUED: 3,
        OutboxState.BLOCKED: 1,
    }
    entry = seeded.scalars(
        select(AuditLog).where(AuditLog.action == "broadcast.resend_failed")
    ).one()
    assert entry.details == {"requeued": 2}
    assert (
        resend_failed(
            seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded), now=later, actor=ACTOR
        )
        == 0
    )


def test_another_pendamping_can_neither_see_nor_touch_a_broadcast(
    seeded: Session, demo_now: datetime
) -> None:
    broadcast = new_broadcast(seeded, demo_now)
    other = pendamping(seeded, FRANSISKUS).id

    with pytest.raises(BroadcastError, match="tidak ditemukan"):
        broadcast_view(seeded, broadcast_id=broadcast.id, pendamping_id=other)
    with pytest.raises(BroadcastError, match="tidak ditemukan"):
        cancel_broadcast(
            seeded, broadcast_id=broadcast.id, pendamping_id=other, now=demo_now, actor="x"
        )
    with pytest.raises(BroadcastError, match="tidak ditemukan"):
        resend_failed(
            seeded, broadcast_id=broadcast.id, pendamping_id=other, now=demo_now, actor="x"
        )
    assert broadcast.status is BroadcastStatus.SCHEDULED
    assert recent_broadcasts(seeded, pendamping_id=other) == []


# --- the report ----------------------------------------------------------------------------------


def test_the_report_counts_recipients_before_and_messages_after_queueing(
    seeded: Session, demo_now: datetime
) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now)

    before = broadcast_view(seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded))
    assert (before.status, before.recipients, before.counts) == (
        BroadcastStatus.SCHEDULED,
        4,
        {},
    )
    assert before.kelompok_names == ["Mawar Batu Cermin", "Melati Batu Cermin"]

    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)
    seeded.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast.id)
        .where(OutboxMessage.state == OutboxState.QUEUED)
        .values(state=OutboxState.SENT, sent_at=demo_now)
    )
    after = broadcast_view(seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded))
    assert after.status is BroadcastStatus.QUEUED
    assert after.recipients == 4
    assert after.counts == {OutboxState.SENT: 3, OutboxState.BLOCKED: 1}
    assert after.text == TEXT


def test_recent_broadcasts_are_newest_first(seeded: Session, demo_now: datetime) -> None:
    times = [demo_now + timedelta(minutes=minutes) for minutes in (0, 5, 10)]
    made = [new_broadcast(seeded, moment, text=f"Pesan {n}") for n, moment in enumerate(times)]

    recent = recent_broadcasts(seeded, pendamping_id=maria(seeded), limit=2)

    assert [view.id for view in recent] == [made[2].id, made[1].id]
    assert [view.text for view in recent] == ["Pesan 2", "Pesan 1"]
    assert all(view.send_at.tzinfo is UTC for view in recent)


# --- what the report tells the pendamping --------------------------------------------------------


def test_the_report_names_the_families_it_did_not_reach(
    seeded: Session, demo_now: datetime
) -> None:
    accounts = members(seeded)
    broadcast = new_broadcast(seeded, demo_now)
    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)
    claimed = outbox.claim_next(seeded, now=demo_now, quiet=None)
    assert claimed is not None
    outbox.mark_failed(seeded, claimed.id, error="Bad Request", now=demo_now)
    failed_user = seeded.get(OutboxMessage, claimed.id).user_id  # type: ignore[union-attr]

    view = broadcast_view(seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded))

    failed_family = seeded.get(TelegramUser, failed_user).family  # type: ignore[union-attr]
    blocked_family = accounts["unreachable"].family
    assert view.undelivered[OutboxState.FAILED] == [family_name(failed_family)]  # type: ignore[arg-type]
    assert view.undelivered[OutboxState.BLOCKED] == [family_name(blocked_family)]  # type: ignore[arg-type]


def test_a_routine_broadcast_held_by_quiet_hours_says_when_it_goes(
    seeded: Session, demo_now: datetime
) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now)
    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)
    view = broadcast_view(seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded))
    night = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22.00 WITA
    quiet = QuietHours(time(21), time(6))

    assert view.held_until(quiet, night) == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 06.00 WITA
    assert view.held_until(quiet, demo_now) is None  # 11.00 WITA: going out now
    assert view.held_until(None, night) is None  # QUIET_HOURS=off


def test_an_urgent_broadcast_is_never_held(seeded: Session, demo_now: datetime) -> None:
    members(seeded)
    broadcast = new_broadcast(seeded, demo_now, urgent=True)
    queue_broadcast(seeded, broadcast_id=broadcast.id, now=demo_now)
    view = broadcast_view(seeded, broadcast_id=broadcast.id, pendamping_id=maria(seeded))

    assert view.held_until(QuietHours(), datetime(2026, 11, 23, 14, 0, tzinfo=UTC)) is None
