"""`make bench-broadcast`: one broadcast to 10,000 linked chats, a `kill -9` halfway, a restart.

The bot runs as a real `pkh bot run` process against the Bot API emulator, which enforces
Telegram's limits (30 messages/s overall, 1/s per chat) by answering 429, and which also injects
a few 429s of its own. A KPM asks a question while the broadcast is going out. Halfway, the bot
gets SIGKILL and is started again; the broadcast must still reach every chat exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.delivery.scheduling import Scheduling
from core.settings import PROJECT_ROOT
from devtools.emulator import BotApiEmulator
from programme import broadcasts, migrate
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.models import (
    Family,
    Kelompok,
    OutboxMessage,
    OutboxState,
    Pendamping,
    TelegramUser,
    UserRole,
    utcnow,
)
from programme.seed import seed_reference

TOKEN = "123456:BROADCAST-BENCH"  # noqa: S105 - a fake token for the local emulator
SECRET_KEY = "broadcast-bench-key-not-a-secret"  # noqa: S105 - a throwaway database
FIRST_CHAT = 700_000_001
PER_KELOMPOK = 500
PENDAMPING_CODE = "DEMO-PDP-5315-1"


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    pendamping_id: int
    kelompok_ids: list[int]
    chat_ids: list[int]


def prepare_broadcast_database(url: str | None, *, chats: int) -> BenchDatabase:
    """A demo database plus `chats` linked families in new kelompok of one pendamping."""
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='pkh-bench-')) / 'broadcast.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            seed_reference(session)
            seed_demo(session, secret_key=SECRET_KEY)
            pendamping_id, kelompok_ids, chat_ids = _add_linked_families(session, chats)
    finally:
        engine.dispose()
    return BenchDatabase(url, pendamping_id, kelompok_ids, chat_ids)


def _add_linked_families(session: Session, chats: int) -> tuple[int, list[int], list[int]]:
    pendamping = session.scalars(select(Pendamping).where(Pendamping.code == PENDAMPING_CODE)).one()
    template = session.scalars(
        select(Family).join(Kelompok).where(Kelompok.pendamping_id == pendamping.id).limit(1)
    ).one()
    kelompok_ids: list[int] = []
    for number in range((chats + PER_KELOMPOK - 1) // PER_KELOMPOK):
        kelompok = Kelompok(
            code=f"BENCH-K{number:03d}",
            name=f"Kelompok Uji {number + 1}",
            pendamping_id=pendamping.id,
            desa_id=template.desa_id,
        )
        session.add(kelompok)
        session.flush()
        kelompok_ids.append(kelompok.id)
    families = [
        {
            "pkh_id": f"BENCH-{index:06d}",
            "kelompok_id": kelompok_ids[index // PER_KELOMPOK],
            "desa_id": template.desa_id,
            "channel_code": template.channel_code,
        }
        for index in range(chats)
    ]
    session.execute(insert(Family), families)
    family_ids = session.scalars(
        select(Family.id).where(Family.pkh_id.like("BENCH-%")).order_by(Family.pkh_id)
    ).all()
    now = utcnow()
    chat_ids = [FIRST_CHAT + index for index in range(chats)]
    session.execute(
        insert(TelegramUser),
        [
            {
                "telegram_user_id": chat_id,
                "chat_id": chat_id,
                "first_name": "Ibu",
                "role": UserRole.KPM,
                "family_id": family_id,
                "linked_at": now,
            }
            for chat_id, family_id in zip(chat_ids, family_ids, strict=True)
        ],
    )
    return pendamping.id, kelompok_ids, chat_ids


async def schedule_broadcast(database: BenchDatabase, text: str) -> int:
    """Create the broadcast and its job, as the bot's /siaran does (the leader runs it)."""
    engine = make_engine(database.url)
    sessions = make_session_factory(engine)
    scheduling = Scheduling(engine, sessions)
    scheduling.start()
    try:
        with sessions.begin() as session:
            created = broadcasts.create_broadcast(
                session,
                pendamping_id=database.pendamping_id,
                author_user_id=None,
                kelompok_ids=database.kelompok_ids,
                text=text,
                send_at=utcnow(),
                urgent=False,
                now=utcnow(),
                actor="bench",
            )
            broadcast_id = created.id
        await scheduling.broadcast_saved(broadcast_id, utcnow())
    finally:
        scheduling.shutdown()
        engine.dispose()
    return broadcast_id


