"""The README's first command, as a newcomer runs it: `make run` in a fresh clone.

The clone is of this repository's HEAD, with what is not committed yet copied over it, so the
test checks the tree under test. It reuses the environments already built here (the Makefile's
VENV and RASA_VENV, documented in the README) and the trained model for the clone's NLU inputs,
so it takes a Rasa start-up, not an install. The chat is scripted on standard input.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from nlu.server import free_port

pytestmark = pytest.mark.integration

# What a log record looks like on a terminal (pkh's format): none may reach the chat.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ |^(INFO|WARNING|DEBUG)\b", re.M)
# Our settings and anything that would point the clone at this checkout's database or servers.
CLEARED = ("TELEGRAM_", "DATABASE_URL", "NLU_", "PKH_", "QUIET_HOURS", "OUTBOX_", "VIRTUAL_ENV")


def clone_of_the_working_tree(target: Path) -> Path:
    """`git clone` of HEAD, then the working tree's uncommitted and untracked files over it."""
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(PROJECT_ROOT), str(target)], check=True
    )
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    deleted = (
        subprocess.run(
            ["git", "ls-files", "-z", "--deleted"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name in filter(None, deleted):
        (target / name).unlink(missing_ok=True)
    return target


def reuse_the_trained_model(clone: Path, python: Path) -> None:
    """Copy the model trained here for the clone's NLU inputs; without one, make run trains."""
    fingerprint = subprocess.run(
        [str(python), "-c", "from nlu.server import fingerprint; print(fingerprint())"],
        cwd=clone, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    model = PROJECT_ROOT / "models" / f"nlu-{fingerprint}.tar.gz"
    if model.exists():
        (clone / "models").mkdir(exist_ok=True)
        shutil.copy2(model, clone / "models" / model.name)


def make_run(clone: Path, typed: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`printf … | make run …` in the clone, with this checkout's environments."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    port = free_port()
    env |= {"NLU_URL": f"http://127.0.0.1:{port}", "NLU_PORT": str(port)}  # no server of ours
    return subprocess.run(
        [
            "make", "--no-print-directory", "run",
            f"VENV={PROJECT_ROOT / '.venv'}", f"RASA_VENV={PROJECT_ROOT / '.venv-rasa'}",
            *arguments,
        ],
        cwd=clone, env=env, input=typed, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_make_run_in_a_fresh_clone_opens_the_chat_and_answers_without_log_lines(
    tmp_path: Path,
) -> None:
    clone = clone_of_the_working_tree(tmp_path / "pkh-assistant")
    reuse_the_trained_model(clone, PROJECT_ROOT / ".venv" / "bin" / "python")

    first = make_run(clone, "halo\nanak sd dapat berapa\n/keluar\n")

    assert first.returncode == 0, first.stdout + first.stderr
    chat = first.stdout
    assert "Asisten PKH — chat di terminal" in chat and "anda> " in chat  # no --as as
    assert chat.count("Asisten> ") == 2 and "Rp225.000" in chat and "Sampai jumpa!" in chat
    assert "• Mengisi database demo" in chat  # a progress line a person can read
    assert not LOG_LINE.search(chat) and not LOG_LINE.search(first.stderr), chat + first.stderr
    assert "programme.seed" not in chat + first.stderr
    log = (clone / "var" / "log" / "pkh.log").read_text(encoding="utf-8")
    assert "programme.seed" in log and "NLU server ready" in log

    as_a_family = make_run(clone, "pkh tahap 4 kpn cair\n/keluar\n", "AS=kpm-wita")

    assert as_a_family.returncode == 0, as_a_family.stdout + as_a_family.stderr
    assert "kpm-wita> " in as_a_family.stdout and "Manggarai Barat" in as_a_family.stdout
    assert not LOG_LINE.search(as_a_family.stdout + as_a_family.stderr)
