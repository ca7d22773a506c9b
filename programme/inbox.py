"""The admins' inbox of unanswered questions: group similar ones, label, resolve and reply.

Plain functions of a session (the dashboard calls them; the caller owns the transaction).
Labelling a group also teaches the bot: its texts become training examples in a Rasa NLU file.
"""

# Scope: an admin (pendamping_id=None) sees and acts on every query; a pendamping only on queries
# from users whose family is in one of their kelompok. Acting on a query outside one's scope
# raises PermissionError; an unknown query id, an unknown intent or a bad entity mark ValueError.

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from core.i18n import translator
from core.settings import PROJECT_ROOT
from nlu.normalize import normalise_token
from nlu.schema import ENTITY_VALUES, INTENTS
from nlu.trainingdata import load_examples
from programme.models import (
    AuditLog,
    Family,
    Kelompok,
    OutboxKind,
    OutboxState,
    Pendamping,
    Region,
    RegionLevel,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
)
from programme.nik import redact_nik
from programme.outbox import NewMessage

TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu" / "heldout"
REVIEWED_FILE = TRAINING_DIR / "reviewed.yml"
# Texts whose word sets overlap this much (Jaccard) are one group: exact, so no float rounding.
SIMILARITY = Fraction(4, 5)
MAX_REPLY = 3500  # Telegram allows 4,096; the frame and the quoted question take the rest
MAX_QUOTE = 200
# Filter dates are days on the admins' office clock (WIB); created_at is stored in UTC.
OFFICE_ZONE = ZoneInfo(TimeZone.WIB.value)

_MASKED_NIK = re.compile(r"\*{12}\d{4}")
_WORD = re.compile(r"\w+")
_DOUBLED_LETTER = re.compile(r"([^\W\d_])\1+")
_FILE_HEADER = (
    "# Examples labelled by admins in the dashboard's inbox of unanswered questions.\n"
    "# Written by programme/inbox.py (label_group): blocks follow nlu/schema.py's INTENTS order,\n"
    "# new examples are appended to their block; comments other than this header are not kept.\n"
)


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
    queries: int  # how many of the group's questions list it among their guesses
    best: float
    mean: float  # over those questions


@dataclass(frozen=True)
class QueryGroup:
    """Questions with (nearly) the same words, shown as one row."""

    key: str  # the normalised text of the group's largest variant
    sample: str  # the text asked most often, as typed (NIKs masked)
    count: int
    query_ids: list[int]
    reasons: Counter[UnansweredReason]
    top_guesses: list[GuessSummary]  # most confident first (total confidence over the group)
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


# --- similar text ------------------------------------------------------------------------------


def similarity_key(text: str) -> str:
    """The form two questions share when they say the same: normalised words, NIKs as "nik".

    Lower case, punctuation dropped, slang and typos mapped (nlu.normalize), repeated letters
    squeezed ("kapann" = "kapan"). Texts with the same `nlu.trainingdata.normalised_text` always
    get the same key, so de-duplicating by key also passes the data checks.
    """
    return " ".join(_key_words(text)) or "".join(text.split())


def _key_words(text: str) -> list[str]:
    masked = _MASKED_NIK.sub(" nik ", redact_nik(text))
    return [_squeeze(normalise_token(_squeeze(word))) for word in _WORD.findall(masked.lower())]


def _squeeze(word: str) -> str:
    return _DOUBLED_LETTER.sub(r"\1", word)


