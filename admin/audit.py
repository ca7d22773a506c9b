"""The audit log as the dashboard reads it: filtered by actor, action and day, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from programme.models import AuditLog

PAGE_SIZE = 50
DETAILS_LIMIT = 200
# The dashboard's days are days in Jakarta (WIB), like its times.
TIME_ZONE = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page was asked for; empty fields do not filter."""

    actor: str = ""
    action: str = ""
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of entries and where it sits among all that match."""

    entries: list[AuditLog]
    number: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def find_entries(session: Session, *, wanted: AuditFilter, page: int) -> AuditPage:
    """Page `page` (from 1) of the entries that match, newest first."""
    conditions = _conditions(wanted)
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conditions)) or 0
    number = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    entries = session.scalars(
        select(AuditLog)
        .where(*conditions)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return AuditPage(entries=list(entries), number=number, total=total)


def details_text(details: dict[str, object] | None) -> str:
    """`key=value, key=value`, cut to DETAILS_LIMIT characters (the template escapes it)."""
    text = ", ".join(f"{key}={value}" for key, value in (details or {}).items())
    return text if len(text) <= DETAILS_LIMIT else text[: DETAILS_LIMIT - 1] + "…"


def _conditions(wanted: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.actor:
        conditions.append(AuditLog.actor == wanted.actor)
    if wanted.action:
        conditions.append(AuditLog.action == wanted.action)
    if wanted.first_day is not None:
        conditions.append(AuditLog.created_at >= _start_of(wanted.first_day))
    if wanted.last_day is not None:
        conditions.append(AuditLog.created_at < _start_of(wanted.last_day + timedelta(days=1)))
    return conditions


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TIME_ZONE)
