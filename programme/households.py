"""A KPM family read in one trip: where it lives, its kelompok, pendamping, channel and pay.

Personal answers start from `load_household`; the actions layer never queries these tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from programme.benefits import (
    StageRates,
    benefit_amounts,
    load_stage_rates,
    paid_components,
    stage_amount,
)
from programme.models import (
    BenefitAmount,
    BenefitYear,
    Channel,
    Family,
    FamilyMember,
    Kelompok,
    MemberComponent,
    Pendamping,
    Region,
    RegionLevel,
)


@dataclass(frozen=True)
class Household:
    """A KPM family with its desa, kabupaten, province, kelompok, pendamping and channel."""

    family: Family
    regions: tuple[Region, ...]  # the desa first, up to the province
    kelompok: Kelompok
    pendamping: Pendamping
    channel: Channel

    @property
    def desa(self) -> Region:
        return self.regions[0]

    @property
    def kabupaten(self) -> Region | None:
        return next((r for r in self.regions if r.level is RegionLevel.KABUPATEN), None)

    @property
    def province(self) -> Region:
        return self.regions[-1]

    @property
    def time_zone(self) -> str:
        """The IANA zone of the family's desa (WIB, WITA or WIT)."""
        return str(self.desa.time_zone)

    @property
    def region_ids(self) -> tuple[int, ...]:
        """Region ids from the desa up to the province: the most specific first."""
        return tuple(region.id for region in self.regions)

    @property
    def members(self) -> list[FamilyMember]:
        """Everyone on the Kartu Keluarga, in KK order, each with `.components` loaded."""
        return list(self.family.members)

    @property
    def components(self) -> list[str]:
        """Every component code of every member (a code repeats for two children in SD)."""
        return [c.component_code for member in self.members for c in member.components]

    @property
    def member_components(self) -> list[MemberComponent]:
        """The family's components in KK order, each with its member and component row.

        A member's components come in the components' own order (`Component.sort_order`).
        """
        return [
            c
            for member in self.members
            for c in sorted(member.components, key=lambda c: c.component.sort_order)
        ]

    def today(self, now: datetime) -> date:
        """The date it is now in the family's own time zone."""
        return now.astimezone(ZoneInfo(self.time_zone)).date()


def load_household(session: Session, *, family_id: int) -> Household | None:
    """The household of one family, members and their components loaded in the same trip."""
    components = selectinload(Family.members).selectinload(FamilyMember.components)
    family = session.scalars(
        select(Family)
        .where(Family.id == family_id)
        .options(components.joinedload(MemberComponent.component))
    ).first()
    if family is None:
        return None
    regions = [family.desa]
    while (parent := regions[-1].parent) is not None:
        regions.append(parent)
    kelompok = family.kelompok
    return Household(family, tuple(regions), kelompok, kelompok.pendamping, family.channel)


# --- what the family is paid -------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyBenefit:
    """One year's per-stage pay of a family: its components, the ones paid (cap) and the total."""

    year: BenefitYear
    rates: StageRates
    amounts: Mapping[str, BenefitAmount]  # the year's rows, by component code
    components: tuple[str, ...]
    paid: tuple[str, ...]
    total: Decimal

    @property
    def unpaid(self) -> tuple[str, ...]:
        """The components left out by the cap (a code repeats when several are left out)."""
        return tuple((Counter(self.components) - Counter(self.paid)).elements())

    @property
    def needs_verification(self) -> bool:
        """True when the year or any paid amount is not confirmed by a source for that year."""
        return self.year.needs_verification or any(
            self.amounts[code].needs_verification for code in self.paid
        )


def family_benefit(session: Session, *, household: Household, year: int) -> FamilyBenefit | None:
    """What the family is paid per stage in `year`, respecting the cap; None without rates."""
    benefit_year = session.get(BenefitYear, year)
    if benefit_year is None:
        return None
    rates = load_stage_rates(session, year=year)
    components = tuple(code for code in household.components if code in rates.per_stage)
    paid = tuple(paid_components(components, rates))
    return FamilyBenefit(
        year=benefit_year,
        rates=rates,
        amounts=benefit_amounts(session, year=year),
        components=components,
        paid=paid,
        total=stage_amount(components, rates),
    )
