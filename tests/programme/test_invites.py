"""Invite links from /undangan: running it again shows the same links while they are valid."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme import accounts, kelompok
from programme.models import InviteCode, Kelompok, TelegramUser, UserRole


def _invites(seeded: Session, kelompok_row: Kelompok, secret_key: str, now: datetime):  # type: ignore[no-untyped-def]
    batch = kelompok.create_invites(
        seeded,
        pendamping_id=kelompok_row.pendamping_id,
        kelompok_id=kelompok_row.id,
        secret_key=secret_key,
        now=now,
        actor="test",
    )
    assert batch is not None
    return batch


def _a_kelompok_with_unlinked_families(seeded: Session, secret_key: str, now: datetime) -> Kelompok:
    for row in seeded.scalars(select(Kelompok).order_by(Kelompok.id)):
        if _invites(seeded, row, secret_key, now).invites:
            return row
    raise AssertionError("the demo has no kelompok with an unlinked family")


def test_running_undangan_again_gives_the_same_links_while_they_are_valid(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    row = _a_kelompok_with_unlinked_families(seeded, secret_key, demo_now)
    first = _invites(seeded, row, secret_key, demo_now)

    again = _invites(seeded, row, secret_key, demo_now + timedelta(days=3))

    assert [(i.family_name, i.code) for i in again.invites] == [
        (i.family_name, i.code) for i in first.invites
    ]
    assert again.reissued == len(first.invites)
    assert again.expires_at == first.expires_at  # the links keep their own expiry
    unused = seeded.scalars(select(InviteCode).where(InviteCode.used_at.is_(None))).all()
    assert len([c for c in unused if c.family.kelompok_id == row.id]) == len(first.invites)


def test_a_link_sent_before_undangan_ran_again_still_links_the_family(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    row = _a_kelompok_with_unlinked_families(seeded, secret_key, demo_now)
    sent = _invites(seeded, row, secret_key, demo_now).invites[0]
    _invites(seeded, row, secret_key, demo_now + timedelta(days=1))
    user = TelegramUser(telegram_user_id=991_000_001, chat_id=991_000_001, role=UserRole.KPM)
    seeded.add(user)
    seeded.flush()

    result = accounts.link_with_invite(
        seeded, user, code=sent.code, secret_key=secret_key, now=demo_now + timedelta(days=2)
    )

    assert result is accounts.LinkResult.LINKED


def test_expired_links_are_replaced_by_new_ones(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    row = _a_kelompok_with_unlinked_families(seeded, secret_key, demo_now)
    first = _invites(seeded, row, secret_key, demo_now)

    later = _invites(seeded, row, secret_key, first.expires_at + timedelta(hours=1))

    assert later.reissued == 0
    assert {i.code for i in later.invites}.isdisjoint({i.code for i in first.invites})
    assert later.expires_at > first.expires_at
