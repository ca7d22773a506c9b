"""The Telegram bot's composition root: settings in, an Application with every handler out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommandScopeAllPrivateChats, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import accounts, handlers
from bot.callbacks import CallbackSigner
from bot.commands import KPM_COMMANDS, STAFF_COMMANDS
from bot.context import BotServices
from bot.linking import linking_conversation
from bot.sender import TelegramSender
from nlu.client import NLUClient
from pkh.assistant import Assistant
from pkh.settings import Settings
from programme.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The bot, wired to the NLU server, the database and the one sender."""
    token, key = settings.telegram_bot_token, settings.secret_key
    if token is None or key is None:
        raise ValueError("TELEGRAM_BOT_TOKEN and PKH_SECRET_KEY must be set to run the bot")
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    nlu = NLUClient(settings.nlu_url, timeout=settings.nlu_timeout_seconds)

    async def mark_unreachable(chat_id: int) -> None:
        """403 from Telegram: the user blocked the bot or the chat is gone; stop sending there."""
        await asyncio.to_thread(accounts.mark_unreachable, sessions, chat_id)

    sender = TelegramSender(on_unreachable=mark_unreachable)

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        me = await application.bot.get_me()
        application.bot_data["services"] = BotServices(
            assistant=Assistant(nlu=nlu, sessions=sessions),
            sessions=sessions,
            signer=CallbackSigner(key.get_secret_value()),
            secret_key=key.get_secret_value(),
            sender=sender,
            bot_username=me.username or "",
        )
        await application.bot.set_my_commands(
            list(KPM_COMMANDS), scope=BotCommandScopeAllPrivateChats()
        )
        log.info("bot @%s ready", me.username)

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        await nlu.aclose()
        engine.dispose()

    application = (
        ApplicationBuilder()
        .token(token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .rate_limiter(sender)
        .concurrent_updates(64)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    add_handlers(application)
    return application


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Every handler, in one place. Order matters: the first matching handler in a group wins."""
    # Group -1 runs first for every update: drop updates Telegram re-delivers.
    application.add_handler(TypeHandler(Update, handlers.skip_repeated_update), group=-1)
    # Linking by NIK + date of birth: a conversation that takes the next two texts, so it comes
    # before the free-text handler (and keeps the NIK away from the NLU).
    application.add_handler(linking_conversation())
    # Commands for everyone.
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler(["bantuan", "help", "menu"], handlers.show_help))
    application.add_handler(CommandHandler("berhenti", handlers.stop_reminders))
    application.add_handler(CommandHandler("mulai", handlers.resume_reminders))
    application.add_handler(CommandHandler("dataku", handlers.show_my_data))
    application.add_handler(CommandHandler("hapus", handlers.ask_to_delete))
    # Pendamping/admin commands: refused politely (and logged) for KPM.
    application.add_handler(
        CommandHandler([c.command for c in STAFF_COMMANDS], handlers.refuse_staff_command)
    )
    # Buttons.
    application.add_handler(CallbackQueryHandler(handlers.answer_button))
    # Edited messages are not answered again.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, handlers.answer_edited))
    # Free text: the questions.
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.answer_text))
    # Unknown commands are questions too ("/kapan cair" is still a question).
    application.add_handler(MessageHandler(filters.COMMAND, handlers.show_help))
    # Everything else a person can send (stickers, photos, voice, locations, documents…).
    application.add_handler(MessageHandler(filters.ALL, handlers.answer_other))
    application.add_error_handler(handlers.on_error)


@asynccontextmanager
async def polling_in_this_loop(
    application: Application,  # type: ignore[type-arg]
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run the bot with long polling inside the caller's event loop (tests and benchmarks).

    `run_polling()` owns its event loop and calls post_init/post_shutdown itself; here the caller
    owns the loop, so they are called by hand.
    """
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
