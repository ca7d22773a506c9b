"""The admins' inbox of unanswered questions: intake, groups, labels, proposals, replies.

Plain functions of a session (the bot and the dashboard call them; the caller owns the
transaction). Labelling a group also teaches the bot: its texts become training examples in a
Rasa NLU file. A pendamping's label is a proposal until an admin accepts it.
"""

# Scope: an admin (pendamping_id=None) sees and acts on every query; a pendamping only on queries
# from users whose family is in one of their kelompok. Acting on a query outside one's scope
# raises PermissionError; an unknown query id, an unknown intent or a bad entity mark ValueError.
#
# Cost: a question's group key is computed once, at intake (programme.grouping), and the inbox
# groups by it in SQL; a page counts its 100 groups' figures in SQL for those keys only, and a
# group is opened (and acted on) GROUP_IDS questions at a time.

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVarTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, distinct, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, selectinload

from core.i18n import translator
from core.settings import PROJECT_ROOT, get_settings
from nlu.entities import canonical_value
from nlu.schema import ENTITY_VALUES, INTENTS
from nlu.trainingdata import load_examples
from programme import training_file
from programme.grouping import RECENT, KeyWindow, group_key_of, similarity_key, storable
from programme.models import (
    AuditLog,
    Family,
    InboxOverflow,
    Kelompok,
    LabelProposal,
    OutboxKind,
    OutboxState,
    Pendamping,
    ProposalState,
    Region,
    RegionLevel,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
)
from programme.nik import redact_nik
from programme.outbox import NewMessage

_Columns = TypeVarTuple("_Columns")


TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu" / "heldout"
REVIEWED_FILE = TRAINING_DIR / "reviewed.yml"
PAGE_SIZE = 100  # groups per inbox page
GROUP_IDS = 200  # a group's questions opened (and acted on) at once: its forms carry their ids
MAX_GUESSES = 5
MAX_REPLY = 3500  # Telegram allows 4,096; the frame and the quoted question take the rest
MAX_QUOTE = 200
# Filter dates and the daily cap are days on the admins' office clock (WIB); times are UTC.
OFFICE_ZONE = ZoneInfo(TimeZone.WIB.value)

_MASKED_NIK = re.compile(r"\*{12}\d{4}")


# --- intake ------------------------------------------------------------------------------------


def add_question(
    session: Session,
    *,
    text: str,
    reason: UnansweredReason,
    top_guesses: Sequence[dict[str, Any]],
    confidence: float | None,
    user_id: int | None,
    now: datetime,
    daily_cap: int | None = None,
) -> UnansweredQuery | None:
    """Put a question in the inbox, NIKs masked and its group key computed; None if not kept.

    A known asker who already has `daily_cap` (default: the INBOX_DAILY_CAP setting) questions
    in the inbox today (WIB) gets this one counted in `inbox_overflow`, not stored: one person
    cannot fill the inbox. Questions without an asker (the terminal chat) are not capped.
    """
    cap = get_settings().inbox_daily_cap if daily_cap is None else daily_cap
    if user_id is not None and _asked_today(session, user_id, now) >= cap:
        _count_overflow(session, user_id, _office_day(now))
        return None
    masked = redact_nik(storable(text))
    guesses = sorted(top_guesses, key=lambda g: -float(g.get("confidence") or 0))[:MAX_GUESSES]
    query = UnansweredQuery(
        text=masked,
        group_key=_group_key(session, masked),
        reason=reason,
        top_guesses=list(guesses),
        confidence=confidence,
        user_id=user_id,
        created_at=now,
    )
    session.add(query)
    return query


def _asked_today(session: Session, user_id: int, now: datetime) -> int:
    since = _office_midnight(_office_day(now))
    counted = select(func.count(UnansweredQuery.id)).where(
        UnansweredQuery.user_id == user_id, UnansweredQuery.created_at >= since
    )
    return session.scalar(counted) or 0


def _count_overflow(session: Session, user_id: int, day: date) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(InboxOverflow).values(user_id=user_id, day=day, questions=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[InboxOverflow.user_id, InboxOverflow.day],
            set_={"questions": InboxOverflow.questions + 1},
        )
    )


