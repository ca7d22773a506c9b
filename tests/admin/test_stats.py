"""The statistics page, its SVG charts and its CSV: counts per WIB day, in the viewer's scope."""

# The module's database is shared by its tests, so each test counts in a period of its own.

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

import admin.stats
from actions import Asker
from admin import charts
from admin.stats import CHARTS
from admin.users import create_user
from bot.assistant import record_question
from bot.delivery.scheduling import STATISTICS_JOB_ID, Scheduling, roll_up_statistics
from nlu.client import ParseResult
from programme import migrate
from programme.db import make_engine, make_session_factory
from programme.models import (
    AnswerRating,
    Broadcast,
    Family,
    Kelompok,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Pendamping,
    QuestionHour,
    QuestionLog,
    Region,
    StatisticsRollUp,
    TelegramUser,
    TimeZone,
    UnansweredReason,
    UserRole,
)
from programme.stats import Period, Statistics, roll_up, statistics
from tests.admin.conftest import PASSWORD, FakeClock, figure, log_in, make_account


def spreadsheet_rows(text: str) -> list[list[str]]:
    """The CSV as an Indonesian spreadsheet reads it: BOM first, columns split on ';'."""
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


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
    assert '<th scope="row">Jadwal pencairan</th><td>1</td>' in html  # a topic name, not a code
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

    rows = spreadsheet_rows(client.get(f"/stats.csv?{period(day, day)}").text)
    assert rows[1][1:4] == ["1", "0", "0,0"]

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
    rows = spreadsheet_rows(response.text)
    assert rows[0] == [
        "Tanggal",
        "Pertanyaan",
        "Tidak terjawab",
        "Persentase fallback",
        "Membantu",
        "Tidak membantu",
        "Pesan terkirim",
        "Pesan diblokir",
        "Pesan gagal",
    ]
    assert rows[1:] == [
        ["01/06/2025", "2", "1", "50,0", "0", "0", "0", "0", "0"],
        ["02/06/2025", "0", "0", "", "0", "0", "0", "0", "0"],
        ["03/06/2025", "1", "0", "0,0", "1", "0", "1", "0", "0"],
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


# --- counted once per page view, in SQL, from the roll-ups where they exist ---------------------


def test_a_page_view_counts_once_for_the_page_its_charts_and_its_csv(
    sessions: sessionmaker[Session], client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2025, 8, 1)
    user, _ = new_kpm(sessions, pendamping_codes(sessions)[0])
    ask(sessions, user, wib(day, 9))
    counted: list[Period] = []

    def counting(session: Session, **query: Any) -> Statistics:
        counted.append(query["period"])
        return statistics(session, **query)

    monkeypatch.setattr(admin.stats, "statistics", counting)
    log_in(client, make_account(sessions))
    query = period(day, day + timedelta(days=6))
    assert client.get(f"/stats?{query}").status_code == 200
    for name in CHARTS:
        assert client.get(f"/stats/chart/{name}.svg?{query}").status_code == 200
    assert client.get(f"/stats.csv?{query}").status_code == 200
    assert len(counted) == 1
    # The next view of the page counts again (its figures are never older than the view).
    client.get(f"/stats?{query}")
    assert len(counted) == 2


def test_the_charts_are_svg_with_their_labels_as_escaped_text() -> None:
    drawn = [
        charts.bar_chart(["01/03", "02/03"], [3, 0], y_label="Pertanyaan"),
        charts.horizontal_bar_chart(["Kab. <Timor> & Rote", "$x$"], [7, 1], x_label="Pengguna"),
        charts.line_chart(["01/03", "02/03", "03/03"], [50.0, None, 0.0], y_label="%", y_max=100),
        charts.paired_bar_chart(["01/03"], [1], [2], names=("Membantu", "Tidak"), y_label="N"),
        charts.bar_chart([], [], y_label="Pertanyaan"),  # an empty period still draws axes
    ]
    for svg in drawn:
        root = ElementTree.fromstring(svg)  # noqa: S314 - our own SVG: is it well-formed XML?
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert int(root.attrib["width"]) > 0 and int(root.attrib["height"]) > 0
    labelled = ElementTree.fromstring(drawn[1])  # noqa: S314 - our own SVG
    texts = [t.text for t in labelled.iter() if t.tag.endswith("text")]
    assert "Kab. <Timor> & Rote" in texts and "$x$" in texts
    assert "&lt;Timor&gt; &amp; Rote" in drawn[1]


def kpm_in(session: Session) -> tuple[int, int]:
    """A new Telegram user linked to a demo family; returns its id and the family's kabupaten."""
    family = session.scalars(select(Family).order_by(Family.id)).first()
    assert family is not None
    telegram_id = secrets.randbelow(10**9) + 10**9
    user = TelegramUser(telegram_user_id=telegram_id, chat_id=telegram_id, family_id=family.id)
    session.add(user)
    session.flush()
    desa = session.get(Region, family.desa_id)
    assert desa is not None and desa.parent is not None and desa.parent.parent_id is not None
    return user.id, desa.parent.parent_id


def outbox_row(
    session: Session, kind: OutboxKind, state: OutboxState, at: datetime, *, sent: bool
) -> OutboxMessage:
    message = OutboxMessage(
        dedupe_key=f"test:{secrets.token_hex(8)}",
        kind=kind,
        chat_id=1,
        text="Pengingat",
        time_zone=TimeZone.WIB,
        state=state,
        not_before=at,
        sent_at=at if sent else None,
        created_at=at,
        updated_at=at,
    )
    session.add(message)
    return message


def month_of_traffic(session: Session) -> Period:
    """Questions, ratings and bulk messages from 30 January to 2 February 2025 (WIB), across
    the end of a month, at the edges of WIB days; one asker not linked to a family."""
    first, last = date(2025, 1, 30), date(2025, 2, 2)
    linked, _ = kpm_in(session)
    other, _ = kpm_in(session)
    unlinked = TelegramUser(telegram_user_id=secrets.randbelow(10**9) + 10**9, chat_id=5)
    session.add(unlinked)
    session.flush()
    moments = [
        wib(first, 0),
        wib(first, 23) + timedelta(minutes=59),
        wib(date(2025, 1, 31), 12),
        wib(date(2025, 2, 1), 0),
        wib(last, 18),
    ]
    intents = ["ask_payment_schedule", "ask_bpnt", None, "nlu_fallback", "greet"]
    for number, (moment, intent) in enumerate(zip(moments, intents, strict=True)):
        for asker in (linked, other, unlinked.id)[: 1 + number % 3]:
            reason = None if number % 2 else UnansweredReason.FALLBACK
            session.add(
                QuestionLog(
                    created_at=moment,
                    user_id=asker,
                    intent=intent,
                    answered=reason is None,
                    reason=reason,
                    channel="telegram",
                )
            )
        session.add(
            AnswerRating(
                user_id=linked,
                message_id=secrets.randbelow(10**9),
                is_helpful=number % 2 == 0,
                created_at=moment,
            )
        )
        outbox_row(session, OutboxKind.REMINDER, OutboxState.SENT, moment, sent=True)
        outbox_row(session, OutboxKind.BROADCAST, OutboxState.BLOCKED, moment, sent=False)
        outbox_row(session, OutboxKind.BROADCAST, OutboxState.FAILED, moment, sent=False)
        outbox_row(session, OutboxKind.STAGE_OPEN, OutboxState.SENT, moment, sent=True)
        outbox_row(session, OutboxKind.REMINDER, OutboxState.QUEUED, moment, sent=False)
    session.flush()
    return Period(first, last)


LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # a watermark before every row: nothing rolled up
ROLLED_UP_TO = datetime(2025, 3, 1, tzinfo=UTC)


def roll_up_until(session: Session, now: datetime) -> None:
    while roll_up(session, now=now):
        pass


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"])
def test_the_rolled_up_figures_are_the_figures_counted_from_the_rows(
    seeded: Session, zone: str
) -> None:
    traffic = month_of_traffic(seeded)
    counted = Period(traffic.first, traffic.last, ZoneInfo(zone))
    from_rows = statistics(seeded, period=counted, everything=True)
    if zone == "Asia/Jakarta":
        assert from_rows.total.questions == 1 + 2 + 3 + 1 + 2
        assert from_rows.total.sent == 5 and from_rows.total.failed == 5

    # Half rolled up (the job ran on 1 February, 00.30 WIB), then all of it.
    roll_up_until(seeded, wib(date(2025, 2, 1), 0) + timedelta(minutes=30))
    assert statistics(seeded, period=counted, everything=True) == from_rows
    roll_up_until(seeded, ROLLED_UP_TO)
    assert (seeded.scalar(select(func.count()).select_from(QuestionHour)) or 0) > 0
    assert statistics(seeded, period=counted, everything=True) == from_rows
    # A day of the period on its own, and a period reaching past the roll-up, agree too.
    for part in (
        Period(date(2025, 1, 31), date(2025, 1, 31), ZoneInfo(zone)),
        Period(counted.last, date(2025, 3, 5), ZoneInfo(zone)),
    ):
        rolled = statistics(seeded, period=part, everything=True)
        seeded.execute(update(StatisticsRollUp).values(rolled_up_until=LONG_AGO))
        assert statistics(seeded, period=part, everything=True) == rolled
        seeded.execute(update(StatisticsRollUp).values(rolled_up_until=ROLLED_UP_TO))


def test_days_are_the_viewer_s_own_wib_wita_or_wit_days(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    day = date(2025, 9, 1)
    user, _ = new_kpm(sessions, pendamping_codes(sessions)[0])
    ask(sessions, user, wib(day, 23))  # 23.00 WIB is 00.00 WITA and 01.00 WIT the next day
    query = period(day, day + timedelta(days=1))
    questions_per_day: dict[str, list[str]] = {}
    for zone in (TimeZone.WIB, TimeZone.WITA, TimeZone.WIT):
        username = f"user-{secrets.token_hex(4)}"
        with sessions.begin() as session:
            create_user(
                session,
                username=username,
                password=PASSWORD,
                role=UserRole.ADMIN,
                time_zone=zone,
                actor="test",
            )
        client.cookies.clear()
        log_in(client, username)
        assert f"Hari menurut {zone.abbreviation}," in client.get(f"/stats?{query}").text
        rows = spreadsheet_rows(client.get(f"/stats.csv?{query}").text)
        questions_per_day[zone.abbreviation] = [row[1] for row in rows[1:]]
    assert questions_per_day == {"WIB": ["1", "0"], "WITA": ["0", "1"], "WIT": ["0", "1"]}


def test_failed_messages_sent_again_after_the_roll_up_count_as_sent(seeded: Session) -> None:
    counted = month_of_traffic(seeded)
    roll_up_until(seeded, wib(counted.last, 12))
    resent_at = wib(counted.last, 20)
    failed = seeded.scalars(select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED))
    for message in failed:  # "resend to failed", and this time they get through
        message.state, message.sent_at, message.updated_at = OutboxState.SENT, resent_at, resent_at
    seeded.flush()
    after = statistics(seeded, period=counted, everything=True)
    assert (after.total.failed, after.total.sent) == (0, 5 + 5)
    assert after.days[-1].sent == 1 + 5
    seeded.execute(update(StatisticsRollUp).values(rolled_up_until=LONG_AGO))
    assert statistics(seeded, period=counted, everything=True) == after


def test_hours_that_just_ended_are_left_to_the_next_roll_up(seeded: Session) -> None:
    user, _ = kpm_in(seeded)
    asked = datetime(2025, 4, 10, 9, 55, tzinfo=UTC)
    seeded.add(QuestionLog(created_at=asked, user_id=user, intent="bot_challenge", answered=True))
    seeded.flush()
    mine = select(QuestionHour.hour, QuestionHour.questions).where(
        QuestionHour.intent == "bot_challenge"
    )
    roll_up_until(seeded, datetime(2025, 4, 10, 10, 10, tzinfo=UTC))  # within ROLL_UP_LAG
    assert seeded.execute(mine).all() == []
    roll_up_until(seeded, datetime(2025, 4, 10, 10, 20, tzinfo=UTC))
    assert [tuple(row) for row in seeded.execute(mine)] == [(asked.replace(minute=0), 1)]


def test_active_users_count_each_asker_once_under_their_kabupaten(seeded: Session) -> None:
    counted = month_of_traffic(seeded)
    roll_up_until(seeded, wib(date(2025, 2, 1), 12))
    rows = statistics(seeded, period=counted, everything=True).regions
    assert sorted(count for _, count in rows) == [1, 2]  # the two linked, and the one not
    assert dict(rows).get(None) == 1


def test_statistics_ask_postgresql_for_custom_plans(seeded: Session) -> None:
    statistics(seeded, period=Period(date(2025, 1, 1), date(2025, 1, 31)), everything=True)
    if seeded.get_bind().dialect.name == "postgresql":  # SQLite has no plan cache to set
        assert seeded.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"


async def test_the_leader_rolls_the_statistics_up_every_ten_minutes(
    empty_database_url: str,
) -> None:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    scheduling = Scheduling(engine, make_session_factory(engine))
    scheduling.start()
    try:
        job = scheduling.scheduler.get_job(STATISTICS_JOB_ID)
        assert job is not None and job.func is roll_up_statistics
        assert job.trigger.interval == timedelta(minutes=10)
    finally:
        scheduling.shutdown()
        engine.dispose()
