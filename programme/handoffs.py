"""Handing a KPM's question to their pendamping: where it goes and how the asker is named."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import Family, Pendamping, TelegramUser, UserRole


@dataclass(frozen=True)
class Handoff:
    """Where a question goes and what the pendamping is told about the asker."""

    pendamping_name: str
    pendamping_phone: str | None
    pendamping_chats: tuple[int, ...]
    asker_name: str
    family: str


def find_handoff(
    session: Session, *, pendamping_id: int, asker_name: str | None, family_id: int | None
) -> Handoff | None:
    """The pendamping's reachable Telegram chats and a description of the asker."""
    pendamping = session.get(Pendamping, pendamping_id)
    if pendamping is None:
        return None
    chats = session.scalars(
        select(TelegramUser.chat_id).where(
            TelegramUser.role == UserRole.PENDAMPING,
            TelegramUser.pendamping_id == pendamping_id,
            TelegramUser.is_unreachable.is_(False),
        )
    ).all()
    family = session.get(Family, family_id) if family_id else None
    return Handoff(
        pendamping.name,
        pendamping.phone,
        tuple(chats),
        asker_name or "-",
        family.pkh_id if family else "-",
    )
