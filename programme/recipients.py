"""Who in a kelompok gets bulk messages (its linked KPM accounts), and how a family is named."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from programme.models import (
    Family,
    FamilyStatus,
    Kelompok,
    OutboxState,
    Region,
    TelegramUser,
    TimeZone,
    UserRole,
)

# Graduated and removed families have left PKH: no P2K2 reminders, no pendamping news, and they
# are not counted as members of their old kelompok. Suspended families still attend P2K2.
IN_PROGRAMME = (FamilyStatus.ACTIVE, FamilyStatus.SUSPENDED)


@dataclass(frozen=True)
class Member:
    """A linked KPM account of a family in a kelompok."""

    user: TelegramUser
    family: Family
    kelompok: Kelompok
    time_zone: TimeZone  # the kelompok's (its desa's)

    @property
    def state(self) -> OutboxState:
        """QUEUED, or BLOCKED for a chat already known unreachable (kept for the reports)."""
        return OutboxState.BLOCKED if self.user.is_unreachable else OutboxState.QUEUED


def kelompok_members(
    session: Session, *, kelompok_ids: Collection[int], opted_out_too: bool
) -> list[Member]:
    """The linked KPM accounts of the kelompok; those who sent /berhenti only if `opted_out_too`."""
    if not kelompok_ids:
        return []
    query = (
        select(TelegramUser, Family, Kelompok, Region.time_zone)
        .join(Family, TelegramUser.family_id == Family.id)
        .join(Kelompok, Family.kelompok_id == Kelompok.id)
        .join(Region, Kelompok.desa_id == Region.id)
        .where(*member_filter(kelompok_ids=kelompok_ids, opted_out_too=opted_out_too))
        .order_by(TelegramUser.id)
    )
    rows = session.execute(query)
    return [Member(user, family, kelompok, zone) for user, family, kelompok, zone in rows]


def member_filter(
    *, kelompok_ids: Collection[int], opted_out_too: bool
) -> list[ColumnElement[bool]]:
    """The WHERE of `kelompok_members`, for queries that join TelegramUser to Family."""
    conditions = [
        TelegramUser.role == UserRole.KPM,
        Family.kelompok_id.in_(kelompok_ids),
        Family.status.in_(IN_PROGRAMME),
    ]
    if not opted_out_too:
        conditions.append(TelegramUser.reminders_enabled.is_(True))
    return conditions


def family_name(family: Family) -> str:
    pengurus = next((m for m in family.members if m.is_pengurus), None)
    if pengurus is not None:
        return pengurus.name
    return family.members[0].name if family.members else family.pkh_id
