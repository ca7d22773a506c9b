"""KPM obligations and sanctions, the P2K2 modules, the asker's next P2K2 meeting."""

from __future__ import annotations

from collections.abc import Sequence

from babel.lists import format_list

from actions.base import Reply, Request
from actions.content import faq_text, link_hint_for, paragraphs, pick_topic, topic_buttons
from actions.household import Household, household_of, pendamping_contact
from actions.registry import answers
from core.i18n import Translator
from nlu.schema import Intent
from programme.benefits import component
from programme.meetings import next_meeting
from programme.models import (
    ComponentGroup,
    MemberComponent,
    P2K2Meeting,
    P2K2Module,
    P2K2Session,
)
from programme.p2k2 import all_modules, find_module

# First match wins: "kalau gak ikut pertemuan dicoret?" asks about the sanction, not about P2K2,
# and "sekolah PKH" is P2K2, not school.
_OBLIGATION_KEYWORDS: dict[str, tuple[str, ...]] = {
    "sanctions": (
        "sanksi",
        "tangguh",
        "dihentikan",
        "diputus",
        "dicoret",
        "dicabut",
        "dikeluarkan",
        "hukuman",
        "akibat",
        "tidak ikut",
        "tidak hadir",
        "tidak datang",
        "bolos",
    ),
    "p2k2": ("p2k2", "fds", "pertemuan", "sekolah pkh", "kelompok"),
    "health": (
        "kesehatan",
        "hamil",
        "nifas",
        "melahirkan",
        "posyandu",
        "puskesmas",
        "imunisasi",
        "timbang",
        "vitamin",
        "balita",
        "periksa",
    ),
    "school": ("sekolah", "absen", "kehadiran", "persen", " sd ", "smp", "sma", "madrasah"),
}
# The FAQ topic that spells out the obligations of each component group; the kesejahteraan
# sosial group has none of its own (its details are uncertain, pkh-facts §5.1).
_GROUP_TOPICS = {ComponentGroup.KESEHATAN: "health", ComponentGroup.PENDIDIKAN: "school"}
_TOPIC_GROUPS = {topic: group for group, topic in _GROUP_TOPICS.items()}

_MANDATORY_KEYWORDS = {
    "mandatory": (
        "wajib",
        "harus ikut",
        "harus datang",
        "harus hadir",
        "tidak ikut",
        "tidak hadir",
        "bolos",
        "absen",
    )
}
_ABOUT_KEYWORDS = {
    "general": (
        "apa itu",
        "itu apa",
        "apa sih",
        "maksud",
        "arti",
        "pengertian",
        "fds",
        "sekolah pkh",
    )
}
# The newer module has no NLU entity value (nlu/schema.py), so it is recognised by its word.
_MODULE_WORDS = {"stunting": ("stunting", "tengkes")}


# --- ask_obligations -----------------------------------------------------------------------------


@answers(Intent.ASK_OBLIGATIONS)
def answer_obligations(request: Request) -> Reply:
    """The obligations on the topic asked; for a linked KPM, the ones of their own components."""
    topic = _obligation_topic(request)
    household = household_of(request)
    if household is None:
        hint = link_hint_for(request) if topic in ("general", "health", "school") else ""
        text = paragraphs(faq_text(request, Intent.ASK_OBLIGATIONS, topic), hint)
    elif topic == "general":
        text = _family_obligations(request, household)
    else:
        text = paragraphs(
            faq_text(request, Intent.ASK_OBLIGATIONS, topic), _who_must(request, household, topic)
        )
    return Reply(text, intent=Intent.ASK_OBLIGATIONS, topic_key=topic)


def _obligation_topic(request: Request) -> str:
    """The topic from the words used, else from the group of the component named, else general."""
    by_words = pick_topic(request.parse.text, _OBLIGATION_KEYWORDS)
    if by_words is not None:
        return by_words
    code = request.parse.first("component")
    row = component(request.session, code=code) if code else None
    if row is None or row.group is None:
        return "general"
    return _GROUP_TOPICS.get(row.group, "general")


