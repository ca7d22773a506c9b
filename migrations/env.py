"""Alembic environment: runs the migrations on the connection `programme.migrate` hands over."""

# Normally run through `pkh db upgrade`; the `alembic` command also works (alembic.ini at the top
# level) and then uses DATABASE_URL.

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from core.settings import get_settings
from programme.db import make_engine
from programme.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    """Run the migrations in one transaction; batch mode lets SQLite alter tables."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        # Foreign keys were off during the migration (see programme.migrate); prove nothing broke.
        broken = connection.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"foreign key violations after migration: {broken[:5]}")


def run_migrations_online() -> None:
    """Use the caller's connection if there is one, else open one from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url, sqlite_foreign_keys=False)
    try:
        with engine.begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
