"""What a family is paid per stage: the year's component amounts and the family cap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import BenefitAmount, BenefitYear, Component


@dataclass(frozen=True)
class StageRates:
    """The per-stage amount of each component in one year, and how many components are paid."""

    year: int
    per_stage: Mapping[str, Decimal]
    max_paid_components: int | None


def load_stage_rates(session: Session, *, year: int) -> StageRates:
    """The per-stage rates of `year` from the database."""
    benefit_year = session.get(BenefitYear, year)
    if benefit_year is None:
        raise LookupError(f"no benefit amounts for {year}; run `pkh db seed`")
    rows = session.scalars(
        select(BenefitAmount).where(
            BenefitAmount.year == year, BenefitAmount.per_stage.is_not(None)
        )
    )
    per_stage = {row.component_code: row.per_stage for row in rows if row.per_stage is not None}
    return StageRates(year, per_stage, benefit_year.max_paid_components)


def paid_components(components: Iterable[str], rates: StageRates) -> list[str]:
    """The components that are paid: all, or the `max_paid_components` worth the most."""
    # Which components count above the cap is not documented in what we could read; one weak
    # source says the highest-valued ones (pkh-facts §2.1, [C]), so that is what we do.
    ranked = sorted(components, key=lambda code: rates.per_stage[code], reverse=True)
    cap = rates.max_paid_components
    return ranked if cap is None else ranked[:cap]


def stage_amount(components: Iterable[str], rates: StageRates) -> Decimal:
    """The family's amount for one stage, respecting the cap."""
    return sum((rates.per_stage[code] for code in paid_components(components, rates)), Decimal(0))


def benefit_amounts(session: Session, *, year: int) -> dict[str, BenefitAmount]:
    """The per-stage amount rows of one year by component code (bantuan tetap left out)."""
    rows = session.scalars(
        select(BenefitAmount).where(
            BenefitAmount.year == year, BenefitAmount.per_stage.is_not(None)
        )
    )
    return {row.component_code: row for row in rows}


def rates_year(session: Session, *, up_to: int) -> BenefitYear | None:
    """The latest benefit year with amounts, not after `up_to` (this year, normally)."""
    return session.scalars(
        select(BenefitYear).where(BenefitYear.year <= up_to).order_by(BenefitYear.year.desc())
    ).first()


def benefit_year(session: Session, *, year: int) -> BenefitYear | None:
    """The benefit scheme of exactly `year`, if the database has one."""
    return session.get(BenefitYear, year)


def component(session: Session, *, code: str) -> Component | None:
    """One component row by its code (`anak_sd`, `lansia`, …)."""
    return session.get(Component, code)


def components_by_code(session: Session) -> dict[str, Component]:
    """Every component row by its code, in the components' own order."""
    return {c.code: c for c in session.scalars(select(Component).order_by(Component.sort_order))}
