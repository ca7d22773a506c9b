"""Opening a payment stage for a region and channel, and telling the linked families there, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, joinedload

from core.i18n import Translator, translator
from programme import outbox
from programme.models import (
    AuditLog,
    Channel,
    ChannelKind,
    Family,
    FamilyStatus,
    OutboxKind,
    OutboxState,
    PaymentStage,
    PaymentWindow,
    Region,
    ScheduleStatus,
    TelegramUser,
    UserRole,
    WindowBasis,
)
from programme.outbox import NewMessage

DEFAULT_WINDOW = timedelta(days=14)  # how long a window opened without an end date lasts


@dataclass(frozen=True)
class StageOpened:
    window: PaymentWindow
    notified: int  # outbox rows added now (0 when the families were already told)


def open_stage(
    session: Session,
    *,
    year: int,
    stage_no: int,
    region_code: str,
    channel_code: str | None,
    now: datetime,
    actor: str,
    until: date | None = None,
) -> StageOpened:
    """Mark the stage's window for the region (and channel) in progress; notify families once."""
    stage = session.scalars(
        select(PaymentStage).where(PaymentStage.year == year, PaymentStage.stage_no == stage_no)
    ).one_or_none()
    if stage is None:
        raise ValueError(f"there is no payment stage {stage_no} of {year} in the database")
    region = session.scalars(select(Region).where(Region.code == region_code)).one_or_none()
    if region is None:
        raise ValueError(f"unknown region code {region_code!r}")
    if channel_code is not None and session.get(Channel, channel_code) is None:
        raise ValueError(f"unknown payment channel {channel_code!r}")

    window, created = _window(session, stage, region, channel_code, now=now, until=until)
    window.status = ScheduleStatus.IN_PROGRESS
    if stage.status is ScheduleStatus.PLANNED:
        stage.status = ScheduleStatus.IN_PROGRESS  # paid somewhere now, so under way nationally
    session.flush()
    notified = outbox.enqueue(session, _notices(session, stage, window, region, now), now=now)
    session.add(
        AuditLog(
            actor=actor,
            action="stage.open",
            target_type="payment_window",
            target_id=str(window.id),
            details={
                "year": year,
                "stage_no": stage_no,
                "region": region_code,
                "channel": channel_code,
                "window_created": created,
                "starts_on": window.starts_on.isoformat(),
                "ends_on": window.ends_on.isoformat(),
                "notified": notified,
            },
            created_at=now,
        )
    )
    return StageOpened(window, notified)


def _window(
    session: Session,
    stage: PaymentStage,
    region: Region,
    channel_code: str | None,
    *,
    now: datetime,
    until: date | None,
) -> tuple[PaymentWindow, bool]:
    """The stage's window for exactly this region and channel, made if missing; and if it was."""
    same_channel = (
        PaymentWindow.channel_code.is_(None)
        if channel_code is None
        else PaymentWindow.channel_code == channel_code
    )
    window = session.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage.id, PaymentWindow.region_id == region.id, same_channel
        )
    ).one_or_none()
    if window is not None:
        if until is not None:
            _check_until(window.starts_on, until)
            window.ends_on = until
        return window, False
    today = now.astimezone(ZoneInfo(region.time_zone.value)).date()
    if until is not None:
        _check_until(today, until)
    window = PaymentWindow(
        stage_id=stage.id,
        region_id=region.id,
        channel_code=channel_code,
        starts_on=today,
        ends_on=until or today + DEFAULT_WINDOW,
        basis=WindowBasis.OFFICIAL,
        status=ScheduleStatus.IN_PROGRESS,
        note=None,
        source="admin",
    )
    session.add(window)
    return window, True


def _check_until(starts_on: date, until: date) -> None:
    if until < starts_on:
        raise ValueError(f"the window cannot end ({until}) before it starts ({starts_on})")


def _notices(
    session: Session, stage: PaymentStage, window: PaymentWindow, region: Region, now: datetime
) -> list[NewMessage]:
    """One note per linked account of an active family in the region (and channel)."""
    # The region and every region below it: provinsi → kabupaten → kecamatan → desa.
    tree = select(Region.id).where(Region.id == region.id).cte("region_tree", recursive=True)
    child = aliased(Region)
    tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
    query = (
        select(TelegramUser, Family)
        .join(Family, TelegramUser.family_id == Family.id)
        .where(
            TelegramUser.role == UserRole.KPM,
            TelegramUser.reminders_enabled,
            # Suspended families are not being paid; graduated and removed ones have left.
            Family.status == FamilyStatus.ACTIVE,
            Family.desa_id.in_(select(tree.c.id)),
        )
        .options(joinedload(Family.channel), joinedload(Family.desa))
        .order_by(TelegramUser.id)
    )
    if window.channel_code is not None:
        query = query.where(Family.channel_code == window.channel_code)
    # Paid until the end of the window's last day (at least today's); a note read after that
    # only confuses.
    zone = ZoneInfo(region.time_zone.value)
    last_day = max(window.ends_on, now.astimezone(zone).date())
    expires_at = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone)
    return [
        NewMessage(
            dedupe_key=f"stage-open:{stage.id}:family:{family.id}:user:{user.id}",
            kind=OutboxKind.STAGE_OPEN,
            chat_id=user.chat_id,
            user_id=user.id,
            text=_text(translator(user.language), stage, family.channel, region),
            time_zone=family.desa.time_zone,
            not_before=now,
            expires_at=expires_at.astimezone(UTC),
            state=OutboxState.BLOCKED if user.is_unreachable else OutboxState.QUEUED,
        )
        for user, family in session.execute(query)
    ]


def _text(tr: Translator, stage: PaymentStage, channel: Channel, region: Region) -> str:
    opening = tr._(
        "Bapak/Ibu, bantuan PKH tahap {stage} tahun {year} sudah mulai disalurkan lewat "
        "{channel} di wilayah {region}.",
        stage=stage.stage_no,
        year=stage.year,
        channel=channel.name,
        region=region.name,
    )
    if channel.kind is ChannelKind.POS:
        how = tr._(
            "Tunggu surat undangan dari PT Pos. Datanglah ke tempat dan pada tanggal yang tertulis "
            "di surat itu, dengan membawa surat undangan, KTP, dan KK (asli dan fotokopi)."
        )
    else:
        how = tr._(
            "Silakan bawa kartu KKS ke ATM, teller, atau agen bank terdekat untuk mengecek saldo. "
            "Penyalurannya bertahap, jadi kalau saldo belum masuk, coba cek lagi beberapa hari "
            "lagi."
        )
    help_ = tr._(
        "Kalau ada pertanyaan, misalnya kapan cair atau kenapa saldo belum masuk, ketik saja di "
        "sini. Saya bantu jawab."
    )
    return "\n\n".join((opening, how, help_))
