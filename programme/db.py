"""Engines and sessions for the programme database, from one URL (SQLite file or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, echo: bool = False, sqlite_foreign_keys: bool = True) -> Engine:
    """An engine for `url`; for SQLite, creates the file's directory and fixes transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)

    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, echo=echo)
    _use_real_sqlite_transactions(engine, foreign_keys=sqlite_foreign_keys)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory; callers own the transaction (`with factory.begin() as session:`)."""
    return sessionmaker(engine)


def _use_real_sqlite_transactions(engine: Engine, *, foreign_keys: bool) -> None:
    # Python 3.11's sqlite3 driver does not BEGIN before SELECT, DDL or SAVEPOINT, which breaks
    # savepoints and transactional migrations; SQLAlchemy's documented fix is to emit BEGIN
    # ourselves. Foreign keys are off by default in SQLite and must be enabled per connection
    # (migrations turn them off, as Alembic's batch mode recreates tables).
    #
    # BEGIN IMMEDIATE takes the write lock up front. With a plain (deferred) BEGIN, two threads
    # that both read and then write (the bot's handlers, the outbox drain, the scheduler's job
    # store) deadlock on the lock upgrade, and SQLite fails one at once with "database is
    # locked" instead of waiting. Taking it first makes them queue (busy_timeout) instead; on
    # one machine's SQLite, transactions are short enough for that. PostgreSQL is unaffected.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