def _family_obligations(request: Request, household: Household) -> str:
    """The obligations that apply to the family's components, then P2K2 and the sanctions."""
    components = household.member_components
    if not components:
        none_recorded = request.tr._(
            "Menurut data kami, belum ada komponen yang tercatat untuk keluarga Bapak/Ibu; "
            "mohon dipastikan ke pendamping."
        )
        return paragraphs(faq_text(request, Intent.ASK_OBLIGATIONS), none_recorded)
    return paragraphs(
        request.tr._("Kewajiban keluarga Bapak/Ibu, sesuai komponen yang tercatat:"),
        *(_group_obligations(request, components, group) for group in ComponentGroup),
        faq_text(request, Intent.ASK_OBLIGATIONS, "p2k2"),
        faq_text(request, Intent.ASK_OBLIGATIONS, "sanctions"),
    )


def _group_obligations(
    request: Request, components: Sequence[MemberComponent], group: ComponentGroup
) -> str:
    """The obligations of one component group, for the members who hold one; "" for none."""
    names = _holders(request.tr, components, group)
    if not names:
        return ""
    topic = _GROUP_TOPICS.get(group)
    if topic is None:
        return request.tr._(
            "Untuk {names}: rinciannya perlu dipastikan ke pendamping.", names=names
        )
    heading = request.tr._("Untuk {names}:", names=names)
    return f"{heading}\n{faq_text(request, 'ask_obligations', topic)}"


def _holders(tr: Translator, components: Sequence[MemberComponent], group: ComponentGroup) -> str:
    """The names of the members holding a component of this group ("Ayu dan Dimas"), or ""."""
    names = dict.fromkeys(c.member.name for c in components if c.component.group is group)
    return format_list(list(names), locale=tr.locale) if names else ""


def _who_must(request: Request, household: Household, topic: str) -> str:
    """Which members of the family the health or school obligations apply to."""
    group = _TOPIC_GROUPS.get(topic)
    if group is None:
        return ""
    names = _holders(request.tr, household.member_components, group)
    if names:
        return request.tr._("Di keluarga Bapak/Ibu, ini berlaku untuk {names}.", names=names)
    return request.tr._(
        "Menurut data kami, kewajiban ini belum berlaku untuk anggota keluarga Bapak/Ibu."
    )


# --- ask_p2k2_modules ----------------------------------------------------------------------------


@answers(Intent.ASK_P2K2_MODULES)
def answer_p2k2_modules(request: Request) -> Reply:
    """One module's sessions, whether P2K2 is compulsory, what P2K2 is, or the list of modules."""
    text = request.parse.text
    code = request.parse.first("module") or pick_topic(text, _MODULE_WORDS)
    module = find_module(request.session, code=code) if code else None
    topic = pick_topic(text, _MANDATORY_KEYWORDS) or pick_topic(text, _ABOUT_KEYWORDS)
    if module is not None:
        body, topic = _module_text(request.tr, module), module.code
    elif topic is not None:
        body = faq_text(request, Intent.ASK_P2K2_MODULES, topic)
    else:
        body, topic = _modules_text(request.tr, all_modules(request.session)), "modules"
    buttons = topic_buttons(request.tr, (Intent.ASK_P2K2_SCHEDULE,))
    return Reply(body, buttons, intent=Intent.ASK_P2K2_MODULES, topic_key=topic)


def _modules_text(tr: Translator, modules: Sequence[P2K2Module]) -> str:
    """The list of modules with how many sessions each has."""
    lines = [
        tr._(
            "Materi P2K2 (Pertemuan Peningkatan Kemampuan Keluarga) ada {count} modul:",
            count=len(modules),
        )
    ]
    for module in modules:
        values = {"number": module.number, "name": module.name, "sessions": len(module.sessions)}
        if _is_uncertain(module):
            lines.append(
                tr._(
                    "{number}. {name} ({sessions} sesi; judul sesinya perlu dipastikan "
                    "ke pendamping)",
                    **values,
                )
            )
        else:
            lines.append(tr._("{number}. {name} ({sessions} sesi)", **values))
    more = tr._('Ketik nama modulnya, misalnya "modul ekonomi", kalau ingin tahu isi dan sesinya.')
    return paragraphs("\n".join(lines), more)


