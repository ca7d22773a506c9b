"""Graduation (leaving PKH) and the empowerment programmes that may follow it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from actions.base import Reply, Request
from actions.content import faq_text, link_hint_for, paragraphs, pick_topic
from actions.household import Household, household_of, pendamping_contact
from actions.registry import answers
from core.i18n import Translator
from nlu.schema import Intent
from programme.models import Family, FamilyStatus, GraduationType, MemberComponent

# First match wins: "dicoret" is about removal even when it says "cara"; "cara graduasi mandiri"
# asks for the steps.
_GRADUATION_KEYWORDS: dict[str, tuple[str, ...]] = {
    "removed": (
        "dikeluarkan",
        "dikeluarin",
        "dicoret",
        "dicabut",
        "diputus",
        "dihapus",
        "diberhentikan",
        "paksa",
    ),
    "steps": (" cara", "langkah", "prosedur", "proses", "syarat", "mundur", "mengundurkan"),
    "sejahtera_mandiri": ("mandiri", "sukarela", "sejahtera"),
    "alamiah": (
        "alami",
        "lulus",
        "komponen habis",
        "tidak punya komponen",
        "sampai kapan",
        "berhenti",
        "selesai",
    ),
}
# Topics where the family's own situation belongs in the answer (not the how-to ones).
_PERSONAL_TOPICS = ("general", "alamiah", "removed")

# Short names match whole words only: "kur" is also the start of "kurang".
_PROGRAMME_WORDS: dict[str, tuple[str, ...]] = {
    "prokus": ("prokus",),
    "pena": ("pena",),
    "kube": ("kube",),
    "kur": ("kur",),
    "kemenperin": ("kemenperin", "ikm", "esmart"),
}
_PROGRAMME_PHRASES: dict[str, tuple[str, ...]] = {
    "prokus": ("kewirausahaan sosial",),
    "pena": ("pahlawan ekonomi",),
    "kube": ("usaha bersama",),
    "kur": ("kredit usaha",),
    "kemenperin": ("perindustrian", "e-smart", "pelatihan"),
}
_AFTER_GRADUATION_TOPICS = ("prokus", "kube", "kur")  # the `programme` entity values with a topic


@answers(Intent.ASK_GRADUATION)
def answer_graduation(request: Request) -> Reply:
    """The FAQ on the topic asked; for a linked KPM also where their own family stands."""
    topic = pick_topic(request.parse.text, _GRADUATION_KEYWORDS) or "general"
    general = faq_text(request, Intent.ASK_GRADUATION, topic)
    household = household_of(request)
    if topic not in _PERSONAL_TOPICS:
        text = general
    elif household is None:
        text = paragraphs(general, link_hint_for(request))
    else:
        text = paragraphs(general, _family_standing(request, household))
    return Reply(text, intent=Intent.ASK_GRADUATION, topic_key=topic)


def _family_standing(request: Request, household: Household) -> str:
    """Whether the family is still in PKH and which of its components end on their own."""
    tr = request.tr
    family = household.family
    if family.status is FamilyStatus.GRADUATED:
        return _graduated_text(tr, family)
    pendamping = pendamping_contact(tr, household.pendamping)
    if family.status is FamilyStatus.REMOVED:
        return tr._(
            "Menurut data kami, keluarga Bapak/Ibu sudah tidak terdaftar di PKH. Kalau menurut "
            "Bapak/Ibu ini keliru, tanyakan ke pendamping, {pendamping}.",
            pendamping=pendamping,
        )
    components = household.member_components
    suspended = (
        tr._(
            "Menurut data kami, bantuan keluarga Bapak/Ibu sedang ditangguhkan; tanyakan "
            "alasannya ke pendamping, {pendamping}.",
            pendamping=pendamping,
        )
        if family.status is FamilyStatus.SUSPENDED
        else ""
    )
    return paragraphs(suspended, _components_text(tr, components))


def _graduated_text(tr: Translator, family: Family) -> str:
    """The family has graduated: which way and, when recorded, since when."""
    kind = (
        tr._("graduasi sejahtera mandiri")
        if family.graduation_type is GraduationType.SEJAHTERA_MANDIRI
        else tr._("graduasi alamiah")
    )
    if family.status_since is None:
        return tr._(
            "Menurut data kami, keluarga Bapak/Ibu sudah keluar dari PKH lewat {kind}.", kind=kind
        )
    return tr._(
        "Menurut data kami, keluarga Bapak/Ibu sudah keluar dari PKH lewat {kind} sejak {date}.",
        kind=kind,
        date=tr.short_date(family.status_since),
    )


def _components_text(tr: Translator, components: Sequence[MemberComponent]) -> str:
    """The family's components, then the ones that end with a life event, without guessing dates."""
    if not components:
        return tr._(
            "Menurut data kami, keluarga Bapak/Ibu tidak punya komponen PKH lagi. Tanyakan ke "
            "pendamping apakah keluarga akan graduasi alamiah."
        )
    listing = tr.n_(
        "Menurut data kami, keluarga Bapak/Ibu masih punya {count} komponen PKH:",
        "Menurut data kami, keluarga Bapak/Ibu masih punya {count} komponen PKH:",
        len(components),
    )
    lines = [
        tr._("• {name} – {component}", name=c.member.name, component=c.component.name)
        for c in components
    ]
    return paragraphs("\n".join([listing, *lines]), _ending_text(tr, components))


