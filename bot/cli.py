"""`pkh bot …` and `pkh invite …`: run the Telegram bot, issue invite codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    """Run the bot (long polling, or --webhook URL); stops cleanly on SIGTERM or Ctrl-C."""
    from telegram import Update

    from bot.app import build_application

    settings = get_settings()
    application = build_application(settings)
    if webhook is None:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    secret = settings.telegram_webhook_secret
    if secret is None:
        raise typer.BadParameter("webhook mode needs TELEGRAM_WEBHOOK_SECRET")
    application.run_webhook(
        listen=listen,
        port=port,
        url_path="telegram",
        webhook_url=webhook,
        secret_token=secret.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
    )


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
