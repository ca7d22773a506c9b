"""`pkh stage open` and `pkh stage close` against a fresh demo database named by DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.settings import get_settings
from pkh.cli import app
from programme.db import make_engine, make_session_factory
from programme.models import OutboxKind, OutboxMessage, PaymentWindow

MANGGARAI_BARAT = "53.15"


@pytest.fixture
def cli_env(
    fresh_seeded_database: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_seeded_database)
    monkeypatch.setenv("PKH_SECRET_KEY", secret_key)
    get_settings.cache_clear()
    yield fresh_seeded_database
    get_settings.cache_clear()


def stage_notices(url: str) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        count = session.scalar(
            select(func.count()).where(OutboxMessage.kind == OutboxKind.STAGE_OPEN)
        )
    engine.dispose()
    return count or 0


def test_opening_a_stage_from_the_command_line_tells_the_families_once(cli_env: str) -> None:
    runner = CliRunner()
    args = ["stage", "open", "2026", "4", "--region", MANGGARAI_BARAT, "--channel", "bri"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "stage 4/2026 open in 53.15" in first.output
    told = stage_notices(cli_env)
    assert told >= 1  # kpm-wita's family is linked and paid through BRI there
    assert f"{told} families queued" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 families queued" in again.output
    assert stage_notices(cli_env) == told


def test_an_unknown_region_is_a_clear_error(cli_env: str) -> None:
    result = CliRunner().invoke(app, ["stage", "open", "2026", "4", "--region", "99.99"])
    assert result.exit_code != 0
    assert "99.99" in result.output


def test_closing_a_stage_from_the_command_line_marks_its_window_closed(cli_env: str) -> None:
    # The module's database is shared: the window may have been opened (and moved) above.
    args = ["stage", "close", "2026", "4", "--region", MANGGARAI_BARAT, "--channel", "bri"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "stage 4/2026 closed in 53.15 (bri), 2026-11-16 – " in result.output
    engine = make_engine(cli_env)
    with make_session_factory(engine)() as session:
        closed = session.scalars(
            select(PaymentWindow).where(
                PaymentWindow.channel_code == "bri", PaymentWindow.closed_at.is_not(None)
            )
        ).all()
    engine.dispose()
    assert [w.starts_on.isoformat() for w in closed] == ["2026-11-16"]
    unknown = CliRunner().invoke(app, ["stage", "close", "2026", "4", "--region", "99.99"])
    assert unknown.exit_code != 0
    assert "99.99" in unknown.output
