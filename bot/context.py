"""What every handler shares: a typed context (services, chat and user data), sessions, the asker.

python-telegram-bot's `ContextTypes` lets the context, bot_data, chat_data and user_data be our
own classes (as its contexttypesbot.py example does), so handlers read attributes, not string keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from actions import Asker
from bot.assistant import Assistant
from bot.callbacks import CallbackSigner
from bot.delivery.scheduling import Scheduling
from bot.delivery.sender import TelegramSender
from programme import accounts
from programme.models import TelegramUser

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


@dataclass
class ChatData:
    """What the bot remembers of one chat, in memory: the questions behind its recent answers."""

    questions: dict[int, str] = field(default_factory=dict)  # answer message id -> question
    last_question: str | None = None  # what a handoff forwards

    def forget(self) -> None:
        """After /hapus: nothing of this chat is kept."""
        self.questions.clear()
        self.last_question = None


@dataclass
class UserData:
    """What the bot remembers of one person, in memory, while a conversation lasts."""

    drafts: dict[str, Any] = field(default_factory=dict)  # /jadwal and /siaran, by tool
    nik: str | None = None  # between the two steps of linking by NIK, then forgotten
    replying_to: int | None = None  # a pendamping's next text goes to this KPM chat


class BotData:
    """The bot's shared state: the services, set in post_init."""

    services: BotServices
    leadership: object | None = None


class BotContext(CallbackContext[ExtBot[Any], UserData, ChatData, BotData]):
    """The context every handler gets."""

    @property
    def services(self) -> BotServices:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(
    context=BotContext, bot_data=BotData, chat_data=ChatData, user_data=UserData
)
BotApplication = Application[ExtBot[Any], BotContext, UserData, ChatData, BotData, Any]


async def in_session(context: BotContext, work: Callable[[Session], T]) -> T:
    """Run `work` in a worker thread inside one transaction."""

    def run() -> T:
        with context.services.sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def with_account(
    context: BotContext, asker: Asker, work: Callable[[Session, TelegramUser], T]
) -> T:
    """Run `work` on the asker's own account row, inside one transaction."""
    return await in_session(
        context, lambda session: work(session, accounts.account(session, asker))
    )


async def current_asker(update: Update, context: BotContext) -> Asker:
    """The Asker for the person behind this update (created on first contact)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None  # only called for updates from a person
    sender = accounts.Sender(user.id, chat.id, user.first_name, user.username, user.language_code)
    context.services.sender.mark_reachable(chat.id)  # they wrote to us: the chat works again
    return await in_session(
        context, lambda session: Asker.from_user(accounts.upsert_user(session, sender))
    )


async def reply_text(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)
