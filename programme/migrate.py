"""Alembic driven from code: bring any database URL to a revision, or ask where it stands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from programme.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url`, with the project's migrations directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates "%", which URL-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, rev: str = "head") -> None:
    """Apply every migration up to `rev` (default: the latest)."""
    _run(url, lambda config: command.upgrade(config, rev))


def downgrade(url: str, rev: str) -> None:
    """Revert migrations down to `rev` ("base" empties the schema)."""
    _run(url, lambda config: command.downgrade(config, rev))


def current(url: str) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return ",".join(heads) if heads else None


def head() -> str:
    """The latest revision in the migrations directory."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    latest = script.get_current_head()
    if latest is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return latest


def _run(url: str, action: Callable[[Config], None]) -> None:
    # SQLite foreign keys stay off while migrating: batch mode rebuilds tables by copy-and-rename,
    # which enforced keys would block. env.py checks the keys after the migration instead.
    engine = make_engine(url, sqlite_foreign_keys=False)
    config = alembic_config(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            action(config)
    finally:
        engine.dispose()
