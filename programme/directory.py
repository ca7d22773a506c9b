"""The dashboard's directory of programme records: families, kelompok, pendamping, meetings.

Each `find_*` returns one page (PAGE_SIZE rows) of what matches a search, inside a scope: an
admin sees everything, a pendamping only their own kelompok (and themselves). The search is a
case-insensitive substring, its wildcards taken literally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, selectinload
from sqlalchemy.sql.base import ExecutableOption

from programme.models import (
    Channel,
    Family,
    FamilyMember,
    FamilyStatus,
    Kelompok,
    MeetingRsvp,
    MeetingStatus,
    P2K2Meeting,
    P2K2Session,
    PaymentStage,
    PaymentWindow,
    Pendamping,
    PendampingInvite,
    Region,
    RegionLevel,
    RsvpAnswer,
    TelegramUser,
    TimeZone,
    UserRole,
)
from programme.payments import WindowState, local_date, window_state
from programme.recipients import family_name

PAGE_SIZE = 50
MAX_SEARCH = 100  # characters of a search kept
MAX_PAGE = 1_000_000

Row = TypeVar("Row")
Entity = TypeVar("Entity")


@dataclass(frozen=True)
class Seen:
    """Whose records a dashboard user may see: all (admin) or one pendamping's (None: nothing)."""

    everything: bool
    pendamping_id: int | None = None


@dataclass(frozen=True)
class Listing(Generic[Row]):
    """One page of rows and where it sits among all that match."""

    rows: list[Row]
    number: int
    total: int

    @property
    def page_count(self) -> int:
        return _page_count(self.total)


@dataclass(frozen=True)
class FamilyRow:
    id: int
    pkh_id: str
    name: str
    kelompok: str
    desa: str
    status: FamilyStatus
    linked: bool


@dataclass(frozen=True)
class KelompokRow:
    id: int
    code: str
    name: str
    pendamping: str
    desa: str
    families: int
    linked: int


@dataclass(frozen=True)
class PendampingRow:
    id: int
    code: str
    name: str
    region: str
    phone: str | None
    kelompok: int
    has_account: bool
    link_expires_at: datetime | None = None  # a one-time link is waiting to be opened until then


@dataclass(frozen=True)
class MeetingRow:
    id: int
    starts_at: datetime
    time_zone: TimeZone
    kelompok: str
    module: str
    place: str
    status: MeetingStatus
    coming: int
    not_coming: int


@dataclass(frozen=True)
class RegionChoice:
    code: str
    name: str
    level: RegionLevel


def clean_search(text: str) -> str:
    """The search as it is used: trimmed, at most MAX_SEARCH characters, no NUL."""
    return text.replace("\x00", "").strip()[:MAX_SEARCH]


def region_choices(session: Session) -> list[RegionChoice]:
    """Provinces and kabupaten, for the families page's region filter."""
    rows = session.execute(
        select(Region.code, Region.name, Region.level)
        .where(Region.level.in_((RegionLevel.PROVINSI, RegionLevel.KABUPATEN)))
        .order_by(Region.code)
    ).all()
    return [RegionChoice(code, name, level) for code, name, level in rows]


def find_families(
    session: Session, *, seen: Seen, search: str = "", region_code: str = "", page: int = 1
) -> Listing[FamilyRow]:
    """Families by the name of a member or by PKH id, in a region (and the regions inside it)."""
    conditions = [*_kelompok_scope(seen, Family.kelompok_id)]
    term = clean_search(search)
    if term:
        named = exists().where(
            FamilyMember.family_id == Family.id, _contains(FamilyMember.name, term)
        )
        conditions.append(or_(_contains(Family.pkh_id, term), named))
    if region_code:
        conditions.append(Family.desa_id.in_(_region_tree(region_code)))
    families, total, number = _page(
        session,
        select(Family).where(*conditions),
        page,
        order=(Family.pkh_id,),
        load=(
            selectinload(Family.members),
            selectinload(Family.kelompok),
            selectinload(Family.desa),
        ),
    )
    linked = _linked_families(session, [family.id for family in families])
    rows = [
        FamilyRow(
            id=family.id,
            pkh_id=family.pkh_id,
            name=family_name(family),
            kelompok=family.kelompok.name,
            desa=family.desa.name,
            status=family.status,
            linked=family.id in linked,
        )
        for family in families
    ]
    return Listing(rows, number, total)


