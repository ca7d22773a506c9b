"""What every handler shares: the services opened at start-up, sessions, the current asker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import ContextTypes

from actions import Asker
from bot.assistant import Assistant
from bot.callbacks import CallbackSigner
from bot.scheduling import Scheduling
from bot.sender import TelegramSender
from programme import accounts

T = TypeVar("T")


@dataclass
class BotServices:
    """What the handlers share, opened in post_init and closed in post_shutdown."""

    assistant: Assistant
    sessions: sessionmaker[Session]
    signer: CallbackSigner
    secret_key: str
    sender: TelegramSender
    scheduling: Scheduling
    bot_username: str = ""


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    found: BotServices = context.bot_data["services"]
    return found


async def in_session(context: ContextTypes.DEFAULT_TYPE, work: Callable[[Session], T]) -> T:
    """Run `work` in a worker thread inside one transaction."""

    def run() -> T:
        with services(context).sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def current_asker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Asker:
    """The Asker for the person behind this update (created on first contact)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None  # only called for updates from a person
    sender = accounts.Sender(user.id, chat.id, user.first_name, user.username, user.language_code)
    services(context).sender.mark_reachable(chat.id)  # they wrote to us: the chat works again
    return await in_session(
        context, lambda session: Asker.from_user(accounts.upsert_user(session, sender))
    )


async def reply_text(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)
