"""CSV import of pendamping, kelompok, the KPM roster and payment schedules, all or nothing."""

# Every row is checked before anything is written: a file with one bad row changes nothing and
# the report lists the bad rows (the first MAX_PROBLEMS problems, and how many more there are),
# numbered as the spreadsheet shows them (the header is row 1). Whatever the bytes, the answer is
# a report, never an exception: not UTF-8, a NUL byte, a cell over the csv module's 128 KiB limit.
# Rows are upserted on their natural key (code, pkh_id + member_no, stage + region + channel).
# The caller owns the transaction; a NIK is only ever hashed (programme.nik), never kept or shown.
#
# The roster is the file that gets big (a province: a million rows), so it is streamed. Each row
# is checked on its own as it is read (looking up only the codes the file names, a chunk at a
# time) and put in a temporary staging table (COPY on PostgreSQL). The checks that compare rows
# (one pengurus per family, a key or NIK twice, a NIK stored for someone else) run in SQL on the
# staged rows. The rows are then written with INSERT … SELECT … ON CONFLICT DO UPDATE, a batch of
# families at a time, in the caller's one transaction: still all or nothing, and memory stays
# flat whatever the size of the file or of the database.

from __future__ import annotations

import csv
import enum
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Final, TypeVar, cast

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.i18n import Translator, translator
from programme.models import (
    AuditLog,
    Channel,
    Family,
    FamilyMember,
    FamilyRelation,
    FamilyStatus,
    Kelompok,
    PaymentStage,
    PaymentWindow,
    Pendamping,
    Region,
    RegionLevel,
    ScheduleStatus,
    Sex,
    UtcDateTime,
    WindowBasis,
)
from programme.nik import (
    InvalidNikError,
    hash_nik,
    nik_date_part_is_plausible,
    nik_last4,
    normalize_nik,
)
from programme.seed import SeedReport, Upserter

# The dashboard's upload limit (`pkh import` reads files of any size): about 600,000 roster rows.
MAX_UPLOAD_BYTES: Final = 64 * 1024 * 1024
MAX_PROBLEMS: Final = 1000  # problems kept for the report; beyond that they are only counted
IMPORT_SOURCE: Final = "Impor CSV"
FIRST_DATA_ROW: Final = 2  # the header is row 1 in the spreadsheet
_DATE_FORMATS: Final = ("%Y-%m-%d", "%d/%m/%Y")
_YES: Final = frozenset({"ya", "y", "yes", "true", "1", "x"})
_NO: Final = frozenset({"tidak", "t", "no", "n", "false", "0", ""})
_DELIMITERS: Final = (",", ";", "\t")
_MAX_HEADER_CHARS: Final = 64 * 1024
_SHOWN_CHARS: Final = 40  # of a cell quoted in a problem
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_READ_BATCH: Final = 5000  # rows checked, looked up and staged together
_WRITE_BATCH: Final = 20_000  # families written per statement
_LOOKUP_CHUNK: Final = 1000  # keys per IN (...)

EnumT = TypeVar("EnumT", bound=enum.StrEnum)


class ImportKind(enum.StrEnum):
    """What a CSV file holds."""

    PENDAMPING = "pendamping"
    KELOMPOK = "kelompok"
    ROSTER = "roster"
    PAYMENT_SCHEDULE = "payment_schedule"


class ImportPhase(enum.StrEnum):
    """What a running import is doing: reading and checking rows, then writing them."""

    CHECKING = "checking"
    WRITING = "writing"


# Called now and then with the phase, the rows done and the rows in the file (estimated from its
# line breaks while it is being read; None when the file cannot be measured beforehand).
ProgressCallback = Callable[[ImportPhase, int, int | None], None]

