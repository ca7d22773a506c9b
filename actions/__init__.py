"""The answers: one module per topic, each action a plain function of (parse, asker, session).

`answer()` is the only entry point the terminal chat, the bot and the tests need.
"""

from __future__ import annotations

from actions import card, eligibility, family, graduation, p2k2, payment, smalltalk  # noqa: F401 - importing a topic module registers its actions
from actions.base import Action, Asker, Button, Reply, Request
from actions.registry import ACTIONS
from nlu.schema import FALLBACK_INTENT

__all__ = ["ACTIONS", "Action", "Asker", "Button", "Reply", "Request", "answer"]


def answer(request: Request) -> Reply:
    """Run the action of the parsed intent (the not-sure answer for anything unknown)."""
    action = ACTIONS.get(request.parse.intent) or ACTIONS[FALLBACK_INTENT]
    return action(request)
