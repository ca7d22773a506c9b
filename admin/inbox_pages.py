"""The inbox of unanswered questions: similar ones grouped, then labelled, answered or resolved.

The pages read the filter and the group's query ids from the URL and hand them to
`programme.inbox`, which checks the viewer's scope and writes the audit rows. An admin's label
teaches the bot at once; a pendamping's is a proposal the admins accept or reject under
/inbox/proposals ("Usulan label").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import Scope, Viewer, require_admin
from admin.web import Page, error_page, login_required, render
from core.i18n import Translator
from nlu.entities import canonical_value
from nlu.schema import ENTITY_VALUES, INTENTS
from nlu.topics import entity_choices, entity_name, entity_value_name, topic_name
from programme import outbox
from programme.grouping import MAX_KEY
from programme.inbox import (
    GROUP_IDS,
    MAX_REPLY,
    PAGE_SIZE,
    EntityMark,
    InboxPage,
    QueryFilter,
    accept_proposal,
    group_question_ids,
    inbox_page,
    label_group,
    overflow_today,
    pending_proposal_count,
    pending_proposals,
    propose_label,
    questions_of_group,
    reject_proposal,
    reply_messages,
    resolve_group,
    word_spans,
)
from programme.models import UnansweredReason

MAX_MARKS = 20
FILTER_FIELDS = ("reason", "intent", "region", "date_from", "date_to", "resolved")


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
    """The filter form as typed (shown back in the form), the filter it stands for, the page."""

    values: dict[str, str]
    filter: QueryFilter
    page: int
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
    page = params.get("page", "1")
    number = int(page) if page.isdigit() and len(page) < 7 else 1
    return FilterForm(values, query_filter, max(number, 1), " ".join(dict.fromkeys(errors)) or None)


def page_link(values: Mapping[str, str], page: int) -> str:
    """The inbox with the same filter on another page."""
    kept = {name: values[name] for name in FILTER_FIELDS if values.get(name)}
    return "/inbox?" + urlencode({**kept, "page": page})


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
        "proposed": lambda: tr._(
            "Usulan label untuk {n} pertanyaan dikirim ke admin. Bot baru belajar setelah "
            "admin menerimanya.",
            n=n,
        ),
        "accepted": lambda: tr._(
            "Usulan diterima: {n} pertanyaan; {examples} contoh baru untuk bot.",
            n=n,
            examples=examples,
        ),
        "rejected": lambda: tr._("Usulan ditolak; {n} pertanyaan kembali ke kotak masuk.", n=n),
        "replied": lambda: tr._("Balasan masuk antrean untuk {n} penanya.", n=n),
        "resolved": lambda: tr._("{n} pertanyaan ditandai selesai.", n=n),
    }
    message = messages.get(params.get("done", ""))
    return message() if message else None


def group_link(key: str, values: Mapping[str, str]) -> str:
    """A group's page: its key and the inbox's filter (the page opens GROUP_IDS of them)."""
    kept = {name: values[name] for name in FILTER_FIELDS if values.get(name)}
    return "/inbox/group?" + urlencode({"key": key, **kept})


def parse_ids(value: object) -> list[int]:
    """ "1,2,3" → [1, 2, 3]; ValueError if empty, not numbers, or more than GROUP_IDS."""
    if not isinstance(value, str):
        raise ValueError("no query ids")
    ids = sorted({int(part) for part in value.split(",") if part.strip()})
    if not ids or len(ids) > GROUP_IDS:
        raise ValueError(f"1 to {GROUP_IDS} query ids, not {len(ids)}")
    return ids


def parse_marks(form: FormData) -> list[EntityMark]:
    """The words the admin marked on the label form: "start:end:entity=value" fields."""
    values = form.getlist("mark")
    if len(values) > MAX_MARKS:
        raise ValueError(f"at most {MAX_MARKS} entity marks")
    marks = []
    for value in values:
        parts = str(value).split(":", 2)
        if len(parts) != 3 or not all(part.isdigit() and len(part) < 7 for part in parts[:2]):
            raise ValueError(f"bad entity mark {str(value)[:40]!r}")
        entity, _, canonical = parts[2].partition("=")
        if entity not in ENTITY_VALUES or canonical_value(entity, canonical) != canonical:
            raise ValueError(f"unknown entity {entity[:20]}={canonical[:20]}")
        marks.append(EntityMark(int(parts[0]), int(parts[1]), entity, canonical))
    return marks


def actor(viewer: Viewer) -> str:
    return f"admin:{viewer.username}"


def acting_pendamping(viewer: Viewer) -> int | None:
    """Who the domain should scope an action to; a pendamping account without one may not act."""
    scope = viewer.scope
    if not scope.everything and scope.pendamping_id is None:
        raise PermissionError("this pendamping account has no pendamping")
    return scope.pendamping_id


def sample_words(text: str) -> list[tuple[str, int | None, int | None]]:
    """The sample cut into words to click and the text between them: (text, start, end)."""
    pieces: list[tuple[str, int | None, int | None]] = []
    position = 0
    for start, end in word_spans(text):
        if start > position:
            pieces.append((text[position:start], None, None))
        pieces.append((text[start:end], start, end))
        position = end
    if position < len(text):
        pieces.append((text[position:], None, None))
    return pieces


def topic_names(tr: Translator) -> Callable[[str], str]:
    return lambda intent: topic_name(intent, tr)


# --- the pages ---------------------------------------------------------------------------------


@login_required
def inbox(request: Request, page: Page) -> Response:
    """GET /inbox: the filter form and one page of the groups of questions it matches."""
    viewer = page.viewer
    tr = viewer.tr
    form = read_filter(request.query_params, viewer.scope, tr)
    orphan = not viewer.scope.everything and viewer.scope.pendamping_id is None
    found = InboxPage([], 0)
    if not orphan:
        offset = (form.page - 1) * PAGE_SIZE
        found = inbox_page(page.session, filter=form.filter, limit=PAGE_SIZE, offset=offset)
    pages = max(1, math.ceil(found.total_groups / PAGE_SIZE))
    number, groups = form.page, found.groups
    if number > pages:  # past the end (a stale link): the last page
        number = pages
        groups = inbox_page(page.session, filter=form.filter, limit=PAGE_SIZE,
                            offset=(number - 1) * PAGE_SIZE).groups  # fmt: skip
    overflow, proposals = (0, 0), 0
    if viewer.is_admin:
        overflow = overflow_today(page.session, now=page.now)
        proposals = pending_proposal_count(page.session)
    return render(
        request,
        "inbox.html",
        page=page,
        groups=groups,
        total_groups=found.total_groups,
        page_number=number,
        pages=pages,
        page_link=lambda n: page_link(form.values, n),
        form=form.values,
        error=form.error,
        notice=done_message(request.query_params, tr),
        reasons=reason_labels(tr),
        intents=INTENTS,
        topic=topic_names(tr),
        group_link=lambda key: group_link(key, form.values),
        group_ids=GROUP_IDS,
        overflow_questions=overflow[0],
        overflow_askers=overflow[1],
        proposals=proposals,
    )


@login_required
def group(request: Request, page: Page) -> Response:
    """GET /inbox/group?key=…: one group's first questions and the forms that act on them."""
    params = request.query_params
    if "key" not in params:
        return _group_page(request, page, params.get("ids"))  # ?ids=1,2,3: these questions
    form = read_filter(params, page.viewer.scope, page.viewer.tr)
    key = params["key"][:MAX_KEY]
    ids = group_question_ids(page.session, key=key, filter=form.filter)
    return _group_page(request, page, ",".join(map(str, ids)))


