"""Pendamping broadcasts: create (now or later), queue into the outbox, cancel, report, resend.

The bot's /siaran conversation creates a broadcast and a scheduler job; the job calls
`queue_broadcast`, which writes one outbox row per linked member; the drain sends them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, null, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core.i18n import translator
from core.quiet import QuietHours
from programme import outbox
from programme.models import (
    AuditLog,
    Broadcast,
    BroadcastStatus,
    Family,
    Kelompok,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Region,
    TelegramUser,
    TimeZone,
)
from programme.recipients import family_name, member_filter
from programme.refusals import Refusal
from programme.refusals import mark as _

MAX_TEXT = 3500  # Telegram allows 4,096; the header takes some
# "Now" picked in the conversation is a little in the past by the time it is saved.
SEND_AT_SLACK = timedelta(minutes=1)
QUEUE_BATCH = 5_000  # members whose messages are written by one statement


class BroadcastError(Refusal):
    """A request the pendamping must be told about (empty text, not their kelompok, …).

    `error.text(tr)` is the message in the pendamping's language; `str(error)` is Indonesian.
    """


@dataclass(frozen=True)
class BroadcastView:
    id: int
    text: str
    kelompok_names: list[str]
    send_at: datetime  # UTC
    urgent: bool
    status: BroadcastStatus
    recipients: int  # linked members now (before queueing) or rows queued (after)
    counts: Counter[OutboxState]
    waiting_zones: frozenset[TimeZone] = frozenset()  # where its waiting messages go
    # Who did not get it, for the pendamping to phone: family names, by BLOCKED / FAILED.
    undelivered: dict[OutboxState, list[str]] = field(default_factory=dict)

    def held_until(self, quiet: QuietHours | None, now: datetime) -> datetime | None:
        """When its waiting messages go out, if quiet hours hold all of them now (else None)."""
        if quiet is None or self.urgent or not self.waiting_zones:
            return None
        zones = [ZoneInfo(zone) for zone in self.waiting_zones]
        if not all(quiet.contains(now, zone) for zone in zones):
            return None
        return min(quiet.ends_after(now, zone) for zone in zones)


def create_broadcast(
    session: Session,
    *,
    pendamping_id: int,
    author_user_id: int | None,
    kelompok_ids: list[int],
    text: str,
    send_at: datetime,
    urgent: bool,
    now: datetime,
    actor: str,
) -> Broadcast:
    """A new broadcast to some of the pendamping's kelompok (audited)."""
    wanted = set(kelompok_ids)
    if not wanted:
        raise BroadcastError(_("Pilih minimal satu kelompok dulu."))
    groups = session.scalars(select(Kelompok).where(Kelompok.id.in_(wanted))).all()
    if len(groups) != len(wanted) or any(g.pendamping_id != pendamping_id for g in groups):
        raise BroadcastError(_("Ada kelompok yang tidak ada di daftar dampingan Bapak/Ibu."))
    text = text.strip()
    if not text:
        raise BroadcastError(_("Pesannya masih kosong."))
    if len(text) > MAX_TEXT:
        raise BroadcastError(
            _("Pesannya terlalu panjang: {length} huruf, paling banyak {limit}."),
            length=len(text),
            limit=MAX_TEXT,
        )
    if send_at < now - SEND_AT_SLACK:
        raise BroadcastError(_("Waktu itu sudah lewat. Pilih waktu yang akan datang."))
    broadcast = Broadcast(
        pendamping_id=pendamping_id,
        author_user_id=author_user_id,
        text=text,
        urgent=urgent,
        send_at=send_at,
        status=BroadcastStatus.SCHEDULED,
        created_at=now,
        kelompok=sorted(groups, key=lambda group: group.id),
    )
    session.add(broadcast)
    session.flush()
    _audit(
        session,
        actor,
        "broadcast.create",
        broadcast,
        now,
        kelompok_ids=sorted(wanted),
        send_at=send_at.astimezone(UTC).isoformat(),
        urgent=urgent,
        length=len(text),
    )
    return broadcast


def recipient_count(session: Session, *, kelompok_ids: list[int], urgent: bool) -> int:
    """How many linked members a broadcast to these kelompok would reach (for the preview)."""
    if not kelompok_ids:
        return 0
    query = (
        select(func.count())
        .select_from(TelegramUser)
        .join(Family, TelegramUser.family_id == Family.id)
        .where(*_recipients(kelompok_ids, urgent=urgent))
    )
    return session.scalar(query) or 0