@dataclass
class _Bucket:
    """The questions of one key (and, after merging, of its near-identical keys)."""

    key: str
    tokens: frozenset[str]
    texts: Counter[str] = field(default_factory=Counter)
    ids: list[int] = field(default_factory=list)
    reasons: Counter[UnansweredReason] = field(default_factory=Counter)
    guesses: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    users: set[int] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, row: _InboxRow) -> None:
        self.texts[row.text] += 1
        self.ids.append(row.id)
        self.reasons[row.reason] += 1
        best: dict[str, float] = {}
        for guess in row.guesses:
            intent, confidence = str(guess.get("intent")), float(guess.get("confidence") or 0)
            best[intent] = max(best.get(intent, 0.0), confidence)
        for intent, confidence in best.items():
            self.guesses[intent].append(confidence)
        if row.user_id is not None:
            self.users.add(row.user_id)
        if row.kabupaten:
            self.regions.add(row.kabupaten)
        self.first = row.created_at if self.first is None else min(self.first, row.created_at)
        self.last = row.created_at if self.last is None else max(self.last, row.created_at)

    def absorb(self, other: _Bucket) -> None:
        self.texts.update(other.texts)
        self.ids += other.ids
        self.reasons.update(other.reasons)
        for intent, confidences in other.guesses.items():
            self.guesses[intent] += confidences
        self.users |= other.users
        self.regions |= other.regions
        assert other.first is not None and other.last is not None and self.first and self.last
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)

    @property
    def count(self) -> int:
        return len(self.ids)

    def group(self) -> QueryGroup:
        assert self.first is not None and self.last is not None
        summaries = [
            GuessSummary(intent, len(cs), max(cs), sum(cs) / len(cs))
            for intent, cs in self.guesses.items()
        ]
        summaries.sort(key=lambda g: (-g.mean * g.queries, -g.best, g.intent))
        return QueryGroup(
            key=self.key,
            sample=min(self.texts.items(), key=lambda item: (-item[1], item[0]))[0],
            count=self.count,
            query_ids=sorted(self.ids),
            reasons=self.reasons,
            top_guesses=summaries[:5],
            first_asked=self.first,
            last_asked=self.last,
            askers=len(self.users),
            regions=sorted(self.regions),
        )


@dataclass(frozen=True)
class _InboxRow:
    id: int
    text: str
    reason: UnansweredReason
    guesses: list[dict[str, Any]]
    created_at: datetime
    user_id: int | None
    kabupaten: str | None

    @property
    def top_intent(self) -> str | None:
        if not self.guesses:
            return None
        return str(max(self.guesses, key=lambda g: float(g.get("confidence") or 0)).get("intent"))


def group_queries(
    session: Session, *, filter: QueryFilter = QueryFilter(), limit: int = 100
) -> list[QueryGroup]:
    """The inbox: similar questions grouped, the most asked first (then the latest asked).

    Questions with the same `similarity_key` are one group; then, largest first, a group joins
    an earlier one whose word set is near-identical (Jaccard ≥ 0.8 with that group's own key).
    """
    buckets: dict[str, _Bucket] = {}
    for row in _inbox_rows(session, filter):
        if filter.intent is not None and row.top_intent != filter.intent:
            continue
        words = _key_words(row.text)
        key = " ".join(words) or "".join(row.text.split())
        if key not in buckets:
            buckets[key] = _Bucket(key, frozenset(words))
        buckets[key].add(row)
    merged = _merge_near_identical(
        sorted(buckets.values(), key=lambda b: (-b.count, -_timestamp(b.last), b.key))
    )
    merged.sort(key=lambda b: (-b.count, -_timestamp(b.last), b.key))
    return [bucket.group() for bucket in merged[:limit]]


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _merge_near_identical(buckets: list[_Bucket]) -> list[_Bucket]:
    """Greedy, largest first: each bucket joins the most similar earlier leader, if any is ≥ 0.8.

    Prefix filtering (Bayardo et al., "Scaling up all pairs similarity search") keeps this near
    linear: with tokens in one global order (rarest first), two sets with Jaccard ≥ t must share
    a token among the first |A| - ⌈t·|A|⌉ + 1 of each, so only leaders indexed under one of those
    tokens are compared.
    """
    frequency = Counter(token for bucket in buckets for token in bucket.tokens)
    num, den = SIMILARITY.numerator, SIMILARITY.denominator
    leaders: list[_Bucket] = []
    index: dict[str, list[int]] = defaultdict(list)
    for bucket in buckets:
        size = len(bucket.tokens)
        if not size:
            leaders.append(bucket)  # no words (emoji only): only identical texts group
            continue
        ordered = sorted(bucket.tokens, key=lambda token: (frequency[token], token))
        prefix = ordered[: size - _ceil(SIMILARITY * size) + 1]
        candidates = {number for token in prefix for number in index.get(token, ())}
        best: tuple[Fraction, int] | None = None  # the most similar leader; of equals the largest
        for number in sorted(candidates):
            other = leaders[number].tokens
            # Jaccard ≥ t needs t·|A| ≤ |B| ≤ |A|/t. Integers, so no float rounding at 0.8.
            if num * size > den * len(other) or num * len(other) > den * size:
                continue
            shared = len(bucket.tokens & other)
            union = size + len(other) - shared
            if shared * den >= num * union and (best is None or Fraction(shared, union) > best[0]):
                best = (Fraction(shared, union), number)
        if best is not None:
            leaders[best[1]].absorb(bucket)
            continue
        for token in prefix:
            index[token].append(len(leaders))
        leaders.append(bucket)
    return leaders


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def _inbox_rows(session: Session, filter: QueryFilter) -> Iterator[_InboxRow]:
    for row in session.execute(_inbox_select(filter)):
        yield _InboxRow(row.id, row.text, row.reason, list(row.top_guesses or []),
                        row.created_at, row.user_id, row.kabupaten)  # fmt: skip


