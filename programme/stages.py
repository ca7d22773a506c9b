"""Opening a payment stage for a region and channel (families told once), and closing it."""

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
# The source of a window made by opening or closing a stage; KPM read it after "Sumber:".
OPENED_SOURCE = "Pembukaan tahap oleh petugas PKH"
CLOSED_SOURCE = "Penutupan tahap oleh petugas PKH"
NOTICE_BATCH = 5_000  # accounts whose notes are written by one statement


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
    """Mark the stage's window for the region (and channel) in progress; notify families once.

    The window then includes today (an earlier start is kept); it and the windows of the
    regions inside it are no longer closed.
    """
    stage, region = _scope(session, year, stage_no, region_code, channel_code)
    window, created = _window(session, stage, region, channel_code, now=now, until=until)
    window.status = ScheduleStatus.IN_PROGRESS
    for reopened in (window, *_windows_inside(session, stage, region, channel_code)):
        reopened.closed_at = None  # a closure (close_stage) ends when the stage opens again
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


@dataclass(frozen=True)
class StageClosed:
    window: PaymentWindow  # the window of exactly this region and channel
    created: bool  # the region had none of its own: one was made
    inside: int  # windows of smaller regions inside it closed with it


def close_stage(
    session: Session,
    *,
    year: int,
    stage_no: int,
    region_code: str,
    channel_code: str | None,
    now: datetime,
    actor: str,
) -> StageClosed:
    """Close the stage for the region (and channel) from now on, whatever the dates say; audited.

    Closes the region's own window and those of the regions inside it (for that channel, or for
    every channel); `programme.payments.window_state` then says "closed", and `open_stage` opens
    it again. A region without a window of its own gets one, with the dates its families saw
    (ending today at the latest), so the closure applies there. Nobody is notified.
    """
    stage, region = _scope(session, year, stage_no, region_code, channel_code)
    window = _own_window(session, stage, region, channel_code)
    created = window is None
    if window is None:
        window = _closed_copy(session, stage, region, channel_code, now=now)
        session.add(window)
    inside = _windows_inside(session, stage, region, channel_code)
    for closing in (window, *inside):
        closing.status = ScheduleStatus.COMPLETED
        closing.closed_at = closing.closed_at or now  # closing twice keeps the first closure
    session.flush()
    session.add(
        AuditLog(
            actor=actor,
            action="stage.close",
            target_type="payment_window",
            target_id=str(window.id),
            details={
                "year": year,
                "stage_no": stage_no,
                "region": region_code,
                "channel": channel_code,
                "window_created": created,
                "windows_inside": len(inside),
                "starts_on": window.starts_on.isoformat(),
                "ends_on": window.ends_on.isoformat(),
            },
            created_at=now,
        )
    )
    return StageClosed(window, created, len(inside))


def _closed_copy(
    session: Session,
    stage: PaymentStage,
    region: Region,
    channel_code: str | None,
    *,
    now: datetime,
) -> PaymentWindow:
    """A window for exactly this region and channel with the dates its families saw, closed."""
    path = [region]
    while (parent := path[-1].parent) is not None:
        path.append(parent)
    place = {r.id: index for index, r in enumerate(path)}
    channels = [None] if channel_code is None else [None, channel_code]
    seen = min(
        (
            w
            for w in session.scalars(
                select(PaymentWindow).where(PaymentWindow.stage_id == stage.id)
            )
            if (w.region_id is None or w.region_id in place) and w.channel_code in channels
        ),
        # The most specific first, as a family's answer picks it (programme.payments).
        key=lambda w: (place.get(w.region_id or 0, len(path)), w.channel_code is None),
        default=None,
    )
    today = now.astimezone(ZoneInfo(region.time_zone.value)).date()
    starts_on = seen.starts_on if seen is not None and seen.starts_on <= today else today
    ends_on = max(starts_on, min(seen.ends_on, today)) if seen is not None else today
    return PaymentWindow(
        stage_id=stage.id,
        region_id=region.id,
        channel_code=channel_code,
        starts_on=starts_on,
        ends_on=ends_on,
        basis=seen.basis if seen is not None else WindowBasis.OFFICIAL,
        status=ScheduleStatus.COMPLETED,
        note=None,
        source=CLOSED_SOURCE,
        source_date=today,
    )


def _windows_inside(
    session: Session, stage: PaymentStage, region: Region, channel_code: str | None
) -> list[PaymentWindow]:
    """The stage's windows of the regions below this one (for the channel, or for all)."""
    tree = select(Region.id).where(Region.parent_id == region.id).cte("inside", recursive=True)
    child = aliased(Region)
    tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
    query = select(PaymentWindow).where(
        PaymentWindow.stage_id == stage.id, PaymentWindow.region_id.in_(select(tree.c.id))
    )
    if channel_code is not None:
        query = query.where(PaymentWindow.channel_code == channel_code)
    return list(session.scalars(query))


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
    window = _own_window(session, stage, region, channel_code)
    today = now.astimezone(ZoneInfo(region.time_zone.value)).date()
    if window is not None:
        # Open means paying now: a window still to come starts today, one that is over runs on.
        window.starts_on = min(window.starts_on, today)
        if until is not None:
            _check_until(window.starts_on, until)
            window.ends_on = until
        elif window.ends_on < today:
            window.ends_on = today + DEFAULT_WINDOW
        return window, False
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
        source=OPENED_SOURCE,
        source_date=today,
    )
    session.add(window)
    return window, True


def _scope(
    session: Session, year: int, stage_no: int, region_code: str, channel_code: str | None
) -> tuple[PaymentStage, Region]:
    """The stage and region named, checked (and the channel, when one is named)."""
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
    return stage, region


def _own_window(
    session: Session, stage: PaymentStage, region: Region, channel_code: str | None
) -> PaymentWindow | None:
    """The stage's window for exactly this region and channel, if there is one."""
    same_channel = (
        PaymentWindow.channel_code.is_(None)
        if channel_code is None
        else PaymentWindow.channel_code == channel_code
    )
    return session.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage.id, PaymentWindow.region_id == region.id, same_channel
        )
    ).one_or_none()


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
    accounts = session.execute(
        select(TelegramUser.id, Family.id)
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
        .order_by(TelegramUser.id)
    )
    added = 0
    # The accounts were chosen above, in this transaction: each batch is looked up by key
    # (both keys, or PostgreSQL would rather read every family of the province per batch).
    for first in range(0, len(accounts), NOTICE_BATCH):
        users, families = zip(*accounts[first : first + NOTICE_BATCH], strict=True)
        batch = notes.where(
            outbox.keys_in(session, TelegramUser.id, users),
            outbox.keys_in(session, Family.id, families),
        )
        added += outbox.enqueue_select(session, batch)
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
