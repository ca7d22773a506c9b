"""The asker's pendamping and family data: who to contact, what to report, a human handover."""

from __future__ import annotations

from actions.base import Reply, Request
from actions.content import faq_text, link_hint_for, paragraphs, pick_topic, topic_buttons
from actions.household import Household, household_of, pendamping_contact
from actions.registry import answers
from core.i18n import Translator
from nlu.schema import Intent
from programme.models import Kelompok

# First match wins: a wrong birth date is "wrong_data", not a birth; "pindah sekolah" is a school
# change, not a move.
_CHANGE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "pengurus_change": ("pengurus", "ganti nama kartu", "atas nama"),
    "wrong_data": ("salah", "keliru", "beda", "tidak sama", "typo", " nik ", "niknya", "dukcapil"),
    "new_member": ("hamil", "bumil", "mengandung", "melahirkan", "lahir", "bayi"),
    "school_change": (
        "sekolah",
        "naik kelas",
        "jenjang",
        "lulus",
        " sd ",
        "smp",
        "sma",
        "madrasah",
    ),
    "moved": ("pindah", "alamat", "domisili", "merantau"),
}
_COMPONENT_CHANGES = {
    "ibu_hamil": "new_member",
    "anak_usia_dini": "new_member",
    "anak_sd": "school_change",
    "anak_smp": "school_change",
    "anak_sma": "school_change",
}


# --- the answers -------------------------------------------------------------------------------


@answers(Intent.ASK_PENDAMPING_CONTACT)
def answer_pendamping_contact(request: Request) -> Reply:
    """Linked: the pendamping's name, phone and kelompok; otherwise where to find them."""
    household = household_of(request)
    if household is None:
        text = paragraphs(
            faq_text(request, Intent.ASK_PENDAMPING_CONTACT, "not_linked"), link_hint_for(request)
        )
        return Reply(text, intent=Intent.ASK_PENDAMPING_CONTACT, topic_key="not_linked")
    return Reply(
        _pendamping_text(request.tr, household.kelompok),
        topic_buttons(request.tr, (Intent.REQUEST_HUMAN,)),
        intent=Intent.ASK_PENDAMPING_CONTACT,
        topic_key="linked",
    )


def _pendamping_text(tr: Translator, kelompok: Kelompok) -> str:
    """Who the kelompok's pendamping is and how to reach them."""
    pendamping = kelompok.pendamping
    who = tr._(
        "Pendamping PKH keluarga Bapak/Ibu adalah {name}, yang mendampingi kelompok {kelompok}.",
        name=pendamping.name,
        kelompok=kelompok.name,
    )
    if pendamping.phone:
        phone = tr._("Nomor teleponnya: {phone}.", phone=pendamping.phone)
    else:
        phone = tr._(
            "Nomor teleponnya belum tercatat di data kami; tanyakan ke ketua kelompok Bapak/Ibu."
        )
    offer = tr._(
        "Pertanyaan Bapak/Ibu juga bisa saya teruskan ke pendamping lewat tombol di bawah."
    )
    return paragraphs(f"{who}\n{phone}", offer)


@answers(Intent.UPDATE_FAMILY_DATA)
def answer_update_family_data(request: Request) -> Reply:
    """How to report a change (birth, school, pengurus, wrong data, move) and to whom."""
    topic = _change_topic(request)
    household = household_of(request)
    if household is None:
        text = paragraphs(
            faq_text(request, Intent.UPDATE_FAMILY_DATA, topic), link_hint_for(request)
        )
        return Reply(text, intent=Intent.UPDATE_FAMILY_DATA, topic_key=topic)
    report_to = request.tr._(
        "Sampaikan laporannya ke pendamping Bapak/Ibu, {pendamping}.",
        pendamping=pendamping_contact(request.tr, household.pendamping),
    )
    if topic == "pengurus_change":
        report_to = paragraphs(_pengurus_line(request.tr, household), report_to)
    return Reply(
        paragraphs(faq_text(request, Intent.UPDATE_FAMILY_DATA, topic), report_to),
        topic_buttons(request.tr, (Intent.REQUEST_HUMAN,)),
        intent=Intent.UPDATE_FAMILY_DATA,
        topic_key=topic,
    )


def _pengurus_line(tr: Translator, household: Household) -> str:
    """Who the family's pengurus is in our data (the one who collects the money), or ""."""
    pengurus = next((member for member in household.members if member.is_pengurus), None)
    if pengurus is None:
        return ""
    return tr._("Di data kami, pengurus keluarga Bapak/Ibu saat ini: {name}.", name=pengurus.name)


def _change_topic(request: Request) -> str:
    """The kind of change: from the words used, else from the component named, else general."""
    by_words = pick_topic(request.parse.text, _CHANGE_KEYWORDS)
    component = request.parse.first("component")
    return by_words or _COMPONENT_CHANGES.get(component or "", "general")


@answers(Intent.REQUEST_HUMAN)
def answer_request_human(request: Request) -> Reply:
    """Linked: hand the question over to the family's pendamping; otherwise say how to link."""
    household = household_of(request)
    if household is None:
        text = paragraphs(
            faq_text(request, Intent.REQUEST_HUMAN, "not_linked"), link_hint_for(request)
        )
        return Reply(text, intent=Intent.REQUEST_HUMAN, topic_key="not_linked")
    pendamping = household.pendamping
    return Reply(
        faq_text(request, Intent.REQUEST_HUMAN, pendamping_name=pendamping.name),
        intent=Intent.REQUEST_HUMAN,
        topic_key="general",
        handoff_pendamping_id=pendamping.id,
    )