COLUMNS: Final[dict[ImportKind, tuple[str, ...]]] = {
    ImportKind.PENDAMPING: ("code", "name", "phone", "region_code"),
    ImportKind.KELOMPOK: ("code", "name", "pendamping_code", "desa_code"),
    ImportKind.ROSTER: (
        "pkh_id", "kelompok_code", "desa_code", "channel_code", "member_no", "name",
        "relation", "sex", "birth_date", "is_pengurus", "nik",
    ),
    ImportKind.PAYMENT_SCHEDULE: (
        "year", "stage_no", "region_code", "channel_code", "starts_on", "ends_on", "basis",
        "status",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """Why one cell (or row, or the whole file when `row` is None) cannot be imported."""

    row: int | None
    column: str | None
    message: str


@dataclass
class ImportReport:
    """What an import found wrong, or what it created and updated (per table)."""

    kind: ImportKind
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first MAX_PROBLEMS, by row
    problem_count: int = 0
    counts: SeedReport = field(default_factory=SeedReport)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and not self.problems

    @property
    def more_problems(self) -> int:
        """Problems found but not listed (past MAX_PROBLEMS)."""
        return max(0, self.problem_count - len(self.problems))

    @property
    def created(self) -> int:
        return self.counts.inserted.total()

    @property
    def updated(self) -> int:
        return self.counts.updated.total()

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def tables(self) -> list[tuple[str, int, int, int]]:
        """(table, created, updated, unchanged) for every table the import touched."""
        counts = self.counts
        names = sorted({*counts.inserted, *counts.updated, *counts.unchanged})
        return [
            (name, counts.inserted[name], counts.updated[name], counts.unchanged[name])
            for name in names
        ]


def import_csv(
    session: Session,
    *,
    kind: ImportKind | str,
    data: bytes | str | IO[bytes],
    secret_key: str,
    actor: str,
    now: datetime,
    tr: Translator | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Check every row of `data` (bytes, text or a binary file); if all are valid, upsert them.

    The counts are audited. Nothing is written unless the whole file is valid; the caller
    commits (or, for a dry run, rolls back).
    """
    kind = ImportKind(kind)
    tr = tr or translator(None)
    report = ImportReport(kind=kind)
    total = _estimated_rows(data)
    with _text_stream(data) as stream:
        table = _open_table(stream, COLUMNS[kind], report, tr)
        if table is None:
            return report
        checker = _Checker(session, report, tr, secret_key=secret_key, today=now.date())
        if kind is ImportKind.ROSTER:
            _RosterImport(checker, now=now, total=total, progress=progress).run(table.lines())
        else:
            lines = list(table.lines())
            report.rows = len(lines)
            if progress is not None:
                progress(ImportPhase.CHECKING, len(lines), len(lines))
            apply = _CHECKS[kind](checker, lines)
            if report.ok:
                apply(Upserter(session, report.counts))
                session.flush()
    report.problems.sort(key=lambda problem: problem.row or 0)
    if not report.ok:
        return report
    session.add(
        AuditLog(
            actor=actor,
            action=f"import.{kind.value}",
            details={"rows": report.rows, **report.counts.as_dict()},
            created_at=now,
        )
    )
    session.flush()
    return report


# --- reading the file --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int
    cells: dict[str, str]


def _estimated_rows(data: bytes | str | IO[bytes]) -> int | None:
    """The data rows in the file, counted by line breaks (quoted line breaks count too)."""
    if isinstance(data, str):
        breaks = data.count("\n")
    elif isinstance(data, bytes):
        breaks = data.count(b"\n")
    else:
        breaks = _line_breaks(data)
    return max(0, breaks - 1) if breaks else None


def _line_breaks(data: IO[bytes]) -> int:
    if not data.seekable():
        return 0
    start, breaks = data.tell(), 0
    while chunk := data.read(1 << 20):
        breaks += chunk.count(b"\n")
    data.seek(start)
    return breaks


@contextmanager
def _text_stream(data: bytes | str | IO[bytes]) -> Iterator[IO[str]]:
    """The file as text: UTF-8 (a BOM allowed), line endings kept for the csv module."""
    if isinstance(data, str):
        yield io.StringIO(data.removeprefix("\ufeff"), newline="")
        return
    binary = io.BytesIO(data) if isinstance(data, bytes) else data
    wrapper = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()  # a caller's file stays open: the caller closes it


@dataclass
class _Table:
    """A CSV file whose header is right: its data rows, read one at a time."""

    header: list[str]
    rows: Iterator[list[str]]
    report: ImportReport
    tr: Translator

    def lines(self) -> Iterator[_Line]:
        """The non-empty data rows by column name; a row the csv module cannot read ends it."""
        number = FIRST_DATA_ROW - 1
        try:
            for number, row in enumerate(self.rows, start=FIRST_DATA_ROW):
                line = self._line(number, row)
                if line is not None:
                    yield line
        except UnicodeDecodeError:
            self.report.add(Problem(None, None, _not_utf8(self.tr)))
        except csv.Error as error:
            self.report.add(Problem(number + 1, None, _unreadable(self.tr, error)))

    def _line(self, number: int, row: list[str]) -> _Line | None:
        tr, header = self.tr, self.header
        cells = [cell.strip() for cell in row]
        if not any(cells):
            return None  # spreadsheets leave empty rows (";;;;") at the end
        for index, cell in enumerate(cells):
            if not cell.isprintable() and (control := _CONTROL.search(cell)):
                # PostgreSQL cannot store a NUL in text; no code or name holds the others.
                column = header[index] if index < len(header) else None
                code = ord(control.group())
                message = (
                    tr._("Sel ini berisi karakter NUL (kode 0).")
                    if code == 0
                    else tr._("Sel ini berisi karakter kontrol (kode {code}).", code=code)
                )
                self.report.add(Problem(number, column, message))
                cells[index] = _CONTROL.sub("\ufffd", cell)
        if len(cells) > len(header) and any(cells[len(header) :]):
            self.report.add(
                Problem(number, None, tr._("Baris ini punya lebih banyak sel daripada header."))
            )
        padded = cells + [""] * (len(header) - len(cells))
        return _Line(number, dict(zip(header, padded, strict=False)))


def _not_utf8(tr: Translator) -> str:
    return tr._("File bukan UTF-8. Simpan ulang sebagai CSV UTF-8.")


def _unreadable(tr: Translator, error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return tr._(
            "Ada sel yang lebih besar dari {limit} KiB; baris ini dan sesudahnya tidak dibaca.",
            limit=csv.field_size_limit() // 1024,
        )
    return tr._("Baris ini bukan CSV yang bisa dibaca; baris ini dan sesudahnya tidak dibaca.")


def _open_table(
    stream: IO[str], columns: tuple[str, ...], report: ImportReport, tr: Translator
) -> _Table | None:
    """The file's rows under a checked header, or None (with the problems noted)."""
    try:
        first_line = stream.readline(_MAX_HEADER_CHARS)
    except UnicodeDecodeError:
        report.add(Problem(None, None, _not_utf8(tr)))
        return None
    if len(first_line) == _MAX_HEADER_CHARS and not first_line.endswith(("\n", "\r")):
        report.add(Problem(1, None, tr._("Baris header terlalu panjang.")))
        return None
    # Excel set to Indonesian writes ";" because "," is the decimal separator there; its
    # "Unicode text" export separates with tabs.
    delimiter = max(_DELIMITERS, key=first_line.count)
    rows = csv.reader(itertools.chain([first_line], stream), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(rows, [])]
    except (UnicodeDecodeError, csv.Error):
        report.add(Problem(1, None, tr._("Baris header tidak bisa dibaca.")))
        return None
    if not any(header):
        report.add(Problem(1, None, tr._("File kosong: baris header diperlukan.")))
        return None
    seen: set[str] = set()
    for name in header:
        if name in seen:
            report.add(Problem(1, _shown(name), tr._("Kolom ini muncul dua kali.")))
        elif name not in columns:
            report.add(Problem(1, _shown(name) or None, tr._("Kolom tidak dikenal.")))
        seen.add(name)
    for name in columns:
        if name not in seen:
            report.add(Problem(1, name, tr._("Kolom wajib tidak ada.")))
    if not report.ok:
        return None
    return _Table(header, rows, report, tr)


def _shown(value: str) -> str:
    """A cell as it may be quoted in a problem: printable characters only, and cut short."""
    head = "".join(char if char.isprintable() else "\ufffd" for char in value[: _SHOWN_CHARS + 1])
    return head if len(head) <= _SHOWN_CHARS else head[:_SHOWN_CHARS] + "…"


def _batches(lines: Iterable[_Line], size: int) -> Iterator[list[_Line]]:
    iterator = iter(lines)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _chunks(values: Sequence[Any], size: int = _LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for first in range(0, len(values), size):
        yield values[first : first + size]


# --- checking cells ----------------------------------------------------------------------------


class _Checker:
    """Reads typed values out of cells, noting a problem for each one that does not fit."""

    def __init__(
        self,
        session: Session,
        report: ImportReport,
        tr: Translator,
        *,
        secret_key: str,
        today: date,
    ) -> None:
        self.session = session
        self.report = report
        self.tr = tr
        self.secret_key = secret_key
        self.today = today
        self._channels: dict[str, str] | None = None

    def problem(self, line: _Line, column: str | None, message: str) -> None:
        self.report.add(Problem(line.number, column, message))

    def text(
        self, line: _Line, column: str, *, max_length: int, required: bool = True
    ) -> str | None:
        value = line.cells[column]
        if not value:
            if required:
                self.problem(line, column, self.tr._("Wajib diisi."))
            return None
        if len(value) > max_length:
            self.problem(
                line,
                column,
                self.tr._("Terlalu panjang (paling banyak {limit} karakter).", limit=max_length),
            )
            return None
        return value

    def integer(self, line: _Line, column: str, *, low: int, high: int) -> int | None:
        value = line.cells[column]
        if not value:
            self.problem(line, column, self.tr._("Wajib diisi."))
            return None
        if (
            len(value) > 9
            or not (value.isascii() and value.isdigit())
            or not low <= int(value) <= high
        ):
            self.problem(
                line, column, self.tr._("Harus bilangan bulat {low}–{high}.", low=low, high=high)
            )
            return None
        return int(value)

    def day(self, line: _Line, column: str, *, required: bool = True) -> date | None:
        value = line.cells[column]
        if not value:
            if required:
                self.problem(line, column, self.tr._("Wajib diisi."))
            return None
        if len(value) <= 10:
            for pattern in _DATE_FORMATS:
                try:
                    return datetime.strptime(value, pattern).date()
                except ValueError:
                    continue
        self.problem(
            line, column, self.tr._("Tanggal tidak valid: tulis TTTT-BB-HH atau HH/BB/TTTT.")
        )
        return None

    def choice(
        self, line: _Line, column: str, choices: type[EnumT], *, required: bool = True
    ) -> EnumT | None:
        value = line.cells[column]
        if not value:
            if required:
                self.problem(line, column, self.tr._("Wajib diisi."))
            return None
        for member in choices:
            if member.value.lower() == value.lower():
                return member
        allowed = ", ".join(member.value for member in choices)
        self.problem(
            line, column, self.tr._("Nilai tidak dikenal; pilihan: {choices}.", choices=allowed)
        )
        return None

    def flag(self, line: _Line, column: str) -> bool | None:
        value = line.cells[column].lower()
        if value in _YES:
            return True
        if value in _NO:
            return False
        self.problem(line, column, self.tr._("Isi ya atau tidak."))
        return None

    def region(self, line: _Line, column: str, regions: dict[str, Region]) -> Region | None:
        code = line.cells[column]
        if not code:
            self.problem(line, column, self.tr._("Wajib diisi."))
            return None
        if code not in regions:
            self.problem(
                line, column, self.tr._("Wilayah {code} tidak dikenal.", code=_shown(code))
            )
            return None
        return regions[code]

    def desa(self, line: _Line, column: str, regions: dict[str, Region]) -> Region | None:
        region = self.region(line, column, regions)
        if region is not None and region.level is not RegionLevel.DESA:
            self.problem(line, column, self.tr._("Wilayah {code} bukan desa.", code=region.code))
            return None
        return region

    def channel(self, line: _Line, column: str, *, required: bool = True) -> str | None:
        code = line.cells[column]
        if not code:
            if required:
                self.problem(line, column, self.tr._("Wajib diisi."))
            return None
        if self._channels is None:
            self._channels = {c.lower(): c for c in self.session.scalars(select(Channel.code))}
        channels = self._channels
        if code.lower() not in channels:
            self.problem(
                line,
                column,
                self.tr._("Saluran pembayaran {code} tidak dikenal.", code=_shown(code)),
            )
            return None
        return channels[code.lower()]

    def unique(self, line: _Line, column: str | None, key: object, seen: dict[object, int]) -> bool:
        """False (and a problem) when an earlier row of the file has the same key."""
        if key in seen:
            self.problem(line, column, _same_as(self.tr, seen[key]))
            return False
        seen[key] = line.number
        return True

    def regions(
        self, codes: Iterable[str], into: dict[str, Region] | None = None
    ) -> dict[str, Region]:
        """The regions with these codes (only those: the database may hold a country's)."""
        found = {} if into is None else into
        wanted = sorted({code for code in codes if code and len(code) <= 20} - found.keys())
        for chunk in _chunks(wanted):
            for region in self.session.scalars(select(Region).where(Region.code.in_(chunk))):
                found[region.code] = region
        return found


def _same_as(tr: Translator, row: int) -> str:
    return tr._("Sama dengan baris {row}: kunci harus unik.", row=row)


Apply = Callable[[Upserter], None]


def _all_present(values: Iterable[object | None]) -> bool:
    return all(value is not None for value in values)


# --- pendamping --------------------------------------------------------------------------------


def _check_pendamping(checker: _Checker, lines: list[_Line]) -> Apply:
    regions = checker.regions(line.cells["region_code"] for line in lines)
    seen: dict[object, int] = {}
    planned: list[tuple[str, dict[str, object]]] = []
    for line in lines:
        code = checker.text(line, "code", max_length=30)
        name = checker.text(line, "name", max_length=100)
        phone = checker.text(line, "phone", max_length=30, required=False)
        region = checker.region(line, "region_code", regions)
        if code is not None and not checker.unique(line, "code", code, seen):
            continue
        if code is not None and name is not None and region is not None:
            planned.append((code, {"name": name, "phone": phone, "region_id": region.id}))

    def apply(upserter: Upserter) -> None:
        upserter.preload(Pendamping, "code", [code for code, _ in planned])
        for code, values in planned:
            upserter.upsert(Pendamping, {"code": code}, values)

    return apply


# --- kelompok ----------------------------------------------------------------------------------


def _within(region: Region, ancestor_id: int) -> bool:
    node: Region | None = region
    while node is not None:
        if node.id == ancestor_id:
            return True
        node = node.parent
    return False


def _check_kelompok(checker: _Checker, lines: list[_Line]) -> Apply:
    regions = checker.regions(line.cells["desa_code"] for line in lines)
    codes = sorted({line.cells["pendamping_code"] for line in lines} - {""})
    pendamping: dict[str, Pendamping] = {}
    for chunk in _chunks(codes):
        for found in checker.session.scalars(select(Pendamping).where(Pendamping.code.in_(chunk))):
            pendamping[found.code] = found
    seen: dict[object, int] = {}
    planned: list[tuple[str, dict[str, object]]] = []
    for line in lines:
        code = checker.text(line, "code", max_length=30)
        name = checker.text(line, "name", max_length=100)
        pendamping_code = checker.text(line, "pendamping_code", max_length=30)
        leader = pendamping.get(pendamping_code or "")
        if pendamping_code is not None and leader is None:
            checker.problem(
                line,
                "pendamping_code",
                checker.tr._("Pendamping {code} tidak dikenal.", code=_shown(pendamping_code)),
            )
        desa = checker.desa(line, "desa_code", regions)
        if leader is not None and desa is not None and not _within(desa, leader.region_id):
            checker.problem(
                line,
                "desa_code",
                checker.tr._(
                    "Desa {code} tidak berada di wilayah kerja pendamping {pendamping}.",
                    code=desa.code,
                    pendamping=leader.code,
                ),
            )
            desa = None
        if code is not None and not checker.unique(line, "code", code, seen):
            continue
        if code is not None and name is not None and leader is not None and desa is not None:
            values: dict[str, object] = {
                "name": name,
                "pendamping_id": leader.id,
                "desa_id": desa.id,
            }
            planned.append((code, values))

    def apply(upserter: Upserter) -> None:
        upserter.preload(Kelompok, "code", [code for code, _ in planned])
        for code, values in planned:
            upserter.upsert(Kelompok, {"code": code}, values)

    return apply


# --- roster ------------------------------------------------------------------------------------

_FAMILY_COLUMNS: Final = ("kelompok_code", "desa_code", "channel_code")
_FAMILY: Final = cast(Table, Family.__table__)
_MEMBER: Final = cast(Table, FamilyMember.__table__)
_stage_metadata = MetaData()
# One row per data row of the file, as checked on its own. Lives for one import, in one
# connection (TEMPORARY), and is dropped at the end.
_stage = Table(
    "roster_import_stage",
    _stage_metadata,
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("pkh_id", String, nullable=False),
    Column("family_seq", Integer, nullable=False),  # 1, 2, … in the order families first appear
    Column("is_first", Boolean, nullable=False),  # the family's first row (its values count)
    Column("kelompok_cell", String, nullable=False),
    Column("desa_cell", String, nullable=False),
    Column("channel_cell", String, nullable=False),
    Column("kelompok_id", Integer),
    Column("desa_id", Integer),
    Column("channel_code", String),
    Column("member_no", Integer),
    Column("name", String),
    Column("relation", String),
    Column("sex", String),
    Column("birth_date", Date),
    Column("is_pengurus", Boolean),  # NULL when the cell is neither ya nor tidak
    Column("member_ok", Boolean, nullable=False),  # every cell of the member is valid
    Column("nik_hash", String),
    Column("nik_last4", String),
    Column("nik_taken", Boolean, nullable=False, server_default=false()),  # someone else's
    Column("nik_repeated", Boolean, nullable=False, server_default=false()),  # on an earlier row
    prefixes=["TEMPORARY"],
)
_STAGE_COLUMNS: Final = tuple(
    column.name for column in _stage.columns if column.name not in ("nik_taken", "nik_repeated")
)


class _RosterImport:
    """One roster file: checked row by row into the staging table, across rows, then written."""

    def __init__(
        self,
        checker: _Checker,
        *,
        now: datetime,
        total: int | None,
        progress: ProgressCallback | None,
    ) -> None:
        self.checker = checker
        self.session = checker.session
        self.report = checker.report
        self.tr = checker.tr
        self.now = now
        self.total = total
        self.progress = progress or (lambda _phase, _done, _total: None)
        self.families: dict[str, int] = {}  # pkh_id → family_seq
        self.kelompok: dict[str, int | None] = {}  # code → id (None: no such kelompok)
        self.regions: dict[str, Region] = {}

    def run(self, lines: Iterable[_Line]) -> None:
        self.session.flush()
        connection = self.session.connection()
        _stage.drop(connection, checkfirst=True)
        _stage.create(connection)
        rows = 0
        for batch in _batches(lines, _READ_BATCH):
            self._stage_rows(self._check_batch(batch))
            rows += len(batch)
            self.progress(ImportPhase.CHECKING, rows, max(rows, self.total or 0) or None)
        self.report.rows = rows
        self.progress(ImportPhase.CHECKING, rows, rows)
        self._index_stage()
        self._check_across_rows()
        if self.report.ok:
            self._write()
            self.session.expire_all()  # rows were changed under the session's feet
        _stage.drop(connection)

    # --- row by row

    def _check_batch(self, batch: list[_Line]) -> list[tuple[object, ...]]:
        checker = self.checker
        firsts: list[_Line] = []
        for line in batch:
            cell = line.cells["pkh_id"]
            if cell and len(cell) <= 30 and cell not in self.families:
                self.families[cell] = len(self.families) + 1
                firsts.append(line)
        self._look_up(firsts)
        first_numbers = {line.number for line in firsts}
        rows: list[tuple[object, ...]] = []
        for line in batch:
            pkh_id = checker.text(line, "pkh_id", max_length=30)
            if pkh_id is None:
                continue  # nothing else of the row can be placed
            family = self._family_values(line) if line.number in first_numbers else None
            kelompok_id, desa_id, channel_code = family or (None, None, None)
            cells = [line.cells[column] for column in _FAMILY_COLUMNS]
            rows.append(
                (
                    line.number,
                    pkh_id,
                    self.families[pkh_id],
                    line.number in first_numbers,
                    *cells,
                    kelompok_id,
                    desa_id,
                    channel_code,
                    *self._member_values(line),
                )
            )
        return rows

    def _look_up(self, lines: list[_Line]) -> None:
        """Load the kelompok and desa the batch's new families name, and only those."""
        codes = sorted({line.cells["kelompok_code"] for line in lines} - self.kelompok.keys())
        for chunk in _chunks([code for code in codes if code and len(code) <= 30]):
            found = self.session.execute(
                select(Kelompok.code, Kelompok.id).where(Kelompok.code.in_(chunk))
            )
            self.kelompok.update({code: id_ for code, id_ in found})
        self.kelompok.update({code: None for code in codes if code not in self.kelompok})
        self.checker.regions((line.cells["desa_code"] for line in lines), into=self.regions)

    def _family_values(self, line: _Line) -> tuple[int, int, str] | None:
        checker = self.checker
        code = checker.text(line, "kelompok_code", max_length=30)
        group = self.kelompok.get(code or "")
        if code is not None and group is None:
            checker.problem(
                line,
                "kelompok_code",
                self.tr._("Kelompok {code} tidak dikenal.", code=_shown(code)),
            )
        desa = checker.desa(line, "desa_code", self.regions)
        channel = checker.channel(line, "channel_code")
        if group is None or desa is None or channel is None:
            return None
        return group, desa.id, channel

    def _member_values(self, line: _Line) -> tuple[object, ...]:
        """member_no … nik_last4 of the staging row, and whether the member is valid on its own."""
        checker, tr = self.checker, self.tr
        member_no = checker.integer(line, "member_no", low=1, high=99)
        name = checker.text(line, "name", max_length=100)
        relation = checker.choice(line, "relation", FamilyRelation)
        sex = checker.choice(line, "sex", Sex, required=False)
        birth_date = checker.day(line, "birth_date", required=False)
        if birth_date is not None and birth_date > checker.today:
            checker.problem(line, "birth_date", tr._("Tanggal lahir di masa depan."))
            birth_date = None
        is_pengurus = checker.flag(line, "is_pengurus")
        if is_pengurus and not line.cells["birth_date"]:
            checker.problem(line, "birth_date", tr._("Pengurus wajib punya tanggal lahir."))
        nik_hash = last4 = None
        nik_ok = True
        # A blank NIK keeps the stored one: exports never contain NIKs, so they cannot be sent back.
        if nik := line.cells["nik"]:
            nik_ok = False
            try:
                if len(nik) > 64:
                    raise InvalidNikError("NIK harus 16 digit angka")
                digits = normalize_nik(nik)
            except InvalidNikError:
                checker.problem(line, "nik", tr._("NIK harus 16 digit angka."))
            else:
                if not nik_date_part_is_plausible(digits):
                    checker.problem(
                        line, "nik", tr._("Bagian tanggal lahir dalam NIK tidak masuk akal.")
                    )
                else:
                    nik_ok = True
                    nik_hash = hash_nik(digits, checker.secret_key)
                    last4 = nik_last4(digits)
        member_ok = (
            member_no is not None
            and _all_present([name, relation, is_pengurus])
            and nik_ok
            and not (is_pengurus and birth_date is None)
        )
        return (
            member_no,
            name,
            relation.value if relation else None,
            sex.value if sex else None,
            birth_date,
            is_pengurus,
            member_ok,
            nik_hash,
            last4,
        )

    def _stage_rows(self, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            assert driver is not None
            names = ", ".join(_STAGE_COLUMNS)
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {_stage.name} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            connection.execute(
                _stage.insert(), [dict(zip(_STAGE_COLUMNS, row, strict=True)) for row in rows]
            )

    def _index_stage(self) -> None:
        connection = self.session.connection()
        for name, columns in (
            ("family_seq", "family_seq, is_first"),
            ("nik_hash", "nik_hash"),
        ):
            connection.exec_driver_sql(
                f"CREATE INDEX {_stage.name}_{name} ON {_stage.name} ({columns})"
            )
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {_stage.name}")  # autovacuum skips temp tables

    # --- across rows

    def _check_across_rows(self) -> None:
        self._families_agree()
        self._one_pengurus_each()
        self._niks_are_new_and_once()
        self._members_once()

    def _rows(self, query: Any) -> Iterator[Any]:
        """The query's rows, streamed (a file full of mistakes has a million of them)."""
        yield from self.session.execute(query, execution_options={"yield_per": 10_000})

    def _families_agree(self) -> None:
        """Every row of a family names the kelompok, desa and channel of its first row."""
        first = _stage.alias("first_row")
        staged = [f"{column.removesuffix('_code')}_cell" for column in _FAMILY_COLUMNS]
        cells = [_stage.c[column] for column in staged]
        firsts = [first.c[column] for column in staged]
        query = (
            select(_stage.c.line, first.c.line, *cells, *firsts)
            .join(first, and_(first.c.family_seq == _stage.c.family_seq, first.c.is_first))
            .where(~_stage.c.is_first, or_(*(a != b for a, b in zip(cells, firsts, strict=True))))
            .order_by(_stage.c.line)
        )
        width = len(_FAMILY_COLUMNS)
        for line, first_line, *values in self._rows(query):
            mine, theirs = values[:width], values[width:]
            for column, a, b in zip(_FAMILY_COLUMNS, mine, theirs, strict=True):
                if a != b:
                    message = self.tr._(
                        "Berbeda dengan baris {row} untuk keluarga yang sama.", row=first_line
                    )
                    self.report.add(Problem(line, column, message))

    def _one_pengurus_each(self) -> None:
        """A family whose flags are all readable has exactly one pengurus."""
        pengurus = func.sum(case((_stage.c.is_pengurus, 1), else_=0))
        query = (
            select(func.min(_stage.c.line), _stage.c.pkh_id)
            .group_by(_stage.c.family_seq, _stage.c.pkh_id)
            .having(func.count(_stage.c.is_pengurus) == func.count(), pengurus != 1)
            .order_by(func.min(_stage.c.line))
        )
        for line, pkh_id in self._rows(query):
            message = self.tr._(
                "Keluarga {pkh_id} harus punya tepat satu pengurus.", pkh_id=_shown(pkh_id)
            )
            self.report.add(Problem(line, "is_pengurus", message))

    def _niks_are_new_and_once(self) -> None:
        """A NIK is not stored for another person, nor given on two rows of the file."""
        member = _MEMBER
        family = _FAMILY
        taken = (
            select(member.c.id)
            .join(family, family.c.id == member.c.family_id)
            .where(
                member.c.nik_hash == _stage.c.nik_hash,
                or_(
                    family.c.pkh_id != _stage.c.pkh_id,
                    _stage.c.member_no.is_(None),
                    member.c.member_no != _stage.c.member_no,
                ),
            )
            .exists()
        )
        self.session.execute(
            update(_stage).where(_stage.c.nik_hash.is_not(None), taken).values(nik_taken=True)
        )
        message = self.tr._("NIK ini sudah terdaftar untuk orang lain.")
        for (line,) in self._rows(
            select(_stage.c.line).where(_stage.c.nik_taken).order_by(_stage.c.line)
        ):
            self.report.add(Problem(line, "nik", message))
        ranked = (
            select(
                _stage.c.line,
                func.min(_stage.c.line).over(partition_by=_stage.c.nik_hash).label("first"),
            )
            .where(_stage.c.nik_hash.is_not(None), ~_stage.c.nik_taken)
            .subquery()
        )
        repeated = select(ranked.c.line).where(ranked.c.line != ranked.c.first)
        self.session.execute(
            update(_stage).where(_stage.c.line.in_(repeated)).values(nik_repeated=True)
        )
        for line, first_line in self._rows(
            select(ranked.c.line, ranked.c.first)
            .where(ranked.c.line != ranked.c.first)
            .order_by(ranked.c.line)
        ):
            self.report.add(Problem(line, "nik", _same_as(self.tr, first_line)))

    def _members_once(self) -> None:
        """A family's member number appears on one row (of those whose member is valid)."""
        ranked = (
            select(
                _stage.c.line,
                func.min(_stage.c.line)
                .over(partition_by=(_stage.c.family_seq, _stage.c.member_no))
                .label("first"),
            )
            .where(_stage.c.member_ok, ~_stage.c.nik_taken, ~_stage.c.nik_repeated)
            .subquery()
        )
        for line, first_line in self._rows(
            select(ranked.c.line, ranked.c.first)
            .where(ranked.c.line != ranked.c.first)
            .order_by(ranked.c.line)
        ):
            self.report.add(Problem(line, "member_no", _same_as(self.tr, first_line)))

    # --- writing

    def _write(self) -> None:
        written = 0
        for first in range(1, len(self.families) + 1, _WRITE_BATCH):
            batch = _stage.c.family_seq.between(first, first + _WRITE_BATCH - 1)
            self._write_families(batch)
            written += self._write_members(batch)
            self.progress(ImportPhase.WRITING, written, self.report.rows)

    def _write_families(self, batch: Any) -> None:
        family = _FAMILY
        counts = self.report.counts
        values = ("kelompok_id", "desa_id", "channel_code")
        rows = _stage.join(family, family.c.pkh_id == _stage.c.pkh_id, isouter=True)
        changed = or_(*(family.c[name] != _stage.c[name] for name in values))
        total, existing, updated = self.session.execute(
            select(
                func.count(),
                func.count(family.c.id),
                func.coalesce(func.sum(case((and_(family.c.id.is_not(None), changed), 1))), 0),
            )
            .select_from(rows)
            .where(batch, _stage.c.is_first)
        ).one()
        counts.inserted[family.name] += total - existing
        counts.updated[family.name] += updated
        counts.unchanged[family.name] += existing - updated

        now = literal(self.now, UtcDateTime())
        source = select(
            _stage.c.pkh_id,
            *(_stage.c[name] for name in values),
            literal(FamilyStatus.ACTIVE.value),
            now,
            now,
        ).where(batch, _stage.c.is_first)
        insert = _insert(self.session, family).from_select(
            ["pkh_id", *values, "status", "created_at", "updated_at"], source
        )
        excluded = insert.excluded
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["pkh_id"],
                set_={**{name: excluded[name] for name in values}, "updated_at": now},
                where=or_(*(family.c[name] != excluded[name] for name in values)),
            )
        )

    def _write_members(self, batch: Any) -> int:
        """Upsert the batch's members (the old pengurus stepping down first); returns the rows."""
        family = _FAMILY
        member = _MEMBER
        counts = self.report.counts
        values = {
            "name": _stage.c.name,
            "family_relation": _stage.c.relation,
            "sex": _stage.c.sex,
            "birth_date": _stage.c.birth_date,
            "is_pengurus": _stage.c.is_pengurus,
            "nik_hash": _stage.c.nik_hash,
            "nik_last4": _stage.c.nik_last4,
        }

        def changed(new: Any) -> Any:
            return or_(
                member.c.name != new["name"],
                member.c.family_relation != new["family_relation"],
                member.c.sex.is_distinct_from(new["sex"]),
                member.c.birth_date.is_distinct_from(new["birth_date"]),
                member.c.is_pengurus != new["is_pengurus"],
                and_(
                    new["nik_hash"].is_not(None),
                    member.c.nik_hash.is_distinct_from(new["nik_hash"]),
                ),
            )

        in_family = _stage.join(family, family.c.pkh_id == _stage.c.pkh_id)
        rows = in_family.join(
            member,
            and_(member.c.family_id == family.c.id, member.c.member_no == _stage.c.member_no),
            isouter=True,
        )
        total, existing, updated = self.session.execute(
            select(
                func.count(),
                func.count(member.c.id),
                func.coalesce(
                    func.sum(case((and_(member.c.id.is_not(None), changed(values)), 1))), 0
                ),
            )
            .select_from(rows)
            .where(batch)
        ).one()
        counts.inserted[member.name] += total - existing
        counts.updated[member.name] += updated
        counts.unchanged[member.name] += existing - updated

        # One pengurus per family is a unique index: step the old one down before the new.
        stepping_down = (
            select(member.c.id)
            .select_from(in_family)
            .join(
                member,
                and_(
                    member.c.family_id == family.c.id,
                    member.c.is_pengurus,
                    member.c.member_no != _stage.c.member_no,
                ),
            )
            .where(batch, _stage.c.is_pengurus)
        )
        self.session.execute(
            update(member).where(member.c.id.in_(stepping_down)).values(is_pengurus=False)
        )

        source = (
            select(family.c.id, _stage.c.member_no, *values.values())
            .select_from(in_family)
            .where(batch)
        )
        insert = _insert(self.session, member).from_select(
            ["family_id", "member_no", *values], source
        )
        excluded = insert.excluded
        new = {name: excluded[name] for name in values}
        self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["family_id", "member_no"],
                set_={
                    **new,
                    "nik_hash": func.coalesce(excluded.nik_hash, member.c.nik_hash),
                    "nik_last4": func.coalesce(excluded.nik_last4, member.c.nik_last4),
                },
                where=changed(new),
            )
        )
        return int(total)


def _insert(session: Session, table: Table) -> Any:
    """INSERT for the session's database, with its ON CONFLICT clause."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"imports support PostgreSQL and SQLite, not {dialect}")


# --- payment schedule --------------------------------------------------------------------------


def _check_payment_schedule(checker: _Checker, lines: list[_Line]) -> Apply:
    tr = checker.tr
    regions = checker.regions(line.cells["region_code"] for line in lines)
    seen: dict[object, int] = {}
    planned: list[tuple[int, int, int | None, str | None, dict[str, object]]] = []
    for line in lines:
        year = checker.integer(line, "year", low=2007, high=2100)
        stage_no = checker.integer(line, "stage_no", low=1, high=4)
        region_code = line.cells["region_code"]
        region = checker.region(line, "region_code", regions) if region_code else None
        channel = checker.channel(line, "channel_code", required=False)
        starts_on = checker.day(line, "starts_on")
        ends_on = checker.day(line, "ends_on")
        if starts_on is not None and ends_on is not None and ends_on < starts_on:
            checker.problem(line, "ends_on", tr._("Tanggal selesai sebelum tanggal mulai."))
            ends_on = None
        basis = checker.choice(line, "basis", WindowBasis)
        status = checker.choice(line, "status", ScheduleStatus)
        scope = (year, stage_no, region_code, (line.cells["channel_code"] or "").lower())
        if not checker.unique(line, None, scope, seen):
            continue
        if year is None or stage_no is None or (region_code and region is None):
            continue
        if line.cells["channel_code"] and channel is None:
            continue
        if starts_on is None or ends_on is None or basis is None or status is None:
            continue
        values = {"starts_on": starts_on, "ends_on": ends_on, "basis": basis, "status": status}
        planned.append((year, stage_no, region.id if region else None, channel, values))

    def apply(upserter: Upserter) -> None:
        for year, stage_no, region_id, channel, values in planned:
            stage_key = {"year": year, "stage_no": stage_no}
            stage = upserter.get(PaymentStage, stage_key) or upserter.upsert(
                PaymentStage,
                stage_key,
                {"status": ScheduleStatus.PLANNED, "source": IMPORT_SOURCE},
            )
            upserter.session.flush()
            key = {"stage_id": stage.id, "region_id": region_id, "channel_code": channel}
            new = (
                {}
                if upserter.get(PaymentWindow, key)
                else {"source": IMPORT_SOURCE, "source_date": checker.today}
            )
            upserter.upsert(PaymentWindow, key, {**values, **new})

    return apply


_CHECKS: Final[dict[ImportKind, Callable[[_Checker, list[_Line]], Apply]]] = {
    ImportKind.PENDAMPING: _check_pendamping,
    ImportKind.KELOMPOK: _check_kelompok,
    ImportKind.PAYMENT_SCHEDULE: _check_payment_schedule,
}


def describe(problem: Problem, tr: Translator) -> str:
    """One problem as a line of text: 'baris 3, nik: NIK harus 16 digit angka.'"""
    where = tr._("baris {row}", row=problem.row) if problem.row is not None else tr._("file")
    if problem.column:
        where = f"{where}, {problem.column}"
    return f"{where}: {problem.message}"
