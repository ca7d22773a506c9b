"""The `pkh` command: one entry point for the database, NLU, chat, bot and benchmarks."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from admin.cli import admin_app
from bot.cli import bot_app, invite_app
from core.redaction import install_log_redaction
from nlu.cli import nlu_app
from pkh.retrain import retrain, rollback
from programme.cli import db_app, import_command, pendamping_app, stage_app

app = typer.Typer(
    help="PKH Assistant: a Telegram assistant for Program Keluarga Harapan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Benchmarks of the quality bars (PRODUCT.md §6).", no_args_is_help=True
)

app.add_typer(db_app, name="db")
app.add_typer(bot_app, name="bot")
app.add_typer(invite_app, name="invite")
app.add_typer(nlu_app, name="nlu")
# Retraining needs the database (its job row, the audit log), which nlu/ may not import.
nlu_app.command("retrain")(retrain)
nlu_app.command("rollback")(rollback)
app.add_typer(stage_app, name="stage")
app.add_typer(pendamping_app, name="pendamping")
app.add_typer(bench_app, name="bench")
app.add_typer(admin_app, name="admin")
app.command("import")(import_command)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug output.")) -> None:
    """Configure logging for every command: NIKs and secrets are masked in every record."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT)
    # httpx logs every request URL at INFO, and the bot's URLs hold its token: quiet unless -v.
    for noisy in ("alembic",) if verbose else ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_log_redaction(_secrets())


def log_to_file() -> Path:
    """Send the log to var/log/pkh.log instead of the terminal, where a chat is going on.

    The file handler masks NIKs and secrets like every other (core.redaction); Python's
    warnings go to the log too.
    """
    from core.redaction import RedactingFilter
    from core.settings import PROJECT_ROOT

    path = PROJECT_ROOT / "var" / "log" / "pkh.log"
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    for terminal in list(root.handlers):
        root.removeHandler(terminal)
    root.addHandler(handler)
    logging.captureWarnings(True)
    return path


def _secrets() -> list[str]:
    """The configured secrets, to be masked in the logs (none if the settings do not load)."""
    from pydantic import ValidationError

    from core.settings import Settings

    try:
        settings = Settings()
    except ValidationError:
        return []  # the command that needs the settings says what is wrong with them
    return [
        secret.get_secret_value()
        for secret in (
            settings.telegram_bot_token,
            settings.secret_key,
            settings.telegram_webhook_secret,
        )
        if secret is not None
    ]


@app.command()
def chat(
    as_: str = typer.Option(
        None, "--as", help="Chat as a demo user: kpm-wib, kpm-wita, kpm-wit, kpm-aceh, pendamping."
    ),
) -> None:
    """Chat with the assistant in the terminal: real NLU server, actions and database."""
    log_to_file()
    from actions import Asker
    from bot.terminal import chat as run_chat
    from bot.terminal import find_demo_asker
    from core.settings import get_settings
    from nlu.server import nlu_server
    from programme.db import make_engine, make_session_factory

    settings = get_settings()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        asker = find_demo_asker(sessions, as_) if as_ else Asker()
    except (KeyError, LookupError) as error:
        raise typer.BadParameter(str(error)) from error
    with nlu_server(settings.nlu_url, port=settings.nlu_port) as url:
        asyncio.run(run_chat(nlu_url=url, sessions=sessions, asker=asker, who=as_ or "anda"))
    engine.dispose()


@app.command()
def run(
    as_: str = typer.Option(None, "--as", help="For the terminal chat: a demo user handle."),
) -> None:
    """First use: set up database and model; then the Telegram bot (token set) or terminal chat."""
    from core.settings import get_settings
    from pkh import firstrun

    if get_settings().telegram_bot_token is None:
        log_to_file()  # a terminal chat follows: progress lines only, the log to var/log/
    firstrun.ensure_secret_key(typer.echo)
    firstrun.ensure_database(typer.echo)
    firstrun.ensure_model(typer.echo)
    settings = get_settings()
    if settings.telegram_bot_token is None:
        chat(as_=as_)
        return
    from bot.cli import run_bot
    from nlu.server import nlu_server

    with nlu_server(settings.nlu_url, port=settings.nlu_port):
        run_bot(webhook=None, listen="127.0.0.1", port=8443)


