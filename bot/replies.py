"""Turning an action's Reply into what Telegram shows: plain text and an inline keyboard.

Replies are sent without a parse mode, so nothing a user or an admin typed can inject markup and
there is nothing to escape.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from actions import Reply
from bot.callbacks import CallbackSigner
from core.i18n import Translator
from programme.buttons import ButtonKind

RATE_UP, RATE_DOWN = ButtonKind.RATE_UP, ButtonKind.RATE_DOWN

MAX_TEXT = 4096  # Telegram's limit for one message


def keyboard(
    reply: Reply, signer: CallbackSigner, tr: Translator, *, rate: bool, for_user: int
) -> InlineKeyboardMarkup | None:
    """Topic buttons two per row, then 👍/👎 when the answer can be rated; only `for_user` (the
    Telegram user who asked) may tap them."""
    rows: list[list[InlineKeyboardButton]] = []
    topics = [b for b in reply.buttons if b.kind is ButtonKind.ASK]
    for start in range(0, len(topics), 2):
        rows.append(
            [
                InlineKeyboardButton(
                    b.label, callback_data=signer.sign(b.kind, b.value, for_user=for_user)
                )
                for b in topics[start : start + 2]
            ]
        )
    if rate and reply.intent:
        rows.append(
            [
                InlineKeyboardButton(
                    "👍", callback_data=signer.sign(RATE_UP, reply.intent, for_user=for_user)
                ),
                InlineKeyboardButton(
                    "👎", callback_data=signer.sign(RATE_DOWN, reply.intent, for_user=for_user)
                ),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long text at paragraph or line breaks so each part fits one message."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        cut = cut if cut > 0 else text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts
