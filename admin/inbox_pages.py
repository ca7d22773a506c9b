"""The inbox of unanswered questions: similar ones grouped, then labelled, answered or resolved.

The pages read the filter and the group's query ids from the URL and hand them to
`programme.inbox`, which checks the viewer's scope and writes the audit rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import Scope, Viewer
from admin.web import Page, error_page, login_required, render
from core.i18n import Translator
from nlu.schema import ENTITY_VALUES, INTENTS
from programme import outbox
from programme.inbox import (
    MAX_REPLY,
    EntityMark,
    QueryFilter,
    group_queries,
    label_group,
    reply_messages,
    resolve_group,
)
from programme.models import Family, TelegramUser, UnansweredQuery, UnansweredReason

# A group's ids travel in its URL and its forms; a bigger group is opened (and acted on) in parts.
MAX_GROUP_IDS = 200
# "[kata]{entity=value}" in the label form's text box marks an entity.
_ENTITY_MARK = re.compile(r"\[([^\[\]]+)\]\{(\w+)=(\w+)\}")


# --- what the pages show -----------------------------------------------------------------------


def reason_labels(tr: Translator) -> dict[UnansweredReason, str]:
    return {
        UnansweredReason.LOW_CONFIDENCE: tr._("Bot kurang yakin"),
        UnansweredReason.FALLBACK: tr._("Bot tidak paham"),
        UnansweredReason.OUT_OF_SCOPE: tr._("Di luar topik"),
        UnansweredReason.NEGATIVE_RATING: tr._("Dinilai 👎"),
        UnansweredReason.NLU_DOWN: tr._("NLU mati"),
    }


@dataclass(frozen=True)
class FilterForm:
    """The filter form as typed (shown back in the form) and the filter it stands for."""

    values: dict[str, str]
    filter: QueryFilter
    error: str | None


def read_filter(params: Mapping[str, str], scope: Scope, tr: Translator) -> FilterForm:
    """The inbox's GET parameters as a QueryFilter; a value that does not parse is dropped."""
    values = {
        name: params.get(name, "").strip()[:40]
        for name in ("reason", "intent", "region", "date_from", "date_to")
    }
    values["resolved"] = "1" if params.get("resolved") == "1" else ""
    errors = []
    reason = None
    if values["reason"] in {member.value for member in UnansweredReason}:
        reason = UnansweredReason(values["reason"])
    intent = values["intent"] if values["intent"] in INTENTS else None
    days: dict[str, date | None] = {}
    for name in ("date_from", "date_to"):
        try:
            days[name] = date.fromisoformat(values[name]) if values[name] else None
        except ValueError:
            days[name] = None
            errors.append(tr._("Tanggal harus berbentuk TTTT-BB-HH."))
    query_filter = QueryFilter(
        reason=reason,
        intent=intent,
        region_code=values["region"] or None,
        date_from=days["date_from"],
        date_to=days["date_to"],
        include_resolved=bool(values["resolved"]),
        pendamping_id=scope.pendamping_id,
    )
    return FilterForm(values, query_filter, " ".join(dict.fromkeys(errors)) or None)


def done_message(params: Mapping[str, str], tr: Translator) -> str | None:
    """The message left by the last action (its redirect's query string), if any."""
    try:
        n = int(params.get("n", ""))
        examples = int(params.get("examples", "0"))
    except ValueError:
        return None
    messages: dict[str, Callable[[], str]] = {
        "labelled": lambda: tr._(
            "{n} pertanyaan diberi label; {examples} contoh baru untuk bot.",
            n=n,
            examples=examples,
        ),
        "replied": lambda: tr._("Balasan masuk antrean untuk {n} penanya.", n=n),
        "resolved": lambda: tr._("{n} pertanyaan ditandai selesai.", n=n),
    }
    message = messages.get(params.get("done", ""))
    return message() if message else None


def group_link(query_ids: list[int]) -> str:
    return "/inbox/group?" + urlencode({"ids": ",".join(map(str, query_ids[:MAX_GROUP_IDS]))})


def parse_ids(value: object) -> list[int]:
    """ "1,2,3" → [1, 2, 3]; ValueError if empty, not numbers, or more than MAX_GROUP_IDS."""
    if not isinstance(value, str):
        raise ValueError("no query ids")
    ids = sorted({int(part) for part in value.split(",") if part.strip()})
    if not ids or len(ids) > MAX_GROUP_IDS:
        raise ValueError(f"1 to {MAX_GROUP_IDS} query ids, not {len(ids)}")
    return ids


def queries_of_group(
    session: Session, *, query_ids: list[int], scope: Scope
) -> list[UnansweredQuery]:
    """The group's questions with their askers; PermissionError if one is outside the scope."""
    user = selectinload(UnansweredQuery.user)
    family = user.selectinload(TelegramUser.family)
    queries = list(
        session.scalars(
            select(UnansweredQuery)
            .where(UnansweredQuery.id.in_(query_ids))
            .options(family.selectinload(Family.kelompok), family.selectinload(Family.desa))
            .order_by(UnansweredQuery.created_at, UnansweredQuery.id)
        )
    )
    if len(queries) != len(query_ids):
        raise ValueError("some of these questions do not exist")
    if not scope.everything and not all(
        query.user is not None
        and query.user.family is not None
        and query.user.family.kelompok.pendamping_id == scope.pendamping_id
        for query in queries
    ):
        raise PermissionError("some of these questions are not from the pendamping's KPM")
    return queries


def actor(viewer: Viewer) -> str:
    return f"admin:{viewer.username}"


def acting_pendamping(viewer: Viewer) -> int | None:
    """Who the domain should scope an action to; a pendamping account without one may not act."""
    scope = viewer.scope
    if not scope.everything and scope.pendamping_id is None:
        raise PermissionError("this pendamping account has no pendamping")
    return scope.pendamping_id


