"""When PKH is paid, how much, and whether a family's own money has arrived.

Expected amounts are computed from the seeded rows (benefit_amount, disbursement); expected
windows and outcomes are the demo story of data/programme/demo.yml.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import Asker, Reply, Request, answer
from core.formatting import rupiah
from core.i18n import Translator
from nlu.client import Entity, ParseResult
from programme.models import (
    BenefitAmount,
    Component,
    Disbursement,
    DisbursementStatus,
    FailureReason,
    Family,
    FaqAnswer,
    PaymentStage,
    UserRole,
)
from tests.actions.conftest import Ask

YEAR = 2026
LINK_HINT = "hubungkan akun ini"


def per_stage(session: Session, code: str) -> Decimal:
    """The 2026 per-stage amount of one component, from its row."""
    row = session.scalars(
        select(BenefitAmount).where(
            BenefitAmount.year == YEAR, BenefitAmount.component_code == code
        )
    ).one()
    assert row.per_stage is not None
    return row.per_stage


def capped_total(session: Session, components: list[str], cap: int = 4) -> Decimal:
    """The per-stage total of the `cap` most valuable components."""
    amounts = sorted((per_stage(session, code) for code in components), reverse=True)
    return sum(amounts[:cap], Decimal(0))


def faq_row(session: Session, intent: str, topic: str) -> str:
    """The Indonesian text of one FAQ row."""
    row = session.scalars(
        select(FaqAnswer).where(FaqAnswer.intent == intent, FaqAnswer.topic_key == topic)
    ).one()
    return row.text_id.strip()


def ask_as_family(ask: Ask, pkh_id: str, intent: str, text: str, **entities: str) -> Reply:
    """Ask as a KPM linked to any demo family (not only the named demo users)."""
    family = ask.session.scalars(select(Family).where(Family.pkh_id == pkh_id)).one()
    parse = ParseResult(text, intent, 0.95, (), tuple(Entity(k, v, v) for k, v in entities.items()))
    asker = Asker(role=UserRole.KPM, family_id=family.id)
    return answer(Request(parse, asker, ask.session, ask.now, Translator("id")))


def stage_iv_family(session: Session, *, kabupaten: str, channel: str, status: str) -> str:
    """The pkh_id of a generated family in that kabupaten and channel with that stage IV status."""
    stage = session.scalars(
        select(PaymentStage).where(PaymentStage.year == YEAR, PaymentStage.stage_no == 4)
    ).one()
    return session.scalars(
        select(Family.pkh_id)
        .join(Disbursement, Disbursement.family_id == Family.id)
        .where(
            Family.pkh_id.like(f"DEMO-{kabupaten}-%"),
            Family.channel_code == channel,
            Disbursement.stage_id == stage.id,
            Disbursement.status == DisbursementStatus(status),
        )
        .order_by(Family.pkh_id)
    ).first() or pytest.fail(f"no {channel} family in {kabupaten} with stage IV {status}")


# --- ask_payment_schedule ------------------------------------------------------------------------


def test_payment_schedule_for_unlinked_lists_this_years_stages_with_caution(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "pkh kapan cair min")
    assert "Jadwal pencairan PKH tahun 2026" in reply.text
    assert "Tahap I: Januari–Maret (sudah selesai)" in reply.text
    assert "Tahap IV: Oktober–Desember (sedang berjalan)" in reply.text
    # 2026 windows are only the usual pattern (basis usual_pattern): never stated as official.
    assert "bukan tanggal resmi" in reply.text
    assert "perlu dipastikan ke pendamping" in reply.text
    assert LINK_HINT in reply.text


def test_payment_schedule_stage_entity_steers_the_answer_to_that_stage(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "pkh tahap 3 kpn cair", stage="3")
    assert "Tahap III tahun 2026: Juli–September (sudah selesai)." in reply.text
    assert "Tahap IV" not in reply.text
    assert "Oktober" not in reply.text


@pytest.mark.parametrize(
    ("handle", "place", "channel", "window", "own_status"),
    [
        ("kpm-wib", "Kabupaten Banyumas", "KKS Bank BRI", "9–20 November 2026",
         "sudah disalurkan 11 November 2026"),
        ("kpm-wita", "Kabupaten Manggarai Barat", "KKS Bank BRI", "16–27 November 2026",
         "belum bisa disalurkan"),
        ("kpm-wit", "Kabupaten Jayapura", "PT Pos Indonesia", "17–28 November 2026",
         "sudah disalurkan 19 November 2026"),
        ("kpm-aceh", "Kabupaten Aceh Besar", "KKS Bank Syariah Indonesia (Aceh)",
         "2–13 November 2026", "sudah disalurkan 5 November 2026"),
    ],
)  # fmt: skip
def test_payment_schedule_answer_uses_the_window_of_the_familys_region_and_channel(
    ask: Ask, handle: str, place: str, channel: str, window: str, own_status: str
) -> None:
    reply = ask("ask_payment_schedule", "kapan cair", as_=handle)
    assert "Tahap IV tahun 2026" in reply.text
    assert f"Jadwal untuk {place}, lewat {channel}: {window}" in reply.text
    assert own_status in reply.text
    assert LINK_HINT not in reply.text


def test_payment_schedule_without_a_regional_window_gives_the_national_one_and_says_so(
    ask: Ask,
) -> None:
    reply = ask("ask_payment_schedule", "tahap 2 kapan", as_="kpm-wit", stage="2")
    assert "Tahap II tahun 2026" in reply.text
    assert "April–Juni" in reply.text
    assert "Jadwal khusus untuk wilayah dan bank Bapak/Ibu belum ada" in reply.text
    assert "bukan tanggal resmi" in reply.text


def test_payment_schedule_bank_pos_gives_the_pos_topic(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "kalau lewat kantor pos kapan", bank="pos")
    assert reply.topic_key == "pos"
    assert faq_row(ask.session, "ask_payment_schedule", "pos") in reply.text


def test_payment_schedule_bank_bsi_gives_the_bsi_topic_and_the_familys_window(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "bsi aceh kapan cair", as_="kpm-aceh", bank="bsi")
    assert reply.topic_key == "bsi"
    assert faq_row(ask.session, "ask_payment_schedule", "bsi") in reply.text
    assert "2–13 November 2026" in reply.text


def test_payment_schedule_question_about_neighbours_explains_the_waves(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "kok tetangga udah cair saya blm")
    assert reply.topic_key == "wave"
    assert faq_row(ask.session, "ask_payment_schedule", "wave") in reply.text


def test_payment_schedule_for_a_year_not_in_the_database_says_there_is_none_yet(
    ask: Ask,
) -> None:
    next_year = datetime(2027, 2, 1, 3, 0, tzinfo=UTC)
    reply = ask("ask_payment_schedule", "tahap 1 kapan", stage="1", now=next_year)
    assert "Belum ada jadwal resmi untuk tahap I tahun 2027" in reply.text
    assert "terakhir diperbarui 23 November 2026" in reply.text
    assert "Januari–Maret (sudah selesai)" not in reply.text


# --- ask_benefit_amount --------------------------------------------------------------------------


def test_benefit_amount_for_unlinked_lists_every_component_with_caution(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "pkh dapet brp sih")
    names = {c.code: c.name for c in ask.session.scalars(select(Component))}
    rows = ask.session.scalars(
        select(BenefitAmount).where(
            BenefitAmount.year == YEAR, BenefitAmount.per_stage.is_not(None)
        )
    ).all()
    assert len(rows) == 7
    for row in rows:
        assert row.needs_verification  # 2026 carries 2025's values forward
        amount = rupiah(per_stage(ask.session, row.component_code))
        assert f"{names[row.component_code]}: sekitar {amount}" in reply.text
    assert "perlu dipastikan ke pendamping" in reply.text.lower()
    assert LINK_HINT in reply.text


def test_benefit_amount_component_entity_steers_the_answer_to_that_component(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "anak smp dapet brp", component="anak_smp")
    amount = per_stage(ask.session, "anak_smp")
    assert f"sekitar {rupiah(amount)} per tahap" in reply.text
    assert f"sekitar {rupiah(amount * 4)} setahun" in reply.text
    assert "Anak SMP" in reply.text
    assert "Ibu hamil" not in reply.text


def test_benefit_amount_for_a_family_over_the_cap_counts_the_four_worth_most(ask: Ask) -> None:
    # kpm-wita: ibu hamil, anak SD, two anak usia dini and a lansia — 5 components, 4 paid.
    components = ["ibu_hamil", "anak_sd", "anak_usia_dini", "anak_usia_dini", "lansia"]
    reply = ask("ask_benefit_amount", "keluarga saya dapet brp", as_="kpm-wita")
    total = capped_total(ask.session, components)
    assert f"Jumlah: sekitar {rupiah(total)} per tahap" in reply.text
    assert "lewat KKS Bank BRI" in reply.text
    two_children = rupiah(2 * per_stage(ask.session, "anak_usia_dini"))
    assert f"Anak usia dini (0–6 tahun), 2 orang: sekitar {two_children}" in reply.text
    assert "punya 5 komponen" in reply.text
    assert "Anak SD/MI/sederajat tidak ikut dihitung" in reply.text
    assert "belum pasti aturannya" in reply.text


@pytest.mark.parametrize(
    ("handle", "components", "channel"),
    [
        ("kpm-wib", ["anak_smp", "anak_sd", "anak_usia_dini"], "KKS Bank BRI"),
        ("kpm-wit", ["anak_sma", "anak_smp", "disabilitas_berat"], "PT Pos Indonesia"),
        ("kpm-aceh", ["anak_smp", "anak_sd"], "KKS Bank Syariah Indonesia (Aceh)"),
    ],
)
def test_benefit_amount_for_a_family_is_the_sum_of_its_components(
    ask: Ask, handle: str, components: list[str], channel: str
) -> None:
    reply = ask("ask_benefit_amount", "saya dapet berapa", as_=handle)
    total = capped_total(ask.session, components)
    assert (
        f"Jumlah: sekitar {rupiah(total)} per tahap, atau sekitar {rupiah(total * 4)} setahun "
        f"(4 tahap), lewat {channel}." in reply.text
    )
    assert "tidak ikut dihitung" not in reply.text
    assert LINK_HINT not in reply.text


def test_benefit_amount_component_of_the_family_left_out_by_the_cap_says_so(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "anak sd dapet brp", as_="kpm-wita", component="anak_sd")
    assert rupiah(per_stage(ask.session, "anak_sd")) in reply.text
    assert "ada 1 anggota dengan komponen ini; 1 di antaranya tidak ikut dihitung" in reply.text


def test_benefit_amount_why_changed_shows_the_familys_recorded_amounts(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "kok duit pkh saya berkurang", as_="kpm-wib")
    assert reply.topic_key == "changed"
    assert faq_row(ask.session, "ask_benefit_amount", "changed") in reply.text
    family_id = ask.asker("kpm-wib").family_id
    paid = ask.session.scalars(
        select(Disbursement).where(Disbursement.family_id == family_id)
    ).all()
    assert len(paid) == 4
    for row in paid:
        assert (
            f"Tahap {['I', 'II', 'III', 'IV'][row.stage.stage_no - 1]}: {rupiah(row.amount)}"
            in reply.text
        )


def test_benefit_amount_cap_question_explains_the_cap_with_caution(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "maksimal brp komponen satu keluarga")
    assert reply.topic_key == "cap"
    assert faq_row(ask.session, "ask_benefit_amount", "cap") in reply.text
    assert LINK_HINT in reply.text


# --- ask_payment_status --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handle", "local_time"),
    [("kpm-wib", "10.00 WIB"), ("kpm-wita", "11.00 WITA"), ("kpm-wit", "12.00 WIT")],
)
def test_payment_status_answer_uses_the_familys_time_zone(
    ask: Ask, handle: str, local_time: str
) -> None:
    reply = ask("ask_payment_status", "udah cair belum", as_=handle)
    assert f"Dicek pada Senin, 23 November 2026, {local_time}." in reply.text


def test_payment_status_paid_names_the_date_amount_and_channel(ask: Ask) -> None:
    reply = ask("ask_payment_status", "pkh saya udah masuk?", as_="kpm-wib")
    family_id = ask.asker("kpm-wib").family_id
    stage_iv = ask.session.scalars(
        select(Disbursement)
        .join(PaymentStage)
        .where(Disbursement.family_id == family_id, PaymentStage.stage_no == 4)
    ).one()
    assert "Tahap IV tahun 2026 untuk keluarga Bapak/Ibu sudah disalurkan" in reply.text
    assert "Rabu, 11 November 2026" in reply.text
    assert f"{rupiah(stage_iv.amount)} lewat KKS Bank BRI" in reply.text


def test_payment_status_failed_gives_the_reason_and_its_advice(ask: Ask) -> None:
    reply = ask("ask_payment_status", "kok saldo saya kosong", as_="kpm-wita")
    reason = ask.session.get(FailureReason, "ACCOUNT")
    assert reason is not None
    assert "Tahap IV tahun 2026 untuk keluarga Bapak/Ibu belum bisa disalurkan." in reply.text
    assert reason.title in reply.text
    assert reason.advice.strip() in reply.text
    assert "KKS terblokir karena salah PIN tiga kali" in reply.text  # the disbursement's note
    assert "Maria Fatima Hamur" in reply.text


def test_payment_status_planned_while_paying_shows_the_window_and_the_waves(ask: Ask) -> None:
    # The unlinked demo family (link-test): KKS BNI in Manggarai Barat, stage IV not yet paid.
    reply = ask_as_family(ask, "DEMO-5315-00002", "ask_payment_status", "udah cair?")
    wave = ask.session.get(FailureReason, "WAVE")
    assert wave is not None
    assert "Tahap IV tahun 2026 untuk keluarga Bapak/Ibu belum disalurkan." in reply.text
    assert "lewat KKS Bank BNI: 16–27 November 2026 (sedang berjalan)" in reply.text
    assert wave.explanation.strip() in reply.text
    assert "11.00 WITA" in reply.text


def test_payment_status_planned_before_the_window_opens_gives_its_dates(ask: Ask) -> None:
    pkh_id = stage_iv_family(ask.session, kabupaten="3302", channel="pos", status="planned")
    reply = ask_as_family(ask, pkh_id, "ask_payment_status", "pos kapan cair")
    wave = ask.session.get(FailureReason, "WAVE")
    assert wave is not None
    assert "lewat PT Pos Indonesia: 24 November – 5 Desember 2026 (belum dimulai)" in reply.text
    assert wave.explanation.strip() not in reply.text
    assert "10.00 WIB" in reply.text


def test_payment_status_stage_entity_steers_the_answer_to_that_stage(ask: Ask) -> None:
    reply = ask("ask_payment_status", "tahap 2 udah cair?", as_="kpm-aceh", stage="2")
    assert "Tahap II tahun 2026 untuk keluarga Bapak/Ibu sudah disalurkan" in reply.text
    assert "Tahap IV" not in reply.text


def test_payment_status_for_unlinked_gives_the_link_hint_and_how_to_check(ask: Ask) -> None:
    reply = ask("ask_payment_status", "bansos saya udah masuk belum")
    assert faq_row(ask.session, "ask_payment_status", "general") in reply.text
    assert "cekbansos.kemensos.go.id" in reply.text
    assert LINK_HINT in reply.text


def test_payment_status_for_unlinked_asking_why_gives_the_reasons(ask: Ask) -> None:
    reply = ask("ask_payment_status", "kenapa saldo kks saya zonk")
    assert reply.topic_key == "reasons"
    assert faq_row(ask.session, "ask_payment_status", "reasons") in reply.text
    assert LINK_HINT in reply.text


# --- every answer --------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", [None, "kpm-wita", "admin"])
@pytest.mark.parametrize(
    ("intent", "text", "entities"),
    [
        ("ask_payment_schedule", "kapan cair", {}),
        ("ask_payment_schedule", "tahap 1 sama 4", {"stage": "1"}),
        ("ask_payment_schedule", "kalau mandiri", {"bank": "mandiri"}),
        ("ask_benefit_amount", "dapet brp", {}),
        ("ask_benefit_amount", "lansia brp", {"component": "lansia"}),
        ("ask_benefit_amount", "kok beda", {}),
        ("ask_benefit_amount", "bantuan tetap 2019", {}),
        ("ask_payment_status", "udah cair?", {}),
        ("ask_payment_status", "tahap 3", {"stage": "3"}),
    ],
)
def test_payment_answers_leave_no_placeholder(
    ask: Ask, handle: str | None, intent: str, text: str, entities: dict[str, str]
) -> None:
    reply = ask(intent, text, as_=handle, **entities)
    assert reply.text
    assert "{" not in reply.text and "}" not in reply.text
    assert reply.intent == intent
