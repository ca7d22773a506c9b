"""`pkh nlu retrain` and `pkh nlu rollback`: the dashboard's loop from the command line.

Tiny models (tests.nlu.tiny_models), a real Rasa server for the comparison, no NLU server
running for the bot (activation is then only recorded, for the servers' next start).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from nlu.active import ActiveModels, read_active, write_active
from nlu.server import free_port
from pkh.cli import app
from programme.db import make_engine, make_session_factory
from programme.models import AuditLog, RetrainJob, RetrainState
from tests.nlu.tiny_models import copy_model, tiny_cache, tiny_model, tiny_training_data

pytestmark = pytest.mark.integration

__all__ = ["tiny_cache"]  # a fixture, used by name


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The command's models directory and database (never the project's own)."""
    directory = tmp_path / "models"
    directory.mkdir()
    monkeypatch.setattr(Settings, "models_dir", property(lambda self: directory))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'pkh.sqlite3'}")
    monkeypatch.setenv("NLU_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()


def given_active(models_dir: Path, model: Path) -> Path:
    active = copy_model(model, models_dir)
    write_active(models_dir, ActiveModels(active=active.name, changed_by="test"))
    return active


def jobs_and_audit() -> tuple[list[RetrainState], list[tuple[str, str]]]:
    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            states = list(session.scalars(select(RetrainJob.state).order_by(RetrainJob.id)))
            entries = session.execute(
                select(AuditLog.actor, AuditLog.action)
                .where(AuditLog.action.like("nlu.%"))
                .order_by(AuditLog.id)
            )
            return states, [(actor, action) for actor, action in entries]
    finally:
        engine.dispose()


def test_retrain_yes_activates_a_model_that_is_not_worse_and_rollback_restores(
    models_dir: Path, tiny_cache: Path
) -> None:
    before = given_active(models_dir, tiny_model(tiny_cache, 6))
    better = copy_model(tiny_model(tiny_cache, 30), models_dir)  # trained already: not again
    runner = CliRunner()

    result = runner.invoke(
        app, ["nlu", "retrain", "--yes", "--data", str(tiny_training_data(tiny_cache, 30))]
    )
    assert result.exit_code == 0, result.output
    assert "dev (" in result.output and "test (" in result.output
    assert f"activated {better.name} on 0 NLU server(s); not running:" in result.output
    record = read_active(models_dir)
    assert record is not None and (record.active, record.previous) == (better.name, before.name)

    restored = runner.invoke(app, ["nlu", "rollback"])
    assert restored.exit_code == 0, restored.output
    assert f"restored {before.name}" in restored.output
    record = read_active(models_dir)
    assert record is not None and (record.active, record.previous) == (before.name, better.name)
    states, audit = jobs_and_audit()
    assert states == [RetrainState.ROLLED_BACK]
    assert audit == [
        ("cli", "nlu.retrain_started"),
        ("cli", "nlu.model_activated"),
        ("cli", "nlu.model_rolled_back"),
    ]


def test_retrain_refuses_a_worse_model_even_with_yes(models_dir: Path, tiny_cache: Path) -> None:
    good = given_active(models_dir, tiny_model(tiny_cache, 30))
    copy_model(tiny_model(tiny_cache, 2), models_dir)

    result = CliRunner().invoke(
        app, ["nlu", "retrain", "--yes", "--data", str(tiny_training_data(tiny_cache, 2))]
    )
    assert result.exit_code == 1, result.output
    assert "WORSE" in result.output
    assert "not activated: worse on" in result.output
    record = read_active(models_dir)
    assert record is not None and record.active == good.name
    states, audit = jobs_and_audit()
    assert states == [RetrainState.WORSE]
    assert audit == [("cli", "nlu.retrain_started")]
