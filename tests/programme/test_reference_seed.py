"""The reference seed: complete, idempotent, updated by YAML edits, honest about uncertainty."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nlu.schema import ENTITY_VALUES, FALLBACK_INTENT, INTENTS
from programme.models import (
    AuditLog,
    Base,
    BenefitAmount,
    Channel,
    ComplaintChannel,
    Component,
    ComponentKind,
    FaqAnswer,
    P2K2Module,
    PaymentStage,
    PaymentWindow,
    Region,
    WindowBasis,
)
from programme.seed import DATA_DIR, SeedDataError, load_reference_data, seed_reference

INFORMATIONAL_INTENTS = (
    "ask_payment_schedule",
    "ask_benefit_amount",
    "ask_payment_status",
    "ask_recipient_check",
    "ask_registration",
    "ask_obligations",
    "ask_p2k2_modules",
    "ask_graduation",
    "ask_after_graduation",
    "ask_bpnt",
    "report_card_problem",
    "file_complaint",
    "update_family_data",
    "request_human",
    "ask_help",
    "bot_challenge",
    "out_of_scope",
    "greet",
    "thank",
    "goodbye",
    "nlu_fallback",
)
CAUTIOUS_WORDING = ("sekitar", "perlu dipastikan", "belum bisa kami pastikan", "belum pasti")


def row_counts(session: Session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in Base.metadata.tables.items()
    }


def copy_of_data(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA_DIR, tmp_path / "programme"))


def test_reference_seed_fills_the_reference_tables(session: Session) -> None:
    report = seed_reference(session)

    assert report.inserted["region"] == 38
    assert report.inserted["payment_stage"] == 8 * 4
    assert report.updated.total() == 0
    assert session.scalar(select(func.count()).select_from(FaqAnswer)) == len(
        load_reference_data().faq.answers
    )


def test_seeding_twice_changes_nothing(session: Session) -> None:
    seed_reference(session)
    before = row_counts(session)

    again = seed_reference(session)

    assert again.changed == 0
    assert row_counts(session) == before  # not even an audit entry


def test_editing_a_yaml_value_updates_that_row(session: Session, tmp_path: Path) -> None:
    seed_reference(session)
    greeting = session.scalars(
        select(FaqAnswer).where(FaqAnswer.intent == "thank", FaqAnswer.topic_key == "general")
    ).one()
    updated_before = greeting.updated_at
    data_dir = copy_of_data(tmp_path)
    faq_file = data_dir / "faq.yml"
    faq_file.write_text(
        faq_file.read_text(encoding="utf-8").replace(
            "Sama-sama, semoga membantu.", "Sama-sama, Bapak/Ibu."
        ),
        encoding="utf-8",
    )
    channels_file = data_dir / "complaint_channels.yml"
    channels = yaml.safe_load(channels_file.read_text(encoding="utf-8"))
    channels["channels"][0]["contact"] = "171 (tarif lokal)"
    channels_file.write_text(yaml.safe_dump(channels, allow_unicode=True), encoding="utf-8")

    report = seed_reference(session, data_dir=data_dir)

    assert dict(report.updated) == {"faq_answer": 1, "complaint_channel": 1}
    assert report.inserted.total() == 0
    assert greeting.text_id.startswith("Sama-sama, Bapak/Ibu.")
    assert greeting.updated_at > updated_before
    call171 = session.get(ComplaintChannel, "call171")
    assert call171 is not None and call171.contact == "171 (tarif lokal)"
    assert session.scalars(select(AuditLog).where(AuditLog.action == "seed.reference")).all()


def test_an_answer_edited_by_an_admin_is_left_alone(session: Session, tmp_path: Path) -> None:
    seed_reference(session)
    answer = session.scalars(select(FaqAnswer).where(FaqAnswer.intent == "goodbye")).one()
    answer.text_id = "Sampai jumpa lagi! (disunting admin)"
    answer.admin_edited_at = datetime.now(UTC)
    session.flush()

    report = seed_reference(session)

    assert report.skipped["faq_answer"] == 1
    assert answer.text_id == "Sampai jumpa lagi! (disunting admin)"


def test_every_informational_intent_has_a_general_answer(seeded: Session) -> None:
    general = set(seeded.scalars(select(FaqAnswer.intent).where(FaqAnswer.topic_key == "general")))
    assert set(INFORMATIONAL_INTENTS) <= general
    assert general <= {*INTENTS, FALLBACK_INTENT}


def test_card_problems_have_one_answer_each(seeded: Session) -> None:
    topics = set(
        seeded.scalars(select(FaqAnswer.topic_key).where(FaqAnswer.intent == "report_card_problem"))
    )
    assert {"lost", "blocked", "swallowed", "pin_forgotten", "never_received"} <= topics


def test_uncertain_answers_are_flagged_and_worded_with_caution(seeded: Session) -> None:
    flagged = seeded.scalars(select(FaqAnswer).where(FaqAnswer.needs_verification)).all()
    topics = {(a.intent, a.topic_key) for a in flagged}

    assert {("ask_obligations", "sanctions"), ("ask_benefit_amount", "lansia")} <= topics
    for answer in flagged:
        assert any(word in answer.text_id.lower() for word in CAUTIOUS_WORDING), answer.topic_key


def test_uncertain_facts_need_verification(seeded: Session) -> None:
    lansia = seeded.get(Component, "lansia")
    assert lansia is not None and lansia.needs_verification

    for window in seeded.scalars(
        select(PaymentWindow)
        .join(PaymentStage)
        .where(PaymentStage.year >= 2025, PaymentWindow.region_id.is_(None))
    ):
        assert window.basis is WindowBasis.USUAL_PATTERN
        assert window.needs_verification

    amounts_2026 = seeded.scalars(select(BenefitAmount).where(BenefitAmount.year == 2026)).all()
    assert amounts_2026 and all(a.carried_forward and a.needs_verification for a in amounts_2026)


def test_nlu_entity_values_map_straight_onto_rows(seeded: Session) -> None:
    for code in ENTITY_VALUES["component"]:
        component = seeded.get(Component, code)
        assert component is not None and component.kind is ComponentKind.KOMPONEN
    for code in ENTITY_VALUES["bank"]:
        assert seeded.get(Channel, code) is not None
    for code in ENTITY_VALUES["module"]:
        assert seeded.get(P2K2Module, code) is not None


def test_every_year_has_four_stages_and_amounts_a_quarter_of_the_year(seeded: Session) -> None:
    for year in range(2019, 2027):
        stages = seeded.scalars(select(PaymentStage.stage_no).where(PaymentStage.year == year))
        assert sorted(stages) == [1, 2, 3, 4]
        amounts = seeded.scalars(select(BenefitAmount).where(BenefitAmount.year == year)).all()
        components = {a.component_code for a in amounts}
        assert set(ENTITY_VALUES["component"]) <= components
        for amount in amounts:
            if amount.per_stage is not None:
                assert amount.per_stage * 4 == amount.per_year


def test_province_time_zones_are_iana_names(seeded: Session) -> None:
    zones = {r.code: r.time_zone.value for r in seeded.scalars(select(Region))}
    assert zones["11"] == "Asia/Jakarta"  # Aceh, WIB
    assert zones["53"] == "Asia/Makassar"  # NTT, WITA
    assert zones["91"] == "Asia/Jayapura"  # Papua, WIT


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("intent: thank\n", "intent: say_thanks\n", "unknown intent say_thanks"),
        ("Halo, {first_name}!", "Halo, {nama}!", "undeclared ['nama']"),
    ],
)
def test_inconsistent_faq_data_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    data_dir = copy_of_data(tmp_path)
    faq_file = data_dir / "faq.yml"
    faq_file.write_text(faq_file.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")

    with pytest.raises(SeedDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_reference_data(data_dir)


def test_a_misspelt_yaml_key_is_refused(tmp_path: Path) -> None:
    data_dir = copy_of_data(tmp_path)
    channels = data_dir / "channels.yml"
    channels.write_text(
        channels.read_text(encoding="utf-8").replace("description:", "descripton:", 1),
        encoding="utf-8",
    )
    with pytest.raises(SeedDataError, match=r"channels\.yml"):
        load_reference_data(data_dir)
