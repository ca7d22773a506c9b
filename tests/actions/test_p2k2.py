"""Obligations and sanctions, the P2K2 modules, and the next meeting of the asker's kelompok."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from programme.models import (
    Family,
    FaqAnswer,
    MeetingStatus,
    P2K2Meeting,
    P2K2Module,
)
from tests.actions.conftest import Ask

LINK_HINT = "/start diikuti kodenya"


def family_of(ask: Ask, handle: str) -> Family:
    family_id = ask.asker(handle).family_id
    assert family_id is not None
    family = ask.session.get(Family, family_id)
    assert family is not None
    return family


def upcoming_meeting(ask: Ask, handle: str) -> P2K2Meeting:
    return ask.session.scalars(
        select(P2K2Meeting).where(
            P2K2Meeting.kelompok_id == family_of(ask, handle).kelompok_id,
            P2K2Meeting.status == MeetingStatus.SCHEDULED,
        )
    ).one()


def faq_row(ask: Ask, intent: str, topic: str) -> FaqAnswer:
    return ask.session.scalars(
        select(FaqAnswer).where(FaqAnswer.intent == intent, FaqAnswer.topic_key == topic)
    ).one()


# --- ask_obligations ---------------------------------------------------------------------------


def test_obligations_of_a_linked_family_follow_its_own_components(ask: Ask) -> None:
    reply = ask("ask_obligations", "kewajiban pkh apa aja", as_="kpm-wib")
    # kpm-wib: Dimas (SMP) and Ayu (SD) go to school, Bagas is anak usia dini.
    assert "Untuk Bagas Pratama:\nKewajiban kesehatan" in reply.text
    assert "Untuk Dimas Saputra dan Ayu Lestari:\nAnak SD, SMP, dan SMA" in reply.text
    assert "P2K2" in reply.text
    assert LINK_HINT not in reply.text
    assert reply.topic_key == "general"


def test_obligations_of_lansia_are_left_to_the_pendamping_to_confirm(ask: Ask) -> None:
    reply = ask("ask_obligations", "kewajiban saya apa", as_="kpm-wita")
    assert "Untuk Theresia Nggoro: rinciannya perlu dipastikan ke pendamping." in reply.text
    assert "Untuk Yuliana Ndahur, Yosef Jehadu, dan Benediktus Jehadu:" in reply.text


def test_obligations_of_a_linked_family_warn_that_sanction_thresholds_are_uncertain(
    ask: Ask,
) -> None:
    reply = ask("ask_obligations", "kewajiban pkh apa aja", as_="kpm-wit")
    assert faq_row(ask, "ask_obligations", "sanctions").needs_verification
    assert "belum bisa kami pastikan" in reply.text


def test_obligations_for_an_unlinked_asker_are_general_with_the_link_hint(ask: Ask) -> None:
    reply = ask("ask_obligations", "kewajiban pkh apa aja")
    assert reply.text.startswith(faq_row(ask, "ask_obligations", "general").text_id.strip())
    assert LINK_HINT in reply.text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("kalau gak ikut pertemuan bantuan dihentikan?", "sanctions"),
        ("p2k2 wajib ikut ya", "p2k2"),
        ("bumil harus periksa ke posyandu?", "health"),
        ("anak harus masuk sekolah berapa persen", "school"),
    ],
)
def test_obligation_topic_follows_the_words_of_the_question(
    ask: Ask, text: str, topic: str
) -> None:
    reply = ask("ask_obligations", text)
    assert reply.topic_key == topic
    assert faq_row(ask, "ask_obligations", topic).text_id.strip() in reply.text


@pytest.mark.parametrize(
    ("component", "topic"),
    [("anak_smp", "school"), ("ibu_hamil", "health"), ("lansia", "general")],
)
def test_component_entity_steers_the_obligation_topic(ask: Ask, component: str, topic: str) -> None:
    assert ask("ask_obligations", "kewajibannya apa", component=component).topic_key == topic


def test_school_obligations_name_the_family_members_they_apply_to(ask: Ask) -> None:
    reply = ask("ask_obligations", "kewajibannya apa", component="anak_sma", as_="kpm-wit")
    assert "ini berlaku untuk Ester Pepuho dan Markus Pepuho." in reply.text


def test_health_obligations_say_when_no_member_is_concerned(ask: Ask) -> None:
    reply = ask("ask_obligations", "kewajiban kesehatan apa", as_="kpm-aceh")
    assert reply.topic_key == "health"
    assert "belum berlaku untuk anggota keluarga Bapak/Ibu" in reply.text


# --- ask_p2k2_modules --------------------------------------------------------------------------


def test_module_entity_gives_that_modules_description_and_sessions(ask: Ask) -> None:
    reply = ask("ask_p2k2_modules", "modul ekonomi isinya apa", module="ekonomi")
    module = ask.session.get(P2K2Module, "ekonomi")
    assert module is not None
    assert f"Modul {module.number}: {module.name}" in reply.text
    assert module.description.strip() in reply.text
    for session in module.sessions:
        assert f"{session.number}. {session.title}" in reply.text
    assert "belum bisa kami pastikan" not in reply.text
    assert reply.topic_key == "ekonomi"


def test_module_session_summaries_are_shown_when_there_are_some(ask: Ask) -> None:
    reply = ask("ask_p2k2_modules", "materi pengasuhan", module="pengasuhan_pendidikan")
    assert "3. Memahami Cara Anak Usia Dini Belajar — Bermain sebagai cara anak belajar." in (
        reply.text
    )


def test_uncertain_stunting_module_is_found_by_its_word_and_worded_with_caution(
    ask: Ask,
) -> None:
    reply = ask("ask_p2k2_modules", "modul stunting isinya apa")
    module = ask.session.get(P2K2Module, "stunting")
    assert module is not None and module.needs_verification
    assert f"Modul {module.number}: {module.name}" in reply.text
    assert "belum bisa kami pastikan" in reply.text


def test_module_list_comes_from_the_module_table(ask: Ask) -> None:
    reply = ask("ask_p2k2_modules", "materi p2k2 apa aja")
    modules = ask.session.scalars(select(P2K2Module).order_by(P2K2Module.number)).all()
    assert f"ada {len(modules)} modul" in reply.text
    for module in modules:
        assert f"{module.number}. {module.name} ({len(module.sessions)} sesi" in reply.text
    assert "(15 sesi; judul sesinya perlu dipastikan ke pendamping)" in reply.text
    assert [b.data for b in reply.buttons] == ["ask:ask_p2k2_schedule"]


def test_is_p2k2_compulsory_is_answered_from_the_faq(ask: Ask) -> None:
    reply = ask("ask_p2k2_modules", "p2k2 wajib gak sih")
    assert reply.text == faq_row(ask, "ask_p2k2_modules", "mandatory").text_id.strip()


def test_what_is_p2k2_is_answered_from_the_faq(ask: Ask) -> None:
    reply = ask("ask_p2k2_modules", "p2k2 itu apa")
    assert reply.text == faq_row(ask, "ask_p2k2_modules", "general").text_id.strip()


# --- ask_p2k2_schedule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handle", "when"),
    [
        ("kpm-wib", "Rabu, 25 November 2026, 13.00 WIB"),
        ("kpm-wita", "Selasa, 24 November 2026, 09.00 WITA"),
        ("kpm-wit", "Kamis, 26 November 2026, 10.00 WIT"),
        ("kpm-aceh", "Jumat, 27 November 2026, 14.00 WIB"),
    ],
)
def test_next_meeting_is_given_in_the_kelompoks_own_time_zone(
    ask: Ask, handle: str, when: str
) -> None:
    reply = ask("ask_p2k2_schedule", "p2k2 kapan", as_=handle)
    meeting = upcoming_meeting(ask, handle)
    assert f"Waktu: {when}" in reply.text
    assert f"Tempat: {meeting.place}" in reply.text
    assert meeting.session is not None
    assert f"sesi {meeting.session.number}: {meeting.session.title}" in reply.text
    assert meeting.kelompok.name in reply.text
    assert meeting.kelompok.pendamping.name in reply.text
    assert "{" not in reply.text


def test_no_meeting_after_now_sends_the_asker_to_the_pendamping(
    ask: Ask, demo_now: datetime
) -> None:
    later = demo_now + timedelta(days=30)
    reply = ask("ask_p2k2_schedule", "p2k2 kapan", as_="kpm-wita", now=later)
    assert "Belum ada jadwal pertemuan P2K2 berikutnya" in reply.text
    assert "Maria Fatima Hamur (+62 800 0000 5301)" in reply.text


def test_cancelled_meeting_is_not_announced(ask: Ask) -> None:
    upcoming_meeting(ask, "kpm-wit").status = MeetingStatus.CANCELLED
    ask.session.flush()
    reply = ask("ask_p2k2_schedule", "p2k2 kapan", as_="kpm-wit")
    assert reply.topic_key == "none_scheduled"
    assert "Yakobus Wally" in reply.text


def test_schedule_for_an_unlinked_asker_explains_p2k2_and_how_to_link(ask: Ask) -> None:
    reply = ask("ask_p2k2_schedule", "jadwal p2k2 kapan")
    assert faq_row(ask, "ask_p2k2_schedule", "not_linked").text_id.strip() in reply.text
    assert LINK_HINT in reply.text


def test_schedule_for_a_pendamping_has_no_kpm_link_hint(ask: Ask) -> None:
    assert LINK_HINT not in ask("ask_p2k2_schedule", "jadwal p2k2", as_="pendamping").text


@pytest.mark.parametrize("intent", ["ask_obligations", "ask_p2k2_modules", "ask_p2k2_schedule"])
@pytest.mark.parametrize("handle", [None, "kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"])
def test_no_reply_leaves_a_placeholder(ask: Ask, intent: str, handle: str | None) -> None:
    reply = ask(intent, as_=handle)
    assert reply.text
    assert "{" not in reply.text and "}" not in reply.text
