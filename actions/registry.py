"""The table from intent name to the action that answers it."""

from __future__ import annotations

from collections.abc import Callable

from actions.base import Action

ACTIONS: dict[str, Action] = {}


def answers(*intents: str) -> Callable[[Action], Action]:
    """Register the decorated function as the action for these intents."""

    def register(function: Action) -> Action:
        for intent in intents:
            if intent in ACTIONS:
                raise ValueError(f"{intent} already answered by {ACTIONS[intent].__name__}")
            ACTIONS[intent] = function
        return function

    return register
