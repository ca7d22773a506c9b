"""The asker's own family, read once per question: where it lives, its group, channel and pay.

Personal actions start from `household_of(request)`; None means the asker is not a linked KPM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.base import Request
from core.i18n import Translator
from programme.benefits import StageRates, load_stage_rates, paid_components, stage_amount
from programme.models import (
    BenefitAmount,
    BenefitYear,
    Channel,
    Disbursement,
    Family,
    FamilyMember,
    FamilyStatus,
    Kelompok,
    MemberComponent,
    PaymentStage,
    PaymentWindow,
    Pendamping,
    Region,
    RegionLevel,
    TimeZone,
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


def household_of(request: Request) -> Household | None:
    """The asker's household, or None when the asker is not a KPM linked to a family."""
    if not request.asker.is_linked_kpm or request.asker.family_id is None:
        return None
    return load_household(request.session, family_id=request.asker.family_id)


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


def benefit_amounts(session: Session, *, year: int) -> dict[str, BenefitAmount]:
    """The per-stage amount rows of one year by component code (bantuan tetap left out)."""
    rows = session.scalars(
        select(BenefitAmount).where(
            BenefitAmount.year == year, BenefitAmount.per_stage.is_not(None)
        )
    )
    return {row.component_code: row for row in rows}


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


# --- stages and the family's disbursements ---------------------------------------------------


def roman(stage_no: int) -> str:
    """Tahap numbers are written as Roman numerals in Indonesian (tahap I–IV)."""
    return {1: "I", 2: "II", 3: "III", 4: "IV"}.get(stage_no, str(stage_no))


def stage_label(stage: PaymentStage) -> str:
    """The stage as written in Indonesian text: "IV" for tahap 4."""
    return roman(stage.stage_no)


def current_stage(
    session: Session, *, now: datetime, time_zone: str = TimeZone.WIB
) -> PaymentStage | None:
    """The stage under way on today's local date, else the last one that has started."""
    today = now.astimezone(ZoneInfo(time_zone)).date()
    return session.scalars(
        select(PaymentStage)
        .join(PaymentWindow, PaymentWindow.stage_id == PaymentStage.id)
        .where(
            PaymentWindow.region_id.is_(None),
            PaymentWindow.channel_code.is_(None),
            PaymentWindow.starts_on <= today,
        )
        .order_by(PaymentWindow.starts_on.desc())
        .limit(1)
    ).first()


def stage_of(session: Session, *, year: int, stage_no: int) -> PaymentStage | None:
    """Tahap `stage_no` of `year`, if the database has it."""
    return session.scalars(
        select(PaymentStage).where(PaymentStage.year == year, PaymentStage.stage_no == stage_no)
    ).first()


def family_disbursement(session: Session, *, family_id: int, stage_id: int) -> Disbursement | None:
    """The family's money for one stage: planned, paid or failed; None when not recorded."""
    return session.scalars(
        select(Disbursement).where(
            Disbursement.family_id == family_id, Disbursement.stage_id == stage_id
        )
    ).first()


def family_disbursements(session: Session, *, family_id: int, year: int) -> Sequence[Disbursement]:
    """The family's disbursements of one year, stage I first."""
    return session.scalars(
        select(Disbursement)
        .join(PaymentStage, Disbursement.stage_id == PaymentStage.id)
        .where(Disbursement.family_id == family_id, PaymentStage.year == year)
        .order_by(PaymentStage.stage_no)
    ).all()


# --- the family in words -------------------------------------------------------------------------


def family_status_label(tr: Translator, status: FamilyStatus) -> str:
    """The family's standing in PKH in a few words ("aktif", "ditangguhkan", …)."""
    labels = {
        FamilyStatus.ACTIVE: tr._("aktif"),
        FamilyStatus.SUSPENDED: tr._("ditangguhkan"),
        FamilyStatus.GRADUATED: tr._("sudah graduasi"),
        FamilyStatus.REMOVED: tr._("tidak lagi terdaftar"),
    }
    return labels[status]


def pendamping_contact(tr: Translator, pendamping: Pendamping) -> str:
    """The pendamping's name, with the phone number when we have one."""
    if pendamping.phone:
        return tr._("{name} ({phone})", name=pendamping.name, phone=pendamping.phone)
    return pendamping.name


def pendamping_line(tr: Translator, household: Household) -> str:
    """Who the family's pendamping is and how to reach them."""
    pendamping = household.pendamping
    if pendamping.phone:
        return tr._(
            "Pendamping Bapak/Ibu: {name} ({phone}).", name=pendamping.name, phone=pendamping.phone
        )
    return tr._("Pendamping Bapak/Ibu: {name}.", name=pendamping.name)
