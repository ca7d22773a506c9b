"""Questions a linked family asks that must never fall back (issue 13), answered from data.

Each is asked with the parse the NLU gives it (data/nlu/: payment.yml, family.yml).
"""

from __future__ import annotations

from sqlalchemy import select

from programme.models import ComplaintChannel, FamilyMember
from tests.actions.conftest import Ask
from tests.actions.test_p2k2 import faq_row

LINK_HINT = "hubungkan akun ini"


def pengurus(ask: Ask, handle: str) -> str:
    family_id = ask.asker(handle).family_id
    return ask.session.scalars(
        select(FamilyMember.name).where(
            FamilyMember.family_id == family_id, FamilyMember.is_pengurus
        )
    ).one()


# --- "komponen keluarga saya apa saja" (ask_benefit_amount) --------------------------------------


def test_a_family_hears_which_member_holds_which_component(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "komponen keluarga saya apa saja", as_="kpm-wita")
    assert reply.topic_key == "components"
    family_id = ask.asker("kpm-wita").family_id
    members = ask.session.scalars(
        select(FamilyMember).where(FamilyMember.family_id == family_id)
    ).all()
    for member in members:
        for held in member.components:
            assert f"• {member.name}: {held.component.name}" in reply.text
    # Five components, four paid: the SD child is the one left out (the cheapest).
    assert "Anak SD/MI/sederajat (tidak ikut dihitung)" in reply.text
    assert "Jumlah: sekitar" in reply.text and "lewat KKS Bank BRI" in reply.text
    assert "belum pasti aturannya" in reply.text
    assert "laporkan ke pendamping, Maria Fatima Hamur" in reply.text
    assert LINK_HINT not in reply.text


def test_a_family_with_every_component_counted_marks_none_left_out(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "keluarga saya masuk komponen apa saja", as_="kpm-wib")
    assert reply.topic_key == "components"
    assert "Anak SMP/MTs/sederajat" in reply.text
    assert "tidak ikut dihitung" not in reply.text


def test_an_unlinked_asker_gets_the_components_and_how_to_link(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "komponen pkh apa saja")
    assert reply.topic_key == "components"
    assert "Ibu hamil/nifas: sekitar" in reply.text
    assert LINK_HINT in reply.text


# --- "kalau pengurus meninggal siapa yang ambil pkh nya" (update_family_data) --------------------


def test_when_the_pengurus_dies_the_family_is_told_to_report_it_and_who_takes_over(
    ask: Ask,
) -> None:
    text = "kalau pengurus meninggal siapa yang ambil pkh nya"
    reply = ask("update_family_data", text, as_="kpm-wita", programme="pkh")
    assert reply.topic_key == "pengurus_change"
    assert faq_row(ask, "update_family_data", "pengurus_change").text_id.strip() in reply.text
    assert "suami/istri" in reply.text and "17 tahun" in reply.text
    assert f"pengurus keluarga Bapak/Ibu saat ini: {pengurus(ask, 'kpm-wita')}" in reply.text
    assert "Sampaikan laporannya ke pendamping Bapak/Ibu, Maria Fatima Hamur" in reply.text


# --- "ambil pkh di kantor pos bawa apa aja" (ask_payment_schedule, bank=pos) ---------------------


def test_collecting_at_the_post_office_says_what_to_bring(ask: Ask) -> None:
    text = "ambil pkh di kantor pos bawa apa aja"
    reply = ask("ask_payment_schedule", text, as_="kpm-wit", bank="pos", programme="pkh")
    assert reply.topic_key == "pos"
    assert "surat undangan, KTP, dan KK (asli dan fotokopi)" in reply.text
    assert "lewat PT Pos Indonesia" in reply.text  # the family's own channel
    assert f"Pengurus yang tercatat di data kami: {pengurus(ask, 'kpm-wit')}." in reply.text
    assert "Tahap IV tahun 2026" not in reply.text  # a question of what, not of when


def test_a_family_paid_by_kks_asking_about_pos_is_told_its_own_channel(ask: Ask) -> None:
    text = "ambil pkh di kantor pos bawa apa aja"
    reply = ask("ask_payment_schedule", text, as_="kpm-wita", bank="pos", programme="pkh")
    assert "surat undangan, KTP, dan KK" in reply.text
    assert "Bantuan keluarga Bapak/Ibu disalurkan lewat KKS Bank BRI." in reply.text


def test_what_to_bring_without_a_channel_covers_kks_and_pos(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "ambil pkh bawa apa aja", as_="kpm-wib")
    assert reply.topic_key == "what_to_bring"
    assert "kartu KKS dan KTP pengurus" in reply.text
    assert "surat undangan berbarcode dari PT Pos, KTP, dan KK" in reply.text
    assert "lewat KKS Bank BRI" in reply.text


# --- "bisa gak pendamping yg ambilin duit pkh saya" (ask_payment_schedule) -----------------------


def test_a_pendamping_may_not_collect_the_money_and_the_family_is_told_where_to_report(
    ask: Ask,
) -> None:
    text = "bisa gak pendamping yg ambilin duit pkh saya"
    reply = ask("ask_payment_schedule", text, as_="kpm-wita", programme="pkh")
    assert reply.topic_key == "pendamping_withdrawal"
    assert reply.text.startswith("Tidak bisa. Pendamping PKH tidak boleh mengambilkan")
    assert "tolak saja dan laporkan" in reply.text
    for code in ("call171", "dinsos"):
        channel = ask.session.get(ComplaintChannel, code)
        assert channel is not None and channel.name in reply.text
    assert [b.value for b in reply.buttons] == ["file_complaint", "request_human"]


def test_someone_else_collecting_for_a_sick_pengurus_needs_a_surat_kuasa(ask: Ask) -> None:
    text = "pkh saya boleh diambilkan anak saya gak kalau saya sakit"
    reply = ask("ask_payment_schedule", text, as_="kpm-wib", programme="pkh")
    assert reply.topic_key == "withdrawal"
    assert "surat kuasa yang diketahui lurah/kepala desa" in reply.text
    assert "Pendamping tidak boleh mengambilkan atau menarikkan uang KPM." in reply.text


def test_the_withdrawal_answers_are_rows_of_the_faq_seeded_from_data(ask: Ask) -> None:
    for topic in ("withdrawal", "pendamping_withdrawal", "what_to_bring"):
        row = faq_row(ask, "ask_payment_schedule", topic)
        assert row.text_en  # translated
        assert "pkh-facts §3.2" in row.source


def test_an_unlinked_asker_gets_the_plain_no_and_how_to_link(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "boleh gak pendamping yang ngambilin uang pkh saya di atm")
    assert reply.topic_key == "pendamping_withdrawal"
    assert reply.text.startswith("Tidak bisa.")
    assert LINK_HINT in reply.text
