"""The outbox on both databases: dedupe, claiming order, quiet hours, expiry, crash recovery."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.quiet import QuietHours
from programme import outbox
from programme.models import OutboxKind, OutboxMessage, OutboxState, TimeZone
from programme.outbox import NewMessage

NOON_WIB = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 12.00 WIB, 13.00 WITA, 14.00 WIT
QUIET = QuietHours()


def message(key: str, *, kind: OutboxKind = OutboxKind.BROADCAST, **changes: object) -> NewMessage:
    values: dict[str, object] = {
        "dedupe_key": key,
        "kind": kind,
        "chat_id": 1000 + len(key),
        "user_id": None,
        "text": f"pesan {key}",
        "time_zone": TimeZone.WIB,
        "not_before": NOON_WIB,
    }
    values.update(changes)
    return NewMessage(**values)  # type: ignore[arg-type]


def claim_all(session: Session, now: datetime, quiet: QuietHours | None = QUIET) -> list[str]:
    texts = []
    while (claimed := outbox.claim_next(session, now=now, quiet=quiet)) is not None:
        texts.append(claimed.text)
    return texts


def state_of(session: Session, key: str) -> OutboxState:
    return session.scalars(select(OutboxMessage.state).where(OutboxMessage.dedupe_key == key)).one()


def test_enqueueing_the_same_key_twice_adds_one_message(session: Session) -> None:
    assert outbox.enqueue(session, [message("a"), message("b")], now=NOON_WIB) == 2
    assert outbox.enqueue(session, [message("a"), message("c")], now=NOON_WIB) == 1
    assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "c"))
    assert outbox.pending_count(session) == 3


def test_large_batches_are_inserted_in_chunks(session: Session) -> None:
    batch = [message(f"m{number}") for number in range(1_234)]
    assert outbox.enqueue(session, batch, now=NOON_WIB) == 1_234


def test_reminders_are_claimed_before_broadcasts_then_in_order(session: Session) -> None:
    outbox.enqueue(
        session,
        [
            message("news-1"),
            message("news-2"),
            message("stage", kind=OutboxKind.STAGE_OPEN),
            message("reminder", kind=OutboxKind.REMINDER),
        ],
        now=NOON_WIB,
    )
    order = claim_all(session, NOON_WIB)
    assert order == ["pesan reminder", "pesan stage", "pesan news-1", "pesan news-2"]
    assert state_of(session, "news-1") is OutboxState.SENDING


def test_a_claimed_message_is_not_claimed_again(session: Session) -> None:
    outbox.enqueue(session, [message("once")], now=NOON_WIB)
    first = outbox.claim_next(session, now=NOON_WIB, quiet=None)
    assert first is not None and first.attempts == 1
    assert outbox.claim_next(session, now=NOON_WIB, quiet=None) is None


def test_messages_wait_for_their_time(session: Session) -> None:
    outbox.enqueue(
        session, [message("later", not_before=NOON_WIB + timedelta(hours=1))], now=NOON_WIB
    )
    assert claim_all(session, NOON_WIB) == []
    assert claim_all(session, NOON_WIB + timedelta(hours=1)) == ["pesan later"]


def test_quiet_hours_hold_routine_messages_in_the_recipients_own_time_zone(
    session: Session,
) -> None:
    # 14.30 UTC: 21.30 WIB (quiet), 22.30 WITA (quiet); 23.30 WIT (quiet). 13.30 UTC: 20.30 WIB,
    # 21.30 WITA (quiet), 22.30 WIT (quiet).
    evening = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
    outbox.enqueue(
        session,
        [
            message("wib", time_zone=TimeZone.WIB, not_before=evening),
            message("wita", time_zone=TimeZone.WITA, not_before=evening),
            message("wit-urgent", time_zone=TimeZone.WIT, urgent=True, not_before=evening),
        ],
        now=evening,
    )
    assert claim_all(session, evening) == ["pesan wib", "pesan wit-urgent"]
    assert state_of(session, "wita") is OutboxState.QUEUED
    # 06.00 WITA is 22.00 UTC the day before.
    assert claim_all(session, datetime(2026, 11, 23, 21, 59, tzinfo=UTC)) == []
    assert claim_all(session, datetime(2026, 11, 23, 22, 0, tzinfo=UTC)) == ["pesan wita"]


def test_quiet_hours_can_be_switched_off(session: Session) -> None:
    midnight_wib = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    outbox.enqueue(session, [message("night", not_before=midnight_wib)], now=midnight_wib)
    assert claim_all(session, midnight_wib, quiet=None) == ["pesan night"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21-6", QuietHours(time(21), time(6))),
        ("22.30-05.30", QuietHours(time(22, 30), time(5, 30))),
    ],
)
def test_quiet_hours_are_parsed_from_settings(text: str, expected: QuietHours) -> None:
    assert QuietHours.parse(text) == expected


@pytest.mark.parametrize("text", ["", "off", " OFF "])
def test_quiet_hours_off(text: str) -> None:
    assert QuietHours.parse(text) is None


def test_bad_quiet_hours_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="quiet hours must look like 21-6"):
        QuietHours.parse("malam")


def test_quiet_hours_end_at_six_local_time() -> None:
    late = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 23.00 WIB
    assert QUIET.ends_after(late, ZoneInfo(TimeZone.WIB)) == datetime(
        2026, 11, 23, 23, 0, tzinfo=UTC
    )
    assert QUIET.ends_after(NOON_WIB, ZoneInfo(TimeZone.WIB)) == NOON_WIB


def test_a_reminder_whose_meeting_started_expires_instead_of_going_out(session: Session) -> None:
    start = NOON_WIB + timedelta(minutes=30)
    outbox.enqueue(
        session,
        [message("late", kind=OutboxKind.REMINDER, expires_at=start)],
        now=NOON_WIB,
    )
    assert claim_all(session, start) == []
    assert outbox.expire_overdue(session, now=start) == 1
    assert state_of(session, "late") is OutboxState.EXPIRED


def test_outcomes_are_recorded_only_for_a_message_in_flight(session: Session) -> None:
    outbox.enqueue(session, [message("sent"), message("blocked"), message("failed")], now=NOON_WIB)
    ids = {}
    for _ in range(3):
        claimed = outbox.claim_next(session, now=NOON_WIB, quiet=None)
        assert claimed is not None
        ids[claimed.text.removeprefix("pesan ")] = claimed.id
    outbox.mark_sent(session, ids["sent"], telegram_message_id=77, now=NOON_WIB)
    outbox.mark_blocked(session, ids["blocked"], error="Forbidden", now=NOON_WIB)
    outbox.mark_failed(session, ids["failed"], error="chat not found", now=NOON_WIB)
    # A late second outcome (say, from a leader that lost its lock) changes nothing.
    outbox.mark_failed(session, ids["sent"], error="late", now=NOON_WIB)
    session.expire_all()
    assert state_of(session, "sent") is OutboxState.SENT
    assert state_of(session, "blocked") is OutboxState.BLOCKED
    assert state_of(session, "failed") is OutboxState.FAILED
    row = session.get(OutboxMessage, ids["sent"])
    assert row is not None and row.telegram_message_id == 77 and row.sent_at is not None


def test_a_transient_failure_goes_back_in_the_queue_for_later(session: Session) -> None:
    outbox.enqueue(session, [message("flaky")], now=NOON_WIB)
    claimed = outbox.claim_next(session, now=NOON_WIB, quiet=None)
    assert claimed is not None
    later = NOON_WIB + timedelta(seconds=5)
    outbox.retry_later(session, claimed.id, error="Bad Gateway", not_before=later, now=NOON_WIB)
    assert claim_all(session, NOON_WIB) == []
    again = outbox.claim_next(session, now=later, quiet=None)
    assert again is not None and again.attempts == 2


def test_messages_left_in_flight_by_a_crash_are_queued_again_after_the_grace(
    session: Session,
) -> None:
    outbox.enqueue(session, [message("in-flight"), message("ours")], now=NOON_WIB)
    crashed = outbox.claim_next(session, now=NOON_WIB, quiet=None)
    ours = outbox.claim_next(session, now=NOON_WIB, quiet=None)
    assert crashed is not None and ours is not None
    soon = NOON_WIB + timedelta(seconds=2)
    assert outbox.recover_interrupted(session, now=soon, stale_before=NOON_WIB) == 0
    later = NOON_WIB + timedelta(seconds=10)
    recovered = outbox.recover_interrupted(
        session, now=later, stale_before=later - timedelta(seconds=5), keep={ours.id}
    )
    assert recovered == 1
    session.expire_all()
    assert state_of(session, "in-flight") is OutboxState.QUEUED
    assert state_of(session, "ours") is OutboxState.SENDING


def test_cancelling_a_broadcast_cancels_only_what_is_still_queued(session: Session) -> None:
    # Broadcast rows need a broadcast; use meeting-less, broadcast-less rows via the state count.
    outbox.enqueue(session, [message("x"), message("y")], now=NOON_WIB)
    with pytest.raises(ValueError, match="exactly one"):
        outbox.cancel_queued(session, now=NOON_WIB)
