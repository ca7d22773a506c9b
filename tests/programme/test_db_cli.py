"""`pkh db` commands against a fresh database named by DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from core.settings import get_settings
from programme import migrate
from programme.cli import db_app


@pytest.fixture
def cli_env(
    empty_database_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    monkeypatch.setenv("PKH_SECRET_KEY", secret_key)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def run(*args: str) -> str:
    result = CliRunner().invoke(db_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_upgrade_seed_current_and_downgrade(cli_env: str) -> None:
    assert "no schema yet" in run("current")
    assert f"is at revision {migrate.head()}" in run("upgrade")
    assert "(latest)" in run("current")

    first = run("seed", "--demo")
    assert "faq_answer" in first and "family" in first
    second = run("seed")
    assert "+0 " in second and "+1" not in second and "~1" not in second

    assert "base (empty)" in run("downgrade", "base")


def test_seed_refuses_a_database_without_the_schema(cli_env: str) -> None:
    result = CliRunner().invoke(db_app, ["seed"])
    assert result.exit_code == 1
    assert "pkh db upgrade" in result.output


def test_demo_seed_needs_the_secret_key(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run("upgrade")
    monkeypatch.delenv("PKH_SECRET_KEY")
    monkeypatch.setattr(get_settings(), "secret_key", None)
    result = CliRunner().invoke(db_app, ["seed", "--demo"])
    assert result.exit_code == 1
    assert "PKH_SECRET_KEY" in result.output


@pytest.mark.parametrize("command", ["", "upgrade", "downgrade", "current", "seed"])
def test_every_db_command_explains_itself(command: str) -> None:
    result = CliRunner().invoke(db_app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    if command:
        click_command = typer.main.get_command(db_app).commands[command]  # type: ignore[attr-defined]
        assert click_command.help
