"""The inbox pages: groups, filters, the pendamping's scope, and labelling, replying, resolving."""

from __future__ import annotations

import html as markup
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from actions import Asker
from admin.app import build_admin_app
from bot.assistant import Assistant
from core.settings import get_settings
from nlu.client import NLUClient
from nlu.schema import Intent
from nlu.topics import topic_name
from nlu.trainingdata import load_examples
from programme.inbox import add_question
from programme.models import (
    AuditLog,
    Family,
    Kelompok,
    LabelProposal,
    OutboxKind,
    OutboxMessage,
    Pendamping,
    ProposalState,
    TelegramUser,
    UnansweredQuery,
    UnansweredReason,
    UserRole,
)
from tests.admin.conftest import FakeClock, log_in, make_account
from tests.admin.test_home import two_pendamping


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    return tmp_path / "nlu" / "reviewed.yml"


@pytest.fixture
def app(admin_env: str, clock: FakeClock, data_file: Path) -> Starlette:
    return build_admin_app(get_settings(), clock=clock, nlu_data_file=data_file)


@pytest.fixture
def codes(sessions: sessionmaker[Session]) -> tuple[str, str]:
    """The codes of two pendamping with families: the test's own one and another one."""
    with sessions.begin() as session:
        own, other = two_pendamping(session)
        return own.code, other.code


def word() -> str:
    """A made-up word, so each test finds its own questions among the module's."""
    return "zq" + secrets.token_hex(3).translate(str.maketrans("0123456789", "ghijklmnop"))


def asker(sessions: sessionmaker[Session], pendamping_code: str) -> int:
    """A KPM of one of this pendamping's kelompok, linked to Telegram; returns the user's id."""
    with sessions.begin() as session:
        family = session.scalars(
            select(Family).join(Kelompok).join(Pendamping).where(Pendamping.code == pendamping_code)
        ).first()
        assert family is not None
        telegram_id = secrets.randbelow(10**9) + 10**9
        user = TelegramUser(telegram_user_id=telegram_id, chat_id=telegram_id, family_id=family.id)
        session.add(user)
        session.flush()
        return user.id


def ask(
    sessions: sessionmaker[Session],
    text: str,
    user_id: int | None,
    *,
    reason: UnansweredReason = UnansweredReason.LOW_CONFIDENCE,
    guess: str = "ask_payment_schedule",
    at: datetime | None = None,
) -> int:
    """A question the bot could not answer, put in the inbox by the bot's intake; its id."""
    with sessions.begin() as session:
        query = add_question(
            session,
            text=text,
            reason=reason,
            top_guesses=[
                {"intent": guess, "confidence": 0.41},
                {"intent": "greet", "confidence": 0.2},
            ],
            confidence=0.41,
            user_id=user_id,
            now=at or datetime.now(UTC),
            daily_cap=10_000,
        )
        assert query is not None
        session.flush()
        return query.id


def rows_with(html: str, text: str) -> list[str]:
    return [row for row in html.split("<tr>") if text in row]


def group_url(html: str, text: str) -> str:
    [row] = rows_with(html, text)
    found = re.search(r'href="(/inbox/group\?key=[^"]+)"', row)
    assert found, row
    return markup.unescape(found.group(1))


