"""Demo roster people for the meeting, broadcast and stage tests, and accounts linked to them."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import (
    Family,
    FamilyStatus,
    Kelompok,
    OutboxMessage,
    Pendamping,
    TelegramUser,
    UserRole,
)

MARIA = "DEMO-PDP-5315-1"  # Manggarai Barat, WITA
FRANSISKUS = "DEMO-PDP-5315-2"  # the other pendamping of Manggarai Barat
MELATI = "DEMO-KLP-5315-01"  # Maria's; kpm-wita (990000002) is in it
MAWAR = "DEMO-KLP-5315-02"  # Maria's, same desa (Batu Cermin)
KENANGA = "DEMO-KLP-5315-04"  # Maria's, desa Siru in kecamatan Lembor
DAHLIA = "DEMO-KLP-5315-05"  # Fransiskus's
TERATAI = "DEMO-KLP-3302-01"  # Banyumas, WIB
LILY = "DEMO-KLP-9103-01"  # Kabupaten Jayapura, WIT
KPM_WITA = 990000002
MARIA_ACCOUNT = 990000101
LINKED_AT = datetime(2026, 11, 1, tzinfo=UTC)

_telegram_ids = count(880_000_001)


def pendamping(session: Session, code: str) -> Pendamping:
    return session.scalars(select(Pendamping).where(Pendamping.code == code)).one()


def kelompok(session: Session, code: str) -> Kelompok:
    return session.scalars(select(Kelompok).where(Kelompok.code == code)).one()


def account(session: Session, telegram_user_id: int) -> TelegramUser:
    return session.scalars(
        select(TelegramUser).where(TelegramUser.telegram_user_id == telegram_user_id)
    ).one()


def families(
    session: Session, kelompok_code: str, *, status: FamilyStatus = FamilyStatus.ACTIVE
) -> list[Family]:
    """The kelompok's families with this status, not yet linked to any account, oldest first."""
    linked = select(TelegramUser.family_id).where(TelegramUser.family_id.is_not(None))
    return list(
        session.scalars(
            select(Family)
            .join(Kelompok, Family.kelompok_id == Kelompok.id)
            .where(Kelompok.code == kelompok_code, Family.status == status)
            .where(Family.id.not_in(linked))
            .order_by(Family.id)
        )
    )


def link(
    session: Session,
    family: Family,
    *,
    reminders: bool = True,
    unreachable: bool = False,
    language: str = "id",
) -> TelegramUser:
    """A KPM account linked to the family, as /start with an invite code would leave it."""
    telegram_id = next(_telegram_ids)
    user = TelegramUser(
        telegram_user_id=telegram_id,
        chat_id=telegram_id,
        role=UserRole.KPM,
        family_id=family.id,
        reminders_enabled=reminders,
        is_unreachable=unreachable,
        language=language,
        linked_at=LINKED_AT,
    )
    session.add(user)
    session.flush()
    return user


def pendamping_account(session: Session, pendamping_code: str) -> TelegramUser:
    """A (further) Telegram account of the pendamping."""
    telegram_id = next(_telegram_ids)
    user = TelegramUser(
        telegram_user_id=telegram_id,
        chat_id=telegram_id,
        role=UserRole.PENDAMPING,
        pendamping_id=pendamping(session, pendamping_code).id,
        linked_at=LINKED_AT,
    )
    session.add(user)
    session.flush()
    return user


def pengurus(family: Family) -> str:
    return next(member.name for member in family.members if member.is_pengurus)


def outbox_rows(session: Session, **where: object) -> list[OutboxMessage]:
    """The outbox rows matching the column values, in the order they were written."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    return list(session.scalars(query))