@bench_app.command("nlu")
def bench_nlu(
    messages: int = typer.Option(1000, min=100, help="Messages per mode."),
    url: str = typer.Option(None, help="Benchmark this running server instead of starting one."),
) -> None:
    """Parse latency p50/p99 through the HTTP API, one at a time and 8 concurrent."""
    from devtools.bench_nlu import render_table, run_benchmark
    from nlu.server import nlu_server

    with nlu_server(url) as served:
        rows = asyncio.run(run_benchmark(served, messages=messages))
    typer.echo(render_table(rows))


@bench_app.command("bot")
def bench_bot(
    users: int = typer.Option(200, min=1, help="Simulated users."),
    rate: float = typer.Option(20.0, min=0.1, help="Messages per second, all users together."),
    seconds: float = typer.Option(60.0, min=1, help="How long to send."),
    scenario: str = typer.Option(
        "both", help="steady (the load alone), flood (plus one chat at 40 msg/s) or both."
    ),
    database_url: str = typer.Option(None, help="Database to use (default: a fresh SQLite file)."),
) -> None:
    """Reply latency p50/p95/p99 under load: emulator + real NLU server + database."""
    from core.settings import get_settings
    from devtools.bench_bot import FLOOD_RATE, prepare_database, run_bot_benchmark, table
    from nlu.server import nlu_server

    if scenario not in ("steady", "flood", "both"):
        raise typer.BadParameter("choose steady, flood or both")
    flood_rates = {"steady": [0.0], "flood": [FLOOD_RATE], "both": [0.0, FLOOD_RATE]}[scenario]
    settings = get_settings()
    results = []
    with nlu_server(settings.nlu_url, port=settings.nlu_port) as served:
        for flood_rate in flood_rates:
            url = prepare_database(database_url)
            results.append(
                asyncio.run(
                    run_bot_benchmark(
                        nlu_url=served,
                        database_url=url,
                        secret_key="benchmark-key-not-a-secret",  # noqa: S106 - throwaway database
                        users=users,
                        rate=rate,
                        seconds=seconds,
                        flood_rate=flood_rate,
                    )
                )
            )
    typer.echo(table(results))


@bench_app.command("broadcast")
def bench_broadcast(
    chats: int = typer.Option(10_000, min=10, help="Linked chats the broadcast goes to."),
    kill_at: float = typer.Option(0.5, min=0.05, max=0.95, help="Share sent before kill -9."),
    database_url: str = typer.Option(None, help="Database to use (default: a fresh SQLite file)."),
) -> None:
    """One broadcast to many chats through the emulator's limits, with kill -9 and a restart."""
    from core.settings import PROJECT_ROOT, get_settings
    from devtools.bench_broadcast import prepare_broadcast_database, run_broadcast_benchmark
    from nlu.server import nlu_server

    settings = get_settings()
    typer.echo(f"preparing a database with {chats} linked chats…")
    database = prepare_broadcast_database(database_url, chats=chats)
    log_path = PROJECT_ROOT / "var" / "log" / "bench-broadcast-bot.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with nlu_server(settings.nlu_url, port=settings.nlu_port) as served:
        result = asyncio.run(
            run_broadcast_benchmark(
                nlu_url=served, database=database, kill_at=kill_at, log_path=log_path
            )
        )
    typer.echo(result.table())
    passed = (
        result.sustained_rate >= 27
        and result.over_limit == 0
        and result.duplicates == 0
        and result.lost == 0
        and result.question_latency_s is not None
        and result.question_latency_s <= 2
    )
    typer.echo("bars met" if passed else "BARS NOT MET (see the table)")
    raise typer.Exit(0 if passed else 1)
