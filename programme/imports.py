"""CSV import of pendamping, kelompok, the KPM roster and payment schedules, all or nothing."""

# Every row is checked before anything is written: a file with one bad row changes nothing and
# the report lists every bad row, numbered as the spreadsheet shows it (the header is row 1).
# Rows are upserted on their natural key (code, pkh_id + member_no, stage + region + channel).
# The caller owns the transaction; a NIK is only ever hashed (programme.nik), never kept or shown.

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import Translator, translator
from programme.models import (
    AuditLog,
    Channel,
    Family,
    FamilyMember,
    FamilyRelation,
    Kelompok,
    PaymentStage,
    PaymentWindow,
    Pendamping,
    Region,
    RegionLevel,
    ScheduleStatus,
    Sex,
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

MAX_UPLOAD_BYTES: Final = 5 * 1024 * 1024
IMPORT_SOURCE: Final = "Impor CSV"
FIRST_DATA_ROW: Final = 2  # the header is row 1 in the spreadsheet
_DATE_FORMATS: Final = ("%Y-%m-%d", "%d/%m/%Y")
_YES: Final = frozenset({"ya", "y", "yes", "true", "1", "x"})
_NO: Final = frozenset({"tidak", "t", "no", "n", "false", "0", ""})

EnumT = TypeVar("EnumT", bound=enum.StrEnum)


class ImportKind(enum.StrEnum):
    """What a CSV file holds."""

    PENDAMPING = "pendamping"
    KELOMPOK = "kelompok"
    ROSTER = "roster"
    PAYMENT_SCHEDULE = "payment_schedule"


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
    problems: list[Problem] = field(default_factory=list)
    counts: SeedReport = field(default_factory=SeedReport)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def created(self) -> int:
        return self.counts.inserted.total()

    @property
    def updated(self) -> int:
        return self.counts.updated.total()

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
    data: bytes | str,
    secret_key: str,
    actor: str,
    now: datetime,
    tr: Translator | None = None,
) -> ImportReport:
    """Check every row of `data`; if all are valid, upsert them and audit the counts."""
    kind = ImportKind(kind)
    tr = tr or translator(None)
    report = ImportReport(kind=kind)
    table = _read_table(data, COLUMNS[kind], report, tr)
    if table is None:
        return report
    report.rows = len(table)
    checker = _Checker(session, report, tr, secret_key=secret_key, today=now.date())
    apply = _CHECKS[kind](checker, table)
    if not report.ok:
        return report
    apply(Upserter(session, report.counts))
    session.flush()
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


