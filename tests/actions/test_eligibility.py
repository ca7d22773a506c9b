"""How to check whether someone is a recipient, and how to become one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import Family, FaqAnswer
from tests.actions.conftest import Ask


def faq_row(session: Session, intent: str, topic: str) -> FaqAnswer:
    """One FAQ row."""
    return session.scalars(
        select(FaqAnswer).where(FaqAnswer.intent == intent, FaqAnswer.topic_key == topic)
    ).one()


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("cara cek penerima bansos gmn", "general"),
        ("cek bansos lewat aplikasi gimana", "app"),
        ("download aplikasi cek bansos dmn", "app"),
        ("nama saya gak muncul di cekbansos", "not_found"),
        ("status saya TIDAK artinya apa", "not_found"),
    ],
)
def test_recipient_check_picks_the_sub_topic_from_the_question(
    ask: Ask, text: str, topic: str
) -> None:
    reply = ask("ask_recipient_check", text)
    assert reply.topic_key == topic
    assert faq_row(ask.session, "ask_recipient_check", topic).text_id.strip() in reply.text


def test_recipient_check_explains_the_cekbansos_site(ask: Ask) -> None:
    reply = ask("ask_recipient_check", "gmn cara cek nama penerima pkh")
    assert "cekbansos.kemensos.go.id" in reply.text
    assert "CARI DATA" in reply.text


def test_recipient_check_for_a_linked_kpm_states_their_own_standing(ask: Ask) -> None:
    reply = ask("ask_recipient_check", "saya masih terdaftar gak", as_="kpm-wita")
    family = ask.session.get(Family, ask.asker("kpm-wita").family_id)
    assert family is not None
    assert "tercatat sebagai KPM PKH dengan status aktif" in reply.text
    assert family.kelompok.name in reply.text


def test_recipient_check_for_unlinked_does_not_claim_any_standing(ask: Ask) -> None:
    reply = ask("ask_recipient_check", "saya masih terdaftar gak")
    assert "tercatat sebagai KPM" not in reply.text


def test_registration_says_there_is_no_open_registration(ask: Ask) -> None:
    reply = ask("ask_registration", "cara daftar pkh gimana")
    assert reply.topic_key == "general"
    assert "PKH tidak membuka pendaftaran langsung" in reply.text
    assert "DTSEN" in reply.text


@pytest.mark.parametrize("text", ["syarat dapet pkh apa aja", "siapa yang berhak dapat pkh"])
def test_registration_criteria_are_worded_with_caution(ask: Ask, text: str) -> None:
    reply = ask("ask_registration", text)
    row = faq_row(ask.session, "ask_registration", "criteria")
    assert reply.topic_key == "criteria"
    assert row.needs_verification
    assert row.text_id.strip() in reply.text
    assert "perlu dipastikan" in reply.text


def test_registration_asked_by_a_linked_kpm_says_they_are_already_in(ask: Ask) -> None:
    reply = ask("ask_registration", "cara daftar pkh", as_="kpm-wit")
    assert "tercatat sebagai KPM PKH dengan status aktif" in reply.text


def test_registration_in_english_uses_the_english_faq_text(ask: Ask) -> None:
    reply = ask("ask_registration", "how do I register", language="en")
    assert "PKH has no open registration" in reply.text


@pytest.mark.parametrize("handle", [None, "kpm-wib", "pendamping"])
@pytest.mark.parametrize("intent", ["ask_recipient_check", "ask_registration"])
def test_eligibility_answers_leave_no_placeholder(
    ask: Ask, intent: str, handle: str | None
) -> None:
    reply = ask(intent, "pkh", as_=handle)
    assert reply.text
    assert "{" not in reply.text and "}" not in reply.text
    assert reply.buttons