def ids_on(page: str) -> str:
    """The question ids the group page's forms act on."""
    found = re.search(r'name="ids" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def query_states(sessions: sessionmaker[Session], ids: list[int]) -> list[tuple[bool, str | None]]:
    with sessions.begin() as session:
        queries = session.scalars(
            select(UnansweredQuery).where(UnansweredQuery.id.in_(ids)).order_by(UnansweredQuery.id)
        )
        return [(query.resolved_at is not None, query.labelled_intent) for query in queries]


# --- seeing the inbox --------------------------------------------------------------------------


def test_the_inbox_sends_a_visitor_without_a_login_to_the_login_page(client: TestClient) -> None:
    response = client.get("/inbox?reason=fallback")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/inbox%3Freason%3Dfallback"


def test_thirty_near_identical_questions_are_one_row_asked_thirty_times(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    topic = word()
    user = asker(sessions, codes[0])
    variants = [
        f"kapan bantuan {topic} cair",
        f"Kapan bantuan {topic} cair??",
        f"kapann bantuan {topic} cair",
    ]
    for number in range(30):
        ask(sessions, variants[number % 3], user)
    log_in(client, make_account(sessions))

    page = client.get("/inbox").text

    [row] = rows_with(page, topic)
    assert "×30" in row
    assert "Jadwal pencairan 41%" in row
    assert "Bot kurang yakin (30)" in row


def test_the_filters_choose_the_questions_by_reason_guess_date_region_and_state(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    first, second = word(), word()
    own, other = asker(sessions, codes[0]), asker(sessions, codes[1])
    ask(
        sessions,
        f"apa itu {first}",
        own,
        reason=UnansweredReason.FALLBACK,
        guess="ask_bpnt",
        at=datetime(2025, 1, 10, 3, tzinfo=UTC),
    )
    resolved_id = ask(
        sessions,
        f"siapa itu {second}",
        other,
        reason=UnansweredReason.OUT_OF_SCOPE,
        guess="ask_graduation",
        at=datetime(2025, 2, 10, 3, tzinfo=UTC),
    )
    with sessions.begin() as session:
        own_desa = (
            session.scalars(select(Family).join(TelegramUser).where(TelegramUser.id == own))
            .one()
            .desa.code
        )
    log_in(client, make_account(sessions))

    def shown(query: str) -> tuple[bool, bool]:
        page = client.get(f"/inbox?{query}")
        assert page.status_code == 200
        return first in page.text, second in page.text

    assert shown("") == (True, True)
    assert shown("reason=fallback") == (True, False)
    assert shown("intent=ask_graduation") == (False, True)
    assert shown("date_from=2025-02-01&date_to=2025-02-10") == (False, True)
    assert shown("date_to=2025-01-10") == (True, False)
    assert shown(f"region={own_desa}") == (True, False)
    with sessions.begin() as session:
        query = session.get(UnansweredQuery, resolved_id)
        assert query is not None
        query.resolved_at = datetime(2025, 2, 11, tzinfo=UTC)
    assert shown("") == (True, False)
    assert shown("resolved=1") == (True, True)

    bad_date = client.get("/inbox?date_from=kemarin")
    assert bad_date.status_code == 200
    assert "Tanggal harus berbentuk TTTT-BB-HH." in bad_date.text


def test_a_pendamping_neither_sees_nor_acts_on_another_pendampings_questions(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    mine, theirs = word(), word()
    ask(sessions, f"pertanyaan {mine}", asker(sessions, codes[0]))
    other_id = ask(sessions, f"pertanyaan {theirs}", asker(sessions, codes[1]))
    token = log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=codes[0]))

    page = client.get("/inbox").text
    assert mine in page and theirs not in page
    assert client.get(group_url(page, mine)).status_code == 200

    opened = client.get(f"/inbox/group?ids={other_id}")
    assert opened.status_code == 403
    assert theirs not in opened.text
    for action in ("resolve", "reply", "label"):
        response = client.post(
            f"/inbox/{action}",
            data={"csrf_token": token, "ids": str(other_id), "text": "halo", "intent": "greet"},
        )
        assert response.status_code == 403, action
        assert "Pertanyaan ini bukan dari KPM Anda." in response.text
    assert query_states(sessions, [other_id]) == [(False, None)]


# --- acting on a group -------------------------------------------------------------------------


def test_labelling_writes_the_examples_to_the_data_file_and_resolves_the_group(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str], data_file: Path
) -> None:
    topic = word()
    user = asker(sessions, codes[0])
    ids = [
        ask(sessions, f"kapan bpnt {topic} cair", user),
        ask(sessions, f"kapan bpnt {topic} cair ya", user),
    ]
    username = make_account(sessions)
    token = log_in(client, username)
    url = group_url(client.get("/inbox").text, topic)
    form = client.get(url).text
    # The sample's words are there to click: "bpnt" is characters 6-10 of it.
    assert f'name="marked_text" value="kapan bpnt {topic} cair"' in form
    assert '<span class="word" data-start="6" data-end="10">bpnt</span>' in form

    response = client.post(
        "/inbox/label",
        data={
            "csrf_token": token,
            "ids": ids_on(client.get(url).text),
            "intent": "ask_bpnt",
            "marked_text": f"kapan bpnt {topic} cair",
            "mark": "6:10:programme=bpnt",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/inbox?done=labelled&n=2&examples=2"
    written = data_file.read_text(encoding="utf-8")
    assert "- intent: ask_bpnt" in written
    assert f'kapan [bpnt]{{"entity": "programme", "value": "bpnt"}} {topic} cair' in written
    assert query_states(sessions, ids) == [(True, "ask_bpnt"), (True, "ask_bpnt")]
    with sessions.begin() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "inbox.label")).all()[-1]
        assert audit.actor == f"admin:{username}"
    shown = client.get(response.headers["location"]).text
    assert "2 pertanyaan diberi label; 2 contoh baru untuk bot." in shown
    assert topic not in shown


def test_a_bad_label_is_shown_on_the_group_page_and_changes_nothing(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str], data_file: Path
) -> None:
    topic = word()
    query_id = ask(sessions, f"kapan {topic} cair", asker(sessions, codes[0]))
    token = log_in(client, make_account(sessions))

    for intent, mark in (
        ("not_an_intent", None),
        ("ask_bpnt", "6:14:programme=beras"),  # not a value of "programme"
        ("ask_bpnt", "7:9:programme=pkh"),  # cuts a word
        ("ask_bpnt", "zz"),
    ):
        response = client.post(
            "/inbox/label",
            data={
                "csrf_token": token,
                "ids": str(query_id),
                "intent": intent,
                "marked_text": f"kapan {topic} cair",
                **({"mark": mark} if mark else {}),
            },
        )
        assert response.status_code == 400
        assert "Tidak bisa disimpan:" in response.text
        assert f"kapan {topic} cair" in response.text  # still the group's page
    assert not data_file.exists()
    assert query_states(sessions, [query_id]) == [(False, None)]


