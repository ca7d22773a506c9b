"""A payment window's state from its dates and today, and closing a stage, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.households import load_household
from programme.models import (
    AuditLog,
    PaymentStage,
    PaymentWindow,
    Region,
    ScheduleStatus,
    TelegramUser,
    WindowBasis,
)
from programme.payments import (
    WindowState,
    household_window,
    schedule_updated_on,
    stage_of,
    stage_windows,
    window_state,
)
from programme.stages import CLOSED_SOURCE, close_stage, open_stage
from tests.programme.roster import KPM_WITA

ACTOR = "cli"
MANGGARAI_BARAT = "53.15"
BANYUMAS = "33.02"
BATURRADEN = "33.02.10"  # kecamatan of kpm-wib's desa; it has no window of its own
KPM_WIB = 990000001
NOV_23 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
DEC_4 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def window(starts_on: date, ends_on: date) -> PaymentWindow:
    return PaymentWindow(
        starts_on=starts_on,
        ends_on=ends_on,
        basis=WindowBasis.OFFICIAL,
        status=ScheduleStatus.IN_PROGRESS,  # what a source said once; never read for the state
        source="test",
    )


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 11, 15), WindowState.UPCOMING),
        (date(2026, 11, 16), WindowState.RUNNING),
        (date(2026, 11, 27), WindowState.RUNNING),
        (date(2026, 11, 28), WindowState.FINISHED),
        (date(2026, 12, 4), WindowState.FINISHED),
    ],
)
def test_a_windows_state_comes_from_its_dates_and_today(today: date, state: WindowState) -> None:
    assert window_state(window(date(2026, 11, 16), date(2026, 11, 27)), today=today) is state


@pytest.mark.parametrize("today", [date(2026, 11, 1), date(2026, 11, 20), date(2026, 12, 4)])
def test_a_closed_window_is_closed_whatever_its_dates(today: date) -> None:
    closed = window(date(2026, 11, 16), date(2026, 11, 27))
    closed.closed_at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert window_state(closed, today=today) is WindowState.CLOSED


def wita_household_window(session: Session) -> PaymentWindow:
    """The stage IV 2026 window kpm-wita's family sees (Manggarai Barat, KKS BRI)."""
    user = session.scalars(select(TelegramUser).where(TelegramUser.telegram_user_id == KPM_WITA))
    family_id = user.one().family_id
    assert family_id is not None
    household = load_household(session, family_id=family_id)
    stage = stage_of(session, year=2026, stage_no=4)
    assert household is not None and stage is not None
    seen = household_window(session, stage_id=stage.id, household=household)
    assert seen is not None
    return seen


def test_on_4_december_the_window_of_16_to_27_november_is_finished(seeded: Session) -> None:
    seen = wita_household_window(seeded)
    assert (seen.starts_on, seen.ends_on) == (date(2026, 11, 16), date(2026, 11, 27))
    assert seen.status is ScheduleStatus.IN_PROGRESS  # as the demo stored it on 23 November
    assert window_state(seen, today=date(2026, 12, 4)) is WindowState.FINISHED


def test_closing_a_stage_closes_the_regions_own_window_and_audits_it(seeded: Session) -> None:
    closed = close_stage(
        seeded,
        year=2026,
        stage_no=4,
        region_code=MANGGARAI_BARAT,
        channel_code="bri",
        now=NOV_23,
        actor=ACTOR,
    )

    assert not closed.created
    assert closed.window.id == wita_household_window(seeded).id
    assert closed.window.closed_at == NOV_23
    assert window_state(closed.window, today=date(2026, 11, 23)) is WindowState.CLOSED
    audit = seeded.scalars(select(AuditLog).where(AuditLog.action == "stage.close")).one()
    assert audit.target_id == str(closed.window.id)
    assert audit.details["region"] == MANGGARAI_BARAT


def test_closing_where_there_is_no_window_makes_one_with_the_dates_families_saw(
    seeded: Session,
) -> None:
    closed = close_stage(
        seeded,
        year=2026,
        stage_no=4,
        region_code=BATURRADEN,
        channel_code="bri",
        now=NOV_23,
        actor=ACTOR,
    )

    region = seeded.scalars(select(Region).where(Region.code == BATURRADEN)).one()
    assert closed.created
    assert (closed.window.region_id, closed.window.channel_code) == (region.id, "bri")
    # Banyumas's BRI window was 9–20 November: the closed copy keeps those dates.
    assert (closed.window.starts_on, closed.window.ends_on) == (
        date(2026, 11, 9),
        date(2026, 11, 20),
    )
    assert (closed.window.source, closed.window.source_date) == (CLOSED_SOURCE, date(2026, 11, 23))
    family_id = seeded.scalars(
        select(TelegramUser.family_id).where(TelegramUser.telegram_user_id == KPM_WIB)
    ).one()
    assert family_id is not None
    household = load_household(seeded, family_id=family_id)
    assert household is not None
    seen = household_window(seeded, stage_id=closed.window.stage_id, household=household)
    assert seen is not None and seen.id == closed.window.id


def test_closing_a_region_closes_the_windows_of_the_regions_inside_it(seeded: Session) -> None:
    province = seeded.scalars(select(Region).where(Region.code == BANYUMAS)).one().parent
    assert province is not None  # Jawa Tengah
    closed = close_stage(
        seeded,
        year=2026,
        stage_no=4,
        region_code=province.code,
        channel_code=None,
        now=NOV_23,
        actor=ACTOR,
    )

    assert closed.inside >= 2  # Banyumas's KKS and Pos windows
    inside = [
        w
        for w in stage_windows(seeded, stage_id=closed.window.stage_id)
        if w.region is not None and w.region.code == BANYUMAS
    ]
    assert inside and all(w.closed_at == NOV_23 for w in inside)


def test_opening_a_closed_stage_again_clears_the_closure_and_includes_today(
    seeded: Session,
) -> None:
    scope = {"year": 2026, "stage_no": 4, "region_code": MANGGARAI_BARAT, "channel_code": "bri"}
    close_stage(seeded, **scope, now=NOV_23, actor=ACTOR)

    opened = open_stage(seeded, **scope, now=DEC_4, actor=ACTOR)

    assert opened.window.closed_at is None
    assert opened.window.starts_on == date(2026, 11, 16)
    assert opened.window.ends_on > date(2026, 12, 4)  # over on 27 November: it runs on
    assert window_state(opened.window, today=date(2026, 12, 4)) is WindowState.RUNNING


def test_closing_an_unknown_region_is_an_error(seeded: Session) -> None:
    with pytest.raises(ValueError, match=r"unknown region code '99\.99'"):
        close_stage(
            seeded,
            year=2026,
            stage_no=4,
            region_code="99.99",
            channel_code=None,
            now=NOV_23,
            actor=ACTOR,
        )


def test_the_schedule_is_as_recent_as_its_newest_stage_or_window(seeded: Session) -> None:
    assert schedule_updated_on(seeded) == date(2026, 11, 23)
    stage = PaymentStage(year=2027, stage_no=1, status=ScheduleStatus.PLANNED, source="test")
    seeded.add(stage)
    seeded.flush()
    imported = window(date(2027, 2, 15), date(2027, 3, 31))
    imported.stage_id, imported.source_date = stage.id, date(2026, 12, 3)
    seeded.add(imported)
    seeded.flush()
    assert schedule_updated_on(seeded) == date(2026, 12, 3)
