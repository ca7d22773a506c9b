"""Every intent of PRODUCT.md §4 has an action, and each answers from the seeded database."""

from __future__ import annotations

import pytest

from actions import ACTIONS
from nlu.schema import FALLBACK_INTENT, INTENTS
from tests.actions.conftest import Ask


def test_every_intent_and_the_fallback_have_an_action() -> None:
    assert sorted((set(INTENTS) | {FALLBACK_INTENT}) - set(ACTIONS)) == []


@pytest.mark.parametrize("intent", [*INTENTS, FALLBACK_INTENT])
@pytest.mark.parametrize("handle", [None, "kpm-wib", "kpm-wita", "kpm-wit", "pendamping"])
def test_every_intent_answers_every_kind_of_asker_in_both_languages(
    ask: Ask, intent: str, handle: str | None
) -> None:
    for language in ("id", "en"):
        reply = ask(intent, as_=handle, language=language)
        assert reply.text.strip(), (intent, handle, language)
        assert "{" not in reply.text, reply.text
        assert all(button.label and button.data for button in reply.buttons)
