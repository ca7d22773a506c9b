"""The home page and the layout: the waiting count, the pendamping's scope, roles, escaping."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from admin.auth import require_admin
from admin.web import Page, login_required
from programme.models import (
    Family,
    Kelompok,
    Pendamping,
    TelegramUser,
    UnansweredQuery,
    UnansweredReason,
    UserRole,
    utcnow,
)
from tests.admin.conftest import figure, log_in, make_account


def two_pendamping(session: Session) -> tuple[Pendamping, Pendamping]:
    """Two demo pendamping who each have a kelompok with families."""
    rows = session.scalars(
        select(Pendamping).join(Kelompok).join(Family).distinct().order_by(Pendamping.code)
    ).all()
    assert len(rows) >= 2
    return rows[0], rows[1]


def ask_unanswered(sessions: sessionmaker[Session], pendamping_code: str, text: str) -> None:
    """A KPM of one of this pendamping's kelompok asks something the bot could not answer."""
    with sessions.begin() as session:
        family = session.scalars(
            select(Family).join(Kelompok).join(Pendamping).where(Pendamping.code == pendamping_code)
        ).first()
        assert family is not None
        telegram_id = secrets.randbelow(10**9) + 10**9
        user = TelegramUser(telegram_user_id=telegram_id, chat_id=telegram_id, family_id=family.id)
        session.add(user)
        session.flush()
        session.add(UnansweredQuery(text=text, reason=UnansweredReason.FALLBACK, user_id=user.id))


def waiting_in_layout_and_home(client: TestClient) -> tuple[int, int]:
    page = client.get("/").text
    return figure(page, "waiting-count"), figure(page, "home-waiting")


def test_the_waiting_count_is_on_the_home_page_and_in_the_layout(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    with sessions.begin() as session:
        own, _ = two_pendamping(session)
        own_code = own.code
    log_in(client, make_account(sessions))
    before, on_home = waiting_in_layout_and_home(client)
    assert before == on_home
    ask_unanswered(sessions, own_code, "kapan ada bantuan beras ya")
    assert waiting_in_layout_and_home(client) == (before + 1, before + 1)


def test_a_pendamping_counts_only_the_questions_of_their_own_kelompok(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    with sessions.begin() as session:
        own, other = two_pendamping(session)
        own_code, other_code = own.code, other.code
    log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=own_code))
    before, _ = waiting_in_layout_and_home(client)

    ask_unanswered(sessions, other_code, "pertanyaan dari kelompok lain")
    assert waiting_in_layout_and_home(client) == (before, before)
    assert "pertanyaan dari kelompok lain" not in client.get("/").text

    ask_unanswered(sessions, own_code, "pertanyaan dari kelompok sendiri")
    assert waiting_in_layout_and_home(client) == (before + 1, before + 1)
    assert "pertanyaan dari kelompok sendiri" in client.get("/").text


def test_a_resolved_question_is_no_longer_waiting(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    with sessions.begin() as session:
        own, _ = two_pendamping(session)
        own_code = own.code
    log_in(client, make_account(sessions))
    ask_unanswered(sessions, own_code, "sudah dijawab nanti")
    before, _ = waiting_in_layout_and_home(client)
    with sessions.begin() as session:
        query = session.scalars(
            select(UnansweredQuery).where(UnansweredQuery.text == "sudah dijawab nanti")
        ).one()
        query.resolved_at = utcnow()
    assert waiting_in_layout_and_home(client) == (before - 1, before - 1)


def test_query_text_is_escaped(sessions: sessionmaker[Session], client: TestClient) -> None:
    with sessions.begin() as session:
        own, _ = two_pendamping(session)
        own_code = own.code
    log_in(client, make_account(sessions))
    ask_unanswered(sessions, own_code, '<img src=x onerror="alert(1)"> min')
    page = client.get("/").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; min" in page


def test_the_layout_shows_name_role_and_the_users_language(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    username = make_account(sessions, language="en")
    log_in(client, username)
    page = client.get("/").text
    assert '<html lang="en">' in page
    assert f"{username} (Admin)" in page
    assert "Log out" in page and "Keluar" not in page


@login_required
def admins_only(request: Request, page: Page) -> Response:
    require_admin(page.viewer)
    return PlainTextResponse("for admins")


def test_an_admin_only_page_refuses_a_pendamping(
    app: Starlette, sessions: sessionmaker[Session], client: TestClient
) -> None:
    app.router.routes.append(Route("/admins-only", admins_only))
    with sessions.begin() as session:
        own, _ = two_pendamping(session)
        own_code = own.code
    log_in(client, make_account(sessions, UserRole.PENDAMPING, pendamping=own_code))
    refused = client.get("/admins-only")
    assert refused.status_code == 403
    assert "Halaman ini hanya untuk admin." in refused.text

    client.cookies.clear()
    log_in(client, make_account(sessions))
    allowed = client.get("/admins-only")
    assert (allowed.status_code, allowed.text) == (200, "for admins")
