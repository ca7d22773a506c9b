"""Small talk, help, out-of-scope and not-sure answers."""

from __future__ import annotations

from programme.models import UnansweredReason
from tests.actions.conftest import Ask


def test_greeting_uses_the_first_name_and_shows_the_menu(ask: Ask) -> None:
    reply = ask("greet", "halo min", as_="kpm-wita")
    assert "Yuliana" in reply.text
    assert any(b.data == "ask:ask_payment_schedule" for b in reply.buttons)


def test_greeting_an_unknown_user_is_polite_without_a_name(ask: Ask) -> None:
    reply = ask("greet", "halo")
    assert "Bapak/Ibu" in reply.text
    assert "{" not in reply.text


def test_out_of_scope_is_answered_politely_and_logged(ask: Ask) -> None:
    reply = ask("out_of_scope", "resep rendang gimana")
    assert reply.text
    assert reply.unanswered is UnansweredReason.OUT_OF_SCOPE
    assert reply.buttons


def test_not_sure_offers_the_closest_topics_and_is_logged(ask: Ask) -> None:
    reply = ask(
        "nlu_fallback",
        "kartu saya gimana ya",
        ranking=("nlu_fallback", "report_card_problem", "greet", "ask_payment_status"),
    )
    assert reply.unanswered is UnansweredReason.FALLBACK
    assert [b.data for b in reply.buttons] == ["ask:report_card_problem", "ask:ask_payment_status"]


def test_unknown_intent_gets_the_not_sure_answer(ask: Ask) -> None:
    assert ask("no_such_intent").unanswered is UnansweredReason.FALLBACK


def test_thanks_and_goodbye_and_bot_questions_have_answers(ask: Ask) -> None:
    for intent in ("thank", "goodbye", "bot_challenge", "ask_help"):
        assert ask(intent).text, intent
