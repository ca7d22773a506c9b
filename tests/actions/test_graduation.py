"""Graduation and the empowerment programmes after it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from programme.demo import demo_handles
from programme.models import (
    Family,
    FamilyMember,
    FamilyStatus,
    FaqAnswer,
    MemberComponent,
    TelegramUser,
)
from tests.actions.conftest import Ask

LINK_HINT = "/start diikuti kodenya"
YEAR = re.compile(r"\b(19|20)\d\d\b")


def faq_row(ask: Ask, intent: str, topic: str) -> FaqAnswer:
    return ask.session.scalars(
        select(FaqAnswer).where(FaqAnswer.intent == intent, FaqAnswer.topic_key == topic)
    ).one()


def faq_text(ask: Ask, intent: str, topic: str) -> str:
    return faq_row(ask, intent, topic).text_id.strip()


def relink_kpm_wib(ask: Ask, status: FamilyStatus) -> Family:
    """Link the kpm-wib account to the first generated demo family with this status instead."""
    family = ask.session.scalars(
        select(Family).where(Family.status == status).order_by(Family.pkh_id).limit(1)
    ).one()
    user = ask.session.scalars(
        select(TelegramUser).where(TelegramUser.telegram_user_id == demo_handles()["kpm-wib"])
    ).one()
    user.family_id = family.id
    ask.session.flush()
    return family


# --- ask_graduation ----------------------------------------------------------------------------


def test_graduation_for_a_linked_family_lists_its_components_and_the_sma_one_that_ends(
    ask: Ask,
) -> None:
    reply = ask("ask_graduation", "graduasi itu apa", as_="kpm-wit")
    assert reply.text.startswith(faq_text(ask, "ask_graduation", "general"))
    assert "masih punya 3 komponen PKH" in reply.text
    assert "• Ester Pepuho – Anak SMA/SMK/MA/sederajat" in reply.text
    assert "• Simon Pepuho – Penyandang disabilitas berat" in reply.text
    assert "untuk Ester Pepuho berakhir setelah ia lulus SMA/sederajat" in reply.text
    assert "Komponen lainnya tetap berjalan" in reply.text
    assert not YEAR.search(reply.text), "no end date may be invented"


def test_graduation_names_the_end_of_nifas_for_a_pregnant_mother(ask: Ask) -> None:
    reply = ask("ask_graduation", "kapan bantuan berhenti", as_="kpm-wita")
    assert reply.topic_key == "alamiah"
    assert "masih punya 5 komponen PKH" in reply.text
    assert "Ibu hamil/nifas untuk Yuliana Ndahur berakhir setelah masa nifas selesai" in reply.text
    assert not YEAR.search(reply.text)


def test_graduation_says_nothing_ends_when_no_component_ends_by_itself(ask: Ask) -> None:
    reply = ask("ask_graduation", "graduasi itu apa", as_="kpm-wib")
    assert "masih punya 3 komponen PKH" in reply.text
    assert "berakhir" not in reply.text


def test_family_left_with_only_an_sma_child_is_told_it_will_graduate_alamiah(ask: Ask) -> None:
    family_id = ask.asker("kpm-wit").family_id
    for component in ask.session.scalars(
        select(MemberComponent)
        .join(FamilyMember)
        .where(FamilyMember.family_id == family_id, MemberComponent.component_code != "anak_sma")
    ):
        ask.session.delete(component)
    ask.session.flush()
    reply = ask("ask_graduation", "graduasi itu apa", as_="kpm-wit")
    assert "masih punya 1 komponen PKH" in reply.text
    assert "tidak punya komponen lagi, sehingga akan graduasi alamiah" in reply.text


def test_graduated_family_is_told_how_and_since_when_it_left(ask: Ask) -> None:
    family = relink_kpm_wib(ask, FamilyStatus.GRADUATED)
    assert family.status_since is not None
    reply = ask("ask_graduation", "graduasi itu apa", as_="kpm-wib")
    assert (
        "sudah keluar dari PKH lewat graduasi sejahtera mandiri sejak 30 September 2026"
        in reply.text
    )
    assert "komponen PKH:" not in reply.text


def test_suspended_family_is_sent_to_its_pendamping(ask: Ask) -> None:
    family = relink_kpm_wib(ask, FamilyStatus.SUSPENDED)
    reply = ask("ask_graduation", "graduasi itu apa", as_="kpm-wib")
    assert "bantuan keluarga Bapak/Ibu sedang ditangguhkan" in reply.text
    assert family.kelompok.pendamping.name in reply.text


def test_removed_family_is_told_it_is_no_longer_listed(ask: Ask) -> None:
    family = ask.session.get(Family, ask.asker("kpm-aceh").family_id)
    assert family is not None
    family.status = FamilyStatus.REMOVED
    ask.session.flush()
    reply = ask("ask_graduation", "kenapa saya dicoret", as_="kpm-aceh")
    assert reply.topic_key == "removed"
    assert "sudah tidak terdaftar di PKH" in reply.text
    assert "Nurhayati Ibrahim" in reply.text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("graduasi itu apa", "general"),
        ("anak udah lulus sma masih dapet gak", "alamiah"),
        ("apa itu graduasi mandiri", "sejahtera_mandiri"),
        ("gimana cara mundur dari pkh", "steps"),
        ("kenapa saya dicoret dari pkh", "removed"),
    ],
)
def test_graduation_topic_follows_the_words_of_the_question(
    ask: Ask, text: str, topic: str
) -> None:
    reply = ask("ask_graduation", text)
    assert reply.topic_key == topic
    assert reply.text.startswith(faq_text(ask, "ask_graduation", topic))


def test_how_to_graduate_has_no_personal_part(ask: Ask) -> None:
    reply = ask("ask_graduation", "gimana cara mundur dari pkh", as_="kpm-wib")
    assert reply.text == faq_text(ask, "ask_graduation", "steps")


def test_graduation_for_an_unlinked_asker_is_general_with_the_link_hint(ask: Ask) -> None:
    reply = ask("ask_graduation", "graduasi itu apa")
    assert reply.text.startswith(faq_text(ask, "ask_graduation", "general"))
    assert LINK_HINT in reply.text


# --- ask_after_graduation ----------------------------------------------------------------------


@pytest.mark.parametrize("programme", ["prokus", "kube", "kur"])
def test_programme_entity_steers_the_after_graduation_answer(ask: Ask, programme: str) -> None:
    reply = ask("ask_after_graduation", "program itu apa", programme=programme)
    assert reply.topic_key == programme
    assert reply.text == faq_text(ask, "ask_after_graduation", programme)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("program pena gimana daftarnya", "pena"),
        ("ada pelatihan dari kemenperin?", "kemenperin"),
        ("e-smart ikm itu apa", "kemenperin"),
        ("setelah graduasi dapat apa", "general"),
        ("bantuan kurang setelah graduasi", "general"),  # "kurang" is not KUR
        ("pkh habis terus dapet apa", "general"),
    ],
)
def test_programme_named_in_the_text_steers_the_after_graduation_answer(
    ask: Ask, text: str, topic: str
) -> None:
    reply = ask("ask_after_graduation", text)
    assert reply.topic_key == topic


def test_other_programme_entities_get_the_general_after_graduation_answer(ask: Ask) -> None:
    reply = ask("ask_after_graduation", "setelah pkh dapat apa", programme="pkh")
    assert reply.text == faq_text(ask, "ask_after_graduation", "general")


def test_uncertain_after_graduation_answers_are_worded_with_caution(ask: Ask) -> None:
    flagged = ask.session.scalars(
        select(FaqAnswer).where(
            FaqAnswer.intent == "ask_after_graduation", FaqAnswer.needs_verification
        )
    ).all()
    assert [row.topic_key for row in flagged] == ["prokus"]
    reply = ask("ask_after_graduation", "modal prokus berapa", programme="prokus")
    assert "sekitar" in reply.text and "perlu dipastikan" in reply.text


@pytest.mark.parametrize("intent", ["ask_graduation", "ask_after_graduation"])
@pytest.mark.parametrize("handle", [None, "kpm-wib", "kpm-wita", "kpm-wit", "kpm-aceh"])
def test_no_reply_leaves_a_placeholder(ask: Ask, intent: str, handle: str | None) -> None:
    reply = ask(intent, as_=handle)
    assert reply.text
    assert "{" not in reply.text and "}" not in reply.text
