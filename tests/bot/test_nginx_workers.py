"""Two webhook workers and two Rasa replicas behind nginx, on one PostgreSQL: the scale-out path.

Two `pkh bot run --webhook` processes and two real Rasa NLU servers sit behind one nginx
(Debian's package, started here with a configuration in a temporary directory, listening on
127.0.0.1 only). The Bot API emulator POSTs updates to nginx as Telegram does, and POSTs an update
again until a worker acknowledges it. KPM ask questions while a broadcast goes out; halfway, the
outbox leader gets SIGKILL. Every question is still answered, the broadcast reaches every chat,
the survivor takes the lead, and nginx's log shows both workers and both NLU replicas at work.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from devtools.emulator import BotApiEmulator
from nlu.server import RunningServer, free_port, start_server
from programme import migrate, outbox
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.models import OutboxKind, OutboxMessage, OutboxState, TimeZone, utcnow
from programme.outbox import NewMessage
from programme.seed import seed_reference
from tests.bot.test_workers import leader_pid
from tests.bot.waiting import eventually
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.integration

TOKEN = "123456:NGINX-WORKERS"
WEBHOOK_SECRET = "nginx-workers-test-secret"
FIRST_ASKER = 640_000_001
ASKERS = 60
ASK_INTERVAL = 0.12  # seconds between two questions
FIRST_CHAT = 650_000_001
BROADCAST_CHATS = 160
QUESTIONS = (
    "kapan pkh tahap 3 cair min",
    "bansos bpnt bulan ini kapan",
    "gimana cara daftar pkh",
    "kartu kks saya hilang",
    "halo",
)


# --- nginx ------------------------------------------------------------------------------------


@dataclass
class Nginx:
    """nginx in the foreground with its own prefix directory: config, logs, pid, temp files."""

    directory: Path
    process: subprocess.Popen[bytes]
    webhook_port: int
    nlu_port: int

    def upstreams(self, port: int) -> Counter[str]:
        """How many requests to nginx's `port` each upstream answered, by its address."""
        counts: Counter[str] = Counter()
        for line in (self.directory / "access.log").read_text().splitlines():
            listened, upstream, status = line.split()[:3]
            if int(listened) == port and status.startswith("2"):
                counts[upstream.split(",")[-1].strip()] += 1
        return counts

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def nginx_executable() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
    )
    if found is None:
        pytest.fail(
            "Debian's nginx is needed for the load-balancer test: apt-get install nginx "
            "(.ci/run installs it).",
            pytrace=False,
        )
    return found


def nginx_config(directory: Path, *, webhook_port: int, workers: list[int], nlu_port: int,
                 replicas: list[int]) -> str:  # fmt: skip
    def servers(ports: list[int]) -> str:
        # One failure takes a server out for a few seconds, so a killed worker stops getting
        # updates at once; a request that could not be sent to it goes to the other one.
        return "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports
        )

    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
        path.chmod(0o777)  # nginx's workers drop root, if the test runs as root
    return textwrap.dedent(
        f"""\
        daemon off;
        worker_processes 1;
        pid {directory / "nginx.pid"};
        error_log {directory / "error.log"} warn;
        events {{ worker_connections 512; }}
        http {{
            log_format upstreams '$server_port $upstream_addr $status $request_uri';
            access_log {directory / "access.log"} upstreams;
            client_body_temp_path {temp["body"]};
            proxy_temp_path {temp["proxy"]};
            fastcgi_temp_path {temp["fastcgi"]};
            uwsgi_temp_path {temp["uwsgi"]};
            scgi_temp_path {temp["scgi"]};
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout;
            upstream bot_workers {{
        {servers(workers)}
            }}
            upstream nlu_replicas {{
        {servers(replicas)}
            }}
            server {{
                listen 127.0.0.1:{webhook_port};
                location / {{ proxy_pass http://bot_workers; }}
            }}
            server {{
                listen 127.0.0.1:{nlu_port};
                location / {{ proxy_pass http://nlu_replicas; }}
            }}
        }}
        """
    )


