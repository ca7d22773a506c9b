"""The sender keeps Telegram's limits, puts replies first, retries and gives up on blocked chats."""

# Limits are scaled down (fractions of a second instead of seconds and minutes) so the whole
# file runs in a few seconds; the arithmetic is the same as with Telegram's numbers.

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Collection, Iterator, Sequence
from datetime import timedelta
from itertools import pairwise
from typing import Any, cast

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from bot.delivery.sender import ApiCallback, ApiResult, Limit, SendOptions, TelegramSender

# Slack for timer resolution when comparing loop times.
EPS = 0.005


def flood(seconds: float) -> RetryAfter:
    """A 429 as PTB raises it, without PTB's warning about the int form of retry_after."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(timedelta(seconds=seconds))


def now() -> float:
    """The event loop's clock, the one the sender uses."""
    return asyncio.get_running_loop().time()


class FakeApi:
    """Stands in for PTB's HTTP call: records when each request reached "Telegram"."""

    def __init__(
        self, failures: Sequence[Exception | None] = (), *, forbidden_chats: Collection[int] = ()
    ) -> None:
        self.calls: list[tuple[float, str, Any]] = []
        self._failures: Iterator[Exception | None] = iter(failures)
        self._forbidden_chats = forbidden_chats

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        """Answer like the Bot API: the next scripted failure (None: none), or 403 if blocked."""
        self.calls.append((now(), endpoint, data.get("chat_id")))
        await asyncio.sleep(0)  # a real call yields to the loop before it answers
        failure = next(self._failures, None)
        if failure is not None:
            raise failure
        if data.get("chat_id") in self._forbidden_chats:
            raise Forbidden("Forbidden: bot was blocked by the user")
        return {"ok": True}

    def times(self, chat_id: int | str | None = None) -> list[float]:
        """When the requests (to one chat, if given) reached the API."""
        return [t for t, _, chat in self.calls if chat_id is None or chat == chat_id]


async def send(
    sender: TelegramSender,
    api: FakeApi,
    chat_id: int | str | None,
    *,
    endpoint: str = "sendMessage",
    priority: str | None = None,
) -> Any:
    """Pass one request through the sender the way ExtBot does."""
    data: dict[str, Any] = {"text": "halo"} if chat_id is None else {"chat_id": chat_id}
    # A plain str, not the Literal, so a test can also pass a priority the sender must refuse.
    options = None if priority is None else cast(SendOptions, {"priority": priority})
    return await sender.process_request(
        callback=api,
        args=(endpoint, data),
        kwargs={},
        endpoint=endpoint,
        data=data,
        rate_limit_args=options,
    )


def fast_sender(**overrides: Any) -> TelegramSender:
    """A sender with quick limits and retries, no safety margin unless a test sets one."""
    settings: dict[str, Any] = {
        "overall": Limit(1000, 1.0),
        "private_chat": Limit(1, 0.2),
        "group": Limit(3, 0.3),
        "safety_margin": 0.0,
        "network_backoff": 0.02,
    }
    settings.update(overrides)
    return TelegramSender(**settings)


def most_in_any_window(times: list[float], period: float) -> int:
    """The most sends that fall in one closed window of `period` seconds."""
    times = sorted(times)
    return max(sum(1 for t in times if start <= t <= start + period - EPS) for start in times)


async def test_overall_rate_never_exceeds_the_limit_and_stays_close_to_it() -> None:
    sender = fast_sender(overall=Limit(30, 0.5), safety_margin=0.05)
    api = FakeApi()

    await asyncio.gather(*(send(sender, api, chat) for chat in range(1, 46)))

    times = api.times()
    assert most_in_any_window(times, 0.5) <= 30
    sustained = (len(times) - 1) / (times[-1] - times[0])
    assert 0.9 * 30 / 0.5 / 1.05 <= sustained <= 30 / 0.5


async def test_one_private_chat_gets_one_message_per_interval_while_others_go_on() -> None:
    sender = fast_sender(private_chat=Limit(1, 0.2))
    api = FakeApi()
    start = now()

    await asyncio.gather(*(send(sender, api, 7) for _ in range(4)), send(sender, api, 8))

    gaps = [b - a for a, b in pairwise(api.times(7))]
    assert all(gap >= 0.2 - EPS for gap in gaps)
    assert api.times(8)[0] - start < 0.05


