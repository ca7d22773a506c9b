"""The statistics page, its SVG charts and its CSV: counts per WIB day, in the viewer's scope."""

# The module's database is shared by its tests, so each test counts in a period of its own.

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from actions import Asker
from admin.stats import CHARTS, CSV_HEADER
from bot.assistant import record_question
from nlu.client import ParseResult
from programme.models import (
    AnswerRating,
    Broadcast,
    Family,
    Kelompok,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Pendamping,
    Region,
    TelegramUser,
    TimeZone,
    UnansweredReason,
    UserRole,
)
from tests.admin.conftest import FakeClock, figure, log_in, make_account


def pendamping_codes(sessions: sessionmaker[Session]) -> tuple[str, str]:
    """Two demo pendamping who each have a kelompok with families."""
    with sessions.begin() as session:
        codes = session.scalars(
            select(Pendamping.code).join(Kelompok).join(Family).distinct().order_by(Pendamping.code)
        ).all()
    assert len(codes) >= 2
    return codes[0], codes[1]


def new_kpm(sessions: sessionmaker[Session], pendamping_code: str) -> tuple[int, str]:
    """A Telegram user linked to a family of this pendamping; returns its id and kabupaten."""
    with sessions.begin() as session:
        family = session.scalars(
            select(Family).join(Kelompok).join(Pendamping).where(Pendamping.code == pendamping_code)
        ).first()
        assert family is not None
        telegram_id = secrets.randbelow(10**9) + 10**9
        user = TelegramUser(telegram_user_id=telegram_id, chat_id=telegram_id, family_id=family.id)
        session.add(user)
        session.flush()
        desa = session.get(Region, family.desa_id)
        assert desa is not None and desa.parent is not None and desa.parent.parent is not None
        return user.id, desa.parent.parent.name


def ask(
    sessions: sessionmaker[Session],
    user_id: int,
    at: datetime,
    intent: str = "ask_payment_schedule",
    reason: UnansweredReason | None = None,
) -> None:
    """Log one question the way the assistant does."""
    parse = ParseResult(text="", intent=intent, confidence=0.9, ranking=(), entities=())
    with sessions.begin() as session:
        record_question(
            session,
            parse=parse,
            asker=Asker(user_id=user_id),
            reason=reason,
            channel="telegram",
            now=at,
        )


def rate(sessions: sessionmaker[Session], user_id: int, at: datetime, *, helpful: bool) -> None:
    with sessions.begin() as session:
        session.add(
            AnswerRating(
                user_id=user_id,
                message_id=secrets.randbelow(10**9),
                is_helpful=helpful,
                created_at=at,
            )
        )


def broadcast_message(
    sessions: sessionmaker[Session], pendamping_code: str, at: datetime, state: OutboxState
) -> None:
    """One message of a broadcast by this pendamping, in its final state at `at`."""
    with sessions.begin() as session:
        pendamping = session.scalars(
            select(Pendamping).where(Pendamping.code == pendamping_code)
        ).one()
        broadcast = Broadcast(pendamping_id=pendamping.id, text="Pengumuman", send_at=at)
        session.add(broadcast)
        session.flush()
        session.add(
            OutboxMessage(
                dedupe_key=f"test:{secrets.token_hex(8)}",
                kind=OutboxKind.BROADCAST,
                chat_id=1,
                text="Pengumuman",
                broadcast_id=broadcast.id,
                time_zone=TimeZone.WIB,
                state=state,
                not_before=at,
                sent_at=at if state is OutboxState.SENT else None,
                created_at=at,
                updated_at=at,
            )
        )