class BotProcess:
    """`pkh bot run` as a child process, so it can be killed like a real deployment's."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self._environment = {**os.environ, **environment}
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = Path(sys.executable).parent / "pkh"
        log = self._log_path.open("ab")
        self._process = subprocess.Popen(  # the same interpreter's entry point, fixed args
            [str(executable), "bot", "run"],
            env=self._environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None


def bot_environment(emulator: BotApiEmulator, database_url: str, nlu_url: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "DATABASE_URL": database_url,
        "NLU_URL": nlu_url,
        "PKH_SECRET_KEY": SECRET_KEY,
        # The benchmark must not depend on the hour it runs at.
        "QUIET_HOURS": "off",
    }


@contextmanager
def running_bot(environment: dict[str, str], log_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(environment, log_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@dataclass(frozen=True)
class BroadcastBenchResult:
    chats: int
    delivered_chats: int
    duplicates: int
    lost: int
    over_limit: int
    injected_429: int
    sustained_rate: float  # messages/s while the bot was up and sending
    first_leg_rate: float
    second_leg_rate: float
    busiest_second: int
    killed_after: int
    restart_gap_s: float
    question_latency_s: float | None
    total_s: float
    outbox_states: dict[str, int]

    def table(self) -> str:
        question = (
            "not answered" if self.question_latency_s is None else f"{self.question_latency_s:.2f}"
        )
        rows = [
            ("chats", f"{self.chats}"),
            ("chats that got the broadcast", f"{self.delivered_chats}"),
            ("duplicates", f"{self.duplicates}"),
            ("lost", f"{self.lost}"),
            ("over-limit sends (emulator)", f"{self.over_limit}"),
            ("429s injected", f"{self.injected_429}"),
            ("sustained rate, msg/s (bot up)", f"{self.sustained_rate:.1f}"),
            (
                "  before the kill / after the restart",
                f"{self.first_leg_rate:.1f} / {self.second_leg_rate:.1f}",
            ),
            ("busiest 1-s window, messages", f"{self.busiest_second}"),
            ("sent when killed (kill -9)", f"{self.killed_after}"),
            ("restart gap, s (kill → first send)", f"{self.restart_gap_s:.1f}"),
            ("KPM question answered in, s", question),
            ("total time, s", f"{self.total_s:.0f}"),
            ("outbox states", ", ".join(f"{k} {v}" for k, v in sorted(self.outbox_states.items()))),
        ]
        return "\n".join(
            ["| measure | value |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)]
        )


async def run_broadcast_benchmark(
    *, nlu_url: str, database: BenchDatabase, kill_at: float = 0.5, log_path: Path
) -> BroadcastBenchResult:
    """Send one broadcast to every bench chat; kill -9 the bot at `kill_at` of the way."""
    chats = set(database.chat_ids)
    question_user = 880_000_001
    async with BotApiEmulator(TOKEN, enforce_limits=True) as emulator:
        environment = bot_environment(emulator, database.url, nlu_url)
        bot = BotProcess(environment, log_path)
        bot.start()
        try:
            await _wait_until(lambda: _has_called(emulator, "setMyCommands"), within=120)
            started = time.monotonic()
            await schedule_broadcast(database, "Besok pagi ada pemeriksaan kesehatan gratis.")
            injected = 0
            asked_at: float | None = None
            # Drive the run: inject 429s, ask a question, kill, restart.
            await _wait_for_broadcast(emulator, chats, len(chats) // 10)
            for _ in range(3):
                emulator.fail_next("sendMessage", status=429, retry_after=1)
                injected += 1
            await _wait_for_broadcast(emulator, chats, len(chats) // 4)
            emulator.user_sends(question_user, "kapan pkh tahap 4 cair min", first_name="Sari")
            asked_at = time.monotonic()
            await _wait_for_broadcast(emulator, chats, int(len(chats) * kill_at))
            bot.kill()
            killed_at = time.monotonic()
            killed_after = _broadcast_count(emulator, chats)
            bot.start()
            await _wait_for_broadcast(emulator, chats, len(chats), within=3600)
            finished = time.monotonic()
            await asyncio.sleep(5)  # anything sent twice after the end shows up now
        finally:
            bot.stop()
        return _measure(
            emulator,
            chats,
            database,
            started=started,
            killed_at=killed_at,
            killed_after=killed_after,
            finished=finished,
            asked_at=asked_at,
            question_user=question_user,
            injected=injected,
        )


def _measure(
    emulator: BotApiEmulator,
    chats: set[int],
    database: BenchDatabase,
    *,
    started: float,
    killed_at: float,
    killed_after: int,
    finished: float,
    asked_at: float | None,
    question_user: int,
    injected: int,
) -> BroadcastBenchResult:
    times = sorted(m.received_at for m in emulator.sent if m.chat_id in chats)
    per_chat = Counter(m.chat_id for m in emulator.sent if m.chat_id in chats)
    first = times[0] if times else started
    before = [t for t in times if t <= killed_at]
    after = [t for t in times if t > killed_at]
    first_leg = len(before) / max(1e-9, (before[-1] - first)) if len(before) > 1 else 0.0
    second_leg = len(after) / max(1e-9, after[-1] - after[0]) if len(after) > 1 else 0.0
    up_time = (before[-1] - first if before else 0.0) + (after[-1] - after[0] if after else 0.0)
    window = Counter(int(t - first) for t in times)
    replies = [m.received_at for m in emulator.sent if m.chat_id == question_user]
    latency = (replies[0] - asked_at) if replies and asked_at is not None else None
    engine = make_engine(database.url)
    with make_session_factory(engine)() as session:
        states = {
            state: count
            for state, count in session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            )
        }
    engine.dispose()
    return BroadcastBenchResult(
        chats=len(chats),
        delivered_chats=len(per_chat),
        duplicates=sum(count - 1 for count in per_chat.values() if count > 1),
        lost=len(chats - set(per_chat)),
        over_limit=sum(emulator.over_limit.values()),
        injected_429=injected,
        sustained_rate=len(times) / up_time if up_time else 0.0,
        first_leg_rate=first_leg,
        second_leg_rate=second_leg,
        busiest_second=max(window.values(), default=0),
        killed_after=killed_after,
        restart_gap_s=(after[0] - killed_at) if after else 0.0,
        question_latency_s=latency,
        total_s=finished - started,
        outbox_states={OutboxState(state).value: count for state, count in states.items()},
    )


def _has_called(emulator: BotApiEmulator, method: str) -> bool:
    return any(name == method for name, _ in emulator.calls)


_counted: dict[int, tuple[int, int]] = {}  # id(emulator) -> (messages scanned, broadcast sends)


def _broadcast_count(emulator: BotApiEmulator, chats: set[int]) -> int:
    """Broadcast sends so far, scanning only what arrived since the last call."""
    scanned, count = _counted.get(id(emulator), (0, 0))
    sent = emulator.sent
    count += sum(1 for m in sent[scanned:] if m.chat_id in chats and m.method == "sendMessage")
    _counted[id(emulator)] = (len(sent), count)
    return count


async def _wait_for_broadcast(
    emulator: BotApiEmulator, chats: set[int], count: int, *, within: float = 1800
) -> None:
    await _wait_until(lambda: _broadcast_count(emulator, chats) >= count, within=within)


async def _wait_until(condition: Callable[[], bool], *, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {within:.0f} s")
        await asyncio.sleep(0.05)
