"""Generated CSV files on both databases: whatever the bytes, a clean import or a report of rows.

Random bytes, other encodings, other delimiters, NUL bytes, cells over the csv module's limit,
and rosters mixing good rows with bad ones: no exception escapes `import_csv`, a refused file
changes nothing, and an accepted one is there whole.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from programme.imports import COLUMNS, ImportKind, ImportReport, import_csv
from programme.models import AuditLog, Family, FamilyMember, Kelompok, Pendamping

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ROSTER = COLUMNS[ImportKind.ROSTER]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.text(st.characters(codec="utf-8"), max_size=40)
huge = st.integers(min_value=129 * 1024, max_value=140 * 1024).map(lambda n: "y" * n)
cells = {
    "pkh_id": st.sampled_from(["FZ-1", "FZ-2", "FZ-3", "DEMO-5315-90001", ""]) | junk,
    "kelompok_code": st.sampled_from(["DEMO-KLP-5315-03", "DEMO-KLP-5315-01", "NOPE"]),
    "desa_code": st.sampled_from(["53.15.01.2002", "53.15.01", "99.99"]),
    "channel_code": st.sampled_from(["bri", "BNI", "pos", "gopay", ""]),
    "member_no": st.sampled_from(["1", "2", "3", "0", "x", ""]),
    "name": st.sampled_from(["Siti Nggoro", "Maria Dagur", ""]) | junk,
    "relation": st.sampled_from(["istri", "anak", "kepala_keluarga", "ibu"]),
    "sex": st.sampled_from(["P", "L", "", "W"]),
    "birth_date": st.sampled_from(["1990-01-01", "12/05/1988", "2031-01-01", "", "31/02/1990"]),
    "is_pengurus": st.sampled_from(["ya", "tidak", "", "?"]),
    "nik": st.sampled_from(
        ["", "9999534101900001", "9999534101900002", "12345", "9999531500001001"]
    )
    | junk,
}


@st.composite
def roster_files(draw: st.DrawFn) -> bytes:
    """A roster CSV: the columns in some order, rows of likely and unlikely cells, odd bytes."""
    header = draw(st.permutations(ROSTER))
    if draw(st.booleans()):
        header = draw(st.lists(st.sampled_from([*ROSTER, "nama", ""]), min_size=1, max_size=12))
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        row = [draw(cells.get(column, junk)) for column in header]
        if row and draw(st.integers(0, 9)) == 0:
            row[draw(st.integers(0, len(row) - 1))] = draw(huge | st.just("a\x00b"))
        rows.append(row)
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    return buffer.getvalue().encode(encoding, errors="replace")


def counts(session: Session) -> tuple[int, ...]:
    models = (Family, FamilyMember, Pendamping, Kelompok, AuditLog)
    return tuple(session.scalar(select(func.count()).select_from(m)) or 0 for m in models)


def check(session: Session, kind: ImportKind, data: bytes, secret_key: str) -> ImportReport:
    """Import in a savepoint (rolled back after), asserting what holds for any file."""
    savepoint = session.begin_nested()
    try:
        before = counts(session)
        report = import_csv(
            session, kind=kind, data=data, secret_key=secret_key, actor="fuzz", now=NOW
        )
        for problem in report.problems:
            assert problem.row is None or problem.row >= 1
            assert problem.message.isprintable() and len(problem.message) < 300
            assert problem.column is None or len(problem.column) <= 41
        if report.ok:
            assert report.problems == []
            after = counts(session)
            assert after[-1] == before[-1] + 1  # the import's audit entry
        else:
            assert report.problems, "a refused file names at least one problem"
            assert counts(session) == before, "nothing half-imported"
    finally:
        savepoint.rollback()
    return report


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_are_a_report(seeded: Session, secret_key: str, data: bytes) -> None:
    for kind in ImportKind:
        check(seeded, kind, data, secret_key)


@FUZZ
@given(data=roster_files())
def test_generated_rosters_import_whole_or_not_at_all(
    seeded: Session, secret_key: str, data: bytes
) -> None:
    report = check(seeded, ImportKind.ROSTER, data, secret_key)
    if report.ok and report.rows:
        assert (
            report.counts.inserted["family_member"]
            + report.counts.updated["family_member"]
            + report.counts.unchanged["family_member"]
            == report.rows
        )


@FUZZ
@given(data=roster_files())
def test_generated_files_of_other_kinds_are_a_report(
    seeded: Session, secret_key: str, data: bytes
) -> None:
    for kind in (ImportKind.PENDAMPING, ImportKind.KELOMPOK, ImportKind.PAYMENT_SCHEDULE):
        check(seeded, kind, data, secret_key)


def test_a_generated_valid_roster_is_imported_whole(seeded: Session, secret_key: str) -> None:
    data = (
        ",".join(ROSTER)
        + "\nFZ-9,DEMO-KLP-5315-03,53.15.01.2002,bri,1,Siti Nggoro,istri,P,1990-01-01,ya,"
        + "\nFZ-9,DEMO-KLP-5315-03,53.15.01.2002,bri,2,Maria Nggoro,anak,P,2012-01-01,tidak,\n"
    ).encode()
    report = check(seeded, ImportKind.ROSTER, data, secret_key)
    assert report.ok and report.counts.inserted["family_member"] == 2
