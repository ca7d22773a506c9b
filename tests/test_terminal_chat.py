"""The terminal chat, end to end: `pkh chat` with the real NLU server and a seeded database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PKH = str(Path(sys.executable).parent / "pkh")


@pytest.fixture(scope="module")
def chat_database(fresh_seeded_database: str) -> str:
    return fresh_seeded_database


def chat_as(handle: str, questions: list[str], *, nlu_url: str, database_url: str, key: str) -> str:
    """Type the questions into `pkh chat --as handle`; return everything the chat printed."""
    env = dict(os.environ, NLU_URL=nlu_url, DATABASE_URL=database_url, PKH_SECRET_KEY=key)
    result = subprocess.run(
        [PKH, "chat", "--as", handle],
        input="\n".join([*questions, "/keluar"]) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def answers(transcript: str) -> list[str]:
    """Each answer: from "Asisten> " up to the next prompt."""
    parts = transcript.split("Asisten> ")[1:]
    return [part.rsplit("\n\n", 1)[0] for part in parts]


def test_a_wita_family_gets_its_own_facts_through_the_real_pipeline(
    nlu_url: str, chat_database: str, secret_key: str
) -> None:
    replies = answers(
        chat_as(
            "kpm-wita",
            [
                "halo min",
                "pkh tahap 4 kpn cair",
                "kok saldo saya blm masuk",
                "anak sd dapet brp sih",
                "p2k2 kelompok sy kapan",
                "kks saya ketelen atm gmn",
                "pendamping saya siapa ya",
                "makasih ya",
            ],
            nlu_url=nlu_url,
            database_url=chat_database,
            key=secret_key,
        )
    )
    greeting, schedule, status, amount, meeting, card, pendamping, thanks = replies
    assert "Yuliana" in greeting
    assert "Tahap IV tahun 2026" in schedule and "16–27 November 2026" in schedule
    assert "belum bisa disalurkan" in status and "rekening" in status
    assert "Rp225.000" in amount
    assert "WITA" in meeting
    assert "tertelan" in card and "BRI" in card
    assert "Maria Fatima Hamur" in pendamping
    assert thanks


def test_families_in_other_time_zones_see_their_own_zone_and_channel(
    nlu_url: str, chat_database: str, secret_key: str
) -> None:
    wit = answers(
        chat_as(
            "kpm-wit",
            ["jadwal pertemuan p2k2 kapan bu", "bantuan saya tahap 4 udah cair belum"],
            nlu_url=nlu_url,
            database_url=chat_database,
            key=secret_key,
        )
    )
    assert "WIT" in wit[0] and "WITA" not in wit[0]
    assert "Pos" in wit[1]
    wib = answers(
        chat_as(
            "kpm-wib",
            ["kapan pertemuan kelompok berikutnya"],
            nlu_url=nlu_url,
            database_url=chat_database,
            key=secret_key,
        )
    )
    assert "WIB" in wib[0]


def test_gibberish_gets_a_polite_answer_and_the_menu(
    nlu_url: str, chat_database: str, secret_key: str
) -> None:
    transcript = chat_as(
        "kpm-wib", ["asdfghjkl"], nlu_url=nlu_url, database_url=chat_database, key=secret_key
    )
    assert "[1] Kapan cair?" in transcript
