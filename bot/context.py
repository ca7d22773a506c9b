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
from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from actions import Asker
from bot.assistant import Assistant
from bot.callbacks import CallbackSigner
from bot.delivery.scheduling import Scheduling
from bot.delivery.sender import TelegramSender
from core.quiet import QuietHours
from programme import accounts
from programme.buttons import ButtonKind
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
    quiet: QuietHours | None = None  # QUIET_HOURS, for telling when held messages go


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
    forward_to: int | None = None  # a KPM's next text goes to this pendamping (a handoff)


class BotData:
    """The bot's shared state: the services, set in post_init."""

    services: BotServices
    leadership: object | None = None


class BotContext(CallbackContext[ExtBot[Any], UserData, ChatData, BotData]):
    """The context every handler gets."""

    telegram_user_id: int | None = None  # the person behind the update, whom buttons are for

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, BotContext, Any, Any, Any, Any]
    ) -> BotContext:
        context = super().from_update(update, application)
        user = update.effective_user if isinstance(update, Update) else None
        context.telegram_user_id = user.id if user is not None else None
        return context

    @property
    def services(self) -> BotServices:
        return self.bot_data.services

    def sign(self, kind: ButtonKind, value: str) -> str:
        """Callback data for a button that only the person behind this update may use."""
        if self.telegram_user_id is None:
            raise LookupError("a button needs the person it is for")
        return self.services.signer.sign(kind, value, for_user=self.telegram_user_id)


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


def in_private_chat(update: Update) -> bool:
    """Whether the update comes from a person's private chat with the bot."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def current_asker(update: Update, context: BotContext) -> Asker:
    """The Asker for the person behind this update (created on first contact).

    Only a message in the private chat tells us where to reach the person: a group's chat never
    becomes the account's chat (bot.groups). Updates without a person (channel posts, an
    anonymous admin) are stopped before any handler (handlers.gate); here they get an anonymous
    Asker rather than an account.
    """
    user = update.effective_user
    if user is None or user.is_bot:
        return Asker()
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else user.id
    sender = accounts.Sender(user.id, chat_id, user.first_name, user.username, user.language_code)
    if in_private_chat(update):
        context.services.sender.mark_reachable(chat_id)  # they wrote to us: the chat works again
    return await in_session(
        context, lambda session: Asker.from_user(accounts.upsert_user(session, sender))
    )


async def reply_text(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)
