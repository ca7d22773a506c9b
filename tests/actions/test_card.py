"""KKS card problems, complaints and where to make them, and BPNT."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import ComplaintChannel, FailureReason, FaqAnswer
from tests.actions.conftest import Ask


def faq_row(session: Session, intent: str, topic: str) -> FaqAnswer:
    """One FAQ row."""
    return session.scalars(
        select(FaqAnswer).where(FaqAnswer.intent == intent, FaqAnswer.topic_key == topic)
    ).one()


def channel(session: Session, code: str) -> ComplaintChannel:
    """One complaint channel row."""
    row = session.get(ComplaintChannel, code)
    assert row is not None
    return row


# --- report_card_problem ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("kks ketelen atm gmn", "swallowed"),
        ("kartu saya tertelan mesin", "swallowed"),
        ("kks saya keblokir", "blocked"),
        ("salah pin 3x kartu gak bisa", "blocked"),
        ("lupa pin kks", "pin_forgotten"),
        ("kartu kks ilang", "lost"),
        ("kks saya hilang di pasar", "lost"),
        ("kartunya patah", "damaged"),
        ("kks rusak gak kebaca", "damaged"),
        ("saya belum dapat kartu kks", "never_received"),
        ("kks belum dibagikan", "never_received"),
        ("kartu kks saya bermasalah", "general"),
    ],
)
def test_card_problem_picks_the_sub_topic_from_the_question(
    ask: Ask, text: str, topic: str
) -> None:
    reply = ask("report_card_problem", text)
    assert reply.topic_key == topic
    assert faq_row(ask.session, "report_card_problem", topic).text_id.strip() in reply.text


def test_card_problem_of_a_linked_kpm_names_their_bank_and_pendamping(ask: Ask) -> None:
    reply = ask("report_card_problem", "kks saya keblokir", as_="kpm-wita")
    assert "Kartu keluarga Bapak/Ibu adalah KKS Bank BRI" in reply.text
    assert "Maria Fatima Hamur (+62 800 0000 5301)" in reply.text


def test_card_problem_of_a_linked_kpm_mentions_their_failed_stage(ask: Ask) -> None:
    # kpm-wita's stage IV 2026 failed because the KKS is blocked (demo story).
    reply = ask("report_card_problem", "kartu saya gak bisa dipakai", as_="kpm-wita")
    reason = ask.session.get(FailureReason, "ACCOUNT")
    assert reason is not None
    assert reason.title in reply.text
    assert "KKS terblokir karena salah PIN tiga kali" in reply.text


def test_card_problem_of_a_family_paid_at_the_post_office_says_there_is_no_card(
    ask: Ask,
) -> None:
    reply = ask("report_card_problem", "kartu saya hilang", as_="kpm-wit")
    assert "disalurkan lewat PT Pos Indonesia, bukan lewat kartu KKS" in reply.text
    assert "surat undangan berbarcode" in reply.text  # the channel's own description
    assert "Yakobus Wally" in reply.text


def test_card_problem_of_an_unlinked_asker_names_no_pendamping(ask: Ask) -> None:
    reply = ask("report_card_problem", "lupa pin kks")
    assert "Pendamping Bapak/Ibu:" not in reply.text


def test_card_held_by_someone_else_is_answered_as_a_complaint(ask: Ask) -> None:
    reply = ask("report_card_problem", "kartu kks saya ditahan ketua kelompok")
    assert reply.intent == "file_complaint"
    assert reply.topic_key == "card_held"
    assert faq_row(ask.session, "file_complaint", "card_held").text_id.strip() in reply.text


# --- file_complaint ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["ada pungli di pencairan pkh", "bantuan saya dipotong ketua", "diminta setor 50rb"]
)
def test_complaint_about_a_levy_goes_to_171_and_the_dinas_sosial(ask: Ask, text: str) -> None:
    reply = ask("file_complaint", text, as_="kpm-wib")
    assert reply.topic_key == "illegal_levy"
    assert faq_row(ask.session, "file_complaint", "illegal_levy").text_id.strip() in reply.text
    assert channel(ask.session, "call171").name in reply.text
    assert channel(ask.session, "dinsos").name in reply.text
    # A levy may involve the pendamping: they are not offered as the place to complain.
    assert "Pendamping Bapak/Ibu:" not in reply.text


def test_complaint_about_wrong_targeting_offers_usul_sanggah_and_the_desa(ask: Ask) -> None:
    reply = ask("file_complaint", "tetangga orang kaya kok dapet pkh")
    app = channel(ask.session, "cekbansos_app")
    assert reply.topic_key == "wrong_target"
    assert f"{app.name}: {app.contact}" in reply.text
    assert channel(ask.session, "operator_desa").name in reply.text


def test_general_complaint_of_a_linked_kpm_names_their_pendamping(ask: Ask) -> None:
    reply = ask("file_complaint", "mau lapor kemana", as_="kpm-wita")
    assert reply.topic_key == "general"
    assert "Saluran yang bisa dihubungi:" in reply.text
    assert "• Pendamping Bapak/Ibu: Maria Fatima Hamur (+62 800 0000 5301)" in reply.text
    assert channel(ask.session, "call171").name in reply.text


def test_complaint_never_offers_a_channel_that_is_no_longer_current(ask: Ask) -> None:
    old = channel(ask.session, "wa_bansos_covid_2020")
    assert not old.is_current
    for text in ("mau lapor", "ada pungli", "salah sasaran", "kartu ditahan"):
        reply = ask("file_complaint", text)
        assert old.name not in reply.text
        assert old.contact is not None and old.contact not in reply.text


# --- ask_bpnt ------------------------------------------------------------------------------------


def test_bpnt_answer_words_its_value_with_caution(ask: Ask) -> None:
    reply = ask("ask_bpnt", "bpnt itu apa", programme="bpnt")
    row = faq_row(ask.session, "ask_bpnt", "general")
    assert row.needs_verification
    assert row.text_id.strip() in reply.text
    assert "perlu dipastikan" in reply.text
    assert any(b.data == "ask:file_complaint" for b in reply.buttons)


@pytest.mark.parametrize("handle", [None, "kpm-wib", "kpm-wit"])
@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("report_card_problem", "kks ketelen"),
        ("report_card_problem", "kartu kks"),
        ("file_complaint", "mau lapor pungli"),
        ("file_complaint", "lapor"),
        ("ask_bpnt", "sembako kapan"),
    ],
)
def test_card_and_complaint_answers_leave_no_placeholder(
    ask: Ask, intent: str, text: str, handle: str | None
) -> None:
    reply = ask(intent, text, as_=handle)
    assert reply.text
    assert "{" not in reply.text and "}" not in reply.text
