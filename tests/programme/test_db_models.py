"""What the schema itself guarantees: UTC timestamps, money as Decimal, keys and constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from programme.models import (
    AuditLog,
    Disbursement,
    DisbursementStatus,
    Family,
    FamilyMember,
    FamilyRelation,
    Kelompok,
    PaymentStage,
    PaymentWindow,
    ScheduleStatus,
    WindowBasis,
)

WITA = timezone(timedelta(hours=8))


def test_timestamps_come_back_timezone_aware_in_utc(session: Session) -> None:
    written = datetime(2026, 11, 24, 9, 0, tzinfo=WITA)
    entry = AuditLog(actor="test", action="test.timestamp", details={}, created_at=written)
    session.add(entry)
    session.flush()
    session.expire(entry)

    assert entry.created_at == written
    assert entry.created_at.tzinfo == UTC
    assert entry.created_at.hour == 1


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(AuditLog(actor="test", action="naive", details={}, created_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Kelompok(code="K-X", name="Tanpa pendamping", pendamping_id=999999, desa_id=999999))
    with pytest.raises(IntegrityError):
        session.flush()


def test_money_is_returned_as_decimal(seeded: Session) -> None:
    amount = seeded.scalars(select(Disbursement.amount)).first()
    assert isinstance(amount, Decimal)


def test_a_failed_disbursement_needs_a_reason(seeded: Session) -> None:
    paid = seeded.scalars(
        select(Disbursement).where(Disbursement.status == DisbursementStatus.PAID)
    ).first()
    assert paid is not None
    paid.status, paid.paid_on = DisbursementStatus.FAILED, None
    with pytest.raises(IntegrityError):
        seeded.flush()
    seeded.rollback()


def test_a_stage_has_only_one_national_window(seeded: Session) -> None:
    stage = seeded.scalars(select(PaymentStage).where(PaymentStage.year == 2026)).first()
    assert stage is not None
    seeded.add(
        PaymentWindow(
            stage_id=stage.id,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 1, 31),
            basis=WindowBasis.USUAL_PATTERN,
            status=ScheduleStatus.COMPLETED,
            source="duplicate",
        )
    )
    with pytest.raises(IntegrityError):
        seeded.flush()
    seeded.rollback()


def test_a_family_has_only_one_pengurus(seeded: Session) -> None:
    family = seeded.scalars(select(Family)).first()
    assert family is not None
    seeded.add(
        FamilyMember(
            family_id=family.id,
            member_no=99,
            name="Pengurus Kedua",
            family_relation=FamilyRelation.LAINNYA,
            birth_date=date(1990, 1, 1),
            is_pengurus=True,
        )
    )
    with pytest.raises(IntegrityError):
        seeded.flush()
    seeded.rollback()
