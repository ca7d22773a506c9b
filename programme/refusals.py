"""Refusals a pendamping or KPM is told about: the Indonesian message id, translated when shown.

Domain functions do not know the reader's language, so they raise the message id and its values;
the bot shows `error.text(tr)`. `str(error)` is the Indonesian text, for logs and the console.
"""

from __future__ import annotations

from core.i18n import Translator


def mark(message: str) -> str:
    """Mark a message id for `make i18n` (import it as `_`); it is translated when shown."""
    return message


class Refusal(Exception):
    """A request that cannot be done, with a message for the person who asked."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values

    def text(self, tr: Translator) -> str:
        """The message in the reader's language."""
        return tr._(self.message, **self.values)