async def test_a_group_gets_its_own_slower_limit() -> None:
    sender = fast_sender(group=Limit(3, 0.3))
    api = FakeApi()

    await asyncio.gather(*(send(sender, api, -100123) for _ in range(5)))

    times = api.times(-100123)
    assert most_in_any_window(times, 0.3) <= 3
    assert all(b - a >= 0.1 - EPS for a, b in pairwise(times))


async def test_channel_usernames_and_string_ids_are_limited_as_the_same_chat() -> None:
    sender = fast_sender(group=Limit(3, 0.3))
    api = FakeApi()

    await asyncio.gather(send(sender, api, -100123), send(sender, api, "-100123"))
    await asyncio.gather(send(sender, api, "@kanal_pkh"), send(sender, api, "@kanal_pkh"))

    first, second, third, fourth = api.times()
    assert second - first >= 0.1 - EPS
    assert fourth - third >= 0.1 - EPS


async def test_calls_that_are_not_messages_skip_the_chat_limit() -> None:
    sender = fast_sender(private_chat=Limit(1, 1.0))
    api = FakeApi()
    start = now()

    await send(sender, api, 7)
    await send(sender, api, 7, endpoint="sendChatAction")
    await send(sender, api, None, endpoint="answerCallbackQuery")

    assert now() - start < 0.1


async def test_interactive_reply_overtakes_a_bulk_backlog() -> None:
    sender = fast_sender(overall=Limit(100, 1.0))
    api = FakeApi()
    backlog = [asyncio.create_task(send(sender, api, c, priority="bulk")) for c in range(1, 61)]
    await asyncio.sleep(0.1)

    asked = now()
    await send(sender, api, 9999)
    answered = now()

    assert answered - asked < 0.05
    assert sum(task.done() for task in backlog) < 30
    await asyncio.gather(*backlog)
    assert sender.stats.sent == 61


async def test_retry_after_pauses_every_request_then_all_succeed() -> None:
    sender = fast_sender(overall=Limit(100, 1.0))
    api = FakeApi([flood(0.3)])

    first_wave = [asyncio.create_task(send(sender, api, chat)) for chat in range(1, 6)]
    await asyncio.sleep(0.1)
    late = asyncio.create_task(send(sender, api, 6))
    await asyncio.gather(*first_wave, late)

    flood_at, *after = api.times()
    assert all(t >= flood_at + 0.3 - EPS for t in after)
    assert len(after) == 6
    assert sender.stats.retried_429 == 1
    assert sender.stats.sent == 6


async def test_retry_after_is_raised_after_the_last_retry() -> None:
    sender = fast_sender(max_flood_retries=2)
    api = FakeApi([flood(0.01)] * 3)

    with pytest.raises(RetryAfter):
        await send(sender, api, 7)

    assert len(api.calls) == 3
    assert sender.stats.retried_429 == 2
    assert sender.stats.failed == 1


async def test_timeouts_and_server_errors_are_retried_with_growing_backoff() -> None:
    sender = fast_sender(network_backoff=0.05)
    api = FakeApi([TimedOut(), NetworkError("Internal Server Error (500)")])

    await send(sender, api, None, endpoint="getMe")

    first, second, third = api.times()
    assert second - first >= 0.05 - EPS
    assert third - second >= 0.1 - EPS
    assert sender.stats.retried_network == 2
    assert sender.stats.sent == 1


async def test_network_error_is_raised_after_the_last_retry() -> None:
    sender = fast_sender(max_network_retries=2, network_backoff=0.01)
    api = FakeApi([TimedOut()] * 3)

    with pytest.raises(TimedOut):
        await send(sender, api, 7)

    assert len(api.calls) == 3
    assert sender.stats.failed == 1


async def test_bad_request_is_raised_without_retrying() -> None:
    sender = fast_sender()
    api = FakeApi([BadRequest("Bad Request: message text is empty")])

    with pytest.raises(BadRequest):
        await send(sender, api, 7)

    assert len(api.calls) == 1
    assert sender.stats.retried_network == 0
    assert sender.stats.failed == 1


