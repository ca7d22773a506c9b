"""NIKs typed in any form, through the real front ends, end up nowhere: not in the database, a log
file or the training data.

`pkh -v bot run` runs as a child process against the Bot API emulator (its log is everything it
prints, python-telegram-bot's and httpx's debug lines included); the terminal chat runs the same
message path in this process; the dashboard runs under a real uvicorn server here, logging to a
file at DEBUG. Hypothesis writes the messages. The NLU server is a stand-in that speaks Rasa's
HTTP API (what it understands does not matter here, only where the text goes): questions about
"cair" are answered (and rated 👎), everything else goes to the admins' inbox. Afterwards the
whole database (every table, every column), every log file, the training file and every admin
reply Telegram received are searched for the hidden digits in any separator form.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actions import Asker
from admin.app import build_admin_app
from admin.users import create_user
from bot.terminal import chat as terminal_chat
from core import redaction
from core.redaction import install_log_redaction
from core.settings import PROJECT_ROOT, Settings
from devtools.emulator import BotApiEmulator, SentMessage
from programme.db import make_engine, make_session_factory
from programme.models import TelegramUser, UnansweredQuery, UserRole
from tests.admin.conftest import PASSWORD, form_token
from tests.admin.servers import RunningServer, running_server
from tests.nik_forms import leaks, messages_with_nik, nik_forms, realistic_niks

# Shaped like a real token (python-telegram-bot and httpx print it in every request URL).
TOKEN = "7012345678:AAHk3qP9zX2vL8mN4rT6yW1bC5dF7gH0jKl"
ADMIN = "admin-nik-e2e"
_users = itertools.count(990_000_001)


@dataclass
class World:
    """Everything the test drives and then searches."""

    database_url: str
    emulator: BotApiEmulator
    nlu_url: str
    dashboard: RunningServer
    training_file: Path
    bot_log: Path
    dashboard_log: Path
    niks: list[str] = field(default_factory=list)

    def log_files(self) -> list[Path]:
        return [self.bot_log, self.dashboard_log]


# --- an NLU server that speaks Rasa's API -----------------------------------------------------


async def parse(request: Request) -> JSONResponse:
    typed = str((await request.json()).get("text", ""))
    intent, confidence = (
        ("ask_payment_schedule", 0.97) if "cair" in typed else ("nlu_fallback", 0.3)
    )
    ranking = [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.01}]
    return JSONResponse(
        {"text": typed, "intent": ranking[0], "intent_ranking": ranking, "entities": []}
    )


async def status(request: Request) -> JSONResponse:
    return JSONResponse({"model_file": "stand-in.tar.gz"})


@contextmanager
def stand_in_nlu() -> Iterator[str]:
    app = Starlette(
        routes=[Route("/model/parse", parse, methods=["POST"]), Route("/status", status)]
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the bot as a process, the dashboard and this process's logs --------------------------------


@contextmanager
def bot_process(environment: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`pkh -v bot run`, everything it prints going to `log_path`."""
    executable = Path(sys.executable).parent / "pkh"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(executable), "-v", "bot", "run"],
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def logging_to(path: Path, secrets: list[str]) -> Iterator[logging.Handler]:
    """This process logs everything to `path`, as `pkh -v …` does (and restores it after)."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = root.level
    factory = logging.getLogRecordFactory()
    installed, known = redaction._factory_installed, set(redaction._secrets)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_log_redaction(secrets)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for name in UVICORN_LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
        logging.setLogRecordFactory(factory)
        redaction._factory_installed = installed
        redaction._secrets.clear()
        redaction._secrets.update(known)


# uvicorn's own loggers do not propagate to the root (its logging configuration says so).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.access")


@pytest.fixture(scope="module")
async def world(
    fresh_seeded_database: str, secret_key: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    directory = tmp_path_factory.mktemp("nik-e2e")
    engine = make_engine(fresh_seeded_database)
    with make_session_factory(engine).begin() as session:
        create_user(session, username=ADMIN, password=PASSWORD, role=UserRole.ADMIN, actor="test")
    engine.dispose()
    environment = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": fresh_seeded_database,
        "PKH_SECRET_KEY": secret_key,
        "QUIET_HOURS": "off",
    }
    bot_log, dashboard_log = directory / "bot.log", directory / "dashboard.log"
    training_file = directory / "reviewed.yml"
    with stand_in_nlu() as nlu_url, logging_to(dashboard_log, [TOKEN, secret_key]) as handler:
        async with BotApiEmulator(TOKEN) as emulator:
            environment |= {"TELEGRAM_API_BASE_URL": emulator.base_url, "NLU_URL": nlu_url}
            config = Settings(**environment)  # type: ignore[arg-type]
            app = build_admin_app(config, nlu_data_file=training_file)
            with running_server(app, config) as dashboard, bot_process(environment, bot_log):
                for name in UVICORN_LOGGERS:  # configured by the server's start: log them too
                    logging.getLogger(name).addHandler(handler)
                await _until(lambda: any(m == "setMyCommands" for m, _ in emulator.calls), 60)
                yield World(
                    fresh_seeded_database,
                    emulator,
                    nlu_url,
                    dashboard,
                    training_file,
                    bot_log,
                    dashboard_log,
                )


async def _until(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


# --- driving the front ends --------------------------------------------------------------------


async def kpm_asks(world: World, user: int, question: str, *, rate_down: bool) -> None:
    """A KPM writes through Telegram; an answered question is rated 👎 (stored with its text)."""
    emulator = world.emulator
    before = sum(1 for m in emulator.sent if m.chat_id == user)
    emulator.user_sends(user, question, first_name="Sari")
    sent = await emulator.wait_for_sent(chat_id=user, count=before + 1, timeout=20)
    answer = sent[-1]
    if not rate_down:
        return
    buttons = [b for row in (answer.reply_markup or {}).get("inline_keyboard", []) for b in row]
    down = next(b for b in buttons if b["text"] == "👎")
    emulator.user_taps(user, answer, down["callback_data"])
    await emulator.wait_for_sent(chat_id=user, count=before + 2, timeout=20)


async def terminal_asks(world: World, questions: list[str]) -> None:
    """The same questions through the terminal chat (`pkh chat`), anonymously."""
    script = iter([*questions, "/keluar"])
    sessions = make_session_factory(make_engine(world.database_url))
    await terminal_chat(
        nlu_url=world.nlu_url,
        sessions=sessions,
        asker=Asker(),
        who="anda",
        read=lambda prompt: next(script),
        out=io.StringIO(),
    )


async def admin_labels_and_replies(world: World, user_ids: list[int], reply: str) -> set[int]:
    """Through the dashboard: "Beri label" on the users' questions, then a reply to each asker.

    Returns the askers whose questions were in the inbox (a message that is nothing but a NIK
    may be taken for a linking attempt and kept out of it)."""
    engine = make_engine(world.database_url)
    with make_session_factory(engine)() as session:
        rows = session.execute(
            select(UnansweredQuery.id, TelegramUser.telegram_user_id)
            .join(TelegramUser, UnansweredQuery.user_id == TelegramUser.id)
            .where(TelegramUser.telegram_user_id.in_(user_ids))
            .order_by(UnansweredQuery.id)
        ).all()
    engine.dispose()
    ids = [row[0] for row in rows]
    assert ids, "no question reached the inbox"
    async with httpx.AsyncClient(base_url=world.dashboard.url) as client:
        token = form_token((await client.get("/login")).text)
        login = {"username": ADMIN, "password": PASSWORD, "csrf_token": token}
        assert (await client.post("/login", data=login)).status_code == 303
        csrf = form_token((await client.get("/")).text)
        group = ",".join(map(str, ids))
        labelled = await client.post(
            "/inbox/label",
            data={"csrf_token": csrf, "ids": group, "intent": "ask_payment_status"},
        )
        assert labelled.status_code == 303, labelled.text
        replied = await client.post(
            "/inbox/reply", data={"csrf_token": csrf, "ids": group, "text": reply}
        )
        assert replied.status_code == 303, replied.text
        assert "done=replied" in replied.headers["location"]
    return {row[1] for row in rows}


async def admin_replies_arrive(world: World, users: list[int]) -> list[SentMessage]:
    def replies() -> list[SentMessage]:
        return [
            m for m in world.emulator.sent if m.chat_id in users and "petugas PKH" in (m.text or "")
        ]

    await _until(lambda: {m.chat_id for m in replies()} >= set(users), 30)
    return replies()


# --- searching -----------------------------------------------------------------------------


def database_dump(url: str) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value of every table."""
    engine = make_engine(url)
    values = []
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                columns = [c["name"] for c in inspect(connection).get_columns(table)]
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                    values += [
                        (table, column, str(value))
                        for column, value in zip(columns, row, strict=True)
                        if value is not None
                    ]
    finally:
        engine.dispose()
    return values