def _recipients(kelompok_ids: list[int], *, urgent: bool) -> list[ColumnElement[bool]]:
    # /berhenti stops routine bulk messages; an urgent broadcast still reaches everyone.
    return member_filter(kelompok_ids=kelompok_ids, opted_out_too=urgent)


def queue_broadcast(session: Session, *, broadcast_id: int, now: datetime) -> int:
    """Write the broadcast's outbox rows (idempotent); returns how many were added.

    One INSERT … SELECT per batch of members: the database writes the rows.
    """
    broadcast = session.get(
        Broadcast,
        broadcast_id,
        options=[joinedload(Broadcast.pendamping), selectinload(Broadcast.kelompok)],
    )
    if broadcast is None or broadcast.status is BroadcastStatus.CANCELLED:
        return 0
    broadcast.status = BroadcastStatus.QUEUED
    kelompok_ids = [k.id for k in broadcast.kelompok]
    if not kelompok_ids:
        return 0
    session.flush()
    recipients = _recipients(kelompok_ids, urgent=broadcast.urgent)
    accounts = session.execute(
        select(TelegramUser.id, Family.id)
        .join(Family, TelegramUser.family_id == Family.id)
        .where(*recipients)
        .order_by(TelegramUser.id)
    ).all()
    blocked = TelegramUser.is_unreachable
    rows = (
        select(
            literal(f"broadcast:{broadcast.id}:user:") + cast(TelegramUser.id, String),
            outbox.value("kind", OutboxKind.BROADCAST),
            TelegramUser.chat_id,
            TelegramUser.id,
            _texts(broadcast),
            literal(broadcast.id),
            null(),
            literal(outbox.PRIORITY[OutboxKind.BROADCAST]),
            literal(broadcast.urgent),
            Region.time_zone,
            case(
                (blocked, outbox.value("state", OutboxState.BLOCKED)),
                else_=outbox.value("state", OutboxState.QUEUED),
            ),
            # Queued early ("send now" racing the job): it still waits for its time.
            outbox.value("not_before", max(now, broadcast.send_at)),
            null(),
            literal(0),
            outbox.value("created_at", now),
            outbox.value("updated_at", now),
            case((blocked, outbox.value("error", outbox.BLOCKED_ERROR)), else_=null()),
        )
        .join(Family, TelegramUser.family_id == Family.id)
        .join(Kelompok, Family.kelompok_id == Kelompok.id)
        .join(Region, Kelompok.desa_id == Region.id)
        .order_by(TelegramUser.id)
    )
    added = 0
    # The members were chosen above, in this transaction: each batch is looked up by key
    # (both keys, or PostgreSQL may rather read every family per batch).
    for first in range(0, len(accounts), QUEUE_BATCH):
        users, families = zip(*accounts[first : first + QUEUE_BATCH], strict=True)
        batch = rows.where(
            outbox.keys_in(session, TelegramUser.id, users),
            outbox.keys_in(session, Family.id, families),
        )
        added += outbox.enqueue_select(session, batch)
    return added


def _texts(broadcast: Broadcast) -> ColumnElement[str]:
    """The message with its header, in the member's language, for the member's kelompok."""
    texts = []
    for kelompok in broadcast.kelompok:
        for language in ("en", "id"):
            header = translator(language)._(
                "📢 Pesan dari pendamping {name} untuk kelompok {kelompok}:",
                name=broadcast.pendamping.name,
                kelompok=kelompok.name,
            )
            # Indonesian for any other language the account may hold.
            when = Family.kelompok_id == kelompok.id
            if language == "en":
                when = and_(TelegramUser.language == "en", when)
            texts.append((when, outbox.value("text", f"{header}\n\n{broadcast.text}")))
    return case(*texts)