def _group_key(session: Session, text: str) -> str:
    """The key intake gives `text`: a stored key as it is, or the nearest of the latest keys."""
    key = group_key_of(text)
    if session.scalar(select(UnansweredQuery.id).where(UnansweredQuery.group_key == key).limit(1)):
        return key
    latest = session.scalars(
        select(UnansweredQuery.group_key).order_by(UnansweredQuery.id.desc()).limit(RECENT)
    ).all()
    return KeyWindow(recent=latest[::-1]).nearest(key)


def overflow_today(session: Session, *, now: datetime) -> tuple[int, int]:
    """(questions not stored, askers who sent them) today on the office clock."""
    row = session.execute(
        select(func.coalesce(func.sum(InboxOverflow.questions), 0), func.count()).where(
            InboxOverflow.day == _office_day(now)
        )
    ).one()
    return int(row[0]), int(row[1])


def _office_day(moment: datetime) -> date:
    return moment.astimezone(OFFICE_ZONE).date()


def _office_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=OFFICE_ZONE)


# --- what the dashboard passes in and gets back --------------------------------------------------


@dataclass(frozen=True)
class QueryFilter:
    """Which queries the inbox shows; every field left None matches everything."""

    reason: UnansweredReason | None = None
    intent: str | None = None  # the NLU's top guess
    region_code: str | None = None  # the asker's family's desa or any region above it
    date_from: date | None = None  # WIB days, both ends included
    date_to: date | None = None
    include_resolved: bool = False
    pendamping_id: int | None = None  # None: an admin, who sees all


@dataclass(frozen=True)
class GuessSummary:
    """One intent the NLU guessed for the group's questions."""

    intent: str
    queries: int  # how many of the group's questions have it as the NLU's top guess
    best: float
    mean: float  # over those questions


@dataclass(frozen=True)
class QueryGroup:
    """Questions with the same group key, shown as one row."""

    key: str
    sample: str  # the text asked most often, as stored (NIKs masked); of equals the first asked
    count: int
    reasons: Counter[UnansweredReason]
    top_guesses: list[GuessSummary]  # the most frequent top guess first
    first_asked: datetime
    last_asked: datetime
    askers: int  # distinct known users (anonymous terminal questions are not counted)
    regions: list[str]  # the askers' kabupaten


@dataclass(frozen=True)
class EntityMark:
    """An entity the admin marked in a text: characters [start, end) are `entity` = `value`."""

    start: int
    end: int
    entity: str
    value: str  # canonical, one of nlu.schema.ENTITY_VALUES[entity]


@dataclass(frozen=True)
class LabelResult:
    """What labelling a group did to the training data."""

    written: int  # new examples in the data file
    duplicates: int  # already in the training data or the file, or twice in the group (normalised)
    held_out: int  # kept out: the held-out evaluation set has them
    skipped: int  # empty or only a masked NIK, or a marked entity not found in the text
    labelled: int  # queries labelled


@dataclass(frozen=True)
class ProposalSummary:
    """A pendamping's label waiting for an admin, as the "Usulan label" list shows it."""

    id: int
    intent: str
    entities: list[tuple[str, str, str]]  # (marked words, entity, value)
    proposed_by: str
    pendamping: str | None  # the pendamping's name
    created_at: datetime
    texts: list[tuple[str, int]]  # the questions' texts, most asked first
    questions: int


# --- the groups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxPage:
    """One page of groups and how many groups the filter matches in all."""

    groups: list[QueryGroup]
    total_groups: int


