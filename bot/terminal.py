"""The terminal chat: the whole pipeline (NLU server, actions, database) without Telegram."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from actions import Asker, Button, Reply
from bot.assistant import Assistant
from nlu.client import NLUClient
from programme.buttons import ButtonKind
from programme.demo import demo_user

QUIT_WORDS = {"/keluar", "/quit", "/exit", "keluar"}


def find_demo_asker(sessions: sessionmaker[Session], handle: str) -> Asker:
    """The Asker of a demo user by handle (kpm-wib, kpm-wita, kpm-wit, pendamping, …)."""
    with sessions() as session:
        user = demo_user(session, handle=handle)
        if user is None:
            raise LookupError("the demo roster is not loaded: run `pkh db seed --demo`")
        return Asker.from_user(user)


def render(reply: Reply) -> str:
    """A reply as the terminal shows it: the text, then numbered buttons."""
    lines = [reply.text]
    if reply.buttons:
        lines.append("")
        lines += [f"  [{number}] {button.label}" for number, button in enumerate(reply.buttons, 1)]
    return "\n".join(lines)


async def chat(
    *,
    nlu_url: str,
    sessions: sessionmaker[Session],
    asker: Asker,
    who: str,
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> None:
    """Read questions until /keluar or end of input; answer each through the real pipeline."""
    out.write(
        "Asisten PKH — chat di terminal. Ketik pertanyaan Anda; ketik angka untuk memilih "
        "tombol; /keluar untuk berhenti.\n\n"
    )
    buttons: tuple[Button, ...] = ()
    async with NLUClient(nlu_url) as nlu:
        assistant = Assistant(nlu=nlu, sessions=sessions, channel="terminal")
        while True:
            try:
                text = (await asyncio.to_thread(read, f"{who}> ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if text.lower() in QUIT_WORDS:
                break
            if not text:
                continue
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                reply = await assistant.reply_to_topic(buttons[int(text) - 1].value, asker)
            else:
                reply = await assistant.reply_to_text(text, asker)
            buttons = tuple(b for b in reply.buttons if b.kind is ButtonKind.ASK)
            out.write(f"\nAsisten> {render(reply)}\n\n")
            if reply.handoff_pendamping_id is not None:
                out.write(
                    "(Chat terminal: di Telegram, pertanyaan ini diteruskan ke pendamping.)\n\n"
                )
            out.flush()
    out.write("Sampai jumpa!\n")
