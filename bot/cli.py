"""`pkh bot …` and `pkh invite …`: run the Telegram bot, issue invite codes."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import typer

from core.settings import get_settings

bot_app = typer.Typer(help="The Telegram bot.", no_args_is_help=True)
invite_app = typer.Typer(help="One-time invite codes that link a family's Telegram account.")


@bot_app.command("run")
def run_bot(
    webhook: str | None = typer.Option(
        None, help="Public HTTPS URL for webhook mode (default: long polling)."
    ),
    listen: str = typer.Option("127.0.0.1", help="Webhook mode: address to listen on."),
    port: int = typer.Option(8443, help="Webhook mode: port to listen on."),
) -> None:
    """Run the bot (long polling, or --webhook URL); stops cleanly on SIGTERM or Ctrl-C.

    It exits non-zero only when it cannot run at all, with one line saying why: the
    configuration is incomplete or wrong, or Telegram rejects the token. Telegram being slow or
    down at start-up is waited out (bot.startup).
    """
    from pydantic import ValidationError
    from telegram import Update
    from telegram.error import InvalidToken

    from bot.app import build_application, serve_webhook

    try:
        settings = get_settings()
        if webhook is not None and settings.telegram_webhook_secret is None:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_SECRET")
        application = build_application(settings)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        _fail(f"bad configuration: {where}: {first['msg']}")
    except ValueError as error:
        _fail(f"bad configuration: {error}")
    try:
        if webhook is None:
            # Wait for Telegram first, in the loop run_polling will use: a rejected token then
            # ends the run with one line below, not PTB's retry-loop traceback.
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            if not _until_signal(loop, application.initialize()):
                return  # SIGTERM or Ctrl-C while waiting for Telegram
            application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
            return
        secret = settings.telegram_webhook_secret
        assert secret is not None
        asyncio.run(
            serve_webhook(
                application,
                listen=listen,
                port=port,
                url=webhook,
                secret_token=secret.get_secret_value(),
            )
        )
    except InvalidToken:
        _fail(
            "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token "
            "(and TELEGRAM_API_BASE_URL)"
        )


def _until_signal(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, None]) -> bool:
    """Run `work` in `loop`; False if SIGTERM or SIGINT came first (then it is cancelled)."""
    task = loop.create_task(work)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        return False
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return True


def _fail(reason: str) -> NoReturn:
    """One clear line on stderr, exit status 2."""
    typer.echo(f"pkh bot run: {reason}", err=True)
    raise typer.Exit(2)


@invite_app.command("create")
def create_invite(
    family: str = typer.Argument(..., help="The family's PKH id (e.g. DEMO-5315-00002)."),
    days: int = typer.Option(14, min=1, max=90, help="Days the code stays valid."),
    bot_username: str = typer.Option("", help="Bot username, to print the t.me link."),
) -> None:
    """Create a one-time invite code for a family, issued by its pendamping."""
    from programme.db import make_engine, make_session_factory
    from programme.invites import issue_family_invite

    settings = get_settings()
    if settings.secret_key is None:
        raise typer.BadParameter("PKH_SECRET_KEY must be set")
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            code = issue_family_invite(
                session,
                pkh_id=family,
                secret_key=settings.secret_key.get_secret_value(),
                valid_for=timedelta(days=days),
                now=datetime.now(UTC),
            )
            if code is None:
                raise typer.BadParameter(f"no family with PKH id {family}")
    finally:
        engine.dispose()
    typer.echo(f"invite code: {code} (valid {days} days)")
    if bot_username:
        typer.echo(f"link: https://t.me/{bot_username}?start={code}")
