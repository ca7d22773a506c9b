"""Start-up that does not depend on Telegram answering at once, or on cosmetic calls.

`getMe` (the bot's own name, which PTB asks for in `initialize`) is retried with backoff until
Telegram answers; only a rejected token (401) ends the start. The command menus are set in the
background, retried, and never stop the bot: a bot without its menu still answers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import InvalidToken, TelegramError
from telegram.ext import ExtBot

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0  # seconds before the first retry; doubled after each failure
MAX_DELAY = 60.0
MENU_ATTEMPTS = 8  # a menu Telegram keeps refusing (400) is given up after this many tries


class PkhBot(ExtBot[Any]):
    """The bot, whose start-up waits for Telegram instead of failing at its first hiccup."""

    async def initialize(self) -> None:
        """PTB's initialize (which calls getMe), retried until Telegram answers."""
        delay = FIRST_DELAY
        while True:
            try:
                await super().initialize()
                return
            except InvalidToken:
                raise  # retrying cannot help: the operator must fix the token
            except TelegramError as error:
                log.warning(
                    "Telegram did not answer getMe (%s: %s); trying again in %.0f s",
                    type(error).__name__,
                    error.message,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)


async def keep_trying(
    what: str, call: Callable[[], Awaitable[object]], *, attempts: int | None = MENU_ATTEMPTS
) -> bool:
    """Call until it succeeds, with backoff; True if it did. For set-up nobody waits for.

    `attempts=None` tries until it succeeds (or the task is cancelled).
    """
    delay = FIRST_DELAY
    for attempt in itertools.count(1):
        try:
            await call()
            return True
        except InvalidToken:
            raise
        except TelegramError as error:
            reason = f"{type(error).__name__}: {error.message}"
            if attempt == attempts:
                log.error("gave up %s after %d tries (%s)", what, attempts, reason)
                return False
            log.warning("%s failed (%s); trying again in %.0f s", what, reason, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
    return False  # not reached: the loop only ends by returning