def wib(day: date, hour: int) -> datetime:
    """`hour` o'clock WIB on `day`, in UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)


def period(first: date, last: date) -> str:
    return f"from={first.isoformat()}&to={last.isoformat()}"


def test_statistics_need_a_login(client: TestClient) -> None:
    for path in ("/stats", "/stats.csv", "/stats/chart/questions.svg"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_the_page_counts_the_questions_ratings_and_messages_of_the_period(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    first, last = date(2025, 3, 1), date(2025, 3, 3)
    own, _ = pendamping_codes(sessions)
    user, kabupaten = new_kpm(sessions, own)
    ask(sessions, user, wib(first, 9))
    ask(sessions, user, wib(first, 10), intent="ask_p2k2_schedule")
    ask(sessions, user, wib(last, 23), "nlu_fallback", UnansweredReason.FALLBACK)
    ask(sessions, user, wib(last + timedelta(days=1), 0))  # the next WIB day: not counted
    rate(sessions, user, wib(first, 11), helpful=True)
    rate(sessions, user, wib(last, 11), helpful=False)
    broadcast_message(sessions, own, wib(first, 12), OutboxState.SENT)
    broadcast_message(sessions, own, wib(first, 12), OutboxState.BLOCKED)

    log_in(client, make_account(sessions))
    page = client.get(f"/stats?{period(first, last)}")
    assert page.status_code == 200
    html = page.text
    assert figure(html, "stats-questions") == 3
    assert figure(html, "stats-unanswered") == 1
    assert (figure(html, "stats-helpful"), figure(html, "stats-unhelpful")) == (1, 1)
    assert "33,3%" in html  # 1 of 3 unanswered, written the Indonesian way
    assert (
        '<tr id="outbox-broadcast"><th scope="row">Siaran</th><td>1</td><td>1</td><td>0</td>'
        in (html)
    )
    assert '<th scope="row">ask_payment_schedule</th><td>1</td>' in html
    assert f'<th scope="row">{kabupaten}</th><td>1</td>' in html
    assert 'src="/stats/chart/questions.svg?from=2025-03-01&amp;to=2025-03-03"' in html
    assert 'alt="Diagram batang' in html


def test_a_pendamping_sees_only_the_users_and_messages_of_their_own_kelompok(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    day = date(2025, 4, 1)
    own, other = pendamping_codes(sessions)
    own_user, _ = new_kpm(sessions, own)
    other_user, _ = new_kpm(sessions, other)
    ask(sessions, own_user, wib(day, 9))
    for _ in range(3):
        ask(sessions, other_user, wib(day, 9), "nlu_fallback", UnansweredReason.FALLBACK)
    rate(sessions, other_user, wib(day, 10), helpful=False)
    broadcast_message(sessions, other, wib(day, 12), OutboxState.FAILED)

    log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=own))
    html = client.get(f"/stats?{period(day, day)}").text
    assert (figure(html, "stats-questions"), figure(html, "stats-unanswered")) == (1, 0)
    assert figure(html, "stats-unhelpful") == 0
    assert "nlu_fallback" not in html
    assert "<td>0</td><td>0</td><td>0</td>" in html  # no broadcasts of theirs

    rows = list(csv.reader(io.StringIO(client.get(f"/stats.csv?{period(day, day)}").text)))
    assert rows[1][1:4] == ["1", "0", "0.0"]

    client.cookies.clear()
    log_in(client, make_account(sessions))
    html = client.get(f"/stats?{period(day, day)}").text
    assert (figure(html, "stats-questions"), figure(html, "stats-unanswered")) == (4, 3)


def test_every_chart_is_an_svg_image(sessions: sessionmaker[Session], client: TestClient) -> None:
    day = date(2025, 5, 1)
    user, _ = new_kpm(sessions, pendamping_codes(sessions)[0])
    ask(sessions, user, wib(day, 9))
    log_in(client, make_account(sessions))
    for name in CHARTS:
        response = client.get(f"/stats/chart/{name}.svg?{period(day, day + timedelta(days=6))}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("image/svg+xml"), name
        assert "<svg" in response.text, name
        assert "<script" not in response.text and "<style" not in response.text, name
    assert client.get("/stats/chart/nothing.svg").status_code == 404


def test_the_csv_has_a_header_and_one_row_per_wib_day(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    first, last = date(2025, 6, 1), date(2025, 6, 3)
    own, _ = pendamping_codes(sessions)
    user, _ = new_kpm(sessions, own)
    ask(sessions, user, wib(first, 6))  # 23.00 UTC the day before: still 1 June in WIB
    ask(sessions, user, wib(first, 8), "nlu_fallback", UnansweredReason.FALLBACK)
    ask(sessions, user, wib(last, 8))
    rate(sessions, user, wib(last, 9), helpful=True)
    broadcast_message(sessions, own, wib(last, 9), OutboxState.SENT)

    log_in(client, make_account(sessions))
    response = client.get(f"/stats.csv?{period(first, last)}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="pkh-statistik-2025-06-01-2025-06-03.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:] == [
        ["2025-06-01", "2", "1", "50.0", "0", "0", "0", "0", "0"],
        ["2025-06-02", "0", "0", "", "0", "0", "0", "0", "0"],
        ["2025-06-03", "1", "0", "0.0", "1", "0", "1", "0", "0"],
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2025-13-01&to=2025-12-31", "Tanggal tidak valid"),
        ("from=kemarin", "Tanggal tidak valid"),
        ("from=2025-02-01&to=2025-01-01", "Tanggal awal harus sebelum"),
        ("from=2020-01-01&to=2025-01-01", "Periode paling lama 366 hari"),
    ],
)
def test_bad_dates_get_a_clear_message(
    sessions: sessionmaker[Session], client: TestClient, query: str, message: str
) -> None:
    log_in(client, make_account(sessions))
    page = client.get(f"/stats?{query}")
    assert page.status_code == 400
    assert message in page.text and 'id="stats-error"' in page.text
    for path in ("/stats.csv", "/stats/chart/questions.svg"):
        response = client.get(f"{path}?{query}")
        assert (response.status_code, message in response.text) == (400, True), path


def test_by_default_the_page_shows_the_last_30_wib_days(
    sessions: sessionmaker[Session], client: TestClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 7, 31, 18, 0, tzinfo=UTC)  # 1 August, 01.00 WIB
    log_in(client, make_account(sessions))
    html = client.get("/stats").text
    assert 'name="from" value="2025-07-03"' in html
    assert 'name="to" value="2025-08-01"' in html
    assert html.count('<tr><th scope="row">') >= 30