def _ending_text(tr: Translator, components: Sequence[MemberComponent]) -> str:
    """Which components end when a child finishes SMA or a mother's nifas ends, and what then."""
    # Only these two end with an event we can name (SMA is the last school level, nifas the last
    # stage of a pregnancy); children growing out of usia dini usually move on to anak SD.
    ending = [c for c in components if c.component_code in ("anak_sma", "ibu_hamil")]
    if not ending:
        return ""
    sentences = [_ends_when(tr, c) for c in ending]
    if len(ending) == len(components):
        sentences.append(
            tr._(
                "Setelah itu keluarga Bapak/Ibu tidak punya komponen lagi, sehingga akan graduasi "
                "alamiah, kecuali ada komponen baru (misalnya kehamilan atau anak masuk sekolah)."
            )
        )
    else:
        sentences.append(
            tr._(
                "Komponen lainnya tetap berjalan selama syaratnya terpenuhi, jadi bantuan tidak "
                "otomatis berhenti saat itu."
            )
        )
    return " ".join(sentences)


def _ends_when(tr: Translator, component: MemberComponent) -> str:
    """When one ending component stops: at the end of SMA or of the nifas period."""
    values = {"name": component.member.name, "component": component.component.name}
    if component.component_code == "anak_sma":
        return tr._(
            "Komponen {component} untuk {name} berakhir setelah ia lulus SMA/sederajat; "
            "waktunya mengikuti kelulusan sekolah, jadi kabari pendamping saat ia lulus.",
            **values,
        )
    return tr._("Komponen {component} untuk {name} berakhir setelah masa nifas selesai.", **values)


@answers(Intent.ASK_AFTER_GRADUATION)
def answer_after_graduation(request: Request) -> Reply:
    """The empowerment programme asked about (PROKUS, PENA, KUBE, KUR, Kemenperin), else all."""
    topic = _programme_topic(request)
    # The FAQ rows that rest on uncertain facts (needs_verification) word them with caution.
    return Reply(
        faq_text(request, Intent.ASK_AFTER_GRADUATION, topic),
        intent=Intent.ASK_AFTER_GRADUATION,
        topic_key=topic,
    )


def _programme_topic(request: Request) -> str:
    """The programme from the entity, else from its name in the text, else general."""
    programme = request.parse.first("programme")
    if programme is not None and programme in _AFTER_GRADUATION_TOPICS:
        return programme
    text = request.parse.text
    return (
        _topic_by_word(text, _PROGRAMME_WORDS) or pick_topic(text, _PROGRAMME_PHRASES) or "general"
    )


def _topic_by_word(text: str, words: Mapping[str, tuple[str, ...]]) -> str | None:
    """The first topic one of whose words is a whole word of the text."""
    found = set(re.findall(r"\w+", text.lower()))
    return next((topic for topic, options in words.items() if found.intersection(options)), None)