def test_a_reply_goes_to_each_asker_through_the_outbox_and_resolves_the_group(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    topic = word()
    first, second = asker(sessions, codes[0]), asker(sessions, codes[0])
    ids = [ask(sessions, f"syarat {topic} apa", user) for user in (first, second, first)]
    token = log_in(client, make_account(sessions))
    url = group_url(client.get("/inbox").text, topic)
    assert "Akan dikirim ke 2 penanya." in client.get(url).text

    empty = client.post(
        "/inbox/reply",
        data={"csrf_token": token, "ids": ids_on(client.get(url).text), "text": "  "},
    )
    assert empty.status_code == 400
    assert "Tidak bisa disimpan:" in empty.text

    response = client.post(
        "/inbox/reply",
        data={
            "csrf_token": token,
            "ids": ids_on(client.get(url).text),
            "text": "Syaratnya KTP dan KK, Bu.",
        },
    )

    assert response.headers["location"] == "/inbox?done=replied&n=2"
    with sessions.begin() as session:
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id.in_((first, second)))
        ).all()
        assert sorted((m.user_id, m.kind) for m in sent) == [
            (first, OutboxKind.ADMIN_REPLY),
            (second, OutboxKind.ADMIN_REPLY),
        ]
        assert all(m.text.endswith("Syaratnya KTP dan KK, Bu.") for m in sent)
    assert [resolved for resolved, _ in query_states(sessions, ids)] == [True, True, True]
    assert "Balasan masuk antrean untuk 2 penanya." in client.get(response.headers["location"]).text


def test_resolving_a_group_takes_it_out_of_the_inbox(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    topic = word()
    user = asker(sessions, codes[0])
    ids = [ask(sessions, f"halo {topic} bagus", user) for _ in range(3)]
    username = make_account(sessions)
    token = log_in(client, username)
    url = group_url(client.get("/inbox").text, topic)

    response = client.post(
        "/inbox/resolve", data={"csrf_token": token, "ids": ids_on(client.get(url).text)}
    )

    assert response.headers["location"] == "/inbox?done=resolved&n=3"
    assert query_states(sessions, ids) == [(True, None)] * 3
    page = client.get(response.headers["location"]).text
    assert "3 pertanyaan ditandai selesai." in page
    assert topic not in page
    with sessions.begin() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "inbox.resolve")).all()[
            -1
        ]
        assert (audit.actor, audit.details["query_ids"]) == (f"admin:{username}", ids)