def _read_table(
    data: bytes | str, columns: tuple[str, ...], report: ImportReport, tr: Translator
) -> list[_Line] | None:
    """The data rows by column name, or None (with the problems noted) if the file is unusable."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            report.problems.append(
                Problem(None, None, tr._("File bukan UTF-8. Simpan ulang sebagai CSV UTF-8."))
            )
            return None
    text = data.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    # Excel set to Indonesian writes ";" because "," is the decimal separator there.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(rows, [])]
    if not any(header):
        report.problems.append(Problem(1, None, tr._("File kosong: baris header diperlukan.")))
        return None
    seen: set[str] = set()
    for name in header:
        if name in seen:
            report.problems.append(Problem(1, name, tr._("Kolom ini muncul dua kali.")))
        elif name not in columns:
            report.problems.append(Problem(1, name or None, tr._("Kolom tidak dikenal.")))
        seen.add(name)
    for name in columns:
        if name not in seen:
            report.problems.append(Problem(1, name, tr._("Kolom wajib tidak ada.")))
    if report.problems:
        return None
    lines = []
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue  # spreadsheets leave empty rows (";;;;") at the end
        if len(cells) > len(header) and any(cells[len(header) :]):
            report.problems.append(
                Problem(number, None, tr._("Baris ini punya lebih banyak sel daripada header."))
            )
        padded = cells + [""] * (len(header) - len(cells))
        lines.append(_Line(number, dict(zip(header, padded, strict=False))))
    return lines


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
        self.report.problems.append(Problem(line.number, column, message))

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
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
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
            self.problem(line, column, self.tr._("Wilayah {code} tidak dikenal.", code=code))
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
                line, column, self.tr._("Saluran pembayaran {code} tidak dikenal.", code=code)
            )
            return None
        return channels[code.lower()]

    def unique(self, line: _Line, column: str | None, key: object, seen: dict[object, int]) -> bool:
        """False (and a problem) when an earlier row of the file has the same key."""
        if key in seen:
            self.problem(
                line, column, self.tr._("Sama dengan baris {row}: kunci harus unik.", row=seen[key])
            )
            return False
        seen[key] = line.number
        return True

    def regions(self) -> dict[str, Region]:
        return {region.code: region for region in self.session.scalars(select(Region))}


Apply = Callable[[Upserter], None]


def _all_present(values: Iterable[object | None]) -> bool:
    return all(value is not None for value in values)


# --- pendamping --------------------------------------------------------------------------------


def _check_pendamping(checker: _Checker, lines: list[_Line]) -> Apply:
    regions = checker.regions()
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
    regions = checker.regions()
    pendamping = {p.code: p for p in checker.session.scalars(select(Pendamping))}
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
                checker.tr._("Pendamping {code} tidak dikenal.", code=pendamping_code),
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
        for code, values in planned:
            upserter.upsert(Kelompok, {"code": code}, values)

    return apply


# --- roster ------------------------------------------------------------------------------------


@dataclass
class _MemberPlan:
    line: _Line
    member_no: int
    values: dict[str, object]
    is_pengurus: bool


@dataclass
class _FamilyPlan:
    pkh_id: str
    first: _Line
    family_cells: tuple[str, str, str]
    values: dict[str, object] | None
    lines: list[_Line] = field(default_factory=list)
    members: list[_MemberPlan] = field(default_factory=list)


_FAMILY_COLUMNS: Final = ("kelompok_code", "desa_code", "channel_code")


def _check_roster(checker: _Checker, lines: list[_Line]) -> Apply:
    tr = checker.tr
    regions = checker.regions()
    kelompok = {k.code: k for k in checker.session.scalars(select(Kelompok))}
    members_by_hash: dict[str | None, tuple[str, int]] = {
        nik_hash: (pkh_id, member_no)
        for nik_hash, pkh_id, member_no in checker.session.execute(
            select(FamilyMember.nik_hash, Family.pkh_id, FamilyMember.member_no)
            .join(Family)
            .where(FamilyMember.nik_hash.is_not(None))
        )
    }
    families: dict[str, _FamilyPlan] = {}
    seen_members: dict[object, int] = {}
    seen_niks: dict[object, int] = {}
    for line in lines:
        pkh_id = checker.text(line, "pkh_id", max_length=30)
        if pkh_id is None:
            continue
        family = families.get(pkh_id)
        if family is not None:
            family.lines.append(line)
        cells = tuple(line.cells[column] for column in _FAMILY_COLUMNS)
        if family is None:
            family = families[pkh_id] = _FamilyPlan(
                pkh_id,
                line,
                (cells[0], cells[1], cells[2]),
                _family_values(checker, line, kelompok, regions),
                lines=[line],
            )
        else:
            for column, mine, first in zip(
                _FAMILY_COLUMNS, cells, family.family_cells, strict=True
            ):
                if mine != first:
                    checker.problem(
                        line,
                        column,
                        tr._(
                            "Berbeda dengan baris {row} untuk keluarga yang sama.",
                            row=family.first.number,
                        ),
                    )
        member = _member_plan(checker, line, pkh_id, members_by_hash, seen_niks)
        if member is not None and checker.unique(
            line, "member_no", (pkh_id, member.member_no), seen_members
        ):
            family.members.append(member)
    for family in families.values():
        flags = [line.cells["is_pengurus"].lower() for line in family.lines]
        if all(flag in _YES | _NO for flag in flags) and sum(f in _YES for f in flags) != 1:
            checker.problem(
                family.first,
                "is_pengurus",
                tr._("Keluarga {pkh_id} harus punya tepat satu pengurus.", pkh_id=family.pkh_id),
            )

    def apply(upserter: Upserter) -> None:
        rows = {
            plan.pkh_id: upserter.upsert(Family, {"pkh_id": plan.pkh_id}, plan.values or {})
            for plan in families.values()
        }
        upserter.session.flush()
        for plan in families.values():
            row = rows[plan.pkh_id]
            pengurus_no = next(m.member_no for m in plan.members if m.is_pengurus)
            # One pengurus per family is a unique index: step the old one down before the new.
            for existing in row.members:
                if existing.is_pengurus and existing.member_no != pengurus_no:
                    existing.is_pengurus = False
            upserter.session.flush()
            for member in plan.members:
                upserter.upsert(
                    FamilyMember,
                    {"family_id": row.id, "member_no": member.member_no},
                    {**member.values, "is_pengurus": member.is_pengurus},
                )

    return apply


def _family_values(
    checker: _Checker, line: _Line, kelompok: dict[str, Kelompok], regions: dict[str, Region]
) -> dict[str, object] | None:
    code = checker.text(line, "kelompok_code", max_length=30)
    group = kelompok.get(code or "")
    if code is not None and group is None:
        checker.problem(
            line, "kelompok_code", checker.tr._("Kelompok {code} tidak dikenal.", code=code)
        )
    desa = checker.desa(line, "desa_code", regions)
    channel = checker.channel(line, "channel_code")
    if group is None or desa is None or channel is None:
        return None
    return {"kelompok_id": group.id, "desa_id": desa.id, "channel_code": channel}


def _member_plan(
    checker: _Checker,
    line: _Line,
    pkh_id: str,
    members_by_hash: dict[str | None, tuple[str, int]],
    seen_niks: dict[object, int],
) -> _MemberPlan | None:
    tr = checker.tr
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
    values: dict[str, object] = {
        "name": name,
        "family_relation": relation,
        "sex": sex,
        "birth_date": birth_date,
    }
    nik_ok = True
    if nik := line.cells["nik"]:
        nik_ok = False
        try:
            digits = normalize_nik(nik)
        except InvalidNikError:
            checker.problem(line, "nik", tr._("NIK harus 16 digit angka."))
        else:
            digest = hash_nik(digits, checker.secret_key)
            owner = members_by_hash.get(digest)
            if not nik_date_part_is_plausible(digits):
                checker.problem(
                    line, "nik", tr._("Bagian tanggal lahir dalam NIK tidak masuk akal.")
                )
            elif owner is not None and owner != (pkh_id, member_no):
                checker.problem(line, "nik", tr._("NIK ini sudah terdaftar untuk orang lain."))
            elif checker.unique(line, "nik", digest, seen_niks):
                nik_ok = True
                values.update(nik_hash=digest, nik_last4=nik_last4(digits))
    # A blank NIK keeps the stored one: exports never contain NIKs, so they cannot be sent back.
    if member_no is None or not _all_present([name, relation, is_pengurus]) or not nik_ok:
        return None
    if is_pengurus and birth_date is None:
        return None
    assert is_pengurus is not None
    return _MemberPlan(line, member_no, values, is_pengurus)


# --- payment schedule --------------------------------------------------------------------------


def _check_payment_schedule(checker: _Checker, lines: list[_Line]) -> Apply:
    tr = checker.tr
    regions = checker.regions()
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
    ImportKind.ROSTER: _check_roster,
    ImportKind.PAYMENT_SCHEDULE: _check_payment_schedule,
}


def describe(problem: Problem, tr: Translator) -> str:
    """One problem as a line of text: 'baris 3, nik: NIK harus 16 digit angka.'"""
    where = tr._("baris {row}", row=problem.row) if problem.row is not None else tr._("file")
    if problem.column:
        where = f"{where}, {problem.column}"
    return f"{where}: {problem.message}"
