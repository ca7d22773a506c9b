"""The payment calendar and a family's money: stages, their windows, and disbursements.

A window's state is computed, never read from a stored column: from its dates and today's date
in the time zone of whoever asks (`window_state`). Only an explicit closure
(`PaymentWindow.closed_at`, set by `programme.stages.close_stage`) overrides the dates.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from programme.households import Household
from programme.models import (
    Disbursement,
    FailureReason,
    PaymentStage,
    PaymentWindow,
    TimeZone,
)


class WindowState(enum.StrEnum):
    """Where a payment window stands on a given day."""

    UPCOMING = "upcoming"  # today is before its first day
    RUNNING = "running"  # today is one of its days
    FINISHED = "finished"  # its last day has passed
    CLOSED = "closed"  # closed by programme staff, whatever its dates say


def window_state(window: PaymentWindow, *, today: date) -> WindowState:
    """The window's state on `today` (a local date: the family's, or WIB for everyone)."""
    if window.closed_at is not None:
        return WindowState.CLOSED
    if today < window.starts_on:
        return WindowState.UPCOMING
    if today <= window.ends_on:
        return WindowState.RUNNING
    return WindowState.FINISHED


def local_date(now: datetime, time_zone: str = TimeZone.WIB) -> date:
    """The date it is `now` in a zone; WIB, the national reference, by default."""
    return now.astimezone(ZoneInfo(time_zone)).date()


# --- stages --------------------------------------------------------------------------------------


def stage_of(session: Session, *, year: int, stage_no: int) -> PaymentStage | None:
    """Tahap `stage_no` of `year`, if the database has it."""
    return session.scalars(
        select(PaymentStage).where(PaymentStage.year == year, PaymentStage.stage_no == stage_no)
    ).first()


def stages_of_year(session: Session, *, year: int) -> Sequence[PaymentStage]:
    """The year's stages, stage I first."""
    return session.scalars(
        select(PaymentStage).where(PaymentStage.year == year).order_by(PaymentStage.stage_no)
    ).all()


def current_stage(
    session: Session, *, now: datetime, time_zone: str = TimeZone.WIB
) -> PaymentStage | None:
    """The stage under way on today's local date, else the last one that has started."""
    today = local_date(now, time_zone)
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


def stage_to_come(
    session: Session, *, now: datetime, time_zone: str = TimeZone.WIB
) -> PaymentStage | None:
    """The stage being paid today; when none is, the next one to start, else `current_stage`.

    What "kapan cair?" is about: in January, once next year's stage I is known, that stage
    rather than last year's finished stage IV.
    """
    today = local_date(now, time_zone)
    national = (PaymentWindow.region_id.is_(None), PaymentWindow.channel_code.is_(None))
    query = select(PaymentStage).join(PaymentWindow, PaymentWindow.stage_id == PaymentStage.id)
    running = session.scalars(
        query.where(
            *national,
            PaymentWindow.starts_on <= today,
            PaymentWindow.ends_on >= today,
            PaymentWindow.closed_at.is_(None),
        )
        .order_by(PaymentWindow.starts_on.desc())
        .limit(1)
    ).first()
    if running is not None:
        return running
    coming = session.scalars(
        query.where(*national, PaymentWindow.starts_on > today)
        .order_by(PaymentWindow.starts_on)
        .limit(1)
    ).first()
    return coming or current_stage(session, now=now, time_zone=time_zone)


def schedule_updated_on(session: Session) -> date | None:
    """The newest date any schedule row was sourced or imported on; None for an empty calendar."""
    stages = session.scalar(select(func.max(PaymentStage.source_date)))
    windows = session.scalar(select(func.max(PaymentWindow.source_date)))
    return max((day for day in (stages, windows) if day is not None), default=None)


# --- windows -------------------------------------------------------------------------------------


def national_window(session: Session, *, stage_id: int) -> PaymentWindow | None:
    """The stage's window for every region and every channel."""
    return session.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage_id,
            PaymentWindow.region_id.is_(None),
            PaymentWindow.channel_code.is_(None),
        )
    ).first()


def stage_windows(session: Session, *, stage_id: int) -> Sequence[PaymentWindow]:
    """Every window of a stage, national first, then by region and channel (for the dashboard)."""
    return session.scalars(
        select(PaymentWindow)
        .where(PaymentWindow.stage_id == stage_id)
        .options(joinedload(PaymentWindow.region), joinedload(PaymentWindow.channel))
        .order_by(
            PaymentWindow.region_id.is_not(None),
            PaymentWindow.region_id,
            PaymentWindow.channel_code.is_not(None),
            PaymentWindow.channel_code,
        )
    ).all()


def household_window(
    session: Session, *, stage_id: int, household: Household
) -> PaymentWindow | None:
    """The most specific window of a stage for the family's region and channel."""
    region_ids = household.region_ids
    windows = session.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage_id,
            or_(PaymentWindow.region_id.is_(None), PaymentWindow.region_id.in_(region_ids)),
            or_(
                PaymentWindow.channel_code.is_(None),
                PaymentWindow.channel_code == household.channel.code,
            ),
        )
    ).all()

    def specificity(window: PaymentWindow) -> tuple[int, int]:
        # A desa window beats a kabupaten one, which beats the national one; then the channel's.
        place = region_ids.index(window.region_id) if window.region_id else len(region_ids)
        return place, 0 if window.channel_code else 1

    return min(windows, key=specificity, default=None)


# --- the family's money --------------------------------------------------------------------------


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


def failure_reason(session: Session, *, code: str) -> FailureReason | None:
    """One reason money does not arrive (failure_reasons.yml), by its code."""
    return session.get(FailureReason, code)
