"""The one outgoing sender: every Bot API call passes here to keep Telegram's flood limits.

It plugs into python-telegram-bot as the bot's rate limiter
(`ApplicationBuilder().rate_limiter(TelegramSender(...))`), so no call can go around it.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, NamedTuple, TypedDict

from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

_LOGGER = logging.getLogger(__name__)

Priority = Literal["interactive", "bulk"]
ChatKey = int | str
ApiResult = bool | dict[str, Any] | list[dict[str, Any]]
ApiCallback = Callable[..., Coroutine[Any, Any, ApiResult]]

# Endpoints that put or change a message in a chat are what Telegram's per-chat limits count.
# A prefix rule keeps new Bot API methods covered; counting a rare admin call such as
# editForumTopic too only costs that call a short wait.
_MESSAGE_PREFIXES = ("send", "copy", "forward", "edit", "stop")
# A typing indicator is not a message, and waiting a second after it would delay the reply.
_NOT_MESSAGES = frozenset({"sendChatAction"})
# The per-chat "last send" table is pruned of chats that are free again once it grows past this.
_CHAT_TABLE_PRUNE_FLOOR = 4096


class SendOptions(TypedDict, total=False):
    """What callers pass as `rate_limit_args=`; bulk senders pass {"priority": "bulk"}."""

    priority: Priority
    # False for the outbox: a send that timed out may have reached Telegram, and sending it again
    # could show it twice; the outbox records it as failed instead ("resend to failed").
    retry_timeouts: bool


class Limit(NamedTuple):
    """At most `messages` messages in any `seconds`."""

    messages: float
    seconds: float


@dataclass
class SenderStats:
    """What the sender has done; each finished request is exactly one of sent/failed/unreachable."""

    sent: int = 0
    retried_429: int = 0
    retried_network: int = 0
    failed: int = 0
    unreachable: int = 0


# Telegram's published limits; the sender keeps under them by `safety_margin`.
TELEGRAM_OVERALL = Limit(FloodLimit.MESSAGES_PER_SECOND, 1.0)
# Above this overall rate (TELEGRAM_BULK_RATE), bulk messages are sent as paid broadcasts.
FREE_BROADCAST_RATE = float(FloodLimit.MESSAGES_PER_SECOND)
TELEGRAM_PRIVATE_CHAT = Limit(FloodLimit.MESSAGES_PER_SECOND_PER_CHAT, 1.0)
TELEGRAM_GROUP = Limit(FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP, 60.0)


class TelegramSender(BaseRateLimiter[SendOptions]):
    """Keeps Telegram's flood limits, puts replies before bulk traffic, retries and gives up."""

    def __init__(
        self,
        *,
        overall: Limit = TELEGRAM_OVERALL,
        private_chat: Limit = TELEGRAM_PRIVATE_CHAT,
        group: Limit = TELEGRAM_GROUP,
        safety_margin: float = 0.05,
        max_flood_retries: int = 5,
        max_network_retries: int = 3,
        network_backoff: float = 0.5,
        on_unreachable: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        for limit in (overall, private_chat, group):
            if limit.messages <= 0 or limit.seconds <= 0:
                raise ValueError(f"limits must be positive, got {limit}")
        if safety_margin < 0:
            raise ValueError("safety_margin must not be negative")
        self._margin = safety_margin
        self._overall = _overall_limiter(overall, safety_margin)
        self._paid_broadcast = overall.messages / overall.seconds > FREE_BROADCAST_RATE
        self._private_interval = private_chat.seconds * (1 + safety_margin) / private_chat.messages
        self._group_interval = group.seconds * (1 + safety_margin) / group.messages
        self._max_flood_retries = max_flood_retries
        self._max_network_retries = max_network_retries
        self._network_backoff = network_backoff
        self._on_unreachable = on_unreachable

        self._resume_at = 0.0  # loop time before which nothing is sent, after a 429
        self._chat_free_at: dict[ChatKey, float] = {}
        self._chat_table_prune_at = _CHAT_TABLE_PRUNE_FLOOR
        self._unreachable: set[ChatKey] = set()
        self._interactive_waiting = 0
        self._no_interactive_waiting = asyncio.Event()
        self._no_interactive_waiting.set()
        self._bulk_lane = asyncio.Lock()
        self._stats = SenderStats()

    @property
    def stats(self) -> SenderStats:
        """A snapshot of the counters."""
        return replace(self._stats)

    def is_unreachable(self, chat_id: ChatKey) -> bool:
        """Whether sends to this chat are refused because it blocked the bot or is gone."""
        return _normalise(chat_id) in self._unreachable

    def mark_reachable(self, chat_id: ChatKey) -> None:
        """Send to this chat again (the user wrote to the bot, so it is no longer blocked)."""
        self._unreachable.discard(_normalise(chat_id))

    def mark_blocked(self, chat_id: ChatKey) -> None:
        """Refuse sends to this chat from now on (Telegram told us the user blocked the bot)."""
        self._unreachable.add(_normalise(chat_id))

    async def initialize(self) -> None:
        """Nothing to open: limiters bind to the running event loop on first use."""

    async def shutdown(self) -> None:
        """Nothing to close; the counters are logged for the record."""
        _LOGGER.debug("sender shut down: %s", self._stats)

    async def process_request(
        self,
        callback: ApiCallback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendOptions | None,
    ) -> ApiResult:
        """Make one Bot API call within the limits; retry 429s, timeouts and 5xx, then raise."""
        priority = _priority(rate_limit_args)
        retry_timeouts = (rate_limit_args or {}).get("retry_timeouts", True)
        chat = _chat_key(data) if _is_message_endpoint(endpoint) else None
        if self._paid_broadcast and priority == "bulk" and chat is not None:
            # Beyond the free ~30 a second, Telegram takes bulk messages only as paid broadcasts
            # (allow_paid_broadcast: up to 1,000 a second, 0.1 Star each from the bot's balance).
            paid = {**data, "allow_paid_broadcast": True}
            args = tuple(paid if argument is data else argument for argument in args)
        try:
            result = await self._send_with_retries(
                callback, args, kwargs, chat, priority, retry_timeouts=retry_timeouts
            )
        except Forbidden:
            if chat is None:
                self._stats.failed += 1
            else:
                self._stats.unreachable += 1
            raise
        except Exception:
            self._stats.failed += 1
            raise
        self._stats.sent += 1
        return result

    async def _send_with_retries(
        self,
        callback: ApiCallback,
        args: Any,
        kwargs: dict[str, Any],
        chat: ChatKey | None,
        priority: Priority,
        *,
        retry_timeouts: bool,
    ) -> ApiResult:
        """Call the API until it answers; PTB leaves retries to the caller, we own them here."""
        # BaseRateLimiter's docs say a limiter "should not" handle errors other than RetryAfter.
        # We do on purpose: one place owns every retry, so handlers, broadcasts and reminders
        # never each grow their own loop (and their own idea of backoff).
        flood_retries = network_retries = 0
        while True:
            self._refuse_if_unreachable(chat)
            await self._wait_for_turn(chat, priority)
            # A 403 may have come for this chat while we waited.
            self._refuse_if_unreachable(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if flood_retries == self._max_flood_retries:
                    raise
                flood_retries += 1
                self._stats.retried_429 += 1
                self._pause_everyone(retry_after_seconds(exc))
            except Forbidden:
                if chat is not None:
                    await self._mark_unreachable(chat)
                raise
            except BadRequest:
                raise  # a NetworkError subclass, but the same request would fail the same way
            except NetworkError as exc:
                # Timeouts, 5xx and dropped connections. A read timeout on a send that did reach
                # Telegram makes the retry a duplicate: fine for a reply (better twice than
                # never), not for the outbox, which asks us not to (a pool timeout never left).
                if isinstance(exc, TimedOut) and not retry_timeouts and not _never_sent(exc):
                    raise
                if network_retries == self._max_network_retries:
                    raise
                delay = self._network_backoff * 2**network_retries
                network_retries += 1
                self._stats.retried_network += 1
                _LOGGER.debug("%s; retrying in %.2f s", exc, delay)
                await asyncio.sleep(delay)

    async def _wait_for_turn(self, chat: ChatKey | None, priority: Priority) -> None:
        """Wait until sending now keeps every limit; the caller must send without awaiting first."""
        while True:
            await self._wait_until_resumed()
            if chat is not None:
                await self._wait_until_chat_free(chat)
            await self._take_overall_slot(priority)
            now = _now()
            # A 429 or another send to this chat may have come while we waited for the slot.
            # The slot is then given up: that only ever sends less than the limit allows.
            if now >= self._resume_at and (chat is None or now >= self._chat_free_time(chat)):
                if chat is not None:
                    self._note_chat_send(chat, now)
                return

    # Neither wait below is polling: each sleep lasts exactly until the current deadline, which
    # only moves when a 429 or another send to the same chat pushes it later.
    async def _wait_until_resumed(self) -> None:
        """Sleep while sending is paused after a 429."""
        while (delay := self._resume_at - _now()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    async def _wait_until_chat_free(self, chat: ChatKey) -> None:
        """Sleep until this chat may get its next message."""
        while (delay := self._chat_free_time(chat) - _now()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def _chat_free_time(self, chat: ChatKey) -> float:
        """The loop time from which this chat may get its next message."""
        return self._chat_free_at.get(chat, 0.0)

    async def _take_overall_slot(self, priority: Priority) -> None:
        """Take the next bot-wide slot, letting every waiting interactive request go first."""
        if priority == "interactive":
            self._interactive_waiting += 1
            self._no_interactive_waiting.clear()
            try:
                await self._overall.acquire()
            finally:
                self._interactive_waiting -= 1
                if not self._interactive_waiting:
                    self._no_interactive_waiting.set()
            return
        # Only one bulk request at a time waits in the limiter, so a reply that arrives behind
        # a backlog of thousands of bulk sends has at most one of them ahead of it.
        async with self._bulk_lane:
            await self._no_interactive_waiting.wait()
            await self._overall.acquire()

    def _note_chat_send(self, chat: ChatKey, now: float) -> None:
        """Record a send to a chat at the moment it goes out, not when it started waiting."""
        # Recording at send time matters: a bulk message that queued for minutes must still be
        # spaced from a reply that went to the same chat just before it.
        if len(self._chat_free_at) >= self._chat_table_prune_at:
            self._chat_free_at = {key: t for key, t in self._chat_free_at.items() if t > now}
            self._chat_table_prune_at = max(_CHAT_TABLE_PRUNE_FLOOR, 2 * len(self._chat_free_at))
        interval = self._private_interval if _is_private(chat) else self._group_interval
        self._chat_free_at[chat] = now + interval

    def _pause_everyone(self, retry_after: float) -> None:
        """Hold every request, waiting or new, until Telegram's retry_after has passed."""
        pause = retry_after * (1 + self._margin)
        self._resume_at = max(self._resume_at, _now() + pause)
        _LOGGER.debug("429 from Telegram: all sends paused for %.2f s", pause)

    def _refuse_if_unreachable(self, chat: ChatKey | None) -> None:
        """Fail fast, without calling the API, for a chat that blocked the bot or is gone."""
        if chat is not None and chat in self._unreachable:
            raise Forbidden(f"Forbidden: chat {chat} is unreachable (blocked or deactivated)")

    async def _mark_unreachable(self, chat: ChatKey) -> None:
        """Remember a chat that answered 403 and tell the bot, once."""
        if chat in self._unreachable:
            return
        self._unreachable.add(chat)
        _LOGGER.debug("chat %s is unreachable; further sends are refused", chat)
        if self._on_unreachable is not None and isinstance(chat, int):
            await self._on_unreachable(chat)


def _overall_limiter(overall: Limit, margin: float) -> AsyncLimiter:
    """A leaky bucket for the bot-wide limit whose fullest burst plus a period fits the limit."""
    rate = overall.messages / (overall.seconds * (1 + margin))
    # The bucket holds the margin's share of the limit (at least one message): a full bucket plus
    # one period at `rate` is still within `messages`, and a late event-loop wake-up is made up for
    # instead of lost, which keeps sustained throughput at `rate`.
    capacity = max(1.0, overall.messages - rate * overall.seconds)
    return AsyncLimiter(max_rate=capacity, time_period=capacity / rate)


def _now() -> float:
    """The event loop's clock, which aiolimiter and asyncio.sleep also use."""
    return asyncio.get_running_loop().time()


def _priority(options: SendOptions | None) -> Priority:
    """The request's priority; replies unless the caller said bulk."""
    if options is None:
        return "interactive"
    priority = options.get("priority", "interactive")
    if priority not in ("interactive", "bulk"):
        raise ValueError(f"unknown priority {priority!r}")
    return priority


def _is_message_endpoint(endpoint: str) -> bool:
    """Whether the call puts or changes a message in a chat."""
    return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES


def _chat_key(data: Mapping[str, object]) -> ChatKey | None:
    """The chat a call goes to, if it names one."""
    chat_id = data.get("chat_id")
    if isinstance(chat_id, int | str) and not isinstance(chat_id, bool):
        return _normalise(chat_id)
    return None


def _normalise(chat_id: ChatKey) -> ChatKey:
    """One key per chat: "-100123" and -100123 are the same chat, "@name" stays a string."""
    if isinstance(chat_id, str):
        try:
            return int(chat_id)
        except ValueError:
            return chat_id
    return chat_id


def _is_private(chat: ChatKey) -> bool:
    """Private chats have positive ids; groups, supergroups and channels negative or @names."""
    return isinstance(chat, int) and chat > 0


def _never_sent(exc: TimedOut) -> bool:
    """A pool timeout: no connection was free, so the request never left."""
    return "pool timeout" in str(exc).lower()


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this PTB version hands out."""
    with warnings.catch_warnings():
        # PTB 22 warns that the int form is deprecated; we accept both forms.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
