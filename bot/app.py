"""The Telegram bot's composition root: settings in, an Application with every handler out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import cast

from telegram import BotCommandScopeAllPrivateChats, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import handlers
from bot.assistant import Assistant
from bot.callbacks import CallbackSigner
from bot.commands import KPM_COMMANDS, STAFF_COMMANDS
from bot.context import CONTEXT_TYPES, BotApplication, BotServices
from bot.delivery.drain import OutboxDrain
from bot.delivery.leader import Leadership, leader_lock_for
from bot.delivery.scheduling import Scheduling
from bot.delivery.sender import Limit, TelegramSender
from bot.intake import UpdatesRequest
from bot.lanes import ChatLanes, Flood, FloodOver
from bot.linking import linking_conversation
from bot.pendamping import jadwal, kelompok, siaran
from bot.startup import PkhBot, keep_trying
from bot.webhook import register_webhook, webhook_server
from core.quiet import QuietHours
from core.settings import Settings
from nlu.client import NLUClient
from programme import accounts
from programme.db import make_engine, make_session_factory
from programme.models import utcnow

log = logging.getLogger(__name__)
REMEMBER_GROUP = 100  # after every group of handlers


def build_application(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow
) -> BotApplication:
    """The bot, wired to the NLU server, the database, the one sender and the scheduler.

    Every worker answers updates; the one that holds the leader lock (bot.delivery.leader) also
    runs the scheduler's jobs and drains the outbox. `clock` is for tests that need another "now".
    """
    token, key = settings.telegram_bot_token, settings.secret_key
    if token is None or key is None:
        raise ValueError("TELEGRAM_BOT_TOKEN and PKH_SECRET_KEY must be set to run the bot")
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    nlu = NLUClient(settings.nlu_url, timeout=settings.nlu_timeout_seconds)

    async def mark_unreachable(chat_id: int) -> None:
        """403 from Telegram: the user blocked the bot or the chat is gone; stop sending there."""
        await asyncio.to_thread(accounts.mark_unreachable, sessions, chat_id)

    sender = TelegramSender(
        overall=Limit(settings.telegram_bulk_rate, 1.0), on_unreachable=mark_unreachable
    )
    signer = CallbackSigner(key.get_secret_value())
    scheduling = Scheduling(engine, sessions, clock=clock)
    leadership_task: asyncio.Task[None] | None = None
    menu_task: asyncio.Task[bool] | None = None
    bot = PkhBot(
        token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        request=HTTPXRequest(connection_pool_size=256),
        # Each update of a getUpdates answer is read on its own (bot.intake).
        get_updates_request=UpdatesRequest(connection_pool_size=1),
        rate_limiter=sender,
    )

    async def tell_to_slow_down(flood: Flood) -> None:
        await handlers.tell_to_slow_down(bot, flood)

    async def record_flood(over: FloodOver) -> None:
        await asyncio.to_thread(handlers.record_flood, sessions, over)

    # One lane per chat: a flooding chat holds at most a few of the 64 workers (bot.lanes).
    lanes = ChatLanes(64, on_flood=tell_to_slow_down, on_flood_over=record_flood)

    async def post_init(application: BotApplication) -> None:
        nonlocal leadership_task, menu_task
        me = application.bot.bot  # PkhBot.initialize waited for getMe
        application.bot_data.services = BotServices(
            assistant=Assistant(nlu=nlu, sessions=sessions),
            sessions=sessions,
            signer=signer,
            secret_key=key.get_secret_value(),
            sender=sender,
            scheduling=scheduling,
            bot_username=me.username or "",
            quiet=QuietHours.parse(settings.quiet_hours),
        )
        # The menu is cosmetic: set in the background, retried, never stopping the bot.
        menu_task = asyncio.create_task(
            keep_trying(
                "setting the command menu",
                lambda: application.bot.set_my_commands(
                    list(KPM_COMMANDS), scope=BotCommandScopeAllPrivateChats()
                ),
            ),
            name="command menu",
        )
        drain = OutboxDrain(
            application.bot,
            sessions,
            signer,
            clock=clock,
            quiet=QuietHours.parse(settings.quiet_hours),
            concurrency=settings.outbox_concurrency,
        )
        scheduling.set_outbox_changed(drain.poke)
        scheduling.start()
        leadership = Leadership(
            leader_lock_for(settings.database_url), scheduling, drain, sessions, clock=clock
        )
        application.bot_data.leadership = leadership
        leadership_task = asyncio.create_task(leadership.run(), name="leadership")
        log.info("bot @%s ready", me.username)

    async def post_stop(application: BotApplication) -> None:
        # Before the bot's HTTP client closes: the drain may be sending.
        for task in (leadership_task, menu_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        scheduling.shutdown()

    async def post_shutdown(application: BotApplication) -> None:
        await nlu.aclose()
        engine.dispose()

    application: BotApplication = cast(  # PkhBot is an ExtBot; Application's type is invariant
        BotApplication,
        ApplicationBuilder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(lanes)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build(),
    )
    add_handlers(application)
    return application


def add_handlers(application: BotApplication) -> None:
    """Every handler, in one place. Order matters: the first matching handler in a group wins."""
    # Group -2 runs first for every update: drop updates Telegram re-delivers. Then group -1
    # stops what no handler should see (no person behind it, a command for another bot, a button
    # tapped by someone it was not shown to).
    application.add_handler(TypeHandler(Update, handlers.skip_repeated_update), group=-2)
    # The last group records the update as handled (unless a handler above stopped it).
    application.add_handler(TypeHandler(Update, handlers.remember_update), group=REMEMBER_GROUP)
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    # The user blocked or unblocked the bot.
    application.add_handler(
        ChatMemberHandler(handlers.track_blocking, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    # Linking by NIK + date of birth: a conversation that takes the next two texts, so it comes
    # before the free-text handler (and keeps the NIK away from the NLU).
    application.add_handler(linking_conversation())
    # Commands that show or change the asker's own data work in the private chat only.
    application.add_handler(
        CommandHandler(
            ["dataku", "hapus", "berhenti", "mulai", "hubungkan"],
            handlers.refuse_in_group,
            ~filters.ChatType.PRIVATE,
        )
    )
    # Commands for everyone.
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler(["bantuan", "help", "menu"], handlers.show_help))
    application.add_handler(CommandHandler("berhenti", handlers.stop_reminders))
    application.add_handler(CommandHandler("mulai", handlers.resume_reminders))
    application.add_handler(CommandHandler("dataku", handlers.show_my_data))
    application.add_handler(CommandHandler("hapus", handlers.ask_to_delete))
    # The pendamping's tools, in private chats; anyone else gets a polite no inside (KPM: logged).
    # /jadwal and /siaran are one conversation whose typed steps come before the free-text
    # handler; /kelompok, /undangan and the buttons under a listed meeting or broadcast need no
    # conversation. Their buttons are told apart by their signed kind, before the generic ones.
    application.add_handler(kelompok.tools_conversation())
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("kelompok", kelompok.show_kelompok, private))
    application.add_handler(
        CommandHandler("undangan", kelompok.choose_kelompok_for_invites, private)
    )
    application.add_handler(
        CallbackQueryHandler(kelompok.show_families, pattern=rf"^{kelompok.KELOMPOK}:")
    )
    application.add_handler(
        CallbackQueryHandler(kelompok.make_invites, pattern=rf"^{kelompok.UNDANGAN}:")
    )
    application.add_handler(
        CallbackQueryHandler(jadwal.meeting_action, pattern=rf"^{jadwal.ONE_TAP}:")
    )
    application.add_handler(
        CallbackQueryHandler(siaran.broadcast_action, pattern=rf"^{siaran.ONE_TAP}:")
    )
    # The same commands anywhere else (a group chat): refused politely.
    application.add_handler(
        CommandHandler([c.command for c in STAFF_COMMANDS], handlers.refuse_staff_command)
    )
    # Buttons.
    application.add_handler(CallbackQueryHandler(handlers.answer_button))
    # Edited messages are not answered again.
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, handlers.answer_edited))
    # Free text, and the caption of a photo or document: the questions.
    application.add_handler(
        MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND, handlers.answer_text)
    )
    # Unknown commands get the help ("/kapan cair" is still a question).
    application.add_handler(MessageHandler(filters.COMMAND, handlers.answer_unknown_command))
    # Everything else a person can send (stickers, photos, voice, locations, documents…).
    application.add_handler(MessageHandler(filters.ALL, handlers.answer_other))
    application.add_error_handler(handlers.on_error)


@asynccontextmanager
async def started(application: BotApplication) -> AsyncIterator[BotApplication]:
    """The bot initialised and handling updates inside the caller's event loop.

    `run_polling()` owns its event loop and calls post_init/post_stop/post_shutdown itself; here
    the caller owns the loop, so they are called by hand. Updates come from whoever feeds
    `update_queue`: the updater's long polling, or the webhook server.
    """
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        try:
            yield application
        finally:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


@asynccontextmanager
async def polling_in_this_loop(application: BotApplication) -> AsyncIterator[BotApplication]:
    """Run the bot with long polling inside the caller's event loop (tests and benchmarks)."""
    async with started(application):
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1, bootstrap_retries=-1)
        try:
            yield application
        finally:
            await application.updater.stop()