def _inbox_select(filter: QueryFilter) -> Select[Any]:
    # The family's desa and up to three regions above it, outer-joined: an anonymous question
    # (or one from an unlinked account) has no region and is kept unless a region is asked for.
    levels = [aliased(Region) for _ in range(4)]
    kabupaten = case(
        *((level.level == RegionLevel.KABUPATEN, level.name) for level in levels), else_=None
    )
    query = (
        select(
            UnansweredQuery.id,
            UnansweredQuery.text,
            UnansweredQuery.reason,
            UnansweredQuery.top_guesses,
            UnansweredQuery.created_at,
            UnansweredQuery.user_id,
            kabupaten.label("kabupaten"),
        )
        .outerjoin(TelegramUser, UnansweredQuery.user_id == TelegramUser.id)
        .outerjoin(Family, TelegramUser.family_id == Family.id)
        .outerjoin(Kelompok, Family.kelompok_id == Kelompok.id)
        .outerjoin(levels[0], Family.desa_id == levels[0].id)
    )
    for child, parent in pairwise(levels):
        query = query.outerjoin(parent, child.parent_id == parent.id)
    if not filter.include_resolved:
        query = query.where(UnansweredQuery.resolved_at.is_(None))
    if filter.reason is not None:
        query = query.where(UnansweredQuery.reason == filter.reason)
    if filter.date_from is not None:
        query = query.where(UnansweredQuery.created_at >= _office_midnight(filter.date_from))
    if filter.date_to is not None:
        next_day = filter.date_to + timedelta(days=1)
        query = query.where(UnansweredQuery.created_at < _office_midnight(next_day))
    if filter.region_code is not None:
        query = query.where(or_(*(level.code == filter.region_code for level in levels)))
    if filter.pendamping_id is not None:
        query = query.where(Kelompok.pendamping_id == filter.pendamping_id)
    return query.order_by(UnansweredQuery.id)