def start_nginx(directory: Path, *, workers: list[int], replicas: list[int]) -> Nginx:
    webhook_port, nlu_port = free_port(), free_port()
    config = directory / "nginx.conf"
    config.write_text(
        nginx_config(
            directory,
            webhook_port=webhook_port,
            workers=workers,
            nlu_port=nlu_port,
            replicas=replicas,
        )
    )
    command = [nginx_executable(), "-p", str(directory), "-e", str(directory / "error.log")]
    process = subprocess.Popen(  # the system's nginx, fixed arguments
        [*command, "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "nginx.out").open("wb"),
    )
    deadline = time.monotonic() + 10
    while not (directory / "nginx.pid").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            log = (directory / "nginx.out").read_text() + (directory / "error.log").read_text()
            raise RuntimeError(f"nginx did not start:\n{log}")
        time.sleep(0.05)
    return Nginx(directory, process, webhook_port, nlu_port)


# --- the bot workers --------------------------------------------------------------------------


@dataclass
class Worker:
    """`pkh bot run --webhook URL --port PORT` as a child process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_worker(*, port: int, webhook_url: str, environment: dict[str, str], log: Path) -> Worker:
    executable = Path(sys.executable).parent / "pkh"
    with log.open("ab") as output:
        process = subprocess.Popen(  # the same interpreter's entry point, fixed arguments
            [str(executable), "bot", "run", "--webhook", webhook_url, "--port", str(port)],
            env={**os.environ, **environment},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Worker(port, process)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(
    postgres_url: str, secret_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A seeded PostgreSQL database of this module's own (the workers commit)."""
    factory = DatabaseFactory("postgresql", tmp_path_factory.mktemp("nginx-db"), postgres_url)
    url = factory.create()
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_reference(session)
        seed_demo(session, secret_key=secret_key)
    engine.dispose()
    yield url
    factory.drop_all()


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    engine = make_engine(database)
    yield engine
    engine.dispose()


@dataclass
class Replicas:
    """Two real Rasa servers (~1 GB each) on ports known before they finish loading."""

    ports: list[int]
    loading: asyncio.Future[list[RunningServer | BaseException]]


@pytest.fixture
async def nlu_replicas() -> AsyncIterator[Replicas]:
    """The replicas start loading at once; the test starts nginx and the workers meanwhile."""
    from nlu.training import train

    model, _ = await asyncio.to_thread(train)  # a no-op when the model is already trained
    ports = [free_port(), free_port()]
    loading = asyncio.gather(
        *(asyncio.to_thread(start_server, port=port, model=model) for port in ports),
        return_exceptions=True,
    )
    try:
        yield Replicas(ports, loading)
    finally:
        for server in await loading:
            if isinstance(server, RunningServer):
                server.stop()


async def ready(replicas: Replicas) -> None:
    for outcome in await replicas.loading:
        if isinstance(outcome, BaseException):
            raise outcome


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, enforce_limits=True) as running:
        yield running


# --- the test ---------------------------------------------------------------------------------


def enqueue_broadcast(engine: Engine, chats: range) -> None:
    now = utcnow()
    rows = [
        NewMessage(
            dedupe_key=f"nginx:{chat}",
            kind=OutboxKind.BROADCAST,
            chat_id=chat,
            user_id=None,
            text=f"Pengumuman {chat}",
            time_zone=TimeZone.WITA,
            not_before=now,
        )
        for chat in chats
    ]
    with make_session_factory(engine).begin() as session:
        outbox.enqueue(session, rows, now=now)


async def ask_steadily(emulator: BotApiEmulator, askers: range, asked: list[int]) -> None:
    """One question after another, ~8 a second, so some are in a worker's hands at the kill."""
    for number, asker in enumerate(askers):
        emulator.user_sends(asker, QUESTIONS[number % len(QUESTIONS)], first_name="Ibu")
        asked.append(asker)
        await asyncio.sleep(ASK_INTERVAL)


def answered(emulator: BotApiEmulator, chats: range) -> Counter[int]:
    return Counter(m.chat_id for m in emulator.sent if m.chat_id in chats)


def port_of(address: str) -> int:
    found = re.search(r":(\d+)$", address)
    assert found, address
    return int(found.group(1))