def find_kelompok(
    session: Session, *, seen: Seen, search: str = "", page: int = 1
) -> Listing[KelompokRow]:
    """Kelompok by code, name or pendamping's name, with their families and linked families."""
    conditions = [*_kelompok_scope(seen, Kelompok.id)]
    term = clean_search(search)
    if term:
        conditions.append(
            or_(
                _contains(Kelompok.code, term),
                _contains(Kelompok.name, term),
                _contains(Pendamping.name, term),
            )
        )
    groups, total, number = _page(
        session,
        select(Kelompok).join(Kelompok.pendamping).where(*conditions),
        page,
        order=(Kelompok.code,),
        load=(selectinload(Kelompok.pendamping), selectinload(Kelompok.desa)),
    )
    ids = [group.id for group in groups]
    families = dict(
        session.execute(
            select(Family.kelompok_id, func.count())
            .where(Family.kelompok_id.in_(ids))
            .group_by(Family.kelompok_id)
        ).all()
    )
    linked = dict(
        session.execute(
            select(Family.kelompok_id, func.count(func.distinct(Family.id)))
            .join(TelegramUser, TelegramUser.family_id == Family.id)
            .where(Family.kelompok_id.in_(ids))
            .group_by(Family.kelompok_id)
        ).all()
    )
    rows = [
        KelompokRow(
            id=group.id,
            code=group.code,
            name=group.name,
            pendamping=group.pendamping.name,
            desa=group.desa.name,
            families=int(families.get(group.id, 0)),
            linked=int(linked.get(group.id, 0)),
        )
        for group in groups
    ]
    return Listing(rows, number, total)


def find_pendamping(
    session: Session,
    *,
    seen: Seen,
    search: str = "",
    page: int = 1,
    now: datetime | None = None,
) -> Listing[PendampingRow]:
    """Pendamping by code or name; how many kelompok each has, whether an account is theirs."""
    conditions: list[ColumnElement[bool]] = []
    if not seen.everything:
        conditions.append(Pendamping.id == (seen.pendamping_id or -1))
    term = clean_search(search)
    if term:
        conditions.append(or_(_contains(Pendamping.code, term), _contains(Pendamping.name, term)))
    people, total, number = _page(
        session,
        select(Pendamping).where(*conditions),
        page,
        order=(Pendamping.code,),
        load=(selectinload(Pendamping.region),),
    )
    ids = [person.id for person in people]
    groups = dict(
        session.execute(
            select(Kelompok.pendamping_id, func.count())
            .where(Kelompok.pendamping_id.in_(ids))
            .group_by(Kelompok.pendamping_id)
        ).all()
    )
    holders = set(
        session.scalars(
            select(TelegramUser.pendamping_id).where(
                TelegramUser.pendamping_id.in_(ids), TelegramUser.role == UserRole.PENDAMPING
            )
        )
    )
    waiting: dict[int, datetime] = {}
    if now is not None:
        waiting = {
            pendamping_id: expires_at
            for pendamping_id, expires_at in session.execute(
                select(PendampingInvite.pendamping_id, func.max(PendampingInvite.expires_at))
                .where(
                    PendampingInvite.pendamping_id.in_(ids),
                    PendampingInvite.used_at.is_(None),
                    PendampingInvite.revoked_at.is_(None),
                    PendampingInvite.expires_at > now,
                )
                .group_by(PendampingInvite.pendamping_id)
            ).all()
        }
    rows = [
        PendampingRow(
            id=person.id,
            code=person.code,
            name=person.name,
            region=person.region.name,
            phone=person.phone,
            kelompok=int(groups.get(person.id, 0)),
            has_account=person.id in holders,
            link_expires_at=waiting.get(person.id),
        )
        for person in people
    ]
    return Listing(rows, number, total)


def find_meetings(
    session: Session,
    *,
    seen: Seen,
    now: datetime,
    upcoming: bool,
    search: str = "",
    page: int = 1,
) -> Listing[MeetingRow]:
    """Meetings still to come (soonest first) or past (latest first), by kelompok or place."""
    conditions = [*_kelompok_scope(seen, P2K2Meeting.kelompok_id)]
    conditions.append(P2K2Meeting.starts_at >= now if upcoming else P2K2Meeting.starts_at < now)
    term = clean_search(search)
    if term:
        conditions.append(
            or_(
                _contains(Kelompok.name, term),
                _contains(Kelompok.code, term),
                _contains(P2K2Meeting.place, term),
            )
        )
    meetings, total, number = _page(
        session,
        select(P2K2Meeting).join(P2K2Meeting.kelompok).where(*conditions),
        page,
        order=(
            P2K2Meeting.starts_at.asc() if upcoming else P2K2Meeting.starts_at.desc(),
            P2K2Meeting.id,
        ),
        load=(
            selectinload(P2K2Meeting.kelompok).selectinload(Kelompok.desa),
            selectinload(P2K2Meeting.session).selectinload(P2K2Session.module),
        ),
    )
    answers = _rsvp_counts(session, [meeting.id for meeting in meetings])
    rows = [
        MeetingRow(
            id=meeting.id,
            starts_at=meeting.starts_at,
            time_zone=meeting.kelompok.desa.time_zone,
            kelompok=meeting.kelompok.name,
            module=_module_text(meeting.session),
            place=meeting.place,
            status=meeting.status,
            coming=answers.get((meeting.id, RsvpAnswer.HADIR), 0),
            not_coming=answers.get((meeting.id, RsvpAnswer.TIDAK_BISA), 0),
        )
        for meeting in meetings
    ]
    return Listing(rows, number, total)


