"""Shared database fixtures: every test that asks for a database runs on SQLite and PostgreSQL."""

# Per backend and test session, one database is built by the real migrations (`engine`) and one
# more is also filled by the real reference and demo seed (`seeded_engine`); tests get a session
# inside a savepoint that is rolled back afterwards (SQLAlchemy's "join an external transaction"
# recipe), so they are isolated and the suite stays fast.
#
# PostgreSQL: PKH_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
# names a server and a database to connect to; each test session creates its own pkh_test_*
# databases there and drops them at the end. If the server is unreachable the PostgreSQL tests
# fail; set PKH_TEST_SKIP_POSTGRES=1 to skip them instead.

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from programme import migrate
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.seed import seed_reference

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_SECRET_KEY = "test-secret-key-not-for-production"
# 10.00 WIB / 11.00 WITA / 12.00 WIT on the project's "today"; the demo places meetings from it.
DEMO_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


class DatabaseFactory:
    """Makes throw-away databases on one backend and removes them all at the end."""

    def __init__(self, backend: str, directory: Path, postgres_url: str | None) -> None:
        self.backend = backend
        self.directory = directory
        self.postgres_url = postgres_url
        self.created: list[str] = []

    def create(self) -> str:
        """The URL of a new, empty database."""
        name = f"pkh_test_{secrets.token_hex(4)}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.directory / name}.sqlite3"
        assert self.postgres_url is not None
        with psycopg.connect(_libpq_url(self.postgres_url), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return make_url(self.postgres_url).set(database=name).render_as_string(False)

    def drop_all(self) -> None:
        """Drop every PostgreSQL database this factory created (SQLite files go with tmp_path)."""
        if not self.created or self.postgres_url is None:
            return
        with psycopg.connect(_libpq_url(self.postgres_url), autocommit=True) as connection:
            for name in self.created:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def secret_key() -> str:
    """The PKH_SECRET_KEY the test databases' NIK hashes are made with."""
    return TEST_SECRET_KEY


@pytest.fixture(scope="session")
def demo_now() -> datetime:
    """The moment the seeded demo roster was loaded (its meetings are relative to it)."""
    return DEMO_NOW


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server to test against; fails (never silently skips) when it is down."""
    if os.environ.get("PKH_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("PKH_TEST_SKIP_POSTGRES=1")
    url = os.environ.get("PKH_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        psycopg.connect(_libpq_url(url), connect_timeout=5).close()
    except psycopg.Error as error:
        pytest.fail(
            f"PostgreSQL is unreachable at {make_url(url).render_as_string()}: {error}\n"
            "Start it, point PKH_TEST_POSTGRES_URL at one, or set PKH_TEST_SKIP_POSTGRES=1.",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    return str(request.param)


@pytest.fixture(scope="session")
def database_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    """Creates databases on the current backend for this test session."""
    server = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(f"db-{backend}"), server)
    yield factory
    factory.drop_all()


@pytest.fixture
def empty_database_url(database_factory: DatabaseFactory) -> str:
    """A brand-new database with no schema, for tests of migrations and commands."""
    return database_factory.create()


@pytest.fixture(scope="session")
def engine(database_factory: DatabaseFactory) -> Iterator[Engine]:
    """A database at the latest schema, built by the real migrations, with no rows."""
    url = database_factory.create()
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_engine(database_factory: DatabaseFactory) -> Iterator[Engine]:
    """A migrated database holding the reference data and the demo roster (as of DEMO_NOW)."""
    url = database_factory.create()
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_reference(session)
        seed_demo(session, secret_key=TEST_SECRET_KEY, now=DEMO_NOW)
    yield engine
    engine.dispose()


def savepoint_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is always rolled back."""
    # The session's own commit()/rollback() only release or roll back a SAVEPOINT, so code under
    # test can own its transaction while the test leaves nothing behind.
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """An isolated session on the migrated, empty database."""
    yield from savepoint_session(engine)


@pytest.fixture
def seeded(seeded_engine: Engine) -> Iterator[Session]:
    """An isolated session on the database with reference data and the demo roster."""
    yield from savepoint_session(seeded_engine)


@pytest.fixture(scope="session")
def nlu_url() -> Iterator[str]:
    """URL of a real Rasa server serving the model for the current config and data."""
    from nlu.server import free_port, start_server
    from nlu.training import train

    model, _ = train()  # a no-op when `make test` has already trained this exact model
    server = start_server(port=free_port(), model=model)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fresh_seeded_database(database_factory: DatabaseFactory) -> str:
    """A migrated, seeded database of the module's own, for code under test that commits."""
    url = database_factory.create()
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_reference(session)
        seed_demo(session, secret_key=TEST_SECRET_KEY)
    engine.dispose()
    return url
