"""The dashboard under Starlette's TestClient, on a seeded database of the module's own."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from admin.app import build_admin_app
from admin.users import create_user
from core.settings import get_settings
from programme.db import make_engine, make_session_factory
from programme.models import UserRole, utcnow

PASSWORD = "kata-sandi-yang-panjang"
_addresses = itertools.count(1)


class FakeClock:
    """The dashboard's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def admin_env(
    fresh_seeded_database: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_seeded_database)
    monkeypatch.setenv("PKH_SECRET_KEY", secret_key)
    get_settings.cache_clear()
    yield fresh_seeded_database
    get_settings.cache_clear()


@pytest.fixture
def sessions(admin_env: str) -> Iterator[sessionmaker[Session]]:
    """The test's own way into the dashboard's database (committing, like the app)."""
    engine = make_engine(admin_env)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(admin_env: str, clock: FakeClock) -> Starlette:
    return build_admin_app(get_settings(), clock=clock)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A browser with an address of its own, so the per-client rate limit is per test."""
    number = next(_addresses)
    address = f"10.0.{number // 250}.{number % 250 + 1}"
    with TestClient(app, client=(address, 50000), follow_redirects=False) as browser:
        yield browser


def make_account(
    sessions: sessionmaker[Session],
    role: UserRole = UserRole.ADMIN,
    *,
    pendamping: str | None = None,
    language: str = "id",
) -> str:
    """A new dashboard account made by the real code; returns its username."""
    username = f"user-{secrets.token_hex(4)}"
    with sessions.begin() as session:
        create_user(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            pendamping_code=pendamping,
            language=language,
            actor="test",
        )
    return username


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def try_login(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> tuple[int, str]:
    """Fill the login form as a browser would; returns the status and the page (or Location)."""
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
    )
    return response.status_code, response.headers.get("location", response.text)


def log_in(client: TestClient, username: str) -> str:
    """Log in and return the session's CSRF token (from the home page's logout form)."""
    status, location = try_login(client, username)
    assert status == 303, location
    return form_token(client.get("/").text)


def figure(html: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">(\d+)<', html)
    assert found, html
    return int(found.group(1))
