"""Group chats: the bot answers general facts there; a family's own data stays in its private chat.

In a group everyone reads the answer, so it is made as for someone whose account is not linked
(general facts: amounts per component, how P2K2 works, where to complain). A question about the
asker's own family (status, components, the next meeting, the pendamping) gets a short answer with
a `t.me/<bot>?start=<topic>` link that opens the private chat and answers it there; buttons that
would reveal or change personal data are left out.
"""

from __future__ import annotations

import re
from dataclasses import replace

from actions import Asker, Reply
from core.i18n import Translator
from nlu.client import ParseResult
from nlu.schema import Intent
from programme.buttons import Button, ButtonKind

# Answered from the family's own record whatever the wording.
PERSONAL_INTENTS = frozenset(
    {
        Intent.ASK_PAYMENT_STATUS,
        Intent.ASK_P2K2_SCHEDULE,
        Intent.ASK_PENDAMPING_CONTACT,
        Intent.UPDATE_FAMILY_DATA,
        Intent.REQUEST_HUMAN,
    }
)
# General topics that a linked family gets answered from its own record when it asks about itself
# ("bantuan saya berapa", "kapan pkh saya cair", "komponen keluarga saya apa saja").
HOUSEHOLD_INTENTS = frozenset({Intent.ASK_BENEFIT_AMOUNT, Intent.ASK_PAYMENT_SCHEDULE})
FIRST_PERSON = re.compile(
    r"\b(saya|sy|aku|aq|gue|gw|gua|kami|kita)\b"
    r"|\b(bantuan|uang|duit|dana|saldo|keluarga|anak|kartu|kks|pkh|jatah|punya)ku\b",
    re.IGNORECASE,
)


def is_personal(parse: ParseResult) -> bool:
    """Whether answering this question in full would show the asker's own family data."""
    if parse.intent in PERSONAL_INTENTS:
        return True
    return parse.intent in HOUSEHOLD_INTENTS and FIRST_PERSON.search(parse.text) is not None


def is_personal_topic(intent: str) -> bool:
    """Whether a topic button of this intent answers from the family's own record."""
    return intent in PERSONAL_INTENTS


def general_asker(asker: Asker) -> Asker:
    """The asker as the group may see them: no family, no pendamping record, no role."""
    return Asker(user_id=asker.user_id, language=asker.language, first_name=asker.first_name)


def private_link(bot_username: str, topic: str | None = None) -> str:
    """The link that opens the private chat with the bot (and asks `topic` there)."""
    return f"https://t.me/{bot_username}" + (f"?start={topic}" if topic else "")


def continue_privately(tr: Translator, bot_username: str, intent: str) -> Reply:
    """The short answer in a group to a question about the asker's own family."""
    return Reply(
        tr._(
            "Pertanyaan ini menyangkut data keluarga Bapak/Ibu, jadi saya jawab di chat pribadi "
            "ya, supaya tidak terbaca anggota grup. Lanjutkan di sini: {link}",
            link=private_link(bot_username, intent),
        )
    )  # no intent: nothing to rate here, the answer comes in the private chat


def private_only(tr: Translator, bot_username: str) -> str:
    """What a group is told about a command that shows or changes the asker's own data."""
    return tr._(
        "Perintah ini hanya bisa dipakai di chat pribadi dengan saya, supaya data Bapak/Ibu tidak "
        "terbaca anggota grup: {link}",
        link=private_link(bot_username),
    )


def for_group(reply: Reply) -> Reply:
    """The reply without the buttons a group must not get (topics answered from personal data)."""
    kept = tuple(b for b in reply.buttons if _fits_a_group(b))
    return reply if kept == reply.buttons else replace(reply, buttons=kept)


def _fits_a_group(button: Button) -> bool:
    if button.kind is ButtonKind.ASK:
        return not is_personal_topic(button.value)
    return button.kind in (ButtonKind.RATE_UP, ButtonKind.RATE_DOWN)