def assert_nowhere(world: World, niks: list[str], replies: list[SentMessage]) -> None:
    dump = database_dump(world.database_url)
    logs = {path.name: path.read_text(encoding="utf-8") for path in world.log_files()}
    training = world.training_file.read_text(encoding="utf-8")
    for nik in niks:
        found = [(t, c, v[:80]) for t, c, v in dump if leaks(nik, v)]
        assert not found, f"the database holds a NIK: {found}"
        for name, content in logs.items():
            assert not leaks(nik, content), f"{name} holds a NIK"
        assert not leaks(nik, training), "the training data holds a NIK"
        assert not [m.text for m in replies if leaks(nik, m.text or "")]


# --- the test ----------------------------------------------------------------------------------


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking would rerun it all, slowly
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    messages=st.lists(
        messages_with_nik(realistic_niks()), min_size=4, max_size=4, unique_by=lambda m: m[0]
    ),
    reply_nik=nik_forms(realistic_niks()),
)
async def test_typed_niks_reach_no_table_log_or_training_file(
    world: World, messages: list[tuple[str, str]], reply_nik: tuple[str, str]
) -> None:
    users = [next(_users) for _ in messages]
    for number, ((_, question), user) in enumerate(zip(messages, users, strict=True)):
        answered = number % 2 == 0
        typed = f"{question} kapan cair" if answered else question
        await kpm_asks(world, user, typed, rate_down=answered)
    await terminal_asks(world, [question for _, question in messages])
    # The admin's reply quotes each question, and pastes a NIK of its own.
    askers = await admin_labels_and_replies(
        world, users, f"Mohon bawa KTP dengan NIK {reply_nik[1]} ke kantor desa."
    )
    replies = await admin_replies_arrive(world, sorted(askers))
    niks = [nik for nik, _ in messages] + [reply_nik[0]]
    world.niks += niks
    assert all("*" * 12 in (m.text or "") for m in replies)  # the quoted NIK, masked
    assert_nowhere(world, niks, replies)


