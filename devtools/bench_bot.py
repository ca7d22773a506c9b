"""`make bench-bot`: reply latency under load, through the emulator, the NLU server and a database.

Simulated users send real questions (the NLU held-out set) at a steady rate; latency is measured
from the moment the update is handed to the emulator (so it includes Telegram-side delivery by
long polling) to the moment the emulator receives the bot's reply.

Two scenarios: "steady" (only that load) and "flood" (the same load while one more chat sends
40 messages a second; the figures are the other users' replies, the flooder's are counted apart).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import statistics
import tempfile
import time
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from pathlib import Path

from bot.app import build_application, polling_in_this_loop
from core.settings import PROJECT_ROOT, Settings
from devtools.emulator import BotApiEmulator
from nlu.trainingdata import load_examples
from programme import migrate
from programme.db import make_engine, make_session_factory
from programme.seed import seed_reference

TOKEN = "123456:BENCHMARK"  # noqa: S105 - a fake token for the local emulator
FIRST_USER = 880_000_001
FLOODER = 870_000_001
FLOOD_RATE = 40.0  # messages per second from the one flooding chat


@dataclass(frozen=True)
class FloodFigures:
    """What the flooding chat sent and got."""

    sent: int
    replies: int  # answers and the one notice
    notices: int


@dataclass(frozen=True)
class BotBenchResult:
    scenario: str
    sent: int
    answered: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    seconds: float
    flood: FloodFigures | None = None

    def row(self) -> str:
        flood = (
            f"{self.flood.sent} sent, {self.flood.replies} replies, {self.flood.notices} notice"
            if self.flood
            else "-"
        )
        return (
            f"| {self.scenario} | {self.sent} | {self.answered} | {self.p50_ms:.1f} | "
            f"{self.p95_ms:.1f} | {self.p99_ms:.1f} | {self.max_ms:.1f} | {self.errors} | "
            f"{self.seconds:.0f} | {flood} |"
        )

    def table(self) -> str:
        return table([self])


def table(results: list[BotBenchResult]) -> str:
    """The scenarios' figures as one Markdown table (latencies: the non-flooding users)."""
    return "\n".join(
        [
            "| scenario | messages | answered | p50 ms | p95 ms | p99 ms | max ms | errors "
            "| seconds | flooding chat |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *(result.row() for result in results),
        ]
    )


def prepare_database(url: str | None) -> str:
    """A migrated database with the reference data (a fresh SQLite file unless given)."""
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='pkh-bench-')) / 'bench.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_reference(session)
    engine.dispose()
    return url


async def run_bot_benchmark(
    *,
    nlu_url: str,
    database_url: str,
    secret_key: str,
    users: int,
    rate: float,
    seconds: float,
    flood_rate: float = 0.0,
) -> BotBenchResult:
    """Drive the bot with `rate` messages/s from `users` users for `seconds`; measure replies.

    With `flood_rate`, one more chat sends that many messages a second all the while.
    """
    logging.getLogger("bot").setLevel(logging.WARNING)
    texts = itertools.cycle(
        e.text for e in load_examples(PROJECT_ROOT / "tests" / "nlu" / "heldout")
    )
    # Its own update ids per scenario: both may run against one database (--database-url).
    first_update_id = 5_000_001 if flood_rate else 100_001
    async with BotApiEmulator(TOKEN, first_update_id=first_update_id) as emulator:
        values = {  # by their environment names, as a deployment would set them
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": database_url,
            "NLU_URL": nlu_url,
            "PKH_SECRET_KEY": secret_key,
        }
        settings = Settings.model_validate(values)
        async with polling_in_this_loop(build_application(settings)):
            flooding = (
                asyncio.create_task(_flood(emulator, rate=flood_rate, seconds=seconds))
                if flood_rate
                else None
            )
            asked = await _send_load(emulator, texts, users=users, rate=rate, seconds=seconds)
            flooded = await flooding if flooding is not None else 0
            await asyncio.sleep(3)  # let the last replies arrive
        result = _measure(asked, emulator, seconds)
        if not flood_rate:
            return result
        to_flooder = [m.text or "" for m in emulator.sent if m.chat_id == FLOODER]
        notices = sum(1 for text in to_flooder if text.startswith("Pelan-pelan ya"))
        return replace(
            result, scenario="flood", flood=FloodFigures(flooded, len(to_flooder), notices)
        )


async def _flood(emulator: BotApiEmulator, *, rate: float, seconds: float) -> int:
    """One chat sending `rate` messages a second for `seconds`; how many it sent."""
    interval, started = 1 / rate, time.monotonic()
    for number in itertools.count():
        due = started + number * interval
        if due - started >= seconds:
            return number
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        emulator.user_sends(FLOODER, f"kapan cair {number}", first_name="Banjir")
    return 0


async def _send_load(
    emulator: BotApiEmulator,
    texts: itertools.cycle[str],
    *,
    users: int,
    rate: float,
    seconds: float,
) -> dict[int, deque[float]]:
    """Inject messages at a steady rate, round-robin over the users; when each was sent."""
    asked: dict[int, deque[float]] = defaultdict(deque)
    interval, started = 1 / rate, time.monotonic()
    for number in itertools.count():
        due = started + number * interval
        if due - started >= seconds:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        user = FIRST_USER + number % users
        asked[user].append(time.monotonic())
        emulator.user_sends(user, next(texts), first_name="Bench")
    return asked


def _measure(
    asked: dict[int, deque[float]], emulator: BotApiEmulator, seconds: float
) -> BotBenchResult:
    latencies: list[float] = []
    replies: dict[int, list[float]] = defaultdict(list)
    for message in emulator.sent:
        if message.chat_id != FLOODER:
            replies[message.chat_id].append(message.received_at)
    for user, sent_times in asked.items():
        # Each question gets one reply; match them in order (a user asks every users/rate s).
        for question_at, reply_at in zip(sent_times, sorted(replies[user]), strict=False):
            latencies.append((reply_at - question_at) * 1000)
    total = sum(len(times) for times in asked.values())
    errors = (total - len(latencies)) + sum(
        count for status, count in emulator.status_counts.items() if status != 200
    )
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if latencies else [0.0] * 99
    return BotBenchResult(
        "steady", total, len(latencies), cuts[49], cuts[94], cuts[98],
        max(latencies, default=0.0), errors, seconds,
    )  # fmt: skip
