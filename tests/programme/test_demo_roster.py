"""The demo roster: deterministic, spread over three time zones, within the programme's caps."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from programme.benefits import load_stage_rates, paid_components, stage_amount
from programme.demo import build_roster, demo_handles, demo_nik, load_demo, seed_demo
from programme.models import (
    Disbursement,
    DisbursementStatus,
    Family,
    FamilyMember,
    FamilyStatus,
    Kelompok,
    MeetingStatus,
    P2K2Meeting,
    PaymentStage,
    TelegramUser,
    UserRole,
)
from programme.queries import find_member_by_nik

HANDLES = demo_handles()


def demo_user(session: Session, handle: str) -> TelegramUser:
    return session.scalars(
        select(TelegramUser).where(TelegramUser.telegram_user_id == HANDLES[handle])
    ).one()


def stage4(session: Session, family: Family) -> Disbursement:
    return session.scalars(
        select(Disbursement)
        .join(PaymentStage)
        .where(Disbursement.family_id == family.id, PaymentStage.year == 2026)
        .where(PaymentStage.stage_no == 4)
    ).one()


def components_of(family: Family) -> list[str]:
    return [c.component_code for m in family.members for c in m.components]


def all_families(session: Session) -> list[Family]:
    """Every family with members, components and disbursements loaded in four queries."""
    return list(
        session.scalars(
            select(Family).options(
                selectinload(Family.members).selectinload(FamilyMember.components),
                selectinload(Family.disbursements),
                selectinload(Family.desa),
            )
        )
    )


def test_the_roster_is_the_same_every_time() -> None:
    assert build_roster(load_demo()) == build_roster(load_demo())


def test_the_roster_has_a_few_hundred_families_with_fake_niks() -> None:
    roster = build_roster(load_demo())
    assert 200 <= len(roster.families) <= 500
    niks = [m.nik for f in roster.families for m in f.members]
    assert len(set(niks)) == len(niks)
    assert all(len(nik) == 16 and nik.startswith("9999") for nik in niks)


def test_families_respect_the_component_caps(seeded: Session) -> None:
    families = all_families(seeded)
    for family in families:
        counts = Counter(components_of(family))
        assert counts["anak_usia_dini"] <= 2
        assert counts["lansia"] <= 1
        assert counts["disabilitas_berat"] <= 1
        assert counts["ibu_hamil"] <= 1
        assert counts, f"{family.pkh_id} has no component"
    assert any(len(components_of(f)) > 4 for f in families), "no family shows the cap of 4"


def test_stage_amounts_pay_at_most_four_components(seeded: Session) -> None:
    rates = load_stage_rates(seeded, year=2026)
    for family in all_families(seeded):
        components = components_of(family)
        assert len(paid_components(components, rates)) <= 4
        for disbursement in family.disbursements:
            assert disbursement.amount == stage_amount(components, rates)


def test_2026_disbursements_are_paid_planned_and_failed(
    seeded: Session, demo_now: datetime
) -> None:
    disbursements = seeded.scalars(
        select(Disbursement).join(PaymentStage).where(PaymentStage.year == 2026)
    ).all()
    by_stage = {
        stage: Counter(d.status for d in disbursements if d.stage.stage_no == stage)
        for stage in (1, 2, 3, 4)
    }
    assert all(by_stage[stage][DisbursementStatus.PAID] for stage in (1, 2, 3, 4))
    assert by_stage[4][DisbursementStatus.PLANNED] and by_stage[4][DisbursementStatus.FAILED]
    for d in disbursements:
        assert (d.paid_on is not None) == (d.status is DisbursementStatus.PAID)
        assert (d.failure_reason is not None) == (d.status is DisbursementStatus.FAILED)
        if d.paid_on is not None:
            assert d.paid_on < demo_now.date()


def test_regions_cover_wib_wita_and_wit_and_aceh_is_paid_through_bsi(seeded: Session) -> None:
    families = all_families(seeded)
    assert {f.desa.time_zone.abbreviation for f in families} == {"WIB", "WITA", "WIT"}
    aceh = [f for f in families if f.desa.code.startswith("11.")]
    assert aceh and {f.channel_code for f in aceh} == {"bsi"}
    assert "bsi" not in {f.channel_code for f in families if not f.desa.code.startswith("11.")}
    assert {f.status for f in families} == set(FamilyStatus) - {FamilyStatus.REMOVED}


def test_every_kelompok_has_an_upcoming_meeting_in_its_own_time_zone(
    seeded: Session, demo_now: datetime
) -> None:
    for kelompok in seeded.scalars(select(Kelompok)):
        upcoming = [
            m
            for m in kelompok.meetings
            if m.status is MeetingStatus.SCHEDULED and m.starts_at > demo_now
        ]
        assert len(upcoming) == 1, kelompok.code
        assert upcoming[0].session is not None
        local = upcoming[0].starts_at.astimezone(ZoneInfo(kelompok.desa.time_zone))
        assert local.minute in (0, 30)


def test_demo_users_are_linked_in_three_time_zones(seeded: Session) -> None:
    zones = {}
    for handle in ("kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"):
        user = demo_user(seeded, handle)
        assert user.role is UserRole.KPM and user.family is not None and user.linked_at
        zones[handle] = user.family.desa.time_zone.abbreviation
    assert zones == {"kpm-wib": "WIB", "kpm-wita": "WITA", "kpm-wit": "WIT", "kpm-aceh": "WIB"}

    pendamping = demo_user(seeded, "pendamping")
    assert pendamping.role is UserRole.PENDAMPING and pendamping.pendamping is not None
    kpm_wita = demo_user(seeded, "kpm-wita").family
    assert kpm_wita is not None and kpm_wita.kelompok.pendamping == pendamping.pendamping
    admin = demo_user(seeded, "admin")
    assert admin.role is UserRole.ADMIN and admin.family is None and admin.pendamping is None


def test_demo_users_show_a_failed_payment_and_a_post_office_payment(seeded: Session) -> None:
    wita = demo_user(seeded, "kpm-wita").family
    wit = demo_user(seeded, "kpm-wit").family
    assert wita is not None and wit is not None

    failed = stage4(seeded, wita)
    assert failed.status is DisbursementStatus.FAILED and failed.failure_reason_code == "ACCOUNT"
    assert failed.failure_reason is not None and failed.failure_reason.explanation
    by_pos = stage4(seeded, wit)
    assert by_pos.status is DisbursementStatus.PAID and by_pos.channel_code == "pos"


def test_demo_users_groups_meet_soon_at_a_fixed_local_time(
    seeded: Session, demo_now: datetime
) -> None:
    family = demo_user(seeded, "kpm-wita").family
    assert family is not None
    meeting = seeded.scalars(
        select(P2K2Meeting).where(
            P2K2Meeting.kelompok_id == family.kelompok_id,
            P2K2Meeting.status == MeetingStatus.SCHEDULED,
        )
    ).one()
    local = meeting.starts_at.astimezone(ZoneInfo("Asia/Makassar"))
    assert local.time() == time(9, 0)
    assert (local.date() - demo_now.astimezone(ZoneInfo("Asia/Makassar")).date()).days == 1


def test_the_unlinked_test_family_is_found_by_nik_and_birth_date(
    seeded: Session, secret_key: str
) -> None:
    member = find_member_by_nik(seeded, nik="9999531500002001", secret_key=secret_key)
    assert member is not None and member.is_pengurus
    assert member.name == "Agustina Janggur" and member.birth_date.isoformat() == "1991-03-14"
    assert member.nik_last4 == "2001"
    linked = seeded.scalars(
        select(TelegramUser).where(TelegramUser.family_id == member.family_id)
    ).all()
    assert linked == []


def test_seeding_the_demo_again_changes_nothing(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    report = seed_demo(seeded, secret_key=secret_key, now=demo_now)
    assert report.changed == 0


@pytest.mark.parametrize(("kabupaten", "family", "member"), [("53.15", 1, 1), ("91.03", 12, 3)])
def test_demo_niks_are_obviously_fake(kabupaten: str, family: int, member: int) -> None:
    nik = demo_nik(kabupaten, family, member)
    assert nik.startswith("9999") and len(nik) == 16
