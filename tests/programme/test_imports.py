"""CSV import: every row checked first, all or nothing, upserts, and the `pkh import` command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from core.settings import PROJECT_ROOT, get_settings
from pkh.cli import app
from programme import imports
from programme.db import make_engine, make_session_factory
from programme.imports import ImportKind, ImportPhase, ImportReport, Problem, import_csv
from programme.models import (
    AuditLog,
    Family,
    FamilyMember,
    Kelompok,
    PaymentStage,
    PaymentWindow,
    Pendamping,
    WindowBasis,
)
from programme.nik import hash_nik, nik_date_part_is_plausible

EXAMPLES = PROJECT_ROOT / "data" / "import-examples"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ROSTER_HEADER = (
    "pkh_id,kelompok_code,desa_code,channel_code,member_no,name,relation,sex,birth_date,"
    "is_pengurus,nik\n"
)
PENGURUS_NIK = "9999535205880001"


def run(session: Session, kind: str, data: bytes | str, secret_key: str) -> ImportReport:
    return import_csv(session, kind=kind, data=data, secret_key=secret_key, actor="test", now=NOW)


def problems(report: ImportReport) -> set[tuple[int | None, str | None]]:
    return {(problem.row, problem.column) for problem in report.problems}


def count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- each kind, valid ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ImportKind))
def test_every_example_file_imports_on_the_demo_roster(
    seeded: Session, secret_key: str, kind: ImportKind
) -> None:
    report = run(seeded, kind, (EXAMPLES / f"{kind.value}.csv").read_bytes(), secret_key)
    assert report.problems == []
    assert report.created > 0 and report.updated == 0
    audit = seeded.scalars(select(AuditLog).where(AuditLog.action == f"import.{kind}")).one()
    assert audit.actor == "test" and audit.details["rows"] == report.rows


def test_a_new_pendamping_gets_their_region(seeded: Session, secret_key: str) -> None:
    run(seeded, "pendamping", (EXAMPLES / "pendamping.csv").read_bytes(), secret_key)
    pendamping = seeded.scalars(
        select(Pendamping).where(Pendamping.code == "DEMO-PDP-5315-3")
    ).one()
    assert (pendamping.name, pendamping.region.code) == ("Kornelis Lalong", "53.15")


def test_a_new_kelompok_is_led_by_an_existing_pendamping(seeded: Session, secret_key: str) -> None:
    run(seeded, "kelompok", (EXAMPLES / "kelompok.csv").read_bytes(), secret_key)
    kelompok = seeded.scalars(select(Kelompok).where(Kelompok.code == "DEMO-KLP-5315-90")).one()
    assert kelompok.pendamping.code == "DEMO-PDP-5315-1"
    assert kelompok.desa.code == "53.15.01.2002"


def test_the_roster_groups_members_by_family_and_stores_only_nik_hashes(
    seeded: Session, secret_key: str
) -> None:
    report = run(seeded, "roster", (EXAMPLES / "roster.csv").read_bytes(), secret_key)
    assert (report.counts.inserted["family"], report.counts.inserted["family_member"]) == (2, 5)
    family = seeded.scalars(select(Family).where(Family.pkh_id == "DEMO-5315-90001")).one()
    assert [m.name for m in family.members] == ["Veronika Jehadu", "Yohanes Jehadu", "Maria Jehadu"]
    pengurus = family.members[0]
    assert pengurus.is_pengurus and pengurus.birth_date == date(1988, 5, 12)
    assert pengurus.nik_hash == hash_nik(PENGURUS_NIK, secret_key)
    assert pengurus.nik_last4 == "0001"
    audit = seeded.scalars(select(AuditLog).where(AuditLog.action == "import.roster")).one()
    assert PENGURUS_NIK not in str(audit.details)


def test_a_payment_schedule_creates_a_missing_stage_and_national_windows(
    seeded: Session, secret_key: str
) -> None:
    run(seeded, "payment_schedule", (EXAMPLES / "payment_schedule.csv").read_bytes(), secret_key)
    stage = seeded.scalars(
        select(PaymentStage).where(PaymentStage.year == 2027, PaymentStage.stage_no == 1)
    ).one()
    scopes = {(w.region.code if w.region else None, w.channel_code) for w in stage.windows}
    assert scopes == {(None, None), ("53.15", "bri"), ("53.15", "pos")}


# --- upsert -------------------------------------------------------------------------------------


def test_an_existing_code_is_updated_not_duplicated(seeded: Session, secret_key: str) -> None:
    before = count(seeded, Pendamping)
    data = "code,name,phone,region_code\nDEMO-PDP-5315-1,Maria F. Hamur,+62 811 1,53.15\n"
    report = run(seeded, "pendamping", data, secret_key)
    assert (report.created, report.updated) == (0, 1)
    assert count(seeded, Pendamping) == before
    pendamping = seeded.scalars(
        select(Pendamping).where(Pendamping.code == "DEMO-PDP-5315-1")
    ).one()
    assert pendamping.name == "Maria F. Hamur"


def test_importing_the_same_roster_twice_changes_nothing_the_second_time(
    seeded: Session, secret_key: str
) -> None:
    data = (EXAMPLES / "roster.csv").read_bytes()
    run(seeded, "roster", data, secret_key)
    again = run(seeded, "roster", data, secret_key)
    assert (again.created, again.updated) == (0, 0)
    assert again.counts.unchanged["family_member"] == 5


def test_the_pengurus_can_move_to_another_member(seeded: Session, secret_key: str) -> None:
    run(seeded, "roster", (EXAMPLES / "roster.csv").read_bytes(), secret_key)
    moved = (
        ROSTER_HEADER
        + "DEMO-5315-90001,DEMO-KLP-5315-03,53.15.01.2002,bri,1,Veronika Jehadu,istri,P,"
        "12/05/1988,tidak,\n"
        "DEMO-5315-90001,DEMO-KLP-5315-03,53.15.01.2002,bri,2,Yohanes Jehadu,kepala_keluarga,L,"
        "03/02/1985,ya,\n"
    )
    report = run(seeded, "roster", moved, secret_key)
    assert report.problems == []
    family = seeded.scalars(select(Family).where(Family.pkh_id == "DEMO-5315-90001")).one()
    seeded.refresh(family)
    assert [m.is_pengurus for m in family.members] == [False, True, False]
    # A blank NIK keeps the stored hash.
    assert family.members[0].nik_hash == hash_nik(PENGURUS_NIK, secret_key)


def test_an_existing_window_is_updated(seeded: Session, secret_key: str) -> None:
    data = (
        "year,stage_no,region_code,channel_code,starts_on,ends_on,basis,status\n"
        "2026,4,53.15,BRI,2026-11-16,2026-11-30,official,in_progress\n"
    )
    before = count(seeded, PaymentWindow)
    report = run(seeded, "payment_schedule", data, secret_key)
    assert report.problems == []
    assert count(seeded, PaymentWindow) == before
    assert report.counts.updated["payment_window"] == 1
    window = seeded.scalars(
        select(PaymentWindow).where(PaymentWindow.ends_on == date(2026, 11, 30))
    ).one()
    assert window.basis is WindowBasis.OFFICIAL and window.channel_code == "bri"


# --- formats ------------------------------------------------------------------------------------


def test_semicolons_a_bom_and_day_first_dates_are_accepted(
    seeded: Session, secret_key: str
) -> None:
    data = (
        "\ufeffYEAR;stage_no;region_code;channel_code;starts_on;ends_on;basis;status\r\n"
        "2027;2;;;01/05/2027;31/05/2027;reported;planned\r\n"
        ";;;;;;;\r\n"
    ).encode()
    report = run(seeded, "payment_schedule", data, secret_key)
    assert report.problems == [] and report.rows == 1
    window = seeded.scalars(
        select(PaymentWindow).where(PaymentWindow.starts_on == date(2027, 5, 1))
    ).one()
    assert window.ends_on == date(2027, 5, 31)


def test_columns_may_come_in_any_order(seeded: Session, secret_key: str) -> None:
    data = "region_code,code,phone,name\n53.15,DEMO-PDP-X,,Yosef Dagur\n"
    report = run(seeded, "pendamping", data, secret_key)
    assert report.problems == []


# --- problems -----------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_is_refused(seeded: Session, secret_key: str) -> None:
    data = "code,name,phone,region_code\nX,Bu Ñoño,,53.15\n".encode("latin-1")
    report = run(seeded, "pendamping", data, secret_key)
    assert problems(report) == {(None, None)}
    assert "UTF-8" in report.problems[0].message


def test_the_header_must_have_exactly_the_columns(seeded: Session, secret_key: str) -> None:
    report = run(seeded, "pendamping", "code,name,name,telepon\n", secret_key)
    assert problems(report) == {(1, "name"), (1, "telepon"), (1, "phone"), (1, "region_code")}
    assert run(seeded, "pendamping", "", secret_key).problems[0].row == 1


def test_unknown_references_and_missing_values_are_reported_per_cell(
    seeded: Session, secret_key: str
) -> None:
    data = (
        "code,name,pendamping_code,desa_code\n"
        "K-1,,DEMO-PDP-9999-9,53.15.01.2002\n"  # row 2: no name, unknown pendamping
        "K-2,Anggrek,DEMO-PDP-5315-1,53.15.01\n"  # row 3: a kecamatan, not a desa
        "K-3,Mawar,DEMO-PDP-5315-1,99.99.99.9999\n"  # row 4: unknown region
        "K-4,Melati,DEMO-PDP-5315-1,33.02.10.2001\n"  # row 5: desa outside Manggarai Barat
    )
    report = run(seeded, "kelompok", data, secret_key)
    assert problems(report) == {
        (2, "name"),
        (2, "pendamping_code"),
        (3, "desa_code"),
        (4, "desa_code"),
        (5, "desa_code"),
    }
    messages = {problem.message for problem in report.problems}
    assert "Wilayah 53.15.01 bukan desa." in messages
    assert "Pendamping DEMO-PDP-9999-9 tidak dikenal." in messages


def test_a_duplicate_key_names_the_earlier_row(seeded: Session, secret_key: str) -> None:
    data = "code,name,phone,region_code\nP-1,Satu,,53.15\nP-1,Dua,,53.15\n"
    report = run(seeded, "pendamping", data, secret_key)
    assert report.problems == [
        Problem(3, "code", "Sama dengan baris 2: kunci harus unik."),
    ]


def test_payment_schedule_values_are_checked(seeded: Session, secret_key: str) -> None:
    data = (
        "year,stage_no,region_code,channel_code,starts_on,ends_on,basis,status\n"
        "2027,5,,,2027-01-01,2027-01-31,official,planned\n"  # stage 5
        "2027,1,,GOPAY,2027-01-01,2027-01-31,official,planned\n"  # unknown channel
        "2027,2,,,2027-02-30,2027-03-10,official,planned\n"  # no 30 February
        "2027,3,,,2027-03-10,2027-03-01,official,planned\n"  # ends before it starts
        "2027,4,,,2027-04-01,2027-04-30,rumor,done\n"  # bad enum values
        "20x7,1,,,2027-01-01,2027-01-31,official,planned\n"  # not a year
    )
    report = run(seeded, "payment_schedule", data, secret_key)
    assert problems(report) == {
        (2, "stage_no"),
        (3, "channel_code"),
        (4, "starts_on"),
        (5, "ends_on"),
        (6, "basis"),
        (6, "status"),
        (7, "year"),
    }


def roster_row(
    pkh_id: str = "DEMO-5315-90009",
    member_no: str = "1",
    *,
    kelompok: str = "DEMO-KLP-5315-03",
    desa: str = "53.15.01.2002",
    channel: str = "bri",
    relation: str = "istri",
    sex: str = "P",
    birth_date: str = "1990-01-01",
    pengurus: str = "ya",
    nik: str = "9999534101900001",
) -> str:
    name = f"Anggota {member_no}"
    cells = [pkh_id, kelompok, desa, channel, member_no, name, relation, sex, birth_date]
    return ",".join([*cells, pengurus, nik]) + "\n"


def test_bad_niks_are_reported_without_repeating_them(seeded: Session, secret_key: str) -> None:
    data = (
        ROSTER_HEADER
        + roster_row("F-1", nik="12345")  # row 2: too short
        + roster_row("F-2", nik="9999531500001001")  # row 3: date part 15/00: no month 0
        + roster_row("F-3", nik="9999534101900003")  # row 4: fine
        + roster_row("F-4", nik="9999534101900003")  # row 5: same NIK as row 4
    )
    report = run(seeded, "roster", data, secret_key)
    assert problems(report) == {(2, "nik"), (3, "nik"), (5, "nik")}
    assert all("999953" not in problem.message for problem in report.problems)


def test_a_nik_already_stored_for_someone_else_is_refused(seeded: Session, secret_key: str) -> None:
    run(seeded, "roster", (EXAMPLES / "roster.csv").read_bytes(), secret_key)
    report = run(seeded, "roster", ROSTER_HEADER + roster_row("F-9", nik=PENGURUS_NIK), secret_key)
    assert problems(report) == {(2, "nik")}


def test_roster_rows_of_one_family_must_agree_and_have_one_pengurus(
    seeded: Session, secret_key: str
) -> None:
    data = (
        ROSTER_HEADER
        + roster_row("F-1", "1", nik="9999534101900001")
        + roster_row("F-1", "2", channel="pos", pengurus="tidak", nik="")  # row 3: other channel
        + roster_row("F-1", "2", pengurus="tidak", nik="")  # row 4: member 2 again
        + roster_row("F-2", "1", pengurus="tidak", nik="")  # row 5: F-2 has no pengurus
        + roster_row(
            "F-3", "1", relation="ibu", sex="W", birth_date="2030-01-01", pengurus="?", nik=""
        )
        + roster_row("F-4", "1", kelompok="NOPE", desa="53.15", channel="gopay", nik="")
        + roster_row("F-5", "x", birth_date="", nik="")  # row 8: member_no, pengurus needs a date
    )
    report = run(seeded, "roster", data, secret_key)
    assert problems(report) == {
        (3, "channel_code"),
        (4, "member_no"),
        (5, "is_pengurus"),
        (6, "relation"),
        (6, "sex"),
        (6, "birth_date"),
        (6, "is_pengurus"),
        (7, "kelompok_code"),
        (7, "desa_code"),
        (7, "channel_code"),
        (8, "member_no"),
        (8, "birth_date"),
    }


def test_one_bad_row_imports_nothing_and_leaves_the_session_untouched(
    seeded: Session, secret_key: str
) -> None:
    before = (count(seeded, Family), count(seeded, FamilyMember), count(seeded, AuditLog))
    data = (EXAMPLES / "roster.csv").read_text(encoding="utf-8") + (
        "DEMO-5315-90003;DEMO-KLP-5315-03;53.15.01.2002;bri;1;Sesilia Dagur;istri;P;"
        "01/01/1990;ya;99995341019\n"
    )
    report = run(seeded, "roster", data, secret_key)
    assert problems(report) == {(7, "nik")}
    assert report.created == 0
    assert not seeded.new and not seeded.dirty
    assert (count(seeded, Family), count(seeded, FamilyMember), count(seeded, AuditLog)) == before


def test_the_nik_date_part_allows_women_s_days_and_leap_days() -> None:
    assert nik_date_part_is_plausible("9999535205880001")  # 12 May 88, a woman (52 = 12 + 40)
    assert nik_date_part_is_plausible("9999532902000001")  # 29 February
    assert not nik_date_part_is_plausible("9999533202880001")  # 32 February
    assert not nik_date_part_is_plausible("9999537205880001")  # day 72 = 32 for a woman
    assert not nik_date_part_is_plausible("9999530013880001")  # month 13


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_env(
    fresh_seeded_database: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_seeded_database)
    monkeypatch.setenv("PKH_SECRET_KEY", secret_key)
    get_settings.cache_clear()
    yield fresh_seeded_database
    get_settings.cache_clear()


def kelompok_count(url: str) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = count(session, Kelompok)
    engine.dispose()
    return found


def test_the_command_lists_every_bad_row_and_exits_1(cli_env: str, tmp_path: Path) -> None:
    bad = tmp_path / "kelompok.csv"
    bad.write_text(
        "code,name,pendamping_code,desa_code\n"
        "K-1,Mawar,DEMO-PDP-5315-1,53.15.01.2002\n"
        "K-2,Melati,DEMO-PDP-0000-0,53.15.01.2002\n"
        "K-3,,DEMO-PDP-5315-1,53.15.01.2002\n",
        encoding="utf-8",
    )
    before = kelompok_count(cli_env)
    result = CliRunner().invoke(app, ["import", "kelompok", str(bad)])
    assert result.exit_code == 1, result.output
    assert "2 problem(s); nothing was imported" in result.output
    assert "baris 3, pendamping_code: Pendamping DEMO-PDP-0000-0 tidak dikenal." in result.output
    assert "baris 4, name: Wajib diisi." in result.output
    assert kelompok_count(cli_env) == before


def test_the_command_imports_a_valid_file_and_a_dry_run_changes_nothing(cli_env: str) -> None:
    example = str(EXAMPLES / "kelompok.csv")
    before = kelompok_count(cli_env)
    dry = CliRunner().invoke(app, ["import", "kelompok", example, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    assert kelompok_count(cli_env) == before
    real = CliRunner().invoke(app, ["import", "kelompok", example])
    assert real.exit_code == 0, real.output
    assert kelompok_count(cli_env) == before + 1


# --- any bytes give a report (issue 12), and big files (issue 15) --------------------------------


def row_counts(session: Session) -> tuple[int, ...]:
    return tuple(count(session, model) for model in (Family, FamilyMember, Pendamping, AuditLog))


def test_a_cell_over_128_kib_is_a_row_report_and_nothing_is_imported(
    seeded: Session, secret_key: str
) -> None:
    before = row_counts(seeded)
    huge = "x" * (129 * 1024)
    data = ROSTER_HEADER + roster_row("F-1") + roster_row("F-2", nik="").replace("Anggota 1", huge)
    report = run(seeded, "roster", data, secret_key)
    assert problems(report) == {(3, None)}
    assert "128 KiB" in report.problems[0].message
    assert len(report.problems[0].message) < 200
    assert row_counts(seeded) == before


def test_a_nul_byte_is_a_row_report_and_nothing_is_imported(
    seeded: Session, secret_key: str
) -> None:
    before = row_counts(seeded)
    roster = (
        ROSTER_HEADER
        + roster_row("F-1")
        + roster_row("F-2", nik="").replace("Anggota 1", "Ang\x00gota")
    )
    report = run(seeded, "roster", roster.encode(), secret_key)
    assert problems(report) == {(3, "name")}
    assert "NUL" in report.problems[0].message
    pendamping = "code,name,phone,region_code\nP-\x00,Satu,,53.15\n"
    assert problems(run(seeded, "pendamping", pendamping, secret_key)) == {(2, "code")}
    assert row_counts(seeded) == before


def test_a_long_unknown_code_is_quoted_cut_short(seeded: Session, secret_key: str) -> None:
    data = ROSTER_HEADER + roster_row("F-1", desa="9" * 100_000, channel="\x07" + "y" * 5000)
    report = run(seeded, "roster", data, secret_key)
    assert problems(report) == {(2, "desa_code"), (2, "channel_code")}
    assert all(len(problem.message) < 120 for problem in report.problems)
    assert all(problem.message.isprintable() for problem in report.problems)


def test_a_file_that_stops_being_utf8_halfway_is_refused(seeded: Session, secret_key: str) -> None:
    rows = "".join(roster_row(f"F-{n}", nik="") for n in range(500))
    data = (ROSTER_HEADER + rows).encode() + "Ñoño\n".encode("latin-1")
    report = run(seeded, "roster", data, secret_key)
    assert (None, None) in problems(report)
    assert "UTF-8" in report.problems[0].message
    assert not seeded.scalars(select(Family).where(Family.pkh_id == "F-1")).all()


def test_tab_separated_files_are_read(seeded: Session, secret_key: str) -> None:
    data = "code\tname\tphone\tregion_code\nP-TAB\tYosef Dagur\t\t53.15\n"
    report = run(seeded, "pendamping", data, secret_key)
    assert report.problems == [] and report.created == 1


def test_past_the_first_thousand_problems_they_are_counted(
    seeded: Session, secret_key: str
) -> None:
    data = "code,name,phone,region_code\n" + "".join(f"P-{n},,,99.99\n" for n in range(600))
    report = run(seeded, "pendamping", data, secret_key)
    assert report.problem_count == 1200
    assert len(report.problems) == 1000 and report.more_problems == 200
    assert not report.ok


def test_a_roster_file_is_read_as_a_stream_with_progress(
    seeded: Session, secret_key: str, tmp_path: Path
) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes((EXAMPLES / "roster.csv").read_bytes())
    calls: list[tuple[ImportPhase, int, int | None]] = []
    with path.open("rb") as stream:
        report = import_csv(
            seeded,
            kind="roster",
            data=stream,
            secret_key=secret_key,
            actor="test",
            now=NOW,
            progress=lambda phase, done, total: calls.append((phase, done, total)),
        )
        assert not stream.closed  # the caller's file
    assert report.problems == [] and report.rows == 5
    assert calls[-1] == (ImportPhase.WRITING, 5, 5)
    assert (ImportPhase.CHECKING, 5, 5) in calls


def test_families_straddling_batches_are_imported_whole(
    seeded: Session, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "_READ_BATCH", 2)
    monkeypatch.setattr(imports, "_WRITE_BATCH", 1)
    report = run(seeded, "roster", (EXAMPLES / "roster.csv").read_bytes(), secret_key)
    assert report.problems == []
    assert (report.counts.inserted["family"], report.counts.inserted["family_member"]) == (2, 5)
    family = seeded.scalars(select(Family).where(Family.pkh_id == "DEMO-5315-90001")).one()
    assert [m.member_no for m in family.members] == [1, 2, 3]
    bad = (
        ROSTER_HEADER
        + roster_row("F-1")
        + roster_row("F-1", "2", channel="pos", pengurus="t", nik="")
    )
    assert problems(run(seeded, "roster", bad, secret_key)) == {(3, "channel_code")}


def test_an_update_counts_what_changed_and_keeps_what_is_not_in_the_file(
    seeded: Session, secret_key: str
) -> None:
    run(seeded, "roster", (EXAMPLES / "roster.csv").read_bytes(), secret_key)
    renamed = (
        ROSTER_HEADER + "DEMO-5315-90002,DEMO-KLP-5315-03,53.15.01.2002,bni,1,Theresia Nggoro,"
        "kepala_keluarga,P,09/11/1979,ya,\n"
    )
    report = run(seeded, "roster", renamed, secret_key)
    assert report.problems == []
    assert (report.counts.updated["family"], report.counts.unchanged["family_member"]) == (1, 1)
    family = seeded.scalars(select(Family).where(Family.pkh_id == "DEMO-5315-90002")).one()
    assert family.channel_code == "bni"
    assert [m.name for m in family.members] == ["Theresia Nggoro", "Paulus Nggoro"]
    assert family.members[0].nik_last4 == "0001"  # a blank NIK keeps the stored one


def family_count(url: str) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = count(session, Family)
    engine.dispose()
    return found


def test_the_command_reports_a_huge_cell_and_a_nul_byte_and_imports_nothing(
    cli_env: str, tmp_path: Path
) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_bytes(
        (
            ROSTER_HEADER
            + roster_row("F-1", nik="").replace("Anggota 1", "Ang\x00gota")
            + roster_row("F-2", nik="").replace("Anggota 1", "x" * 200_000)
        ).encode()
    )
    before = family_count(cli_env)
    result = CliRunner().invoke(app, ["import", "roster", str(bad)])
    assert result.exit_code == 1, result.output
    assert "2 problem(s); nothing was imported" in result.output
    assert "baris 2, name: Sel ini berisi karakter NUL (kode 0)." in result.output
    assert "baris 3: Ada sel yang lebih besar dari 128 KiB" in result.output
    assert family_count(cli_env) == before


def test_the_command_has_no_size_limit(cli_env: str, tmp_path: Path) -> None:
    big = tmp_path / "schedule.csv"
    with big.open("w", encoding="utf-8") as file:
        file.write("year,stage_no,region_code,channel_code,starts_on,ends_on,basis,status\n")
        file.write("2027,3,,,2027-07-01,2027-07-31,official,planned\n")
        file.write(",,,,,,,\n" * 800_000)  # 7 MB of the empty rows spreadsheets leave
    assert big.stat().st_size > 5 * 1024 * 1024
    result = CliRunner().invoke(app, ["import", "payment_schedule", str(big)])
    assert result.exit_code == 0, result.output
    assert "1 rows imported" in result.output