def all_pages(find: Callable[..., Listing[Row]], **arguments: object) -> list[Row]:
    """Every row of a `find_*` (for a CSV export), a page at a time."""
    rows: list[Row] = []
    number = 1
    while True:
        listing = find(**arguments, page=number)
        rows.extend(listing.rows)
        if number >= listing.page_count:
            return rows
        number += 1


def _module_text(session: P2K2Session | None) -> str:
    if session is None:
        return ""
    return f"{session.module.number}.{session.number} {session.title}"


def _rsvp_counts(session: Session, meeting_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    counts = session.execute(
        select(MeetingRsvp.meeting_id, MeetingRsvp.answer, func.count())
        .where(MeetingRsvp.meeting_id.in_(meeting_ids))
        .group_by(MeetingRsvp.meeting_id, MeetingRsvp.answer)
    ).all()
    return {(meeting_id, answer): int(count) for meeting_id, answer, count in counts}


def _linked_families(session: Session, family_ids: Sequence[int]) -> set[int]:
    return set(
        session.scalars(
            select(TelegramUser.family_id).where(TelegramUser.family_id.in_(family_ids))
        )
    )


def _kelompok_scope(
    seen: Seen, kelompok_id: InstrumentedAttribute[int]
) -> list[ColumnElement[bool]]:
    """Only the pendamping's own kelompok (none for an account whose pendamping is gone)."""
    if seen.everything:
        return []
    own = select(Kelompok.id).where(Kelompok.pendamping_id == (seen.pendamping_id or -1))
    return [kelompok_id.in_(own)]


def _contains(column: InstrumentedAttribute[str], term: str) -> ColumnElement[bool]:
    """Case-insensitive substring; % and _ in the term are matched literally."""
    return func.lower(column).contains(term.lower(), autoescape=True)


def _region_tree(region_code: str) -> Select[tuple[int]]:
    """The ids of the region with this code and of every region inside it."""
    tree = (
        select(Region.id).where(Region.code == region_code).cte("directory_region", recursive=True)
    )
    child = aliased(Region)
    tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
    return select(tree.c.id)


def _page_count(total: int) -> int:
    """How many pages `total` rows fill (one, even when there are none)."""
    return max(1, -(-total // PAGE_SIZE))


def _page(
    session: Session,
    query: Select[Entity],
    page: int,
    *,
    order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    load: Sequence[ExecutableOption] = (),
) -> tuple[Sequence[Entity], int, int]:
    """One page of what `query` selects: its rows, how many match in all, and the page number
    (kept within 1…the last page)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(1, min(page, MAX_PAGE)), _page_count(total))
    rows = session.scalars(
        query.options(*load).order_by(*order).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return rows, total, number


# --- payment stages ------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowRow:
    """One payment window of a stage, with its state computed for today in its region's zone."""

    year: int
    stage_no: int
    region: str | None  # None: national
    region_code: str | None
    channel: str | None  # None: every channel
    starts_on: date
    ends_on: date
    state: WindowState
    closed_at: datetime | None
    source: str


@dataclass(frozen=True)
class StageChoice:
    year: int
    stage_no: int

    @property
    def key(self) -> str:
        return f"{self.year}-{self.stage_no}"


def stage_years(session: Session) -> list[int]:
    """The years with stages, newest first."""
    return list(
        session.scalars(select(PaymentStage.year).distinct().order_by(PaymentStage.year.desc()))
    )


def stage_choices(session: Session, *, year: int) -> list[StageChoice]:
    rows = session.execute(
        select(PaymentStage.year, PaymentStage.stage_no)
        .where(PaymentStage.year == year)
        .order_by(PaymentStage.stage_no)
    ).all()
    return [StageChoice(y, n) for y, n in rows]


def channel_choices(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(select(Channel.code, Channel.name).order_by(Channel.code)).all()
    return [(code, name) for code, name in rows]


def stage_windows(session: Session, *, year: int, now: datetime) -> list[WindowRow]:
    """The year's windows, stage by stage, national first, with today's state of each."""
    windows = session.scalars(
        select(PaymentWindow)
        .join(PaymentWindow.stage)
        .where(PaymentStage.year == year)
        .options(
            selectinload(PaymentWindow.stage),
            selectinload(PaymentWindow.region),
            selectinload(PaymentWindow.channel),
        )
    ).all()
    rows = []
    for window in windows:
        region = window.region
        zone = region.time_zone if region is not None else TimeZone.WIB
        rows.append(
            WindowRow(
                year=window.stage.year,
                stage_no=window.stage.stage_no,
                region=region.name if region is not None else None,
                region_code=region.code if region is not None else None,
                channel=window.channel.name if window.channel is not None else None,
                starts_on=window.starts_on,
                ends_on=window.ends_on,
                state=window_state(window, today=local_date(now, zone)),
                closed_at=window.closed_at,
                source=window.source,
            )
        )
    rows.sort(
        key=lambda r: (r.stage_no, r.region_code is not None, r.region_code or "", r.starts_on)
    )
    return rows