async def test_every_nik_of_the_run_is_absent_and_the_logs_were_verbose(world: World) -> None:
    """After the run (and the bot's shutdown, which logs too): the logs were really verbose,
    carry no bot token, and none of the NIKs typed."""
    assert world.niks, "run the Hypothesis test first (same module)"
    bot_log = world.bot_log.read_text(encoding="utf-8")
    assert "getUpdates" in bot_log and "DEBUG" in bot_log  # httpx's and PTB's debug lines
    assert "************" in bot_log  # a masked NIK from an update PTB printed
    for name in ("bot.log", "dashboard.log"):
        content = (world.bot_log.parent / name).read_text(encoding="utf-8")
        assert TOKEN not in content and TOKEN.split(":")[1] not in content, name
    assert world.training_file.exists() and "************" in world.training_file.read_text()
    assert_nowhere(world, world.niks, [])


async def test_dataku_says_what_is_kept_and_why(world: World) -> None:
    user = next(_users)
    emulator = world.emulator
    emulator.user_sends(user, "/dataku", first_name="Sari")
    (answer,) = await emulator.wait_for_sent(chat_id=user, count=1, timeout=20)
    shown = answer.text or ""
    assert "NIK selalu disamarkan" in shown
    assert "Yang tetap disimpan, tanpa nama dan tanpa ID Telegram" in shown
    assert "Catatan pesan yang kami kirim: 0" in shown
