"""'The next meeting' has one boundary for the family, the pendamping and the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.meetings import (
    create_meeting,
    next_meeting,
    upcoming_meeting_count,
    upcoming_meetings,
)
from programme.models import P2K2Session
from tests.programme.roster import MARIA, MELATI, kelompok, pendamping

SATURDAY_9_WITA = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def test_a_meeting_starting_this_very_moment_is_still_the_next_one(
    seeded: Session, demo_now: datetime
) -> None:
    lesson = seeded.scalars(select(P2K2Session).order_by(P2K2Session.id)).first()
    assert lesson is not None
    maria, melati = pendamping(seeded, MARIA).id, kelompok(seeded, MELATI).id
    meeting = create_meeting(
        seeded,
        pendamping_id=maria,
        kelompok_id=melati,
        session_id=lesson.id,
        starts_at=SATURDAY_9_WITA,
        place="Balai Desa Batu Cermin",
        now=demo_now,
        actor="cli",
    )
    just_after = SATURDAY_9_WITA + timedelta(microseconds=1)

    found = next_meeting(seeded, kelompok_id=melati, now=SATURDAY_9_WITA)
    assert found is not None and found.id == meeting.id
    assert meeting.id in [
        m.id for m in upcoming_meetings(seeded, pendamping_id=maria, now=SATURDAY_9_WITA)
    ]
    counted = upcoming_meeting_count(seeded, pendamping_id=maria, now=SATURDAY_9_WITA)

    later = next_meeting(seeded, kelompok_id=melati, now=just_after)
    assert later is None or later.id != meeting.id
    assert meeting.id not in [
        m.id for m in upcoming_meetings(seeded, pendamping_id=maria, now=just_after)
    ]
    assert upcoming_meeting_count(seeded, pendamping_id=maria, now=just_after) == counted - 1
    # Everyone's count (the admin's dashboard) includes Maria's.
    assert upcoming_meeting_count(seeded, pendamping_id=None, now=SATURDAY_9_WITA) >= counted