async def test_workers_and_nlu_replicas_behind_nginx_lose_nothing_when_the_leader_is_killed(
    emulator: BotApiEmulator,
    nlu_replicas: Replicas,
    database: str,
    engine: Engine,
    secret_key: str,
    tmp_path: Path,
) -> None:
    askers = range(FIRST_ASKER, FIRST_ASKER + ASKERS)
    chats = range(FIRST_CHAT, FIRST_CHAT + BROADCAST_CHATS)
    worker_ports = [free_port(), free_port()]
    (tmp_path / "nginx").mkdir()
    nginx = start_nginx(
        tmp_path / "nginx",
        workers=worker_ports,
        replicas=nlu_replicas.ports,
    )
    environment = {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DATABASE_URL": database,
        "NLU_URL": f"http://127.0.0.1:{nginx.nlu_port}",
        "PKH_SECRET_KEY": secret_key,
        "QUIET_HOURS": "off",  # the test must not depend on the hour it runs at
        # Each worker's sender keeps its own budget: the leader's broadcast leaves room under
        # Telegram's 30/s for both workers' replies (docs/scale.md).
        "TELEGRAM_BULK_RATE": "20",
    }
    webhook_url = f"http://127.0.0.1:{nginx.webhook_port}/telegram"
    workers = [
        start_worker(
            port=port, webhook_url=webhook_url, environment=environment, log=tmp_path / f"w{n}.log"
        )
        for n, port in enumerate(worker_ports)
    ]
    try:
        # Both workers are up (each registered the one webhook) and one of them leads.
        await eventually(
            lambda: sum(1 for method, _ in emulator.calls if method == "setWebhook") >= 2,
            within=60,
        )
        await eventually(lambda: leader_pid(engine) in {w.pid for w in workers}, within=30)
        await ready(nlu_replicas)
        enqueue_broadcast(engine, chats)
        await eventually(lambda: len(answered(emulator, chats)) >= BROADCAST_CHATS // 4)
        # Mid-traffic: half of the questions asked, some answered, some in the workers' hands.
        asked: list[int] = []
        traffic = asyncio.create_task(ask_steadily(emulator, askers, asked))
        await eventually(lambda: len(asked) >= ASKERS // 2)
        leader = next(w for w in workers if w.pid == leader_pid(engine))
        survivor = next(w for w in workers if w is not leader)
        served_before_kill = nginx.upstreams(nginx.webhook_port)
        leader.kill()
        await traffic
        await eventually(lambda: leader_pid(engine) == survivor.pid, within=30)
        await eventually(
            lambda: (
                len(answered(emulator, askers)) == ASKERS
                and len(answered(emulator, chats)) == BROADCAST_CHATS
            ),
            within=90,
        )
        await asyncio.sleep(2)  # anything sent twice shows up now
    finally:
        for worker in workers:
            worker.stop()
        nginx.stop()

    # No update lost: every question was answered, and nothing waits for delivery.
    assert set(answered(emulator, askers)) == set(askers)
    assert emulator.pending_update_count == 0
    # At most the question in the killed worker's hands was answered twice (it had not said
    # "received" yet, so it was delivered again; see bot.webhook).
    twice = sum(n - 1 for (chat, _), n in emulator.sent_counts().items() if chat in askers)
    assert twice <= 1, twice
    # Both workers took updates through nginx before the kill; both NLU replicas parsed some.
    assert {port_of(a) for a in served_before_kill} == set(worker_ports), served_before_kill
    parsed = nginx.upstreams(nginx.nlu_port)
    assert {port_of(a) for a in parsed} == set(nlu_replicas.ports), parsed
    # The broadcast: every chat once, but for a send in flight when the leader died.
    per_chat = answered(emulator, chats)
    with make_session_factory(engine)() as session:
        resent = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("nginx:%"), OutboxMessage.attempts > 1)
        )
        states = Counter(
            session.scalars(
                select(OutboxMessage.state).where(OutboxMessage.dedupe_key.like("nginx:%"))
            ).all()
        )
    assert sum(count - 1 for count in per_chat.values()) <= (resent or 0)
    assert states == Counter({OutboxState.SENT: BROADCAST_CHATS})
