"""Linking a Telegram account to a family, what is stored, and deleting it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from programme import accounts
from programme.models import AuditLog, LinkAttempt, TelegramUser, UserRole

DEMO_INVITE = "DEMO-LINK-WITA"
DEMO_NIK, DEMO_BIRTH = "9999531500002001", date(1991, 3, 14)


def new_user(session: Session, telegram_id: int = 555_000_001) -> TelegramUser:
    return accounts.upsert_user(
        session, accounts.Sender(telegram_id, telegram_id, "Agustina", None, "id")
    )


def test_first_contact_creates_a_kpm_account_and_later_contacts_update_it(seeded: Session) -> None:
    user = new_user(seeded)
    assert user.role is UserRole.KPM and user.family_id is None
    again = accounts.upsert_user(
        seeded, accounts.Sender(user.telegram_user_id, 42, "Agustina J.", "agus", "id")
    )
    assert again.id == user.id and again.chat_id == 42 and again.first_name == "Agustina J."


def test_an_invite_code_links_once(seeded: Session, secret_key: str, demo_now: datetime) -> None:
    user = new_user(seeded)
    result = accounts.link_with_invite(
        seeded, user, code=DEMO_INVITE, secret_key=secret_key, now=demo_now
    )
    assert result is accounts.LinkResult.LINKED and user.family_id is not None
    other = new_user(seeded, 555_000_002)
    again = accounts.link_with_invite(
        seeded, other, code=DEMO_INVITE, secret_key=secret_key, now=demo_now
    )
    assert again is accounts.LinkResult.INVALID
    assert (
        seeded.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "link_account")
        )
        == 1
    )


def test_unknown_or_expired_codes_do_not_link(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    user = new_user(seeded)
    assert (
        accounts.link_with_invite(
            seeded, user, code="NO-SUCH-CODE", secret_key=secret_key, now=demo_now
        )
        is accounts.LinkResult.INVALID
    )
    assert (
        accounts.link_with_invite(
            seeded,
            user,
            code=DEMO_INVITE,
            secret_key=secret_key,
            now=demo_now + timedelta(days=400),
        )
        is accounts.LinkResult.INVALID
    )
    assert user.family_id is None


def test_nik_and_birth_date_of_the_pengurus_link(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    user = new_user(seeded)
    result = accounts.link_with_nik(
        seeded, user, nik="9999 5315 0000 2001", birth_date=DEMO_BIRTH,
        secret_key=secret_key, now=demo_now,
    )  # fmt: skip
    assert result is accounts.LinkResult.LINKED and user.family_id is not None


def test_repeated_wrong_tries_lock_the_account_out(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    user = new_user(seeded)
    for _ in range(accounts.MAX_LINK_ATTEMPTS):
        assert accounts.link_with_nik(
            seeded, user, nik=DEMO_NIK, birth_date=date(1990, 1, 1),
            secret_key=secret_key, now=demo_now,
        ) is accounts.LinkResult.INVALID  # fmt: skip
    locked = accounts.link_with_nik(
        seeded, user, nik=DEMO_NIK, birth_date=DEMO_BIRTH, secret_key=secret_key, now=demo_now
    )
    assert locked is accounts.LinkResult.LOCKED and user.family_id is None
    later = demo_now + accounts.LOCKOUT + timedelta(minutes=1)
    assert (
        accounts.link_with_nik(
            seeded, user, nik=DEMO_NIK, birth_date=DEMO_BIRTH, secret_key=secret_key, now=later
        )
        is accounts.LinkResult.LINKED
    )


def test_garbage_nik_is_a_wrong_try_not_a_crash(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    user = new_user(seeded)
    assert (
        accounts.link_with_nik(
            seeded,
            user,
            nik="<b>123</b>",
            birth_date=DEMO_BIRTH,
            secret_key=secret_key,
            now=demo_now,
        )
        is accounts.LinkResult.INVALID
    )
    assert seeded.scalar(select(func.count()).select_from(LinkAttempt)) == 1


def test_an_update_is_processed_once(seeded: Session) -> None:
    assert accounts.first_time(seeded, 10_001)
    assert not accounts.first_time(seeded, 10_001)
    assert accounts.first_time(seeded, 10_002)


def test_stored_data_and_deleting_it(seeded: Session, secret_key: str, demo_now: datetime) -> None:
    user = new_user(seeded)
    accounts.link_with_invite(seeded, user, code=DEMO_INVITE, secret_key=secret_key, now=demo_now)
    data = accounts.stored_data(seeded, user)
    assert data["family"] and data["role"] == "kpm"
    accounts.delete_user_data(seeded, user)
    seeded.flush()
    assert (
        seeded.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == 555_000_001)
        ).first()
        is None
    )


def test_a_message_from_a_group_never_replaces_the_private_chat(seeded: Session) -> None:
    user = new_user(seeded)
    user.is_unreachable = True  # she blocked the bot
    in_group = accounts.Sender(user.telegram_user_id, -100_123, "Agustina", None, "id")
    again = accounts.upsert_user(seeded, in_group)
    assert again.chat_id == user.telegram_user_id and again.is_unreachable  # nothing learnt
    privately = accounts.Sender(user.telegram_user_id, user.telegram_user_id, "A", None, "id")
    assert not accounts.upsert_user(seeded, privately).is_unreachable

    first_seen_in_a_group = accounts.upsert_user(
        seeded, accounts.Sender(555_000_077, -100_123, "Rina", None, "id")
    )
    assert first_seen_in_a_group.chat_id == 555_000_077  # her private chat, Telegram's user id
    first_seen_in_a_group.chat_id = -100_123  # as an earlier version stored it
    healed = accounts.upsert_user(
        seeded, accounts.Sender(555_000_077, -100_999, "Rina", None, "id")
    )
    assert healed.chat_id == 555_000_077
