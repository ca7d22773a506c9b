"""The Alembic migrations: up, down to base and up again, and agreement with the models."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from programme import migrate
from programme.db import make_engine
from programme.models import Base


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    url = empty_database_url
    every_table = set(Base.metadata.tables)

    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert table_names(url) == every_table | {"alembic_version"}

    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert table_names(url) <= {"alembic_version"}

    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert table_names(url) == every_table | {"alembic_version"}


def test_an_unmigrated_database_has_no_current_revision(empty_database_url: str) -> None:
    assert migrate.current(empty_database_url) is None


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection, warnings.catch_warnings():
        # Autogenerate cannot compare the hand-written expression index; it says so in a warning.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_sqlite_file_directory_is_created(tmp_path: Path) -> None:
    database = tmp_path / "var" / "nested" / "pkh.sqlite3"
    migrate.upgrade(f"sqlite:///{database}")
    assert database.exists()
