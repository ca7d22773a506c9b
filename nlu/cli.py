"""`pkh nlu …` and `pkh bench nlu`: train, serve, validate and evaluate the NLU model."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from core.settings import PROJECT_ROOT, get_settings

nlu_app = typer.Typer(help="Train, serve, validate and evaluate the Rasa NLU model.")


def _shown(path: Path) -> Path:
    """A path relative to the project when it is inside it."""
    return path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path


@nlu_app.command()
def train(
    force: bool = typer.Option(False, "--force", help="Train even if nothing changed."),
    config: Path = typer.Option(PROJECT_ROOT / "config.yml", help="Rasa pipeline config."),
) -> None:
    """Train the model from config.yml and data/nlu/ (skipped when neither changed)."""
    from nlu.training import train as train_model

    model, trained = train_model(config=config, force=force)
    typer.echo(f"{'trained' if trained else 'up to date'}: {model.relative_to(PROJECT_ROOT)}")


@nlu_app.command()
def serve(
    port: int = typer.Option(None, help="Port (default: NLU_PORT, else 5005)."),
    model: Path = typer.Option(None, help="Model file (default: the latest in models/)."),
) -> None:
    """Run Rasa's HTTP API on 127.0.0.1 in the foreground (Ctrl-C stops it)."""
    from nlu.server import latest_model, rasa_environment, serve_command

    chosen = model or latest_model()
    if chosen is None:
        raise typer.BadParameter("no trained model: run `make train` first")
    (PROJECT_ROOT / "var" / "log").mkdir(parents=True, exist_ok=True)
    command = serve_command(chosen, port or get_settings().nlu_port)
    typer.echo(f"serving {chosen.name} on http://127.0.0.1:{command[command.index('--port') + 1]}")
    os.execve(command[0], command, rasa_environment())  # noqa: S606 - replace this process


@nlu_app.command()
def validate() -> None:
    """Check the training data: `rasa data validate`, §4 coverage, no train/test overlap."""
    from nlu.validation import validate_all

    problems = validate_all()
    for problem in problems:
        typer.echo(f"✗ {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("training data OK")


@nlu_app.command()
def evaluate(
    out: Path = typer.Option(PROJECT_ROOT / "reports" / "nlu", help="Report directory."),
    url: str = typer.Option(None, help="Use this running server instead of starting one."),
    heldout: list[str] = typer.Option(
        ["dev", "test"], "--set", help="Held-out set(s) to score: dev (for choices), test."
    ),
    cv: bool = typer.Option(False, "--cv", help="Also 5-fold cross-validation (trains 5 models)."),
    folds: int = typer.Option(5, help="Folds for --cv."),
) -> None:
    """Score the latest model on the dev and test sets (Markdown reports + confusion PNGs)."""
    from nlu.evaluation import cross_validate, evaluate_heldout, render_cross_validation

    for name in heldout:
        if name not in ("dev", "test"):
            raise typer.BadParameter(f"unknown set {name!r}: dev or test")
    reports = evaluate_heldout(out=out, url=url, sets=heldout)
    for report in reports.values():
        typer.echo(report.summary())
    typer.echo(f"report: {_shown(out / 'report.md')}")
    if cv:
        result = cross_validate(folds=folds)
        (out / "cross-validation.md").write_text(render_cross_validation(result), "utf-8")
        typer.echo(result.summary())
        typer.echo(f"report: {_shown(out / 'cross-validation.md')}")


@nlu_app.command("cross-validate")
def cross_validate_command(
    folds: int = typer.Option(5, help="Number of folds."),
    config: Path = typer.Option(PROJECT_ROOT / "config.yml", help="Rasa pipeline config."),
    out: Path = typer.Option(PROJECT_ROOT / "reports" / "nlu", help="Report directory."),
) -> None:
    """k-fold cross-validation on data/nlu/ (trains k models, ~1.5 min each)."""
    from nlu.evaluation import cross_validate, render_cross_validation

    result = cross_validate(folds=folds, config=config)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cross-validation.md").write_text(render_cross_validation(result), "utf-8")
    typer.echo(result.summary())
    typer.echo(f"report: {_shown(out / 'cross-validation.md')}")


@nlu_app.command()
def compare(
    configs: list[Path] = typer.Argument(
        None, help="Pipeline configs (default: nlu/experiments/)."
    ),
    out: Path = typer.Option(PROJECT_ROOT / "reports" / "experiments", help="Output directory."),
    heldout: str = typer.Option("dev", "--set", help="Held-out set to score on (dev)."),
) -> None:
    """Train and score several pipeline configs on the dev set; print a comparison table."""
    from nlu.evaluation import compare_configs

    chosen = configs or sorted((PROJECT_ROOT / "nlu" / "experiments").glob("*.yml"))
    typer.echo(compare_configs(chosen, out=out, set_name=heldout))