def _group_page(
    request: Request, page: Page, ids: object, *, error: str | None = None, status: int = 200
) -> Response:
    tr = page.viewer.tr
    try:
        query_ids = parse_ids(ids)
        queries = questions_of_group(
            page.session, query_ids=query_ids, pendamping_id=acting_pendamping(page.viewer)
        )
    except PermissionError:
        return error_page(request, 403, tr._("Pertanyaan ini bukan dari KPM Anda."), page=page)
    except ValueError:
        return error_page(request, 404, tr._("Pertanyaan tidak ditemukan."), page=page)
    texts = Counter(query.text for query in queries)
    sample = min(texts.items(), key=lambda item: (-item[1], item[0]))[0]
    askers = {query.user_id for query in queries if query.user_id is not None}
    return render(
        request,
        "inbox_group.html",
        page=page,
        status_code=status,
        queries=queries,
        texts=texts.most_common(),
        sample=sample,
        words=sample_words(sample),
        ids=",".join(map(str, query_ids)),
        recipients=len(askers),
        reasons=reason_labels(tr),
        intents=INTENTS,
        topic=topic_names(tr),
        entity_choices=entity_choices(tr),
        max_marks=MAX_MARKS,
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
    """POST /inbox/label: an admin teaches the bot the group's texts; a pendamping proposes."""
    assert page.form is not None
    form = page.form
    data_file: Path = request.app.state.nlu_data_file

    def run(query_ids: list[int], pendamping_id: int | None) -> str:
        marks = parse_marks(form)
        marked_text = str(form.get("marked_text", "")) if marks else None
        intent = str(form.get("intent", ""))
        if pendamping_id is not None:
            propose_label(
                page.session,
                query_ids=query_ids,
                intent=intent,
                entities=marks,
                marked_text=marked_text,
                actor=actor(page.viewer),
                now=page.now,
                pendamping_id=pendamping_id,
            )
            return urlencode({"done": "proposed", "n": len(query_ids)})
        result = label_group(
            page.session,
            query_ids=query_ids,
            intent=intent,
            entities=marks,
            marked_text=marked_text,
            actor=actor(page.viewer),
            now=page.now,
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


# --- proposals ("Usulan label"), admins only ---------------------------------------------------


@login_required
def proposals(request: Request, page: Page) -> Response:
    """GET /inbox/proposals: the pendamping's labels waiting for an admin."""
    require_admin(page.viewer)
    tr = page.viewer.tr
    return render(
        request,
        "inbox_proposals.html",
        page=page,
        proposals=pending_proposals(page.session),
        topic=topic_names(tr),
        entity=lambda entity, value: (
            f"{entity_name(entity, tr)}: {entity_value_name(entity, value, tr)}"
        ),
        notice=done_message(request.query_params, tr),
        error=None,
    )


@login_required
def decide_proposal(request: Request, page: Page) -> Response:
    """POST /inbox/proposals/decide: accept (teach the bot) or reject (back to the inbox)."""
    require_admin(page.viewer)
    assert page.form is not None
    tr = page.viewer.tr
    decision = page.form.get("decision")
    proposal = str(page.form.get("proposal", ""))
    if decision not in ("accept", "reject") or not proposal.isdigit():
        return error_page(request, 400, tr._("Permintaan tidak dikenali."), page=page)
    try:
        if decision == "accept":
            result = accept_proposal(
                page.session,
                proposal_id=int(proposal),
                actor=actor(page.viewer),
                now=page.now,
                data_file=request.app.state.nlu_data_file,
            )
            done = {"done": "accepted", "n": result.labelled, "examples": result.written}
        else:
            reopened = reject_proposal(
                page.session, proposal_id=int(proposal), actor=actor(page.viewer), now=page.now
            )
            done = {"done": "rejected", "n": reopened}
    except ValueError:
        return error_page(request, 404, tr._("Usulan ini sudah diputuskan."), page=page)
    return RedirectResponse(f"/inbox/proposals?{urlencode(done)}", status_code=303)
