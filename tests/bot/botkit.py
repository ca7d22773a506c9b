"""What the bot's robustness tests share: settings for the emulator, a chat, captured logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core.settings import Settings
from devtools.emulator import BotApiEmulator, SentMessage

TOKEN = "123456:TEST-TOKEN"


def settings_for(emulator: BotApiEmulator, database_url: str, nlu_url: str, key: str) -> Settings:
    return Settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.base_url,
        DATABASE_URL=database_url,
        NLU_URL=nlu_url,
        PKH_SECRET_KEY=key,
        QUIET_HOURS="off",
    )


@dataclass
class Chat:
    """A user talking to the bot through the emulator, in their private chat or a group."""

    emulator: BotApiEmulator
    user_id: int
    chat_id: int | None = None  # a group's id; None: the private chat

    @property
    def where(self) -> int:
        return self.user_id if self.chat_id is None else self.chat_id

    def count(self) -> int:
        return sum(1 for m in self.emulator.sent if m.chat_id == self.where)

    async def expect(
        self,
        before: int,
        replies: int = 1,
        timeout: float = 15,  # noqa: ASYNC109 - a plain number reads best in tests
    ) -> list[SentMessage]:
        sent = await self.emulator.wait_for_sent(
            chat_id=self.where, count=before + replies, timeout=timeout
        )
        return sent[before:]

    def send(self, text: str) -> None:
        if self.chat_id is None:
            self.emulator.user_sends(self.user_id, text)
        else:
            self.emulator.group_message(self.chat_id, self.user_id, text)

    async def say(self, text: str) -> SentMessage:
        before = self.count()
        self.send(text)
        return (await self.expect(before))[-1]


def buttons_of(message: SentMessage) -> list[dict[str, str]]:
    return [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


class Records(logging.Handler):
    """Log records of the whole process while a block runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int = logging.INFO) -> list[str]:
        """What a log at `level` would hold (httpx's request lines are off in production)."""
        return [
            f"{r.levelname} {r.name}: {r.getMessage()}"
            for r in self.records
            if r.levelno >= level and not r.name.startswith("httpx")
        ]

    def errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR]


@contextmanager
def captured_logs() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
