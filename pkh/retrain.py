"""`pkh nlu retrain` and `pkh nlu rollback`: the dashboard's "Latih ulang model" on the command
line, with the same job row, the same rule (activated only when not worse) and the same audit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from core.settings import PROJECT_ROOT, get_settings

if TYPE_CHECKING:
    from admin.retraining import Retrainer
    from nlu.retrain import Activation, ModelComparison

ACTOR = "cli"


@contextmanager
def _retrainer(data: Path, config: Path) -> Iterator[Retrainer]:
    from admin.retraining import Retrainer, RetrainSetup
    from nlu.retrain import replica_urls
    from programme import migrate
    from programme.db import make_engine, make_session_factory

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    setup = RetrainSetup(
        models_dir=settings.models_dir,
        urls=replica_urls(settings.nlu_replica_urls or settings.nlu_url),
        data=data,
        config=config,
    )
    try:
        yield Retrainer(make_session_factory(engine), setup, echo=typer.echo)
    finally:
        engine.dispose()


def retrain(
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Activate without asking when the new model is not worse."
    ),
    data: Path = typer.Option(PROJECT_ROOT / "data" / "nlu", help="Training data directory."),
    config: Path = typer.Option(PROJECT_ROOT / "config.yml", help="Rasa pipeline config."),
) -> None:
    """Train a new model, compare it with the active one (dev and test), activate if not worse."""
    from admin.retraining import ActivationRefused
    from nlu.retrain import ModelComparison
    from programme import retraining
    from programme.models import RetrainState

    with _retrainer(data, config) as retrainer:
        try:
            with retrainer.sessions.begin() as session:
                job_id = retrainer.start(session, requested_by=ACTOR, background=False).id
        except retraining.JobRunning as running:
            typer.echo(f"retraining job {running.job.id} is still running", err=True)
            raise typer.Exit(1) from running
        typer.echo(f"job {job_id}: training on {data}")
        retrainer.run(job_id)
        with retrainer.sessions.begin() as session:
            job = retraining.find_job(session, job_id)
            assert job is not None
            state, error, comparison = job.state, job.error, job.comparison
        if state is RetrainState.FAILED:
            typer.echo(f"failed: {error}", err=True)
            raise typer.Exit(1)
        if state is RetrainState.UNCHANGED:
            typer.echo("nothing to do: the active model was trained on the same data")
            return
        assert comparison is not None
        compared = ModelComparison.from_json(comparison)
        typer.echo(render_comparison(compared))
        if state is RetrainState.WORSE:
            typer.echo(f"not activated: worse on {', '.join(compared.worse_on)}", err=True)
            raise typer.Exit(1)
        if not yes and not typer.confirm(f"Activate {compared.candidate}?", default=False):
            typer.echo("not activated")
            return
        try:
            with retrainer.sessions.begin() as session:
                activation = retrainer.activate(session, job_id, actor=ACTOR, confirmed=True)
        except ActivationRefused as refused:
            typer.echo(f"not activated: {refused.detail or refused.reason}", err=True)
            raise typer.Exit(1) from refused
        typer.echo(_activation_text("activated", activation.record.active, activation))


def rollback() -> None:
    """Put the previous model back on every NLU server (the dashboard's one-click restore)."""
    from admin.retraining import ActivationRefused

    with _retrainer(PROJECT_ROOT / "data" / "nlu", PROJECT_ROOT / "config.yml") as retrainer:
        try:
            with retrainer.sessions.begin() as session:
                activation = retrainer.roll_back(session, actor=ACTOR)
        except ActivationRefused as refused:
            typer.echo(f"not restored: {refused.detail or refused.reason}", err=True)
            raise typer.Exit(1) from refused
        typer.echo(_activation_text("restored", activation.record.active, activation))


def render_comparison(comparison: ModelComparison) -> str:
    """The comparison as plain text: macro-F1 per set, per-intent changes, new confusions."""
    lines = [f"{comparison.candidate} against {comparison.current or '(no active model)'}"]
    for s in comparison.sets:
        before = f"{s.current.macro_f1:.3f}" if s.current else "-"
        verdict = "not worse" if s.not_worse else "WORSE"
        lines.append(
            f"  {s.name} ({s.size} examples): macro-F1 {before} -> {s.candidate.macro_f1:.3f} "
            f"({s.macro_f1_change:+.3f}) {verdict}"
        )
        lines += [
            f"    {c.intent}: {c.before:.3f} -> {c.after:.3f} ({c.change:+.3f})"
            for c in s.intent_changes()
        ]
        lines += [
            f"    newly confused: {c.true} -> {c.predicted} (+{c.count})" for c in s.new_confusions
        ]
    return "\n".join(lines)


def _activation_text(verb: str, model: str, activation: Activation) -> str:
    text = f"{verb} {model} on {len(activation.swapped)} NLU server(s)"
    if activation.unreachable:
        text += (
            f"; not running: {', '.join(activation.unreachable)} (they start with it: "
            "models/active.json)"
        )
    return text