def parse_marks(text: str) -> tuple[str, list[EntityMark]]:
    """ "kapan [PKH]{programme=pkh} cair" → ("kapan PKH cair", [EntityMark(6, 9, ...)])."""
    plain: list[str] = []
    marks: list[EntityMark] = []
    position = length = 0
    for match in _ENTITY_MARK.finditer(text):
        before = text[position : match.start()]
        plain.append(before)
        length += len(before)
        surface, entity, value = match.groups()
        if entity not in ENTITY_VALUES or value not in ENTITY_VALUES[entity]:
            raise ValueError(f"unknown entity {entity}={value}")
        marks.append(EntityMark(length, length + len(surface), entity, value))
        plain.append(surface)
        length += len(surface)
        position = match.end()
    plain.append(text[position:])
    return "".join(plain), marks


# --- the pages ---------------------------------------------------------------------------------


@login_required
def inbox(request: Request, page: Page) -> Response:
    """GET /inbox: the filter form and the groups of questions it matches."""
    viewer = page.viewer
    form = read_filter(request.query_params, viewer.scope, viewer.tr)
    orphan = not viewer.scope.everything and viewer.scope.pendamping_id is None
    groups = [] if orphan else group_queries(page.session, filter=form.filter)
    return render(
        request,
        "inbox.html",
        page=page,
        groups=groups,
        form=form.values,
        error=form.error,
        notice=done_message(request.query_params, viewer.tr),
        reasons=reason_labels(viewer.tr),
        intents=INTENTS,
        group_link=group_link,
        max_group_ids=MAX_GROUP_IDS,
    )


@login_required
def group(request: Request, page: Page) -> Response:
    """GET /inbox/group?ids=…: one group's questions and the forms that act on it."""
    return _group_page(request, page, request.query_params.get("ids"))


def _group_page(
    request: Request, page: Page, ids: object, *, error: str | None = None, status: int = 200
) -> Response:
    tr = page.viewer.tr
    try:
        query_ids = parse_ids(ids)
        queries = queries_of_group(page.session, query_ids=query_ids, scope=page.viewer.scope)
    except PermissionError:
        return error_page(request, 403, tr._("Pertanyaan ini bukan dari KPM Anda."), page=page)
    except ValueError:
        return error_page(request, 404, tr._("Pertanyaan tidak ditemukan."), page=page)
    texts = Counter(query.text for query in queries)
    askers = {query.user_id for query in queries if query.user_id is not None}
    return render(
        request,
        "inbox_group.html",
        page=page,
        status_code=status,
        queries=queries,
        texts=texts.most_common(),
        sample=texts.most_common(1)[0][0],
        ids=",".join(map(str, query_ids)),
        recipients=len(askers),
        reasons=reason_labels(tr),
        intents=INTENTS,
        entities=ENTITY_VALUES,
        max_reply=MAX_REPLY,
        error=error,
    )


def _act(request: Request, page: Page, action: Callable[[list[int], int | None], str]) -> Response:
    """Run one action on the posted group; back to the inbox, or the group page with the error."""
    assert page.form is not None
    tr = page.viewer.tr
    ids = page.form.get("ids")
    try:
        query_ids = parse_ids(ids)
        done = action(query_ids, acting_pendamping(page.viewer))
    except PermissionError:
        return error_page(request, 403, tr._("Pertanyaan ini bukan dari KPM Anda."), page=page)
    except ValueError as error:
        message = tr._("Tidak bisa disimpan: {detail}", detail=str(error))
        return _group_page(request, page, ids, error=message, status=400)
    return RedirectResponse(f"/inbox?{done}", status_code=303)


@login_required
def label(request: Request, page: Page) -> Response:
    """POST /inbox/label: label the group with an intent, teach the bot its texts, resolve it."""
    assert page.form is not None
    form = page.form
    data_file: Path = request.app.state.nlu_data_file

    def run(query_ids: list[int], pendamping_id: int | None) -> str:
        marked = str(form.get("marked_text", "")).strip()
        marked_text, marks = parse_marks(marked) if marked else (None, [])
        result = label_group(
            page.session,
            query_ids=query_ids,
            intent=str(form.get("intent", "")),
            entities=marks,
            marked_text=marked_text if marks else None,
            actor=actor(page.viewer),
            now=page.now,
            pendamping_id=pendamping_id,
            data_file=data_file,
        )
        return urlencode({"done": "labelled", "n": result.labelled, "examples": result.written})

    return _act(request, page, run)


@login_required
def reply(request: Request, page: Page) -> Response:
    """POST /inbox/reply: one message to each asker (the bot's leader sends it); resolves."""
    assert page.form is not None
    text = str(page.form.get("text", ""))

    def run(query_ids: list[int], pendamping_id: int | None) -> str:
        messages = reply_messages(
            page.session,
            query_ids=query_ids,
            text=text,
            actor=actor(page.viewer),
            now=page.now,
            pendamping_id=pendamping_id,
        )
        added = outbox.enqueue(page.session, messages, now=page.now)
        return urlencode({"done": "replied", "n": added})

    return _act(request, page, run)


@login_required
def resolve(request: Request, page: Page) -> Response:
    """POST /inbox/resolve: mark the group handled without teaching the bot."""

    def run(query_ids: list[int], pendamping_id: int | None) -> str:
        resolved = resolve_group(
            page.session,
            query_ids=query_ids,
            actor=actor(page.viewer),
            now=page.now,
            pendamping_id=pendamping_id,
        )
        return urlencode({"done": "resolved", "n": resolved})

    return _act(request, page, run)