@asynccontextmanager
async def webhook_in_this_loop(
    application: BotApplication, *, listen: str, port: int, url: str, secret_token: str
) -> AsyncIterator[BotApplication]:
    """Run the bot in webhook mode inside the caller's event loop, until the block ends."""
    server = webhook_server(application, listen=listen, port=port, secret_token=secret_token)
    async with started(application):
        serving = asyncio.create_task(server.serve(), name="webhook server")
        try:
            while not server.started:
                if serving.done():
                    serving.result()  # it could not start: raise why
                    raise RuntimeError("the webhook server stopped before it started")
                await asyncio.sleep(0.02)
            await register_webhook(
                application, url=url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES
            )
            yield application
        finally:
            server.should_exit = True
            await serving


async def serve_webhook(
    application: BotApplication, *, listen: str, port: int, url: str, secret_token: str
) -> None:
    """`pkh bot run --webhook`: serve until SIGTERM or Ctrl-C, then stop cleanly."""
    stop, main = asyncio.Event(), asyncio.current_task()

    def on_signal() -> None:
        # While still starting (getMe may be waiting for Telegram) there is nothing to drain.
        if stop.is_set() or main is None:
            return
        stop.set()
        if not serving:
            main.cancel()

    serving = False
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    with contextlib.suppress(asyncio.CancelledError):
        async with webhook_in_this_loop(
            application, listen=listen, port=port, url=url, secret_token=secret_token
        ):
            serving = True
            await stop.wait()
