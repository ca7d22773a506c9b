"""Who gets PKH: how to check whether someone is a recipient, and how to become one."""

from __future__ import annotations

from collections.abc import Mapping

from actions.base import Reply, Request
from actions.content import faq_text, pick_topic, topic_buttons
from actions.household import Household, family_status_label, household_of
from actions.registry import answers
from nlu.schema import Intent

RECIPIENT_CHECK = Intent.ASK_RECIPIENT_CHECK
REGISTRATION = Intent.ASK_REGISTRATION

# Sub-topics of faq.yml, picked from whole words of the question; the first match wins.
RECIPIENT_CHECK_KEYWORDS = {
    "not_found": (
        "tidak ada",
        "tidak muncul",
        "tidak ketemu",
        "tidak ditemukan",
        "tidak terdaftar",
        "status tidak",
        "statusnya tidak",
        "status saya tidak",
        "artinya",
        "dicoret",
        "hilang",
        "kosong",
    ),
    "app": ("aplikasi", "apk", "play store", "playstore", "download", "unduh", "install"),
}
REGISTRATION_KEYWORDS = {
    "criteria": (
        "syarat",
        "syaratnya",
        "persyaratan",
        "kriteria",
        "siapa yang",
        "siapa saja",
        "berhak",
        "layak",
        "desil",
        "ketentuan",
    ),
}


@answers(RECIPIENT_CHECK)
def answer_recipient_check(request: Request) -> Reply:
    """How to check at cekbansos (site, app, or what "not found" means); a linked KPM's standing."""
    return faq_with_standing(
        request,
        RECIPIENT_CHECK,
        RECIPIENT_CHECK_KEYWORDS,
        [REGISTRATION, Intent.ASK_PAYMENT_STATUS],
    )


@answers(REGISTRATION)
def answer_registration(request: Request) -> Reply:
    """No open registration: how to be proposed, or who is eligible; a linked KPM's standing."""
    return faq_with_standing(
        request, REGISTRATION, REGISTRATION_KEYWORDS, [RECIPIENT_CHECK, Intent.ASK_BENEFIT_AMOUNT]
    )


def faq_with_standing(
    request: Request, intent: str, keywords: Mapping[str, tuple[str, ...]], related: list[str]
) -> Reply:
    """The FAQ topic the text asks about, then, for a linked KPM, where their family stands."""
    topic = pick_topic(request.parse.text, keywords) or "general"
    household = household_of(request)
    parts = [faq_text(request, intent, topic)]
    if household is not None:
        parts.append(own_standing(request, household))
    return Reply(
        "\n\n".join(parts), topic_buttons(request.tr, related), intent=intent, topic_key=topic
    )


def own_standing(request: Request, household: Household) -> str:
    """Where the asker's own family stands in PKH, according to our data."""
    family = household.family
    return request.tr._(
        "Menurut data kami, keluarga Bapak/Ibu tercatat sebagai KPM PKH dengan status {status}, "
        "di kelompok {kelompok}.",
        status=family_status_label(request.tr, family.status),
        kelompok=household.kelompok.name,
    )