def test_a_form_without_the_csrf_token_is_refused(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    query_id = ask(sessions, f"tolong {word()}", asker(sessions, codes[0]))
    log_in(client, make_account(sessions))

    response = client.post("/inbox/resolve", data={"ids": str(query_id)})

    assert response.status_code == 403
    assert query_states(sessions, [query_id]) == [(False, None)]


def test_a_group_link_with_bad_ids_is_not_found(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    log_in(client, make_account(sessions))
    for ids in ("", "abc", "999999999", ",".join(map(str, range(1, 202)))):
        assert client.get(f"/inbox/group?ids={ids}").status_code == 404, ids


def test_html_in_a_question_is_shown_as_text(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    topic = word()
    ask(sessions, f'<script>alert("{topic}")</script> kapan cair', asker(sessions, codes[0]))
    log_in(client, make_account(sessions))

    page = client.get("/inbox").text
    group = client.get(group_url(page, topic)).text

    for html in (page, group):
        assert "<script>" not in html
        assert f"&lt;script&gt;alert(&#34;{topic}&#34;)&lt;/script&gt; kapan cair" in html


# --- what admins read: topics, not codes; words, not markup ------------------------------------


def visible_text(html: str) -> str:
    """The page as a reader sees it: no tags, no attributes, no script."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.DOTALL)
    return markup.unescape(re.sub(r"<[^>]+>", " ", html))


def test_every_intent_has_an_indonesian_topic_name() -> None:
    names = {intent: topic_name(intent) for intent in Intent}
    assert all(name and name != intent.value and "_" not in name for intent, name in names.items())
    assert len(set(names.values())) == len(names)
    assert topic_name("ask_payment_schedule") == "Jadwal pencairan"
    assert topic_name("nlu_fallback") == "Tidak dipahami bot"


def test_the_inbox_and_a_group_speak_in_topic_names_not_intent_codes(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    topic = word()
    user = asker(sessions, codes[0])
    ask(sessions, f"apa kabar {topic}", user, guess="nlu_fallback")
    ask(sessions, f"kapan {topic} cair", user)
    log_in(client, make_account(sessions))

    page = client.get("/inbox").text
    group = client.get(group_url(page, f"kapan {topic} cair")).text

    for html in (page, group):
        shown = visible_text(html)
        assert not re.search(r"\b(ask_\w+|nlu_fallback|report_card_problem|out_of_scope)\b", shown)
        assert "[" not in shown or "]{" not in shown  # no [kata]{entitas=nilai} help either
    assert "Tidak dipahami bot 41%" in visible_text(page)
    assert "Jadwal pencairan" in visible_text(group)
    assert "Bank: BRI" in visible_text(group)  # entities by name, to pick after clicking words
    assert '<script src="/static/inbox-label.js" defer></script>' in group
    assert client.get("/static/inbox-label.js").status_code == 200


def test_the_inbox_pages_beyond_the_first_hundred_groups(
    sessions: sessionmaker[Session], client: TestClient, codes: tuple[str, str]
) -> None:
    topic = word()
    user = asker(sessions, codes[0])
    day = datetime(2024, 3, 5, 3, tzinfo=UTC)
    for number in range(130):
        ask(sessions, f"{topic} nomor {number}", user, at=day + timedelta(seconds=number))
    log_in(client, make_account(sessions))

    first = client.get("/inbox?date_from=2024-03-05&date_to=2024-03-05").text
    assert len(rows_with(first, topic)) == 100
    assert "Halaman 1 dari 2" in visible_text(first)
    found = re.search(r'href="(/inbox\?[^"]*page=2)" rel="next"', first)
    assert found, first
    second = client.get(markup.unescape(found.group(1))).text

    assert len(rows_with(second, topic)) == 30
    assert "Halaman 2 dari 2" in visible_text(second)
    assert f"{topic} nomor 0<" in second and f"{topic} nomor 129<" in first  # latest first
    assert client.get("/inbox?page=999&date_from=2024-03-05").status_code == 200


# --- a pendamping's label is a proposal ("Usulan label") ---------------------------------------


def test_a_pendamping_label_is_a_proposal_until_an_admin_accepts_it(
    sessions: sessionmaker[Session],
    client: TestClient,
    app: Starlette,
    codes: tuple[str, str],
    data_file: Path,
) -> None:
    topic = word()
    user = asker(sessions, codes[0])
    text = f"kartu kks {topic} tertelan di atm bri"
    ids = [ask(sessions, text, user) for _ in range(2)]
    bri = text.rindex("bri")
    token = log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=codes[0]))
    url = group_url(client.get("/inbox").text, topic)
    assert "Usulkan label" in client.get(url).text

    proposed = client.post(
        "/inbox/label",
        data={
            "csrf_token": token,
            "ids": ids_on(client.get(url).text),
            "intent": "report_card_problem",
            "marked_text": text,
            "mark": f"{bri}:{bri + 3}:bank=bri",
        },
    )

    assert proposed.headers["location"] == "/inbox?done=proposed&n=2"
    assert (
        "Usulan label untuk 2 pertanyaan dikirim ke admin."
        in client.get(proposed.headers["location"]).text
    )
    assert not data_file.exists()  # nothing taught yet
    assert query_states(sessions, ids) == [(True, None), (True, None)]
    assert client.get("/inbox/proposals").status_code == 403  # admins decide

    with TestClient(app, client=("10.9.9.9", 50000), follow_redirects=False) as admin:
        admin_token = log_in(admin, make_account(sessions))
        inbox = admin.get("/inbox").text
        assert "usulan label dari pendamping menunggu" in inbox
        listing = admin.get("/inbox/proposals").text
        [row] = [row for row in listing.split("<tr") if topic in row]
        assert "Masalah kartu KKS" in visible_text(row) and "«bri» → Bank: BRI" in row
        proposal = re.search(r'name="proposal" value="(\d+)"', row)
        assert proposal
        accepted = admin.post(
            "/inbox/proposals/decide",
            data={"csrf_token": admin_token, "proposal": proposal.group(1), "decision": "accept"},
        )
        assert accepted.headers["location"] == "/inbox/proposals?done=accepted&n=2&examples=1"
        again = admin.post(
            "/inbox/proposals/decide",
            data={"csrf_token": admin_token, "proposal": proposal.group(1), "decision": "reject"},
        )
        assert again.status_code == 404

    (example,) = [e for e in load_examples(data_file) if topic in e.text]
    assert (example.intent, example.entities) == (
        "report_card_problem",
        frozenset({("bank", "bri")}),
    )
    assert query_states(sessions, ids) == [(True, "report_card_problem")] * 2
    with sessions.begin() as session:
        decided = session.get(LabelProposal, int(proposal.group(1)))
        assert decided is not None and decided.state is ProposalState.ACCEPTED
        audits = session.scalars(select(AuditLog).where(AuditLog.action.like("inbox.%")))
        mine = [a.action for a in audits if a.details.get("proposal") == decided.id]
        assert mine == ["inbox.propose", "inbox.proposal.accept"]


def test_an_admin_rejecting_a_proposal_puts_the_questions_back_in_the_inbox(
    sessions: sessionmaker[Session],
    client: TestClient,
    app: Starlette,
    codes: tuple[str, str],
    data_file: Path,
) -> None:
    topic = word()
    query_id = ask(sessions, f"salah label {topic}", asker(sessions, codes[0]))
    token = log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=codes[0]))
    client.post(
        "/inbox/label",
        data={"csrf_token": token, "ids": str(query_id), "intent": "greet"},
    )
    with sessions.begin() as session:
        proposal_id = session.scalars(
            select(UnansweredQuery.label_proposal_id).where(UnansweredQuery.id == query_id)
        ).one()

    with TestClient(app, client=("10.9.9.10", 50000), follow_redirects=False) as admin:
        admin_token = log_in(admin, make_account(sessions))
        rejected = admin.post(
            "/inbox/proposals/decide",
            data={"csrf_token": admin_token, "proposal": str(proposal_id), "decision": "reject"},
        )
        assert rejected.headers["location"] == "/inbox/proposals?done=rejected&n=1"
        assert topic in admin.get("/inbox").text

    assert query_states(sessions, [query_id]) == [(False, None)]
    assert not data_file.exists()


# --- intake: one asker cannot fill the inbox ---------------------------------------------------


def nlu_unsure() -> NLUClient:
    """A stand-in Rasa server that is never sure (every message goes to the inbox)."""

    def parse(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        return httpx.Response(
            200,
            json={
                "text": text,
                "intent": {"name": "nlu_fallback", "confidence": 0.3},
                "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}],
                "entities": [],
            },
        )

    return NLUClient("http://nlu.test", transport=httpx.MockTransport(parse))


async def test_a_kpm_flooding_the_bot_fills_the_inbox_only_up_to_the_daily_cap(
    sessions: sessionmaker[Session],
    client: TestClient,
    codes: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INBOX_DAILY_CAP", "5")
    get_settings.cache_clear()
    topic = word()
    user_id = asker(sessions, codes[0])
    with sessions.begin() as session:
        user = session.get(TelegramUser, user_id)
        assert user is not None
        kpm = Asker.from_user(user)
    now = datetime.now(UTC)
    async with nlu_unsure() as nlu:
        assistant = Assistant(nlu=nlu, sessions=sessions, clock=lambda: now)
        for number in range(12):
            await assistant.reply_to_text(f"{topic} spam nomor {number} {'x' * number}", kpm)
    log_in(client, make_account(sessions))

    page = client.get("/inbox").text

    assert len(rows_with(page, topic)) == 5
    assert "Hari ini 7 pertanyaan dari 1 penanya tidak disimpan" in visible_text(page)