def _office_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=OFFICE_ZONE)


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
    pendamping_id: int | None = None,
    data_file: Path = REVIEWED_FILE,
    training_dir: Path = TRAINING_DIR,
    heldout_dir: Path = HELDOUT_DIR,
) -> LabelResult:
    """Label the questions with `intent`, resolve them, and add their texts as training examples.

    The entity marks' offsets are into `marked_text` (default: the group's sample, the text
    asked most often); they are carried over to the group's other texts by their words, and a
    text in which a marked word does not occur is skipped rather than taught without it.
    A text is written once, NIKs masked, unless the training data (`training_dir` and
    `data_file`) already has it or the held-out set has it (evaluation stays honest). The file
    is written before the database changes: if the caller rolls back, running this again adds
    nothing twice.
    """
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    marks = sorted(entities, key=lambda mark: mark.start)
    for mark in marks:
        if mark.entity not in ENTITY_VALUES:
            raise ValueError(f"unknown entity {mark.entity!r}")
        if mark.value not in ENTITY_VALUES[mark.entity]:
            raise ValueError(f"{mark.value!r} is not a value of entity {mark.entity!r}")
    queries = _queries_in_scope(session, query_ids, pendamping_id)
    texts = Counter(redact_nik(query.text) for query in queries)
    sample = min(texts.items(), key=lambda item: (-item[1], item[0]))[0]
    marked = redact_nik(marked_text) if marked_text is not None else sample
    _check_marks(marked, marks)
    surfaces = [(marked[m.start : m.end], m.entity, m.value) for m in marks]

    candidates: list[tuple[str, str]] = []  # (similarity key, annotated line)
    skipped = 0
    for text, _ in sorted(texts.items(), key=lambda item: (-item[1], item[0])):
        spans = _spans(text, marks) if text == marked else _find_surfaces(text, surfaces)
        line = None if spans is None else _example_line(text, spans)
        if line is None:
            skipped += 1
        else:
            candidates.append((similarity_key(_plain(text)), line))
    written, duplicates, held_out = _add_examples(
        intent, candidates, data_file=data_file, training_dir=training_dir, heldout_dir=heldout_dir
    )
    for query in queries:
        query.labelled_intent = intent
        query.resolved_at = query.resolved_at or now
    result = LabelResult(len(written), duplicates, held_out, skipped, len(queries))
    _audit(session, actor, "inbox.label", queries, now, intent=intent,
           entities=[[m.entity, m.value] for m in marks], file=data_file.name,
           written=result.written, duplicates=duplicates, held_out=held_out,
           skipped=skipped)  # fmt: skip
    return result


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
    state BLOCKED, so the reports show it.
    """
    text = text.strip()
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
    question = " ".join(query.text.split())
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
        query = query.options(
            user.selectinload(TelegramUser.family).selectinload(Family.desa),
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
            target_id=str(ids[0]),
            details={"query_ids": ids, "queries": len(ids), **details},
            created_at=now,
        )
    )


# --- entity marks and example lines ------------------------------------------------------------

_Span = tuple[int, int, str, str]  # start, end, entity, value


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


def _spans(text: str, marks: list[EntityMark]) -> list[_Span]:
    return [(m.start, m.end, m.entity, m.value) for m in marks]


def _find_surfaces(text: str, surfaces: list[tuple[str, str, str]]) -> list[_Span] | None:
    """Where each marked word occurs in another text of the group; None if one is missing."""
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


def _add_examples(
    intent: str,
    candidates: list[tuple[str, str]],
    *,
    data_file: Path,
    training_dir: Path,
    heldout_dir: Path,
) -> tuple[list[str], int, int]:
    """Append the new examples under the intent's block; (written lines, duplicates, held out)."""
    data_file.parent.mkdir(parents=True, exist_ok=True)
    with _directory_lock(data_file.parent):
        known = {similarity_key(e.text) for e in _examples(training_dir)}
        if data_file.exists() and not data_file.resolve().is_relative_to(training_dir.resolve()):
            known |= {similarity_key(e.text) for e in load_examples(data_file)}
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
            header, blocks, others = _read_data_file(data_file)
            blocks.setdefault(intent, []).extend(written)
            _write_atomically(data_file, _render(header, blocks, others))
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


def _read_data_file(path: Path) -> tuple[str, dict[str, list[str]], list[Any]]:
    """The header comment, the examples of each intent as written, and any other blocks."""
    if not path.exists():
        return _FILE_HEADER, {}, []
    source = path.read_text(encoding="utf-8")
    comments = []
    for line in source.splitlines():
        if line.startswith("nlu:"):
            break
        if line.startswith("#"):
            comments.append(line + "\n")
    document = yaml.safe_load(source) or {}
    blocks: dict[str, list[str]] = {}
    others: list[Any] = []
    for block in document.get("nlu") or ():
        if "intent" not in block:
            others.append(block)
            continue
        lines = blocks.setdefault(str(block["intent"]), [])
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                lines.append(line[2:].strip())
    return "".join(comments) or _FILE_HEADER, blocks, others


def _render(header: str, blocks: dict[str, list[str]], others: list[Any]) -> str:
    order: dict[str, int] = {intent: number for number, intent in enumerate(INTENTS)}
    out = [header, 'version: "3.1"\n', "nlu:\n"]
    for intent in sorted(blocks, key=lambda name: (order.get(name, len(order)), name)):
        out.append(f"- intent: {intent}\n  examples: |\n")
        out += [f"    - {line}\n" for line in blocks[intent]]
    if others:
        out.append(yaml.safe_dump(others, allow_unicode=True, sort_keys=False, width=1000))
    return "".join(out)


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
        expected = sum(line.startswith("    - ") for line in content.splitlines())
        if len(load_examples(Path(temporary))) != expected:
            raise RuntimeError(f"the new {path.name} does not read back; left unchanged")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
