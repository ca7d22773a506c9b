"""Issue 13's questions typed into `pkh chat` as a linked family: the real model, real answers.

The chat runs on today's clock, so nothing here depends on the date beyond the demo's data.
"""

from __future__ import annotations

import pytest

from tests.test_terminal_chat import answers, chat_as

pytestmark = pytest.mark.integration


def test_a_linked_family_gets_real_answers_to_what_used_to_fall_back(
    nlu_url: str, fresh_seeded_database: str, secret_key: str
) -> None:
    replies = answers(
        chat_as(
            "kpm-wita",
            [
                "komponen keluarga saya apa saja",
                "kalau pengurus meninggal siapa yang ambil pkh nya",
                "ambil pkh di kantor pos bawa apa aja",
                "bisa gak pendamping yg ambilin duit pkh saya",
            ],
            nlu_url=nlu_url,
            database_url=fresh_seeded_database,
            key=secret_key,
        )
    )
    components, pengurus, pos, pendamping = replies
    assert "Komponen PKH keluarga Bapak/Ibu menurut data kami" in components
    assert "Yuliana Ndahur: Ibu hamil/nifas" in components
    assert "(tidak ikut dihitung)" in components
    assert "Kalau pengurus PKH meninggal, segera laporkan ke pendamping" in pengurus
    assert "pengurus keluarga Bapak/Ibu saat ini: Yuliana Ndahur" in pengurus
    assert "surat undangan, KTP, dan KK (asli dan fotokopi)" in pos
    assert "lewat KKS Bank BRI" in pos
    assert pendamping.startswith("Tidak bisa. Pendamping PKH tidak boleh mengambilkan")
    assert "Call center Kemensos 171" in pendamping


def test_the_year_in_a_question_is_the_year_answered(
    nlu_url: str, fresh_seeded_database: str, secret_key: str
) -> None:
    replies = answers(
        chat_as(
            "kpm-wita",
            ["tahap 1 2027 kapan cair", "pkh tahap 3 2026 kapan cair"],
            nlu_url=nlu_url,
            database_url=fresh_seeded_database,
            key=secret_key,
        )
    )
    next_year, this_year = replies
    assert "Belum ada jadwal resmi untuk tahap I tahun 2027 di data kami." in next_year
    assert "terakhir diperbarui" in next_year
    assert "Tahap III tahun 2026" in this_year and "Juli–September" in this_year
    assert "Sumber:" in this_year
