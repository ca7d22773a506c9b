"""Opening a payment stage on both databases: its window, and one note per family, ever."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from programme import outbox
from programme.models import (
    AuditLog,
    Family,
    FamilyStatus,
    OutboxKind,
    OutboxState,
    PaymentStage,
    PaymentWindow,
    Region,
    ScheduleStatus,
    TelegramUser,
    TimeZone,
    WindowBasis,
)
from programme.stages import OPENED_SOURCE, open_stage
from tests.programme.roster import (
    KENANGA,
    KPM_WITA,
    MAWAR,
    MELATI,
    account,
    families,
    link,
    outbox_rows,
)

ACTOR = "cli"
KABUPATEN = "53.15"  # Manggarai Barat
KOMODO = "53.15.01"  # kecamatan of Melati and Mawar (desa Batu Cermin); Kenanga is in Lembor


@pytest.fixture
def stage(seeded: Session) -> PaymentStage:
    """Stage I of 2027, not yet paid anywhere."""
    planned = PaymentStage(year=2027, stage_no=1, status=ScheduleStatus.PLANNED, source="test")
    seeded.add(planned)
    seeded.flush()
    return planned


def on(session: Session, kelompok_code: str, channel: str) -> Family:
    """A family of the kelompok paid through the channel, not linked yet."""
    return next(f for f in families(session, kelompok_code) if f.channel_code == channel)


def told(session: Session, stage: PaymentStage) -> set[int | None]:
    """The accounts a stage-open note was written for."""
    rows = outbox_rows(session, kind=OutboxKind.STAGE_OPEN)
    return {row.user_id for row in rows if row.dedupe_key.startswith(f"stage-open:{stage.id}:")}


def open_(
    session: Session,
    stage: PaymentStage,
    region_code: str,
    channel_code: str | None,
    now: datetime,
    until: date | None = None,
) -> tuple[PaymentWindow, int]:
    opened = open_stage(
        session,
        year=stage.year,
        stage_no=stage.stage_no,
        region_code=region_code,
        channel_code=channel_code,
        now=now,
        actor=ACTOR,
        until=until,
    )
    return opened.window, opened.notified


def test_opening_a_stage_makes_its_window_and_tells_the_families_there(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    bri_melati = link(seeded, on(seeded, MELATI, "bri"))
    bri_mawar = link(seeded, on(seeded, MAWAR, "bri"))
    bri_gone = link(seeded, on(seeded, MELATI, "bri"), unreachable=True)
    link(seeded, on(seeded, MELATI, "bri"), reminders=False)  # sent /berhenti
    link(seeded, on(seeded, MELATI, "bni"))  # another channel
    link(seeded, on(seeded, KENANGA, "bri"))  # another kecamatan
    link(seeded, families(seeded, MELATI, status=FamilyStatus.SUSPENDED)[0])  # not being paid

    window, notified = open_(seeded, stage, KOMODO, "bri", demo_now)

    komodo = seeded.scalars(select(Region).where(Region.code == KOMODO)).one()
    assert (window.stage_id, window.region_id, window.channel_code) == (stage.id, komodo.id, "bri")
    assert (window.starts_on, window.ends_on) == (date(2026, 11, 23), date(2026, 12, 7))
    # The source is what the family reads after "Sumber:" (issue 13), dated the day of opening.
    assert (window.basis, window.source, window.note) == (WindowBasis.OFFICIAL, OPENED_SOURCE, None)
    assert window.source_date == date(2026, 11, 23)
    assert window.status is ScheduleStatus.IN_PROGRESS
    assert stage.status is ScheduleStatus.IN_PROGRESS
    kpm_wita = account(seeded, KPM_WITA)
    assert notified == 4
    assert told(seeded, stage) == {kpm_wita.id, bri_melati.id, bri_mawar.id, bri_gone.id}
    (row,) = outbox_rows(seeded, user_id=bri_melati.id)
    assert row.dedupe_key == (
        f"stage-open:{stage.id}:family:{bri_melati.family_id}:user:{bri_melati.id}"
    )
    assert row.time_zone is TimeZone.WITA
    assert row.state is OutboxState.QUEUED
    assert row.expires_at == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 8 Dec, 00.00 WITA
    assert outbox_rows(seeded, user_id=bri_gone.id)[0].state is OutboxState.BLOCKED
    assert row.text.startswith(
        "Bapak/Ibu, bantuan PKH tahap 1 tahun 2027 sudah mulai disalurkan lewat KKS Bank BRI "
        "di wilayah Komodo."
    )
    assert "bawa kartu KKS ke ATM" in row.text
    assert "kapan cair" in row.text
    entry = seeded.scalars(select(AuditLog).where(AuditLog.action == "stage.open")).one()
    assert entry.target_id == str(window.id)
    assert entry.details["notified"] == 4
    assert entry.details["window_created"] is True


def test_opening_the_same_stage_twice_tells_nobody_twice(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    link(seeded, on(seeded, MELATI, "bri"))
    first, notified = open_(seeded, stage, KOMODO, "bri", demo_now)

    again, notified_again = open_(seeded, stage, KOMODO, "bri", demo_now)

    assert (notified, notified_again) == (2, 0)
    assert again.id == first.id
    windows = seeded.scalars(select(PaymentWindow).where(PaymentWindow.stage_id == stage.id))
    assert len(windows.all()) == 1


def test_a_wider_region_only_tells_the_families_not_told_yet(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    link(seeded, on(seeded, MELATI, "bri"))
    bni_melati = link(seeded, on(seeded, MELATI, "bni"))
    pos_melati = link(seeded, on(seeded, MELATI, "pos"))
    bri_kenanga = link(seeded, on(seeded, KENANGA, "bri"))
    _, first = open_(seeded, stage, KOMODO, "bri", demo_now)
    before = told(seeded, stage)

    _, wider = open_(seeded, stage, KABUPATEN, None, demo_now)  # every channel, whole kabupaten

    assert first == 2
    assert wider == 3
    assert told(seeded, stage) - before == {bni_melati.id, pos_melati.id, bri_kenanga.id}


def test_the_region_includes_every_desa_below_it(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    bri_kenanga = link(seeded, on(seeded, KENANGA, "bri"))

    _, komodo = open_(seeded, stage, KOMODO, "bri", demo_now)
    assert bri_kenanga.id not in told(seeded, stage)

    _, province = open_(seeded, stage, "53", "bri", demo_now)  # Nusa Tenggara Timur
    assert bri_kenanga.id in told(seeded, stage)
    assert (komodo, province) == (1, 1)  # kpm-wita first, then the family in Siru


def test_families_paid_at_the_post_office_are_told_how_pos_pays(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    pos_melati = link(seeded, on(seeded, MELATI, "pos"))

    _, notified = open_(seeded, stage, KOMODO, "pos", demo_now)

    assert notified == 1
    (row,) = outbox_rows(seeded, user_id=pos_melati.id)
    assert "lewat PT Pos Indonesia di wilayah Komodo" in row.text
    assert "surat undangan" in row.text
    assert "KKS" not in row.text


def test_an_existing_window_is_opened_rather_than_copied(
    seeded: Session, demo_now: datetime
) -> None:
    # The demo plans stage IV 2026 for PT Pos in Manggarai Barat from 1 December.
    stage = seeded.scalars(
        select(PaymentStage).where(PaymentStage.year == 2026, PaymentStage.stage_no == 4)
    ).one()
    kabupaten = seeded.scalars(select(Region).where(Region.code == KABUPATEN)).one()
    planned = seeded.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage.id,
            PaymentWindow.region_id == kabupaten.id,
            PaymentWindow.channel_code == "pos",
        )
    ).one()

    window, _ = open_(seeded, stage, KABUPATEN, "pos", demo_now, until=date(2026, 12, 20))

    assert window.id == planned.id
    assert window.status is ScheduleStatus.IN_PROGRESS
    assert window.ends_on == date(2026, 12, 20)
    # Opened on 23 November: paying starts now, not on the planned 1 December (issue 13).
    assert window.starts_on == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("year", "stage_no", "region_code", "channel_code", "problem"),
    [
        (2030, 1, KOMODO, None, "no payment stage 1 of 2030"),
        (2026, 4, "99.99", None, "unknown region code '99.99'"),
        (2026, 4, KOMODO, "ovo", "unknown payment channel 'ovo'"),
    ],
)
def test_unknown_stage_region_or_channel_is_an_error(
    seeded: Session,
    demo_now: datetime,
    year: int,
    stage_no: int,
    region_code: str,
    channel_code: str | None,
    problem: str,
) -> None:
    with pytest.raises(ValueError, match=problem):
        open_stage(
            seeded,
            year=year,
            stage_no=stage_no,
            region_code=region_code,
            channel_code=channel_code,
            now=demo_now,
            actor=ACTOR,
        )
    assert outbox.pending_count(seeded) == 0


def test_a_window_cannot_end_before_it_starts(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    with pytest.raises(ValueError, match="cannot end"):
        open_(seeded, stage, KOMODO, "bri", demo_now, until=date(2026, 11, 1))


def test_two_accounts_of_one_family_are_both_told(
    seeded: Session, demo_now: datetime, stage: PaymentStage
) -> None:
    kpm_wita = account(seeded, KPM_WITA)
    assert kpm_wita.family is not None
    husband: TelegramUser = link(seeded, kpm_wita.family)

    _, notified = open_(seeded, stage, KOMODO, "bri", demo_now)

    assert notified == 2
    assert told(seeded, stage) == {kpm_wita.id, husband.id}
