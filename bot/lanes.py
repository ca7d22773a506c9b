"""Fair use of the workers: one lane per chat, so one noisy chat cannot delay everyone else.

python-telegram-bot handles up to N updates at once (`concurrent_updates`). Without lanes, one
person who sends 120 messages in 3 seconds holds all N workers, each waiting for the sender's one
message per second to that chat, and every other user waits behind them. Here a chat's updates
run one at a time, in the order they came (which conversations want anyway), and at most
`backlog` more wait for their turn: a chat never holds more than 1 + backlog of the N workers.
What a chat sends beyond that, faster than the bot can answer, is dropped — not merged: a
question glued to the next one would only confuse the NLU. The first drop of a flood calls
`on_flood` (the bot sends one polite notice); when the chat's lane is empty again
`on_flood_over` hears how many were dropped (the bot records that once for the admins).

It is PTB's extension point for this (`BaseUpdateProcessor`, given to
`ApplicationBuilder.concurrent_updates`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

PRIVATE_BACKLOG = 3  # a person's quick follow-ups ("halo", then the question) still get answered
GROUP_BACKLOG = 8  # a group's chatter is handled fast (the bot answers only when addressed)
NOTICE_INTERVAL = 600.0  # seconds: at most one "pelan-pelan ya" per chat in this time


@dataclass(frozen=True)
class Flood:
    """A chat that sends faster than the bot can answer."""

    chat_id: int
    telegram_user_id: int | None
    language_code: str | None
    private: bool


@dataclass(frozen=True)
class FloodOver:
    """The end of a flood: how many of the chat's updates were dropped, over how long."""

    flood: Flood
    dropped: int
    seconds: float


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    occupied: int = 0  # updates of this chat running or waiting
    dropped: int = 0
    flood: Flood | None = None
    first_drop_at: float = 0.0


class ChatLanes(BaseUpdateProcessor):
    """Runs each chat's updates one at a time and drops a flooding chat's surplus."""

    def __init__(
        self,
        max_concurrent_updates: int,
        *,
        private_backlog: int = PRIVATE_BACKLOG,
        group_backlog: int = GROUP_BACKLOG,
        notice_interval: float = NOTICE_INTERVAL,
        on_flood: Callable[[Flood], Awaitable[None]] | None = None,
        on_flood_over: Callable[[FloodOver], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._private_backlog = private_backlog
        self._group_backlog = group_backlog
        self._notice_interval = notice_interval
        self._on_flood = on_flood
        self._on_flood_over = on_flood_over
        self._lanes: dict[int, _Lane] = {}
        self._noticed_at: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update in its chat's lane, or drop it if the lane is full."""
        chat_id, private = _chat_of(update)
        if chat_id is None:  # no chat (an inline query, a poll): nothing to keep in order
            await coroutine
            return
        lane = self._lanes.setdefault(chat_id, _Lane())
        backlog = self._private_backlog if private else self._group_backlog
        if lane.occupied > backlog:
            self._drop(lane, update, coroutine, chat_id, private)
            return
        lane.occupied += 1
        try:
            async with lane.lock:
                await coroutine
        finally:
            lane.occupied -= 1
            if not lane.occupied:
                del self._lanes[chat_id]
                if lane.flood is not None:
                    self._flood_over(lane)

    def _drop(
        self, lane: _Lane, update: object, coroutine: Awaitable[Any], chat_id: int, private: bool
    ) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never run: no "was never awaited" warning
        lane.dropped += 1
        if lane.flood is not None:
            return
        user = update.effective_user if isinstance(update, Update) else None
        lane.flood = Flood(
            chat_id, user.id if user else None, user.language_code if user else None, private
        )
        lane.first_drop_at = _now()
        log.info("chat %s sends faster than it can be answered: dropping its surplus", chat_id)
        last = self._noticed_at.get(chat_id)
        if self._on_flood is not None and (last is None or _now() - last >= self._notice_interval):
            self._noticed_at[chat_id] = _now()
            self._spawn(self._on_flood(lane.flood))
        self._forget_old_notices()

    def _flood_over(self, lane: _Lane) -> None:
        assert lane.flood is not None
        over = FloodOver(lane.flood, lane.dropped, _now() - lane.first_drop_at)
        log.info(
            "chat %s: %d updates dropped over %.1f s",
            over.flood.chat_id,
            over.dropped,
            over.seconds,
        )
        if self._on_flood_over is not None:
            self._spawn(self._on_flood_over(over))

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("flood notice or record failed")

        task = asyncio.create_task(run(), name="flood")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget_old_notices(self) -> None:
        if len(self._noticed_at) > 4096:
            now = _now()
            self._noticed_at = {
                chat: at
                for chat, at in self._noticed_at.items()
                if now - at < self._notice_interval
            }

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Let notices and records under way finish (they are short)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)


def _chat_of(update: object) -> tuple[int | None, bool]:
    """The chat an update belongs to and whether it is a private chat."""
    if not isinstance(update, Update):
        return None, False
    chat = update.effective_chat
    if chat is None:
        return None, False
    return chat.id, chat.type == "private"


def _now() -> float:
    return asyncio.get_running_loop().time()
