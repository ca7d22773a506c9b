"""Start-up does not depend on cosmetic calls: `pkh bot run` as a process against the emulator.

It waits for Telegram (getMe retried), sets its menu in the background (a 400 or 500s there
never stop it), and exits non-zero only for a wrong token or a bad configuration, with one line
that says which.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools.emulator import BotApiEmulator
from tests.bot.botkit import TOKEN, Chat
from tests.bot.fake_nlu import FakeNlu
from tests.bot.waiting import eventually

PKH = str(Path(sys.executable).parent / "pkh")


@pytest.fixture(scope="module")
async def nlu() -> AsyncIterator[FakeNlu]:
    async with FakeNlu() as server:
        yield server


class BotProcess:
    """`pkh bot run` in a subprocess; its stderr (the log) kept in a file."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, **environment: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NLU_"))}
        with self.log.open("wb") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                PKH, "bot", "run", env=env | environment,
                stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def exit_code(self, within: float = 30) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@pytest.fixture
async def bot_process(tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(tmp_path / "bot.log")
    yield process
    await process.stop()


def environment(
    emulator: BotApiEmulator, database: str, nlu: FakeNlu, key: str, token: str = TOKEN
) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "DATABASE_URL": database,
        "NLU_URL": nlu.url,
        "PKH_SECRET_KEY": key,
        "QUIET_HOURS": "off",
    }


async def test_refused_and_failing_menu_calls_never_stop_the_bot(
    bot_process: BotProcess, fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> None:
    async with BotApiEmulator(TOKEN, first_update_id=5_000_001) as emulator:
        emulator.fail_next("setMyCommands", status=400, description="Bad Request: nope")
        emulator.fail_next("setMyCommands", status=500, times=4)  # the sender retries 3 times
        await bot_process.start(**environment(emulator, fresh_seeded_database, nlu, secret_key))
        await emulator.wait_for_calls("getUpdates", timeout=60)
        assert (await Chat(emulator, 777_800_001).say("/bantuan")).text
        await eventually(lambda: "all_private_chats" in emulator.commands, 30)  # set at last
        assert bot_process.process is not None and bot_process.process.returncode is None
    log = bot_process.text()
    assert "setting the command menu failed (BadRequest: Nope)" in log
    assert "Traceback" not in log


async def test_get_me_is_retried_until_telegram_answers_and_the_reason_is_logged(
    bot_process: BotProcess, fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> None:
    async with BotApiEmulator(TOKEN, first_update_id=5_100_001) as emulator:
        emulator.fail_next("getMe", status=502, times=8)  # two of the bot's tries, 4 calls each
        await bot_process.start(**environment(emulator, fresh_seeded_database, nlu, secret_key))
        await emulator.wait_for_calls("getUpdates", timeout=60)
        assert (await Chat(emulator, 777_800_002).say("/bantuan")).text
    log = bot_process.text()
    assert log.count("Telegram did not answer getMe (") == 2
    assert "Bad Gateway" in log and "Traceback" not in log


async def test_a_wrong_token_ends_the_run_with_one_clear_line(
    bot_process: BotProcess, fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> None:
    async with BotApiEmulator(TOKEN) as emulator:
        wrong = "654321:WRONG-TOKEN-WRONG-TOKEN-WRONG-TOKEN"
        await bot_process.start(
            **environment(emulator, fresh_seeded_database, nlu, secret_key, token=wrong)
        )
        assert await bot_process.exit_code() == 2
    lines = [line for line in bot_process.text().splitlines() if line.strip()]
    assert lines == [
        "pkh bot run: Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): check the token "
        "(and TELEGRAM_API_BASE_URL)"
    ]


async def test_a_bad_configuration_ends_the_run_with_one_clear_line(
    bot_process: BotProcess, fresh_seeded_database: str, nlu: FakeNlu, secret_key: str
) -> None:
    async with BotApiEmulator(TOKEN) as emulator:
        settings = environment(emulator, fresh_seeded_database, nlu, secret_key)
        await bot_process.start(**settings | {"QUIET_HOURS": "kadang-kadang"})
        assert await bot_process.exit_code() == 2
    lines = [line for line in bot_process.text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pkh bot run: bad configuration: QUIET_HOURS")