def inbox_page(
    session: Session,
    *,
    filter: QueryFilter = QueryFilter(),
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> InboxPage:
    """One page of the inbox: groups by size, then by the latest question, then the oldest."""
    # count(*) and the times only, so PostgreSQL can answer from the partial index alone; the
    # number of groups comes in the same pass (a window over the grouped rows).
    count = func.count()
    first = func.min(UnansweredQuery.created_at)
    last = func.max(UnansweredQuery.created_at)
    key = UnansweredQuery.group_key
    columns = (key, count.label("questions"), first.label("first"), last.label("last"),
               func.count().over().label("groups"))  # fmt: skip
    page = session.execute(
        _filtered(select(*columns), filter)
        .group_by(key)
        .order_by(count.desc(), last.desc(), first, key)
        .limit(limit)
        .offset(offset)
    ).all()
    keys = [row.group_key for row in page]
    if not keys:
        return InboxPage([], count_groups(session, filter=filter) if offset else 0)
    details = _GroupDetails.read(session, filter, keys)
    groups = [
        QueryGroup(
            key=row.group_key,
            sample=details.samples[row.group_key],
            count=row.questions,
            reasons=details.reasons[row.group_key],
            top_guesses=_summaries(details.guesses[row.group_key]),
            first_asked=row.first,
            last_asked=row.last,
            askers=details.askers.get(row.group_key, 0),
            regions=sorted(details.regions[row.group_key]),
        )
        for row in page
    ]
    return InboxPage(groups, page[0].groups)


def group_queries(
    session: Session,
    *,
    filter: QueryFilter = QueryFilter(),
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> list[QueryGroup]:
    """The groups of one page of the inbox (inbox_page without the total)."""
    return inbox_page(session, filter=filter, limit=limit, offset=offset).groups


def count_groups(session: Session, *, filter: QueryFilter = QueryFilter()) -> int:
    """How many groups the filter matches (the inbox's pages)."""
    keys = _filtered(select(UnansweredQuery.group_key), filter).group_by(UnansweredQuery.group_key)
    return session.scalar(select(func.count()).select_from(keys.subquery())) or 0


@dataclass
class _Guesses:
    """The questions of a group whose top guess is one intent."""

    queries: int = 0
    best: float = 0.0
    total: float = 0.0


@dataclass
class _GroupDetails:
    """What a page shows of its groups, read for those groups' keys only, in four queries."""

    samples: dict[str, str]
    reasons: dict[str, Counter[UnansweredReason]]
    guesses: dict[str, dict[str, _Guesses]]
    askers: dict[str, int]
    regions: dict[str, set[str]]

    @classmethod
    def read(cls, session: Session, filter: QueryFilter, keys: list[str]) -> _GroupDetails:
        def of(query: Select[*_Columns]) -> Select[*_Columns]:
            return _filtered(query, filter).where(UnansweredQuery.group_key.in_(keys))

        key = UnansweredQuery.group_key
        details = cls({}, defaultdict(Counter), defaultdict(dict), {}, defaultdict(set))
        # The text asked most often; of equals, the one asked first.
        asked = func.count()
        texts = of(select(key, UnansweredQuery.text, asked.label("asked"),
                          func.min(UnansweredQuery.id).label("first_id"))
                   ).group_by(key, UnansweredQuery.text).subquery()  # fmt: skip
        rank = func.row_number().over(
            partition_by=texts.c.group_key, order_by=(texts.c.asked.desc(), texts.c.first_id)
        )
        ranked = select(texts.c.group_key, texts.c.text, rank.label("rank")).subquery()
        for row in session.execute(
            select(ranked.c.group_key, ranked.c.text).where(ranked.c.rank == 1)
        ):
            details.samples[row.group_key] = row.text
        # Reasons and the NLU's top guesses, counted together.
        intent, confidence = _top_intent(), _top_confidence()
        counted = of(select(key, UnansweredQuery.reason, intent, func.count(),
                            func.max(confidence), func.sum(confidence))
                     ).group_by(key, UnansweredQuery.reason, intent)  # fmt: skip
        for group_key, reason, top, questions, best, total in session.execute(counted):
            details.reasons[group_key][reason] += questions
            if top is not None:
                guess = details.guesses[group_key].setdefault(top, _Guesses())
                guess.queries += questions
                guess.best = max(guess.best, float(best or 0))
                guess.total += float(total or 0)
        askers = of(select(key, func.count(distinct(UnansweredQuery.user_id)))).group_by(key)
        details.askers = {row[0]: row[1] for row in session.execute(askers)}
        for group_key, kabupaten in session.execute(_kabupaten_of(of)):
            if kabupaten:
                details.regions[group_key].add(kabupaten)
        return details


def _kabupaten_of(of: Any) -> Select[Any]:
    """(group key, kabupaten) of the groups' askers' families, each pair once."""
    desas = (
        of(select(UnansweredQuery.group_key, Family.desa_id))
        .join(TelegramUser, UnansweredQuery.user_id == TelegramUser.id)
        .join(Family, TelegramUser.family_id == Family.id)
        .distinct()
        .subquery()
    )
    levels = [aliased(Region) for _ in range(4)]
    kabupaten = case(
        *((level.level == RegionLevel.KABUPATEN, level.name) for level in levels), else_=None
    )
    query = select(desas.c.group_key, kabupaten).join(levels[0], desas.c.desa_id == levels[0].id)
    for child, parent in pairwise(levels):
        query = query.outerjoin(parent, child.parent_id == parent.id)
    return query.distinct()


def _summaries(guesses: dict[str, _Guesses]) -> list[GuessSummary]:
    summaries = [
        GuessSummary(intent, g.queries, g.best, g.total / g.queries)
        for intent, g in guesses.items()
        if g.queries
    ]
    summaries.sort(key=lambda g: (-g.queries, -g.best, g.intent))
    return summaries[:MAX_GUESSES]


def _filtered(query: Select[*_Columns], filter: QueryFilter) -> Select[*_Columns]:
    """`query` on unanswered_query with the filter's conditions (joins only when asked for)."""
    if not filter.include_resolved:
        query = query.where(UnansweredQuery.resolved_at.is_(None))
    if filter.reason is not None:
        query = query.where(UnansweredQuery.reason == filter.reason)
    if filter.intent is not None:
        query = query.where(_top_intent() == filter.intent)
    if filter.date_from is not None:
        query = query.where(UnansweredQuery.created_at >= _office_midnight(filter.date_from))
    if filter.date_to is not None:
        next_day = filter.date_to + timedelta(days=1)
        query = query.where(UnansweredQuery.created_at < _office_midnight(next_day))
    if filter.region_code is None and filter.pendamping_id is None:
        return query
    family = aliased(Family)
    asker = aliased(TelegramUser)
    query = query.join(asker, UnansweredQuery.user_id == asker.id).join(
        family, asker.family_id == family.id
    )
    if filter.pendamping_id is not None:
        kelompok = aliased(Kelompok)
        query = query.join(kelompok, family.kelompok_id == kelompok.id).where(
            kelompok.pendamping_id == filter.pendamping_id
        )
    if filter.region_code is not None:
        # The family's desa and up to three regions above it.
        levels = [aliased(Region) for _ in range(4)]
        query = query.join(levels[0], family.desa_id == levels[0].id)
        for child, parent in pairwise(levels):
            query = query.outerjoin(parent, child.parent_id == parent.id)
        query = query.where(or_(*(level.code == filter.region_code for level in levels)))
    return query


def _top_intent() -> ColumnElement[str]:
    # Intake stores the guesses most confident first, so the top guess is the first one.
    return cast(ColumnElement[str], UnansweredQuery.top_guesses[(0, "intent")].as_string())


def _top_confidence() -> ColumnElement[float]:
    return cast(ColumnElement[float], UnansweredQuery.top_guesses[(0, "confidence")].as_float())


def questions_of_group(
    session: Session, *, query_ids: Collection[int], pendamping_id: int | None
) -> list[UnansweredQuery]:
    """Questions with their askers, oldest first; ValueError or PermissionError."""
    queries = _queries_in_scope(session, query_ids, pendamping_id, with_users=True)
    return sorted(queries, key=lambda query: (query.created_at, query.id))


def group_question_ids(
    session: Session, *, key: str, filter: QueryFilter = QueryFilter(), limit: int = GROUP_IDS
) -> list[int]:
    """The first `limit` questions of a group the filter shows, oldest first (what is opened)."""
    query = _filtered(select(UnansweredQuery.id), filter).where(UnansweredQuery.group_key == key)
    ordered = query.order_by(UnansweredQuery.created_at, UnansweredQuery.id).limit(limit)
    return list(session.scalars(ordered))


# --- acting on a group -------------------------------------------------------------------------


def label_group(
    session: Session,
    *,
    query_ids: Collection[int],
    intent: str,
    entities: Iterable[EntityMark] = (),
    marked_text: str | None = None,
    actor: str,
    now: datetime,
    data_file: Path = REVIEWED_FILE,
    training_dir: Path = TRAINING_DIR,
    heldout_dir: Path = HELDOUT_DIR,
) -> LabelResult:
    """An admin labels the questions with `intent`: resolved, and their texts taught to the bot.

    The entity marks' offsets are into `marked_text` (default: the group's sample, the text
    asked most often); they are carried over to the group's other texts by their words, and a
    text in which a marked word does not occur is skipped rather than taught without it.
    A text is written once, NIKs masked, unless the training data (`training_dir` and
    `data_file`) already has it or the held-out set has it (evaluation stays honest). The file
    is written before the database changes: if the caller rolls back, running this again adds
    nothing twice.
    """
    marks = _checked(intent, entities)
    queries = _queries_in_scope(session, query_ids, None)
    texts = Counter(redact_nik(query.text) for query in queries)
    marked = redact_nik(marked_text) if marked_text is not None else _sample(texts)
    _check_marks(marked, marks)
    surfaces = [(marked[m.start : m.end], m.entity, m.value) for m in marks]
    written, duplicates, held_out, skipped = _teach(
        intent, texts, surfaces, (marked, marks), data_file, training_dir, heldout_dir
    )
    for query in queries:
        query.labelled_intent = intent
        query.resolved_at = query.resolved_at or now
    _audit(session, actor, "inbox.label", queries, now, intent=intent,
           entities=[[m.entity, m.value] for m in marks], file=data_file.name,
           written=written, duplicates=duplicates, held_out=held_out,
           skipped=skipped)  # fmt: skip
    return LabelResult(written, duplicates, held_out, skipped, len(queries))


def propose_label(
    session: Session,
    *,
    query_ids: Collection[int],
    intent: str,
    entities: Iterable[EntityMark] = (),
    marked_text: str | None = None,
    actor: str,
    now: datetime,
    pendamping_id: int,
) -> LabelProposal:
    """A pendamping's label: the questions leave the inbox and wait for an admin's decision.

    Nothing reaches the training data until an admin accepts (accept_proposal). The marked
    words are kept, not the text; they are found again in each question when accepted.
    """
    marks = _checked(intent, entities)
    queries = _queries_in_scope(session, query_ids, pendamping_id)
    texts = Counter(redact_nik(query.text) for query in queries)
    marked = redact_nik(marked_text) if marked_text is not None else _sample(texts)
    _check_marks(marked, marks)
    proposal = LabelProposal(
        intent=intent,
        entities=[
            {"text": marked[m.start : m.end], "entity": m.entity, "value": m.value} for m in marks
        ],
        pendamping_id=pendamping_id,
        proposed_by=actor,
        state=ProposalState.PENDING,
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    for query in queries:
        query.label_proposal_id = proposal.id
        query.resolved_at = query.resolved_at or now
    _audit(session, actor, "inbox.propose", queries, now, proposal=proposal.id, intent=intent,
           entities=[[m.entity, m.value] for m in marks])  # fmt: skip
    return proposal


def pending_proposals(session: Session) -> list[ProposalSummary]:
    """The proposals waiting for an admin, oldest first, with their questions' texts."""
    proposals = session.scalars(
        select(LabelProposal)
        .where(LabelProposal.state == ProposalState.PENDING)
        .options(selectinload(LabelProposal.queries), selectinload(LabelProposal.pendamping))
        .order_by(LabelProposal.created_at, LabelProposal.id)
    )
    summaries = []
    for proposal in proposals:
        texts = Counter(query.text for query in proposal.queries)
        summaries.append(
            ProposalSummary(
                id=proposal.id,
                intent=proposal.intent,
                entities=[(e["text"], e["entity"], e["value"]) for e in proposal.entities],
                proposed_by=proposal.proposed_by,
                pendamping=proposal.pendamping.name if proposal.pendamping else None,
                created_at=proposal.created_at,
                texts=sorted(texts.items(), key=lambda item: (-item[1], item[0])),
                questions=len(proposal.queries),
            )
        )
    return summaries


def pending_proposal_count(session: Session) -> int:
    waiting = LabelProposal.state == ProposalState.PENDING
    return session.scalar(select(func.count(LabelProposal.id)).where(waiting)) or 0


def accept_proposal(
    session: Session,
    *,
    proposal_id: int,
    actor: str,
    now: datetime,
    data_file: Path = REVIEWED_FILE,
    training_dir: Path = TRAINING_DIR,
    heldout_dir: Path = HELDOUT_DIR,
) -> LabelResult:
    """An admin accepts a pendamping's label: its questions' texts become training examples."""
    proposal = _pending(session, proposal_id)
    queries = list(proposal.queries)
    texts = Counter(redact_nik(query.text) for query in queries)
    surfaces = [(e["text"], e["entity"], e["value"]) for e in proposal.entities]
    written, duplicates, held_out, skipped = _teach(
        proposal.intent, texts, surfaces, None, data_file, training_dir, heldout_dir
    )
    for query in queries:
        query.labelled_intent = proposal.intent
        query.resolved_at = query.resolved_at or now
    _decide(proposal, ProposalState.ACCEPTED, actor, now)
    _audit(session, actor, "inbox.proposal.accept", queries, now, proposal=proposal.id,
           intent=proposal.intent, proposed_by=proposal.proposed_by, file=data_file.name,
           written=written, duplicates=duplicates, held_out=held_out,
           skipped=skipped)  # fmt: skip
    return LabelResult(written, duplicates, held_out, skipped, len(queries))


def reject_proposal(session: Session, *, proposal_id: int, actor: str, now: datetime) -> int:
    """An admin rejects a pendamping's label: its questions go back to the inbox; how many."""
    proposal = _pending(session, proposal_id)
    queries = list(proposal.queries)
    for query in queries:
        query.label_proposal_id = None
        query.resolved_at = None
    _decide(proposal, ProposalState.REJECTED, actor, now)
    _audit(session, actor, "inbox.proposal.reject", queries, now, proposal=proposal.id,
           intent=proposal.intent, proposed_by=proposal.proposed_by)  # fmt: skip
    return len(queries)


def _pending(session: Session, proposal_id: int) -> LabelProposal:
    proposal = session.get(LabelProposal, proposal_id, with_for_update=True)
    if proposal is None or proposal.state is not ProposalState.PENDING:
        raise ValueError(f"no pending label proposal {proposal_id}")
    return proposal


def _decide(proposal: LabelProposal, state: ProposalState, actor: str, now: datetime) -> None:
    proposal.state = state
    proposal.decided_by = actor
    proposal.decided_at = now


def resolve_group(
    session: Session,
    *,
    query_ids: Collection[int],
    actor: str,
    now: datetime,
    pendamping_id: int | None = None,
) -> int:
    """Mark the questions handled without teaching the bot; returns how many were still open."""
    queries = _queries_in_scope(session, query_ids, pendamping_id)
    opened = [query for query in queries if query.resolved_at is None]
    for query in opened:
        query.resolved_at = now
    _audit(session, actor, "inbox.resolve", queries, now, resolved=len(opened))
    return len(opened)


def reply_messages(
    session: Session,
    *,
    query_ids: Collection[int],
    text: str,
    actor: str,
    now: datetime,
    pendamping_id: int | None = None,
) -> list[NewMessage]:
    """One ADMIN_REPLY outbox message per asker (the caller enqueues them); resolves the group.

    Each asker gets their own latest question of the group quoted back. Anonymous questions
    (the terminal chat) have no chat and get nothing; a chat known unreachable gets its row in
    state BLOCKED, so the reports show it. A NIK typed into the reply is masked too.
    """
    text = redact_nik(text.strip())
    if not 1 <= len(text) <= MAX_REPLY:
        raise ValueError(f"a reply must have 1 to {MAX_REPLY} characters, not {len(text)}")
    queries = _queries_in_scope(session, query_ids, pendamping_id, with_users=True)
    latest: dict[int, UnansweredQuery] = {}
    for query in sorted(queries, key=lambda q: (q.created_at, q.id)):
        if query.user is not None:
            latest[query.user.id] = query
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
    messages = [_reply(latest[user_id], text, digest, now) for user_id in sorted(latest)]
    for query in queries:
        query.resolved_at = query.resolved_at or now
    blocked = sum(message.state is OutboxState.BLOCKED for message in messages)
    _audit(session, actor, "inbox.reply", queries, now, text=text, recipients=len(messages),
           blocked=blocked)  # fmt: skip
    return messages


def _reply(query: UnansweredQuery, text: str, digest: str, now: datetime) -> NewMessage:
    user = query.user
    assert user is not None
    question = " ".join(redact_nik(query.text).split())
    if len(question) > MAX_QUOTE:
        question = question[: MAX_QUOTE - 1].rstrip() + "…"
    header = translator(user.language)._(
        "Jawaban dari petugas PKH atas pertanyaan Bapak/Ibu: «{question}»", question=question
    )
    return NewMessage(
        dedupe_key=f"admin-reply:{query.id}:{digest}",
        kind=OutboxKind.ADMIN_REPLY,
        chat_id=user.chat_id,
        user_id=user.id,
        text=f"{header}\n\n{text}",
        time_zone=_time_zone(user),
        not_before=now,
        state=OutboxState.BLOCKED if user.is_unreachable else OutboxState.QUEUED,
    )


def _time_zone(user: TelegramUser) -> TimeZone:
    if user.family is not None:
        return user.family.desa.time_zone
    if user.pendamping is not None:
        return user.pendamping.region.time_zone
    return TimeZone.WIB


def _queries_in_scope(
    session: Session,
    query_ids: Collection[int],
    pendamping_id: int | None,
    *,
    with_users: bool = False,
) -> list[UnansweredQuery]:
    wanted = set(query_ids)
    if not wanted:
        raise ValueError("no queries given")
    query = select(UnansweredQuery).where(UnansweredQuery.id.in_(wanted))
    if with_users:
        user = selectinload(UnansweredQuery.user)
        family = user.selectinload(TelegramUser.family)
        query = query.options(
            family.selectinload(Family.desa),
            family.selectinload(Family.kelompok),
            user.selectinload(TelegramUser.pendamping).selectinload(Pendamping.region),
        )
    queries = list(session.scalars(query.order_by(UnansweredQuery.id)))
    missing = wanted - {q.id for q in queries}
    if missing:
        raise ValueError(f"no unanswered queries with ids {sorted(missing)}")
    if pendamping_id is not None:
        own = set(
            session.scalars(
                select(UnansweredQuery.id)
                .join(TelegramUser, UnansweredQuery.user_id == TelegramUser.id)
                .join(Family, TelegramUser.family_id == Family.id)
                .join(Kelompok, Family.kelompok_id == Kelompok.id)
                .where(UnansweredQuery.id.in_(wanted), Kelompok.pendamping_id == pendamping_id)
            )
        )
        if own != wanted:
            raise PermissionError("some of these questions are not from the pendamping's KPM")
    return queries


def _audit(
    session: Session,
    actor: str,
    action: str,
    queries: list[UnansweredQuery],
    now: datetime,
    **details: Any,
) -> None:
    ids = sorted(query.id for query in queries)
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            target_type="unanswered_query",
            target_id=str(ids[0]) if ids else None,
            details={"query_ids": ids, "queries": len(ids), **details},
            created_at=now,
        )
    )


# --- entity marks and example lines ------------------------------------------------------------

_Span = tuple[int, int, str, str]  # start, end, entity, value
_Surface = tuple[str, str, str]  # marked words, entity, value


def _checked(intent: str, entities: Iterable[EntityMark]) -> list[EntityMark]:
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    marks = sorted(entities, key=lambda mark: mark.start)
    for mark in marks:
        if mark.entity not in ENTITY_VALUES:
            raise ValueError(f"unknown entity {mark.entity!r}")
        if canonical_value(mark.entity, mark.value) != mark.value:  # "2027" is a year too
            raise ValueError(f"{mark.value!r} is not a value of entity {mark.entity!r}")
    return marks


def _sample(texts: Counter[str]) -> str:
    return min(texts.items(), key=lambda item: (-item[1], item[0]))[0]


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where the words of `text` are: what an entity mark may start and end at."""
    return [match.span() for match in re.finditer(r"[^\W\d_]+|\d+", text)]


def _check_marks(text: str, marks: list[EntityMark]) -> None:
    previous_end = 0
    for mark in marks:
        if not 0 <= mark.start < mark.end <= len(text):
            raise ValueError(f"entity mark {mark.start}-{mark.end} is outside the text")
        if mark.start < previous_end:
            raise ValueError("entity marks overlap")
        surface = text[mark.start : mark.end]
        if surface != surface.strip() or "\n" in surface:
            raise ValueError(f"entity mark {surface!r} must not start or end with a space")
        if not (_is_boundary(text, mark.start) and _is_boundary(text, mark.end)):
            raise ValueError(f"entity mark {surface!r} cuts a word")
        previous_end = mark.end


def _is_boundary(text: str, at: int) -> bool:
    """A token edge for our tokenizer: a non-word character on one side, or letter|digit."""
    if at in (0, len(text)):
        return True
    before, after = text[at - 1], text[at]
    if not (before.isalnum() and after.isalnum()):
        return True
    return before.isdigit() != after.isdigit()


def _find_surfaces(text: str, surfaces: list[_Surface]) -> list[_Span] | None:
    """Where each marked word occurs in a text of the group; None if one is missing."""
    spans: list[_Span] = []
    taken: list[tuple[int, int]] = []
    for surface, entity, value in surfaces:
        pattern = re.compile(rf"(?<!\w){re.escape(surface)}(?!\w)", re.IGNORECASE)
        found = next(
            (
                match
                for match in pattern.finditer(text)
                if all(match.end() <= start or match.start() >= end for start, end in taken)
            ),
            None,
        )
        if found is None:
            return None
        taken.append(found.span())
        spans.append((found.start(), found.end(), entity, value))
    return sorted(spans)


def _example_line(text: str, spans: list[_Span]) -> str | None:
    """The annotated example as our data files write it, or None if there is nothing to teach."""
    if not _has_content(_MASKED_NIK.sub(" ", _plain(text))):
        return None
    parts: list[str] = []
    position = 0
    for start, end, entity, value in spans:
        parts.append(_clean(text[position:start]))
        annotation = json.dumps({"entity": entity, "value": value}, ensure_ascii=False)
        parts.append(f"[{_clean(text[start:end]).strip()}]{annotation}")
        position = end
    parts.append(_clean(text[position:]))
    return " ".join("".join(parts).split())


def _plain(text: str) -> str:
    return " ".join(_clean(text).split())


def _clean(text: str) -> str:
    """One line of YAML-safe text; square brackets become round so no text reads as a mark."""
    text = redact_nik(text).replace("[", "(").replace("]", ")")
    kept = (" " if character.isspace() else character for character in text)
    # Control characters, lone surrogates and non-characters are not allowed in YAML.
    return "".join(c for c in kept if unicodedata.category(c) not in ("Cc", "Cs", "Cn"))


def _has_content(text: str) -> bool:
    return any(not c.isspace() and not unicodedata.category(c).startswith("P") for c in text)


# --- the training data file --------------------------------------------------------------------


def _teach(
    intent: str,
    texts: Counter[str],
    surfaces: list[_Surface],
    marked: tuple[str, list[EntityMark]] | None,
    data_file: Path,
    training_dir: Path,
    heldout_dir: Path,
) -> tuple[int, int, int, int]:
    """Write the texts as examples of `intent`: (written, duplicates, held out, skipped)."""
    candidates: list[tuple[str, str]] = []  # (similarity key, annotated line)
    skipped = 0
    for text, _ in sorted(texts.items(), key=lambda item: (-item[1], item[0])):
        if marked is not None and text == marked[0]:
            spans: list[_Span] | None = [(m.start, m.end, m.entity, m.value) for m in marked[1]]
        else:
            spans = _find_surfaces(text, surfaces)
        line = None if spans is None else _example_line(text, spans)
        if line is None:
            skipped += 1
        else:
            candidates.append((similarity_key(_plain(text)), line))
    written, duplicates, held_out = _add_examples(
        intent, candidates, data_file=data_file, training_dir=training_dir, heldout_dir=heldout_dir
    )
    return len(written), duplicates, held_out, skipped


def _add_examples(
    intent: str,
    candidates: list[tuple[str, str]],
    *,
    data_file: Path,
    training_dir: Path,
    heldout_dir: Path,
) -> tuple[list[str], int, int]:
    """Add the new examples under the intent; (written lines, duplicates, held out)."""
    data_file.parent.mkdir(parents=True, exist_ok=True)
    with _directory_lock(data_file.parent):
        source = data_file.read_text(encoding="utf-8") if data_file.exists() else ""
        known = {similarity_key(e.text) for e in _examples(training_dir)}
        # Our own reader for this file: it also knows Rasa's list form with metadata.
        known |= {similarity_key(text) for _, text in training_file.examples_in(source)}
        held = {similarity_key(e.text) for e in _examples(heldout_dir)}
        written: list[str] = []
        duplicates = held_out = 0
        for key, line in candidates:
            if key in held:
                held_out += 1
            elif key in known:
                duplicates += 1
            else:
                known.add(key)
                written.append(line)
        if written:
            _write_atomically(data_file, training_file.add_examples(source, intent, written))
    return written, duplicates, held_out


def _examples(directory: Path) -> list[Any]:
    return load_examples(directory) if directory.exists() else []


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    # Two admins labelling at once must not lose each other's examples: the read-modify-write
    # is serialised with an flock on the directory (no lock file for Rasa or git to see).
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _write_atomically(path: Path, content: str) -> None:
    """Write a temporary file beside `path`, check it reads back, then rename it over `path`."""
    # Not *.yml: a training run reading the directory meanwhile never sees a half-written file.
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if training_file.examples_in(Path(temporary).read_text(encoding="utf-8")) != (
            training_file.examples_in(content)
        ):
            raise RuntimeError(f"the new {path.name} does not read back; left unchanged")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
