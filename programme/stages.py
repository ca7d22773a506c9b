"""Opening a payment stage for a region and channel, and telling the linked families there, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, case, cast, false, literal, null, select
from sqlalchemy.orm import Session, aliased

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

DEFAULT_WINDOW = timedelta(days=14)  # how long a window opened without an end date lasts
NOTICE_BATCH = 20_000  # accounts whose notes are written by one statement


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
    notified = _notify(session, stage, window, region, now)
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


def _notify(
    session: Session, stage: PaymentStage, window: PaymentWindow, region: Region, now: datetime
) -> int:
    """One note per linked account of an active family in the region (and channel), once.

    Written by the database (INSERT … SELECT), a batch of accounts at a time: a province has
    ~90,000 linked accounts. Returns how many notes were added.
    """
    # The region and every region below it: provinsi → kabupaten → kecamatan → desa.
    tree = select(Region.id).where(Region.id == region.id).cte("region_tree", recursive=True)
    child = aliased(Region)
    tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
    desa = aliased(Region)
    recipients = [
        TelegramUser.role == UserRole.KPM,
        TelegramUser.reminders_enabled,
        # Suspended families are not being paid; graduated and removed ones have left.
        Family.status == FamilyStatus.ACTIVE,
        Family.desa_id.in_(select(tree.c.id)),
    ]
    if window.channel_code is not None:
        recipients.append(Family.channel_code == window.channel_code)
    accounts = session.scalars(
        select(TelegramUser.id)
        .join(Family, TelegramUser.family_id == Family.id)
        .where(*recipients)
        .order_by(TelegramUser.id)
    ).all()
    # Paid until the end of the window's last day (at least today's); a note read after that
    # only confuses.
    zone = ZoneInfo(region.time_zone.value)
    last_day = max(window.ends_on, now.astimezone(zone).date())
    expires_at = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone)
    blocked = TelegramUser.is_unreachable
    notes = (
        select(
            literal(f"stage-open:{stage.id}:family:")
            + cast(Family.id, String)
            + literal(":user:")
            + cast(TelegramUser.id, String),
            outbox.value("kind", OutboxKind.STAGE_OPEN),
            TelegramUser.chat_id,
            TelegramUser.id,
            _texts(session, stage, window, region),
            null(),
            null(),
            literal(outbox.PRIORITY[OutboxKind.STAGE_OPEN]),
            false(),
            desa.time_zone,
            case(
                (blocked, outbox.value("state", OutboxState.BLOCKED)),
                else_=outbox.value("state", OutboxState.QUEUED),
            ),
            outbox.value("not_before", now),
            outbox.value("expires_at", expires_at.astimezone(UTC)),
            literal(0),
            outbox.value("created_at", now),
            outbox.value("updated_at", now),
            case((blocked, outbox.value("error", outbox.BLOCKED_ERROR)), else_=null()),
        )
        .join(Family, TelegramUser.family_id == Family.id)
        .join(desa, Family.desa_id == desa.id)
        .where(*recipients)
        .order_by(TelegramUser.id)
    )
    added = 0
    for first in range(0, len(accounts), NOTICE_BATCH):
        batch = accounts[first : first + NOTICE_BATCH]
        added += outbox.enqueue_select(
            session, notes.where(TelegramUser.id.between(batch[0], batch[-1]))
        )
    return added


def _texts(
    session: Session, stage: PaymentStage, window: PaymentWindow, region: Region
) -> ColumnElement[str]:
    """The note in the account's language for the family's channel (a few texts in all)."""
    channels = session.scalars(
        select(Channel).where(Channel.code == window.channel_code)
        if window.channel_code is not None
        else select(Channel)
    ).all()
    english, indonesian = translator("en"), translator("id")
    return case(
        *(
            (
                and_(TelegramUser.language == "en", Family.channel_code == channel.code),
                outbox.value("text", _text(english, stage, channel, region)),
            )
            for channel in channels
        ),
        *(
            (
                Family.channel_code == channel.code,
                outbox.value("text", _text(indonesian, stage, channel, region)),
            )
            for channel in channels
        ),
    )


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
