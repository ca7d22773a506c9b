"""Small talk, help, out-of-scope and not-sure answers."""

from __future__ import annotations

from actions.base import Reply, Request
from actions.content import faq_text, main_menu, topic_buttons
from actions.registry import answers
from nlu.schema import FALLBACK_INTENT, INTENTS, Intent
from programme.models import UnansweredReason

# Intents worth offering as "did you mean…?" buttons (small talk is not).
_TOPIC_INTENTS = tuple(i for i in INTENTS[: INTENTS.index(Intent.UPDATE_FAMILY_DATA) + 1])


@answers(Intent.GREET, Intent.THANK, Intent.GOODBYE, Intent.BOT_CHALLENGE, Intent.ASK_HELP)
def answer_small_talk(request: Request) -> Reply:
    """The FAQ text of the intent; greetings and help come with the topic menu."""
    intent = request.parse.intent
    buttons = (
        main_menu(request.tr)
        if intent in (Intent.GREET, Intent.ASK_HELP, Intent.BOT_CHALLENGE)
        else ()
    )
    return Reply(faq_text(request, intent), buttons, intent=intent)


@answers(Intent.OUT_OF_SCOPE)
def answer_out_of_scope(request: Request) -> Reply:
    """A polite "that is not my topic", the menu, and the question logged for the admins."""
    return Reply(
        faq_text(request, Intent.OUT_OF_SCOPE),
        main_menu(request.tr),
        unanswered=UnansweredReason.OUT_OF_SCOPE,
        intent=Intent.OUT_OF_SCOPE,
    )


@answers(FALLBACK_INTENT)
def answer_not_sure(request: Request) -> Reply:
    """Say we are not sure, offer the closest topics as buttons, log the question."""
    guesses = [g.name for g in request.parse.ranking if g.name in _TOPIC_INTENTS][:3]
    buttons = topic_buttons(request.tr, guesses)
    return Reply(
        faq_text(request, FALLBACK_INTENT),
        buttons or main_menu(request.tr),
        unanswered=UnansweredReason.FALLBACK,
        intent=FALLBACK_INTENT,
    )
