"""`pkh invite create`: a one-time code a pendamping gives a family, which then links once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from core.settings import get_settings
from pkh.cli import app
from programme import accounts
from programme.db import make_session_factory


@pytest.fixture
def cli_database(
    seeded_engine: object, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    url = seeded_engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PKH_SECRET_KEY", secret_key)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_an_invite_code_from_the_cli_links_a_new_account_once(
    cli_database: str, secret_key: str
) -> None:
    result = CliRunner().invoke(
        app, ["invite", "create", "DEMO-5315-00003", "--bot-username", "pkh_bot"]
    )
    assert result.exit_code == 0, result.output
    code = re.search(r"invite code: (\S+)", result.output)
    assert code and f"https://t.me/pkh_bot?start={code[1]}" in result.output
    engine = create_engine(cli_database)
    with make_session_factory(engine).begin() as session:
        user = accounts.upsert_user(
            session, accounts.Sender(778_000_001, 778_000_001, "X", None, None)
        )
        now = datetime.now(UTC)
        linked = accounts.link_with_invite(
            session, user, code=code[1], secret_key=secret_key, now=now
        )
        assert linked is accounts.LinkResult.LINKED
        session.rollback()  # leave the shared database as it was
    engine.dispose()


def test_an_unknown_family_is_refused(cli_database: str) -> None:
    result = CliRunner().invoke(app, ["invite", "create", "NO-SUCH-FAMILY"])
    assert result.exit_code != 0
    assert "no family" in result.output