def _module_text(tr: Translator, module: P2K2Module) -> str:
    """One module: its description and its sessions, with a caution when they are uncertain."""
    heading = tr._("Modul {number}: {name}", number=module.number, name=module.name)
    sessions = [tr._("Sesinya:")] + [_session_line(tr, session) for session in module.sessions]
    caution = (
        tr._(
            "Catatan: judul dan isi sesi modul ini belum bisa kami pastikan; mohon dipastikan "
            "ke pendamping."
        )
        if _is_uncertain(module)
        else ""
    )
    return paragraphs(f"{heading}\n{module.description.strip()}", "\n".join(sessions), caution)


def _session_line(tr: Translator, session: P2K2Session) -> str:
    """ "2. Memahami Perkembangan … — what it covers", the summary only when there is one."""
    if session.summary:
        return tr._(
            "{number}. {title} — {summary}",
            number=session.number,
            title=session.title,
            summary=session.summary.strip(),
        )
    return tr._("{number}. {title}", number=session.number, title=session.title)


def _is_uncertain(module: P2K2Module) -> bool:
    """True when the module or one of its sessions rests on a weak source."""
    return module.needs_verification or any(s.needs_verification for s in module.sessions)


# --- ask_p2k2_schedule ---------------------------------------------------------------------------


@answers(Intent.ASK_P2K2_SCHEDULE)
def answer_p2k2_schedule(request: Request) -> Reply:
    """Linked: the kelompok's next meeting, in its own time zone; else what P2K2 is and linking."""
    household = household_of(request)
    if household is None:
        text = paragraphs(
            faq_text(request, Intent.ASK_P2K2_SCHEDULE, "not_linked"), link_hint_for(request)
        )
        return Reply(text, intent=Intent.ASK_P2K2_SCHEDULE, topic_key="not_linked")
    kelompok = household.kelompok
    meeting = next_meeting(request.session, kelompok_id=kelompok.id, now=request.now)
    if meeting is None:
        text = request.tr._(
            "Belum ada jadwal pertemuan P2K2 berikutnya untuk kelompok {kelompok} di data kami. "
            "Silakan tanyakan ke pendamping, {pendamping}.",
            kelompok=kelompok.name,
            pendamping=pendamping_contact(request.tr, kelompok.pendamping),
        )
        return Reply(text, intent=Intent.ASK_P2K2_SCHEDULE, topic_key="none_scheduled")
    return Reply(
        _meeting_text(request.tr, meeting),
        intent=Intent.ASK_P2K2_SCHEDULE,
        topic_key="next_meeting",
    )


def _meeting_text(tr: Translator, meeting: P2K2Meeting) -> str:
    """When (in the kelompok's own time zone), where and what the meeting is about."""
    kelompok = meeting.kelompok
    lines = [
        tr._("Pertemuan P2K2 berikutnya untuk kelompok {kelompok}:", kelompok=kelompok.name),
        tr._(
            "Waktu: {when}",
            when=tr.local_datetime(meeting.starts_at, str(kelompok.desa.time_zone)),
        ),
        tr._("Tempat: {place}", place=meeting.place),
    ]
    if meeting.session is not None:
        lines.append(
            tr._(
                "Materi: Modul {module_number} ({module_name}), sesi {session_number}: {title}",
                module_number=meeting.session.module.number,
                module_name=meeting.session.module.name,
                session_number=meeting.session.number,
                title=meeting.session.title,
            )
        )
    absent = tr._(
        "Kalau berhalangan hadir, kabari pendamping, {pendamping}, sebelumnya.",
        pendamping=pendamping_contact(tr, kelompok.pendamping),
    )
    return paragraphs("\n".join(lines), absent)