async def test_blocked_chat_is_reported_once_and_later_sends_fail_without_the_api() -> None:
    reported: list[int] = []

    async def on_unreachable(chat_id: int) -> None:
        reported.append(chat_id)

    sender = fast_sender(on_unreachable=on_unreachable)
    api = FakeApi(forbidden_chats={7})

    results = await asyncio.gather(
        send(sender, api, 7), send(sender, api, 7), return_exceptions=True
    )
    with pytest.raises(Forbidden):
        await send(sender, api, 7)
    await send(sender, api, 8)

    assert all(isinstance(result, Forbidden) for result in results)
    assert reported == [7]
    assert len(api.times(7)) == 1
    assert sender.is_unreachable(7)
    assert sender.stats.unreachable == 3


async def test_mark_reachable_lets_sends_to_the_chat_through_again() -> None:
    sender = fast_sender(private_chat=Limit(1, 0.05))
    api = FakeApi([Forbidden("Forbidden: user is deactivated")])
    with pytest.raises(Forbidden):
        await send(sender, api, 7)

    sender.mark_reachable("7")
    await send(sender, api, 7)

    assert not sender.is_unreachable(7)
    assert len(api.times(7)) == 2


async def test_every_request_ends_as_sent_failed_or_unreachable() -> None:
    sender = fast_sender(max_network_retries=1, private_chat=Limit(1, 0.01))
    api = FakeApi(
        [flood(0.01), None, TimedOut(), TimedOut(), BadRequest("bad")],
        forbidden_chats={5},
    )
    outcomes = []
    for chat in (1, 2, 3, 5, 5, 6):
        try:
            await send(sender, api, chat)
            outcomes.append("sent")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    stats = sender.stats
    assert outcomes == ["sent", "TimedOut", "BadRequest", "Forbidden", "Forbidden", "sent"]
    assert (stats.sent, stats.failed, stats.unreachable) == (2, 2, 2)
    assert (stats.retried_429, stats.retried_network) == (1, 1)
    assert stats.sent + stats.failed + stats.unreachable == len(outcomes)


async def test_unknown_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="priority"):
        await send(fast_sender(), FakeApi(), 7, priority="urgent")


class InProcessBotApi(BaseRequest):
    """A BaseRequest that answers in-process, so PTB's own path runs without a server."""

    def __init__(self) -> None:
        self.endpoints: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        """No network, no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer getMe with a bot and sendMessage with a message."""
        endpoint = url.rsplit("/", 1)[-1]
        self.endpoints.append(endpoint)
        bot = {"id": 1, "is_bot": True, "first_name": "PKH", "username": "pkh_bot"}
        if endpoint == "getMe":
            result: dict[str, Any] = bot
        else:
            chat = {"id": 7, "type": "private"}
            result = {"message_id": 1, "date": 0, "chat": chat, "from": bot, "text": "halo"}
        return 200, json.dumps({"ok": True, "result": result}).encode()


class RecordingSender(TelegramSender):
    """A TelegramSender that also notes what PTB hands it."""

    def __init__(self) -> None:
        super().__init__(private_chat=Limit(1, 0.01))
        self.seen: list[tuple[str, Any, SendOptions | None]] = []

    async def process_request(
        self,
        callback: ApiCallback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendOptions | None,
    ) -> ApiResult:
        """Note the request, then send it as usual."""
        self.seen.append((endpoint, data.get("chat_id"), rate_limit_args))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


async def test_python_telegram_bot_routes_every_call_through_the_sender() -> None:
    sender = RecordingSender()
    api = InProcessBotApi()
    bot = ExtBot("123:abc", request=api, get_updates_request=api, rate_limiter=sender)

    async with bot:
        await bot.send_message(7, "halo")
        await bot.send_message(7, "siaran", rate_limit_args={"priority": "bulk"})

    assert sender.seen == [
        ("getMe", None, None),
        ("sendMessage", 7, None),
        ("sendMessage", 7, {"priority": "bulk"}),
    ]
    assert sender.stats.sent == 3
