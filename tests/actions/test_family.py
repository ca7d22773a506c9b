"""The asker's pendamping, reporting a change in the family, and asking for a person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from programme.models import Family, FaqAnswer, Pendamping
from tests.actions.conftest import Ask

LINK_HINT = "/start diikuti kodenya"


def faq_text(ask: Ask, intent: str, topic: str) -> str:
    return (
        ask.session.scalars(
            select(FaqAnswer).where(FaqAnswer.intent == intent, FaqAnswer.topic_key == topic)
        )
        .one()
        .text_id.strip()
    )


def pendamping_of(ask: Ask, handle: str) -> Pendamping:
    family = ask.session.get(Family, ask.asker(handle).family_id)
    assert family is not None
    return family.kelompok.pendamping


# --- ask_pendamping_contact --------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"])
def test_pendamping_contact_gives_name_phone_and_kelompok(ask: Ask, handle: str) -> None:
    reply = ask("ask_pendamping_contact", "pendamping saya siapa", as_=handle)
    pendamping = pendamping_of(ask, handle)
    family = ask.session.get(Family, ask.asker(handle).family_id)
    assert family is not None
    assert f"adalah {pendamping.name}, yang mendampingi kelompok {family.kelompok.name}." in (
        reply.text
    )
    assert f"Nomor teleponnya: {pendamping.phone}." in reply.text
    assert [b.data for b in reply.buttons] == ["ask:request_human"]


def test_pendamping_contact_of_kpm_wita_is_maria(ask: Ask) -> None:
    reply = ask("ask_pendamping_contact", "no hp pendamping", as_="kpm-wita")
    assert "Maria Fatima Hamur" in reply.text and "+62 800 0000 5301" in reply.text


def test_pendamping_without_a_phone_number_is_said_so(ask: Ask) -> None:
    pendamping_of(ask, "kpm-wit").phone = None
    ask.session.flush()
    reply = ask("ask_pendamping_contact", "no hp pendamping", as_="kpm-wit")
    assert "Nomor teleponnya belum tercatat" in reply.text
    assert "None" not in reply.text


def test_pendamping_contact_for_an_unlinked_asker_says_where_to_ask_and_how_to_link(
    ask: Ask,
) -> None:
    reply = ask("ask_pendamping_contact", "pendamping saya siapa")
    assert reply.text.startswith(faq_text(ask, "ask_pendamping_contact", "not_linked"))
    assert LINK_HINT in reply.text


def test_pendamping_asking_gets_no_kpm_link_hint(ask: Ask) -> None:
    reply = ask("ask_pendamping_contact", "pendamping saya siapa", as_="pendamping")
    assert LINK_HINT not in reply.text


# --- update_family_data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("istri saya hamil lagi", "new_member"),
        ("anak saya baru lahir", "new_member"),
        ("anak pindah sekolah", "school_change"),
        ("tanggal lahir anak saya salah", "wrong_data"),
        ("nik saya beda sama ktp", "wrong_data"),
        ("pengurus pkh meninggal", "pengurus_change"),
        ("kami pindah rumah ke kecamatan lain", "moved"),
        ("mau lapor perubahan data", "general"),
    ],
)
def test_change_topic_follows_the_words_of_the_report(ask: Ask, text: str, topic: str) -> None:
    reply = ask("update_family_data", text)
    assert reply.topic_key == topic
    assert reply.text.startswith(faq_text(ask, "update_family_data", topic))


@pytest.mark.parametrize(
    ("component", "topic"),
    [("ibu_hamil", "new_member"), ("anak_smp", "school_change"), ("lansia", "general")],
)
def test_component_entity_steers_the_change_topic(ask: Ask, component: str, topic: str) -> None:
    reply = ask("update_family_data", "mau lapor", component=component)
    assert reply.topic_key == topic


@pytest.mark.parametrize("handle", ["kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"])
def test_linked_family_is_told_which_pendamping_to_report_to(ask: Ask, handle: str) -> None:
    reply = ask("update_family_data", "anak pindah sekolah", as_=handle)
    pendamping = pendamping_of(ask, handle)
    assert f"pendamping Bapak/Ibu, {pendamping.name} ({pendamping.phone})." in reply.text
    assert [b.data for b in reply.buttons] == ["ask:request_human"]
    assert LINK_HINT not in reply.text


def test_change_report_from_an_unlinked_asker_has_the_link_hint(ask: Ask) -> None:
    reply = ask("update_family_data", "anak pindah sekolah")
    assert LINK_HINT in reply.text
    assert reply.buttons == ()


# --- request_human -----------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"])
def test_request_human_hands_over_to_the_familys_pendamping(ask: Ask, handle: str) -> None:
    reply = ask("request_human", "mau ngomong sama orang", as_=handle)
    pendamping = pendamping_of(ask, handle)
    assert reply.handoff_pendamping_id == pendamping.id
    assert f"ke pendamping, {pendamping.name}." in reply.text
    assert "{" not in reply.text


def test_request_human_of_kpm_wita_goes_to_maria(ask: Ask) -> None:
    reply = ask("request_human", "mau bicara sama pendamping", as_="kpm-wita")
    pendamping = ask.session.get(Pendamping, reply.handoff_pendamping_id)
    assert pendamping is not None and pendamping.name == "Maria Fatima Hamur"


def test_request_human_from_an_unlinked_asker_is_not_handed_over(ask: Ask) -> None:
    reply = ask("request_human", "mau ngomong sama orang")
    assert reply.handoff_pendamping_id is None
    assert reply.text.startswith(faq_text(ask, "request_human", "not_linked"))
    assert LINK_HINT in reply.text


@pytest.mark.parametrize(
    "intent", ["ask_pendamping_contact", "update_family_data", "request_human"]
)
@pytest.mark.parametrize("handle", [None, "kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"])
def test_no_reply_leaves_a_placeholder(ask: Ask, intent: str, handle: str | None) -> None:
    reply = ask(intent, as_=handle)
    assert reply.text
    assert "{" not in reply.text and "}" not in reply.text
