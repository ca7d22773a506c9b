"""Schedule answers right for the year asked, for today's date, and naming their source (issue 13).

The demo roster is as of 23 November 2026; "4 December" is the day the issue was found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import Asker, Request, answer
from core.i18n import Translator
from nlu.client import ParseResult
from programme.imports import ImportKind, import_csv
from programme.models import Family, UserRole
from programme.stages import close_stage, open_stage
from tests.actions.conftest import Ask

DEC_4 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 10.00 WIB, 11.00 WITA
DEC_3 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
JAN_5 = datetime(2027, 1, 5, 3, 0, tzinfo=UTC)
SCHEDULE_2027 = Path(__file__).parents[2] / "data" / "import-examples" / "payment_schedule.csv"


@pytest.fixture
def imported_2027(ask: Ask, secret_key: str) -> None:
    """The example schedule file (stage I 2027, national and Manggarai Barat), imported on 3 Dec."""
    report = import_csv(
        ask.session,
        kind=ImportKind.PAYMENT_SCHEDULE,
        data=SCHEDULE_2027.read_bytes(),
        secret_key=secret_key,
        actor="admin",
        now=DEC_3,
    )
    assert report.ok, report.problems


# --- the year asked ------------------------------------------------------------------------------


def test_a_year_with_no_schedule_yet_is_said_honestly_with_the_date_of_our_data(ask: Ask) -> None:
    reply = ask(
        "ask_payment_schedule", "tahap 1 2027 kapan cair", stage="1", year="2027", now=DEC_4
    )
    assert "Belum ada jadwal resmi untuk tahap I tahun 2027 di data kami." in reply.text
    assert "terakhir diperbarui 23 November 2026" in reply.text
    assert "2026" not in reply.text.replace("23 November 2026", "")


@pytest.mark.usefixtures("imported_2027")
def test_stage_1_of_2027_is_answered_from_the_2027_rows_once_imported(ask: Ask) -> None:
    reply = ask(
        "ask_payment_schedule", "tahap 1 2027 kapan cair", stage="1", year="2027", now=DEC_4
    )
    assert "Tahap I tahun 2027: 15 Februari – 31 Maret 2027 (belum dimulai)." in reply.text
    assert "Januari–Maret" not in reply.text  # 2026's stage I
    assert "Sumber: file jadwal yang diimpor petugas PKH." in reply.text
    assert "Data terakhir diperbarui 3 Desember 2026." in reply.text


@pytest.mark.usefixtures("imported_2027")
def test_a_linked_family_gets_its_regions_2027_window(ask: Ask) -> None:
    reply = ask(
        "ask_payment_schedule",
        "tahap 1 thn depan kapan cair",
        as_="kpm-wita",
        stage="1",
        year="tahun_depan",
        now=DEC_4,
    )
    assert "Tahap I tahun 2027:" in reply.text
    assert "lewat KKS Bank BRI: 15–26 Februari 2027 (belum dimulai)" in reply.text
    assert "Belum ada catatan penyaluran tahap I tahun 2027" in reply.text


@pytest.mark.usefixtures("imported_2027")
def test_next_year_without_a_stage_lists_next_years_stages(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "jadwal pkh tahun depan", year="tahun_depan", now=DEC_4)
    assert "Jadwal pencairan PKH tahun 2027:" in reply.text
    assert "• Tahap I: 15 Februari – 31 Maret 2027 (belum dimulai)" in reply.text


@pytest.mark.usefixtures("imported_2027")
def test_in_january_kapan_cair_is_about_the_stage_to_come(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "kapan cair", as_="kpm-wita", now=JAN_5)
    assert "Tahap I tahun 2027:" in reply.text
    assert "15–26 Februari 2027 (belum dimulai)" in reply.text


def test_in_january_without_a_new_schedule_the_last_stage_is_shown_finished(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "kapan cair", as_="kpm-wita", now=JAN_5)
    assert "Tahap IV tahun 2026:" in reply.text
    assert "16–27 November 2026 (sudah selesai)" in reply.text


def test_a_past_year_is_answered_from_that_years_rows(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "tahap 2 2021 kapan", stage="2", year="2021", now=DEC_4)
    assert "Tahap II tahun 2021: April (sudah selesai)." in reply.text
    assert "Sumber: pemberitaan Okezone dan Suara.com" in reply.text


def test_the_amount_for_a_year_without_amounts_says_which_year_is_shown(ask: Ask) -> None:
    reply = ask("ask_benefit_amount", "anak sd 2027 dapet brp", component="anak_sd", year="2027")
    assert "Besaran bantuan PKH tahun 2027 belum ada di data kami." in reply.text
    assert "Berikut besaran tahun 2026, yang terakhir kami punya." in reply.text
    assert "Komponen Anak SD/MI/sederajat tahun 2026" in reply.text


def test_the_payment_status_of_another_year_names_that_year(ask: Ask) -> None:
    reply = ask(
        "ask_payment_status", "tahap 4 thn lalu", as_="kpm-wib", stage="4", year="tahun_lalu"
    )
    assert "tahap IV tahun 2025" in reply.text
    assert "2026" not in reply.text.split("Dicek pada")[0]


# --- the state of a window, today ----------------------------------------------------------------


def test_on_4_december_a_window_of_16_to_27_november_is_finished(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "kapan cair", as_="kpm-wita", now=DEC_4)
    assert "lewat KKS Bank BRI: 16–27 November 2026 (sudah selesai)." in reply.text
    assert "sedang berjalan" not in reply.text


def test_on_23_november_the_same_window_is_running(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "kapan cair", as_="kpm-wita")
    assert "lewat KKS Bank BRI: 16–27 November 2026 (sedang berjalan)." in reply.text


def test_a_family_still_unpaid_after_its_window_is_sent_to_the_pendamping(ask: Ask) -> None:
    # The unlinked demo family (DEMO-5315-00002, KKS BNI in Manggarai Barat): stage IV planned.
    family = ask.session.scalars(select(Family).where(Family.pkh_id == "DEMO-5315-00002")).one()
    parse = ParseResult("udah cair?", "ask_payment_status", 0.95, (), ())
    asker = Asker(role=UserRole.KPM, family_id=family.id)
    reply = answer(Request(parse, asker, ask.session, DEC_4, Translator("id")))
    assert "16–27 November 2026 (sudah selesai)" in reply.text
    assert "Masa penyaluran tahap ini sudah lewat" in reply.text
    assert "Maria Fatima Hamur" in reply.text
    assert "Tunggu beberapa hari" not in reply.text  # the waves no longer explain it


def test_a_closed_stage_is_closed_whatever_its_dates(ask: Ask, demo_now: datetime) -> None:
    close_stage(
        ask.session,
        year=2026,
        stage_no=4,
        region_code="53.15",
        channel_code="bri",
        now=demo_now,
        actor="admin",
    )
    reply = ask("ask_payment_schedule", "kapan cair", as_="kpm-wita")  # 23 November
    assert "16–27 November 2026 (sudah ditutup)." in reply.text
    assert "Penyaluran tahap ini sudah ditutup pada 23 November 2026." in reply.text


def test_the_national_overview_computes_each_stage_from_today(ask: Ask) -> None:
    reply = ask("ask_payment_schedule", "jadwal pkh 2026", year="2026", now=JAN_5)
    assert "• Tahap IV: Oktober–Desember (sudah selesai)" in reply.text


# --- the source ----------------------------------------------------------------------------------


def test_every_schedule_answer_names_its_source_and_its_date(ask: Ask) -> None:
    general = ask("ask_payment_schedule", "pkh kapan cair")
    assert "Sumber: pola pencairan tahun-tahun sebelumnya menurut pemberitaan" in general.text
    assert "Data terakhir diperbarui 23 November 2026." in general.text
    own = ask("ask_payment_schedule", "kapan cair", as_="kpm-wib")
    assert "Sumber: Data demo sintetis — bukan data sungguhan." in own.text
    stage = ask("ask_payment_schedule", "tahap 3 kapan", stage="3")
    assert "Sumber: pola pencairan tahun-tahun sebelumnya menurut pemberitaan" in stage.text


def test_a_window_opened_by_staff_says_so(ask: Ask, seeded: Session, demo_now: datetime) -> None:
    open_stage(
        seeded,
        year=2026,
        stage_no=4,
        region_code="53.15.01.2001",  # Batu Cermin, kpm-wita's desa
        channel_code="bri",
        now=demo_now,
        actor="admin",
    )
    reply = ask("ask_payment_schedule", "kapan cair", as_="kpm-wita")
    assert "Jadwal untuk Batu Cermin, lewat KKS Bank BRI" in reply.text
    assert (
        "Sumber: Pembukaan tahap oleh petugas PKH. Data terakhir diperbarui 23 November 2026."
        in reply.text
    )
