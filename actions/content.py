"""Shared pieces of answers: FAQ rows, the topic menu, the hint to link an account, paragraphs."""

from __future__ import annotations

import re
from collections.abc import Mapping

from actions.base import Button, Request
from core.i18n import Translator
from nlu.normalize import normalise_token
from nlu.schema import Intent
from programme.buttons import ButtonKind
from programme.content import faq
from programme.models import UserRole


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def faq_text(request: Request, intent: str, topic: str = "general", **values: object) -> str:
    """The FAQ answer in the asker's language, placeholders filled; "" when there is none."""
    row = faq(request.session, intent=intent, topic=topic)
    if row is None:
        return ""
    text = row.text_en if request.tr.language == "en" and row.text_en else row.text_id
    defaults: dict[str, object] = {
        "first_name": request.asker.first_name or request.tr._("Bapak/Ibu")
    }
    return text.strip().format_map(_KeepMissing({**defaults, **values}))


def pick_topic(text: str, keywords: Mapping[str, tuple[str, ...]]) -> str | None:
    """The first topic one of whose keywords occurs in the text as whole words.

    Keywords match the text as typed or as normalised ("blm" -> "belum"); "kur" does not match
    inside "kurang".
    """
    typed = " ".join(re.findall(r"\w+", text.lower()))
    normalised = " ".join(normalise_token(word) for word in typed.split())
    for topic, options in keywords.items():
        for option in options:
            pattern = rf"(?<!\w){re.escape(option)}(?!\w)"
            if any(re.search(pattern, form) for form in (typed, normalised, text.lower())):
                return topic
    return None


MAIN_TOPICS = (
    Intent.ASK_PAYMENT_SCHEDULE,
    Intent.ASK_BENEFIT_AMOUNT,
    Intent.ASK_PAYMENT_STATUS,
    Intent.ASK_P2K2_SCHEDULE,
    Intent.REPORT_CARD_PROBLEM,
    Intent.ASK_GRADUATION,
    Intent.FILE_COMPLAINT,
    Intent.REQUEST_HUMAN,
)


def topic_label(tr: Translator, intent: str) -> str:
    """A short button label for an intent."""
    labels: dict[str, str] = {
        Intent.ASK_PAYMENT_SCHEDULE: tr._("Kapan cair?"),
        Intent.ASK_BENEFIT_AMOUNT: tr._("Besaran bantuan"),
        Intent.ASK_PAYMENT_STATUS: tr._("Status bantuan saya"),
        Intent.ASK_RECIPIENT_CHECK: tr._("Cek status penerima"),
        Intent.ASK_REGISTRATION: tr._("Cara mendaftar"),
        Intent.ASK_OBLIGATIONS: tr._("Kewajiban KPM"),
        Intent.ASK_P2K2_MODULES: tr._("Apa itu P2K2?"),
        Intent.ASK_P2K2_SCHEDULE: tr._("Jadwal P2K2"),
        Intent.ASK_GRADUATION: tr._("Graduasi"),
        Intent.ASK_AFTER_GRADUATION: tr._("Setelah graduasi"),
        Intent.ASK_BPNT: tr._("BPNT / Sembako"),
        Intent.REPORT_CARD_PROBLEM: tr._("Masalah kartu KKS"),
        Intent.FILE_COMPLAINT: tr._("Pengaduan"),
        Intent.ASK_PENDAMPING_CONTACT: tr._("Pendamping saya"),
        Intent.UPDATE_FAMILY_DATA: tr._("Lapor perubahan data"),
        Intent.REQUEST_HUMAN: tr._("Hubungi pendamping"),
    }
    return labels.get(intent, intent)


def topic_buttons(tr: Translator, intents: tuple[str, ...] | list[str]) -> tuple[Button, ...]:
    """Buttons that ask the question of each intent for the user."""
    return tuple(Button(topic_label(tr, intent), ButtonKind.ASK, intent) for intent in intents)


def main_menu(tr: Translator) -> tuple[Button, ...]:
    """The main topics, as buttons."""
    return topic_buttons(tr, MAIN_TOPICS)


def link_hint(tr: Translator) -> str:
    """What a KPM whose account is not linked yet can do about it."""
    return tr._(
        "Supaya jawabannya sesuai data keluarga Bapak/Ibu, hubungkan akun ini dulu: minta kode "
        "undangan ke pendamping, lalu kirim /start diikuti kodenya."
    )


def link_hint_for(request: Request) -> str:
    """How to link the account, for a KPM; "" for pendamping and admins, who link differently."""
    return link_hint(request.tr) if request.asker.role is UserRole.KPM else ""


def paragraphs(*parts: str) -> str:
    """The non-empty parts, one paragraph each."""
    return "\n\n".join(part for part in parts if part)