def cancel_broadcast(
    session: Session, *, broadcast_id: int, pendamping_id: int, now: datetime, actor: str
) -> int:
    """Cancel a pending broadcast; returns how many queued messages were cancelled."""
    broadcast = _own_broadcast(session, broadcast_id, pendamping_id)
    if broadcast.status is BroadcastStatus.CANCELLED:
        raise BroadcastError(_("Siaran ini sudah dibatalkan."))
    was = broadcast.status
    cancelled = 0
    if was is BroadcastStatus.QUEUED:
        cancelled = outbox.cancel_queued(session, now=now, broadcast_id=broadcast.id)
    broadcast.status, broadcast.cancelled_at = BroadcastStatus.CANCELLED, now
    _audit(
        session,
        actor,
        "broadcast.cancel",
        broadcast,
        now,
        was=was.value,
        cancelled_messages=cancelled,
    )
    return cancelled


def resend_failed(
    session: Session, *, broadcast_id: int, pendamping_id: int, now: datetime, actor: str
) -> int:
    """Queue the failed messages of a broadcast again; returns how many."""
    broadcast = _own_broadcast(session, broadcast_id, pendamping_id)
    if broadcast.status is BroadcastStatus.CANCELLED:
        raise BroadcastError(_("Siaran ini sudah dibatalkan."))
    requeued = outbox.requeue_failed(session, broadcast_id=broadcast.id, now=now)
    _audit(session, actor, "broadcast.resend_failed", broadcast, now, requeued=requeued)
    return requeued


def broadcast_view(session: Session, *, broadcast_id: int, pendamping_id: int) -> BroadcastView:
    return _view(session, _own_broadcast(session, broadcast_id, pendamping_id))


def recent_broadcasts(
    session: Session, *, pendamping_id: int, limit: int = 5
) -> list[BroadcastView]:
    broadcasts = session.scalars(
        select(Broadcast)
        .where(Broadcast.pendamping_id == pendamping_id)
        .options(selectinload(Broadcast.kelompok))
        .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
        .limit(limit)
    )
    return [_view(session, broadcast) for broadcast in broadcasts]


def _own_broadcast(session: Session, broadcast_id: int, pendamping_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id, options=[selectinload(Broadcast.kelompok)])
    if broadcast is None or broadcast.pendamping_id != pendamping_id:
        raise BroadcastError(_("Siaran itu tidak ditemukan di antara siaran Bapak/Ibu."))
    return broadcast


def _view(session: Session, broadcast: Broadcast) -> BroadcastView:
    counts = outbox.state_counts(session, broadcast_id=broadcast.id)
    kelompok_ids = [k.id for k in broadcast.kelompok]
    if broadcast.status is BroadcastStatus.SCHEDULED:
        recipients = recipient_count(session, kelompok_ids=kelompok_ids, urgent=broadcast.urgent)
    else:
        recipients = sum(counts.values())
    return BroadcastView(
        id=broadcast.id,
        text=broadcast.text,
        kelompok_names=sorted((k.name for k in broadcast.kelompok), key=str.casefold),
        send_at=broadcast.send_at,
        urgent=broadcast.urgent,
        status=broadcast.status,
        recipients=recipients,
        counts=counts,
        waiting_zones=frozenset(
            session.scalars(
                select(OutboxMessage.time_zone)
                .where(
                    OutboxMessage.broadcast_id == broadcast.id,
                    OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.SENDING)),
                )
                .distinct()
            )
        ),
        undelivered=_undelivered(session, broadcast.id)
        if counts[OutboxState.BLOCKED] or counts[OutboxState.FAILED]
        else {},
    )


def _undelivered(session: Session, broadcast_id: int) -> dict[OutboxState, list[str]]:
    """The families a broadcast did not reach, by state (blocked the bot, or failed)."""
    rows = session.execute(
        select(OutboxMessage.state, Family)
        .join(TelegramUser, TelegramUser.id == OutboxMessage.user_id)
        .join(Family, Family.id == TelegramUser.family_id)
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.state.in_((OutboxState.BLOCKED, OutboxState.FAILED)),
        )
        .options(selectinload(Family.members))
    )
    names: dict[OutboxState, list[str]] = {}
    for state, family in rows:
        names.setdefault(state, []).append(family_name(family))
    return {state: sorted(found, key=str.casefold) for state, found in names.items()}


def _audit(
    session: Session, actor: str, action: str, broadcast: Broadcast, now: datetime, **details: Any
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            target_type="broadcast",
            target_id=str(broadcast.id),
            details=details,
            created_at=now,
        )
    )
