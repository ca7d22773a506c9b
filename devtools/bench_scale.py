"""`make bench-scale`: a province of N families on PostgreSQL, and what grows with it (issue 15).

Builds a PostgreSQL database with the project's own migrations and a realistic shape, quickly
(COPY and generate_series, never the ORM): one WITA province of N families in kabupaten,
kecamatan, desa and kelompok of 25, a pendamping per 250 families, 1–5 members each with keyed
NIK hashes, ~9% of the families linked to a Telegram account, as many question-log and outbox
rows as families in the last 30 days, a waiting inbox question per 20 families; and a small WIB
province whose queued messages may go out while the WITA ones rest in quiet hours.

Then it measures each operation of the issue's table the way it runs in production (the
commands as subprocesses, with their peak memory from wait4; the dashboard over HTTP; the drain's
claim and the 403 handler as the bot calls them) and prints it with its bar.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url

from core.quiet import QuietHours
from core.settings import PROJECT_ROOT
from programme import accounts, migrate, outbox
from programme.db import make_engine, make_session_factory
from programme.models import TimeZone
from programme.nik import hash_nik
from programme.seed import seed_reference

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pkh_bench_scale"
DEFAULT_FAMILIES = 1_000_000
SECRET_KEY = "bench-scale-key-not-for-production"  # noqa: S105 - a throwaway database
ADMIN = "bench-admin"
ADMIN_PASSWORD = "bench-scale-password-123"  # noqa: S105 - a throwaway database
PROVINCE = "53"  # Nusa Tenggara Timur, WITA
WIB_PROVINCE = "33"  # Jawa Tengah, WIB
CHANNELS = ("bri", "bni", "mandiri", "btn", "pos")
SMALL_IMPORT_ROWS = 10_000
# Ids of the generated regions start here (the 38 seeded provinces come first).
KABUPATEN_BASE, KECAMATAN_BASE, DESA_BASE = 100_000, 200_000, 300_000
FIRST_TELEGRAM_ID = 7_000_000_000
_PKH = "import sys; from pkh.cli import app; sys.argv[0] = 'pkh'; app()"
_FIRST_NAMES = (
    "Siti", "Maria", "Yohana", "Veronika", "Agnes", "Sri", "Dewi", "Fransiska", "Elisabet",
    "Nur", "Wati", "Ani", "Rina", "Yuliana", "Martha", "Theresia", "Kristina", "Lusia",
)  # fmt: skip
_MEN = ("Yohanes", "Petrus", "Paulus", "Agus", "Budi", "Markus", "Stefanus", "Andreas")
_CHILDREN = ("Maria", "Antonius", "Yosef", "Ayu", "Putri", "Bagus", "Rafael", "Sesilia")
_SURNAMES = (
    "Jehadu", "Dagur", "Hamur", "Lalong", "Nggaja", "Jemarut", "Ndeok", "Pandur", "Taus",
    "Ngamal", "Sahut", "Kurniawan", "Lenggu", "Bria", "Tefa", "Manek", "Seran", "Nahak",
)  # fmt: skip
_QUESTIONS = (
    "kapan pkh tahap {n} cair min",
    "saldo kks saya kosong kenapa ya",
    "bansos pkh belum masuk di bank {bank}",
    "cara daftar pkh di desa {n} gimana",
    "anak saya sd kelas {n} dapat berapa",
    "kok nama saya tidak ada di daftar pkh",
    "kartu kks hilang harus kemana",
    "pertemuan p2k2 bulan ini kapan bu",
    "kenapa bantuan saya dihentikan padahal masih miskin",
    "berapa lama lagi pencairan tahap {n}",
    "apakah lansia {n} tahun dapat bantuan",
    "pendamping saya tidak pernah datang",
    "uang pkh dipotong ketua kelompok {n} ribu",
    "graduasi itu apa ya min",
    "kapan pos antar bantuan ke kampung {n}",
)


# --- the shape ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """How many of everything a database of `families` families holds."""

    families: int

    @property
    def kabupaten(self) -> int:
        return max(1, self.families // 50_000)

    @property
    def kecamatan(self) -> int:
        return max(self.kabupaten, self.families // 3_300)

    @property
    def desa(self) -> int:
        return max(self.kecamatan, self.families // 125)

    @property
    def pendamping(self) -> int:
        return max(1, self.families // 250)

    @property
    def kelompok(self) -> int:
        return max(1, -(-self.families // 25))

    @property
    def questions(self) -> int:
        return self.families

    @property
    def outbox(self) -> int:
        return self.families

    @property
    def waiting(self) -> int:
        return max(10, self.families // 20)

    @property
    def wib_families(self) -> int:
        return min(5_000, max(200, self.families // 200))

    # Where each generated row lives: closed forms, shared by the database and the CSV files.

    def kelompok_of(self, family: int) -> int:
        return ((family - 1) // 25) % self.kelompok

    def desa_of(self, kelompok: int) -> int:
        return kelompok % self.desa

    def kecamatan_of(self, desa: int) -> int:
        return desa % self.kecamatan

    def kabupaten_of(self, kecamatan: int) -> int:
        return kecamatan % self.kabupaten

    def desa_code(self, desa: int) -> str:
        kecamatan = self.kecamatan_of(desa)
        kabupaten = self.kabupaten_of(kecamatan)
        return f"{PROVINCE}.{kabupaten + 1:02d}.{kecamatan:04d}.{desa:05d}"

    def pendamping_of(self, kelompok: int) -> int:
        per_kecamatan = max(1, self.pendamping // self.kecamatan)
        kecamatan = self.kecamatan_of(self.desa_of(kelompok))
        return min(self.pendamping - 1, kecamatan + self.kecamatan * (kelompok % per_kecamatan))


def pkh_id(family: int) -> str:
    return f"BENCH-{family:08d}"


def kelompok_code(kelompok: int) -> str:
    return f"BENCH-KLP-{kelompok:07d}"


def channel_of(family: int) -> str:
    return CHANNELS[family % len(CHANNELS)]


def nik(family: int, member_no: int, *, woman: bool) -> str:
    """A plausible, unique NIK: region, birth date DDMMYY (day + 40 for women), serial."""
    number = family * 8 + member_no
    serial, rest = number % 10_000, number // 10_000
    day, rest = rest % 28 + 1, rest // 28
    month, rest = rest % 12 + 1, rest // 12
    year, rest = rest % 100, rest // 100
    return f"{530_000 + rest:06d}{day + 40 * woman:02d}{month:02d}{year:02d}{serial:04d}"


@dataclass(frozen=True)
class Member:
    member_no: int
    name: str
    relation: str
    sex: str
    birth_date: date
    is_pengurus: bool
    nik: str


def members_of(family: int) -> list[Member]:
    """The family's 1–5 members: the mother (pengurus), the father, children."""
    surname = _SURNAMES[family % len(_SURNAMES)]
    count = 1 + (family * 7) % 5
    people = [
        Member(
            1,
            f"{_FIRST_NAMES[family % len(_FIRST_NAMES)]} {surname}",
            "istri",
            "P",
            date(1970 + family % 26, 1 + family % 12, 1 + family % 28),
            True,
            nik(family, 1, woman=True),
        )
    ]
    if count > 1:
        people.append(
            Member(
                2,
                f"{_MEN[family % len(_MEN)]} {surname}",
                "kepala_keluarga",
                "L",
                date(1966 + family % 26, 1 + (family // 3) % 12, 1 + (family // 5) % 28),
                False,
                nik(family, 2, woman=False),
            )
        )
    for member_no in range(3, count + 1):
        woman = (family + member_no) % 2 == 0
        people.append(
            Member(
                member_no,
                f"{_CHILDREN[(family + member_no) % len(_CHILDREN)]} {surname}",
                "anak",
                "P" if woman else "L",
                date(2005 + (family + member_no) % 16, 1 + member_no, 1 + family % 28),
                False,
                nik(family, member_no, woman=woman),
            )
        )
    return people


# --- building the database ----------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def _step(label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    _say(f"  {label}: {time.perf_counter() - started:.1f} s")


def _libpq(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def recreate_database(url: str) -> None:
    name = make_url(url).database
    assert name, "the benchmark's database URL must name a database"
    with psycopg.connect(_libpq(url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _tune(connection: Connection) -> None:
    # Per session only: the server's own configuration stays as CI has it.
    for setting in (
        "SET synchronous_commit = off",
        "SET work_mem = '256MB'",
        "SET maintenance_work_mem = '1GB'",
    ):
        connection.exec_driver_sql(setting)


def _copy(connection: Connection, table: str, columns: Sequence[str], lines: Iterator[str]) -> int:
    """COPY tab-separated lines into `table`; returns how many."""
    driver: Any = connection.connection.driver_connection
    count = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            count += 1
            if len(buffer) >= 50_000:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
    return count


def _tsv(*values: object) -> str:
    return "\t".join(r"\N" if value is None else str(value) for value in values) + "\n"


def build(url: str, shape: Shape) -> float:
    """A fresh database of `shape` at `url`; returns how long it took."""
    started = time.perf_counter()
    _say(f"building a database of {shape.families:,} families at {_shown(url)}")
    with _step("schema (the project's migrations) and the reference data"):
        recreate_database(url)
        migrate.upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine).begin() as session:
            seed_reference(session)
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            _tune(connection)
            with _step(f"regions, {shape.pendamping:,} pendamping, {shape.kelompok:,} kelompok"):
                _areas(connection, shape, now)
            with _step(f"{shape.families:,} families"):
                _families(connection, shape, now)
            with _step("their members (COPY, keyed NIK hashes)"):
                members = _members(connection, shape)
            _say(f"    {members:,} members")
            with _step("linked Telegram accounts"):
                linked = _accounts(connection, shape, now)
            _say(f"    {linked:,} KPM accounts linked")
            with _step(f"{shape.questions:,} question-log rows, last 30 days"):
                _question_log(connection, shape, now)
            with _step(f"{shape.outbox:,} outbox rows, last 30 days"):
                _outbox(connection, shape, now)
            with _step(f"{shape.waiting:,} waiting inbox questions"):
                _inbox(connection, shape, now)
            with _step(f"a WIB province: {shape.wib_families:,} families with queued messages"):
                _wib_side(connection, shape, now)
        _roll_up_statistics(engine, now)
        with (
            _step("VACUUM ANALYZE"),
            psycopg.connect(_libpq(url), autocommit=True) as connection,
        ):
            connection.execute("VACUUM (ANALYZE)")
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    _say(f"built in {seconds:.0f} s")
    return seconds


_REGION_COLUMNS = ("id", "code", "level", "name", "parent_id", "time_zone")
_PENDAMPING_COLUMNS = ("id", "code", "name", "phone", "region_id", "is_active", "created_at")
_KELOMPOK_COLUMNS = ("id", "code", "name", "pendamping_id", "desa_id", "created_at")


def _areas(connection: Connection, shape: Shape, now: datetime) -> None:
    province = connection.execute(
        text("SELECT id FROM region WHERE code = :code"), {"code": PROVINCE}
    ).scalar_one()
    zone = TimeZone.WITA.value
    regions = [
        _tsv(
            KABUPATEN_BASE + k,
            f"{PROVINCE}.{k + 1:02d}",
            "kabupaten",
            f"Kab. Uji {k + 1}",
            province,
            zone,
        )
        for k in range(shape.kabupaten)
    ]
    for c in range(shape.kecamatan):
        k = shape.kabupaten_of(c)
        regions.append(
            _tsv(
                KECAMATAN_BASE + c,
                f"{PROVINCE}.{k + 1:02d}.{c:04d}",
                "kecamatan",
                f"Kec. Uji {c + 1}",
                KABUPATEN_BASE + k,
                zone,
            )
        )
    for d in range(shape.desa):
        regions.append(
            _tsv(
                DESA_BASE + d,
                shape.desa_code(d),
                "desa",
                f"Desa Uji {d + 1}",
                KECAMATAN_BASE + shape.kecamatan_of(d),
                zone,
            )
        )
    _copy(connection, "region", _REGION_COLUMNS, iter(regions))
    pendamping = (
        _tsv(
            p + 1,
            f"BENCH-PDP-{p:06d}",
            f"Pendamping Uji {p + 1}",
            None,
            KECAMATAN_BASE + p % shape.kecamatan,
            "t",
            now,
        )
        for p in range(shape.pendamping)
    )
    _copy(connection, "pendamping", _PENDAMPING_COLUMNS, pendamping)
    kelompok = (
        _tsv(
            g + 1,
            kelompok_code(g),
            f"Kelompok Uji {g + 1}",
            shape.pendamping_of(g) + 1,
            DESA_BASE + shape.desa_of(g),
            now,
        )
        for g in range(shape.kelompok)
    )
    _copy(connection, "kelompok", _KELOMPOK_COLUMNS, kelompok)
    _move_sequences(connection, "region", "pendamping", "kelompok")


def _move_sequences(connection: Connection, *tables: str) -> None:
    """Rows were written with their ids: the id sequences move past them."""
    for table in tables:
        name = sql.Identifier(table).as_string(None)
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {name}))"  # noqa: S608 - our table names
        )


def _families(connection: Connection, shape: Shape, now: datetime) -> None:
    # The same closed forms as Shape.kelompok_of / desa_of / channel_of, in SQL.
    connection.execute(
        text(
            """
            INSERT INTO family (id, pkh_id, kelompok_id, desa_id, channel_code, status,
                                graduation_type, status_since, created_at, updated_at)
            SELECT f, 'BENCH-' || lpad(f::text, 8, '0'),
                   ((f - 1) / 25) % :kelompok + 1,
                   :desa_base + (((f - 1) / 25) % :kelompok) % :desa,
                   (ARRAY['bri', 'bni', 'mandiri', 'btn', 'pos'])[f % 5 + 1],
                   CASE WHEN f % 50 = 7 THEN 'graduated' WHEN f % 40 = 3 THEN 'suspended'
                        ELSE 'active' END,
                   CASE WHEN f % 50 = 7 THEN 'alamiah' END,
                   CASE WHEN f % 50 = 7 OR f % 40 = 3 THEN DATE '2025-07-01' END,
                   :now, :now
            FROM generate_series(1, :families) AS f
            """
        ),
        {
            "kelompok": shape.kelompok,
            "desa": shape.desa,
            "desa_base": DESA_BASE,
            "families": shape.families,
            "now": now,
        },
    )
    _move_sequences(connection, "family")


def _member_lines(families: range) -> Iterator[str]:
    for family in families:
        for member in members_of(family):
            digest = hash_nik(member.nik, SECRET_KEY)
            yield _tsv(
                family,
                member.member_no,
                member.name,
                member.relation,
                member.sex,
                member.birth_date,
                "t" if member.is_pengurus else "f",
                digest,
                member.nik[-4:],
            )


_MEMBER_COLUMNS = (
    "family_id", "member_no", "name", "family_relation", "sex", "birth_date", "is_pengurus",
    "nik_hash", "nik_last4",
)  # fmt: skip


def _members(connection: Connection, shape: Shape) -> int:
    return _copy(
        connection, "family_member", _MEMBER_COLUMNS, _member_lines(range(1, shape.families + 1))
    )


def _accounts(connection: Connection, shape: Shape, now: datetime) -> int:
    connection.execute(
        text(
            """
            INSERT INTO telegram_user (telegram_user_id, chat_id, first_name, role, family_id,
                                       reminders_enabled, language, is_unreachable, linked_at,
                                       created_at, updated_at)
            SELECT :first + f, :first + f, 'Ibu ' || f, 'kpm', f, (f / 11) % 29 <> 0,
                   CASE WHEN f % 19 = 0 THEN 'en' ELSE 'id' END, f % 47 = 0, :now, :now, :now
            FROM generate_series(11, :families, 11) AS f
            """
        ),
        {"first": FIRST_TELEGRAM_ID, "families": shape.families, "now": now},
    )
    connection.execute(
        text(
            """
            INSERT INTO telegram_user (telegram_user_id, chat_id, first_name, role,
                                       pendamping_id, reminders_enabled, language,
                                       is_unreachable, linked_at, created_at, updated_at)
            SELECT :first - p, :first - p, 'Pendamping ' || p, 'pendamping', p, true, 'id',
                   false, :now, :now, :now
            FROM generate_series(1, :pendamping, 10) AS p
            """
        ),
        {"first": FIRST_TELEGRAM_ID, "pendamping": shape.pendamping, "now": now},
    )
    return shape.families // 11


def _kpm_users(connection: Connection) -> tuple[int, int]:
    low, high = connection.execute(
        text("SELECT min(id), max(id) FROM telegram_user WHERE role = 'kpm'")
    ).one()
    return int(low), int(high)


def _question_log(connection: Connection, shape: Shape, now: datetime) -> None:
    from nlu.schema import INTENTS

    low, high = _kpm_users(connection)
    connection.execute(
        text(
            """
            INSERT INTO question_log (created_at, user_id, intent, confidence, answered, reason,
                                      channel)
            SELECT :now - (q % 2592000) * interval '1 second' - (q % 1000) * interval '1 ms',
                   :low + (q * 7919) % (:high - :low + 1),
                   CASE WHEN q % 10 = 0 THEN NULL
                        ELSE (CAST(:intents AS text[]))[(q * 31) % :intent_count + 1] END,
                   CASE WHEN q % 10 = 0 THEN 0.3 ELSE 0.9 END,
                   q % 10 <> 0,
                   CASE WHEN q % 10 = 0 THEN
                        (ARRAY['low_confidence', 'fallback', 'out_of_scope'])[q % 3 + 1] END,
                   'telegram'
            FROM generate_series(1, CAST(:rows AS bigint)) AS q
            """
        ),
        {
            "now": now,
            "low": low,
            "high": high,
            "intents": [str(intent) for intent in INTENTS],
            "intent_count": len(INTENTS),
            "rows": shape.questions,
        },
    )


def _outbox(connection: Connection, shape: Shape, now: datetime) -> None:
    low, high = _kpm_users(connection)
    connection.execute(
        text(
            """
            INSERT INTO outbox_message (dedupe_key, kind, chat_id, user_id, text, priority,
                                        urgent, time_zone, state, not_before, attempts,
                                        telegram_message_id, error, created_at, updated_at,
                                        sent_at)
            SELECT 'bench:' || o, k.kind, :first + o, :low + (o * 104729) % (:high - :low + 1),
                   'Bapak/Ibu, besok ada pertemuan P2K2 kelompok pukul 09.00 WITA di balai desa.',
                   k.priority, false, 'Asia/Makassar', s.state, t.at, 1,
                   CASE WHEN s.state = 'sent' THEN o END,
                   CASE WHEN s.state IN ('blocked', 'failed') THEN 'Forbidden: bot was blocked' END,
                   t.at, t.at + interval '1 minute',
                   CASE WHEN s.state = 'sent' THEN t.at + interval '1 minute' END
            FROM generate_series(1, CAST(:rows AS bigint)) AS o
            CROSS JOIN LATERAL (SELECT
                (ARRAY['reminder', 'reminder', 'reminder', 'reminder', 'broadcast', 'broadcast',
                       'broadcast', 'stage_open', 'stage_open', 'rollup'])[o % 10 + 1] AS kind,
                (ARRAY[0, 0, 0, 0, 2, 2, 2, 1, 1, 0])[o % 10 + 1] AS priority) AS k
            CROSS JOIN LATERAL (SELECT
                CASE WHEN o % 100 < 90 THEN 'sent' WHEN o % 100 < 93 THEN 'blocked'
                     WHEN o % 100 < 95 THEN 'failed' ELSE 'expired' END AS state) AS s
            CROSS JOIN LATERAL (SELECT
                :now - (o % 2592000) * interval '1 second' AS at) AS t
            """
        ),
        {"first": FIRST_TELEGRAM_ID, "low": low, "high": high, "rows": shape.outbox, "now": now},
    )


def _has_column(connection: Connection, table: str, column: str) -> bool:
    found = connection.execute(
        text(
            "SELECT 1 FROM information_schema.columns WHERE table_name = :table"
            " AND column_name = :column"
        ),
        {"table": table, "column": column},
    )
    return found.first() is not None


def _inbox_texts(count: int) -> list[str]:
    texts = []
    banks = ("bri", "bni", "mandiri", "btn", "pos")
    for index in range(count):
        template = _QUESTIONS[index % len(_QUESTIONS)]
        number = (index * 7) % 40
        question = template.format(n=number, bank=banks[index % len(banks)])
        if index % 3 == 0:
            question += " ya"
        if index % 5 == 0:
            question = question.replace("kapan", "kpn").replace("saya", "sy")
        texts.append(question)
    return texts


def _inbox(connection: Connection, shape: Shape, now: datetime) -> None:
    low, high = _kpm_users(connection)
    texts = _inbox_texts(shape.waiting)
    keys: list[str] | None = None
    if _has_column(connection, "unanswered_query", "group_key"):  # not in older schemas
        from programme.grouping import group_keys

        keys = group_keys(texts)
    reasons = ("low_confidence", "fallback", "out_of_scope", "negative_rating")
    columns = ["text", "reason", "top_guesses", "confidence", "user_id", "created_at"]
    if keys is not None:
        columns.append("group_key")

    def lines() -> Iterator[str]:
        for index, question in enumerate(texts):
            values: list[object] = [
                question,
                reasons[index % len(reasons)],
                '[{"intent": "ask_payment_schedule", "confidence": 0.41}]',
                0.41,
                low + (index * 613) % (high - low + 1),
                now - timedelta(seconds=(index * 37) % (7 * 86400)),
            ]
            if keys is not None:
                values.append(keys[index])
            yield _tsv(*values)

    _copy(connection, "unanswered_query", columns, lines())


def _wib_side(connection: Connection, shape: Shape, now: datetime) -> None:
    """A WIB desa with linked families and queued messages: the drain's work while WITA rests."""
    province = connection.execute(
        text("SELECT id FROM region WHERE code = :code"), {"code": WIB_PROVINCE}
    ).scalar_one()
    kabupaten, kecamatan, desa = (
        base + shape.desa + 1 for base in (KABUPATEN_BASE, KECAMATAN_BASE, DESA_BASE)
    )
    zone = TimeZone.WIB.value
    regions = [
        _tsv(kabupaten, f"{WIB_PROVINCE}.02", "kabupaten", "Kab. Uji WIB", province, zone),
        _tsv(kecamatan, f"{WIB_PROVINCE}.02.01", "kecamatan", "Kec. Uji WIB", kabupaten, zone),
        _tsv(desa, f"{WIB_PROVINCE}.02.01.2001", "desa", "Desa Uji WIB", kecamatan, zone),
    ]
    _copy(
        connection,
        "region",
        ("id", "code", "level", "name", "parent_id", "time_zone"),
        iter(regions),
    )
    pendamping = shape.pendamping + 1
    connection.execute(
        text(
            "INSERT INTO pendamping (id, code, name, region_id, is_active, created_at) "
            "VALUES (:id, 'BENCH-PDP-WIB', 'Pendamping WIB', :region, true, :now)"
        ),
        {"id": pendamping, "region": kecamatan, "now": now},
    )
    kelompok = shape.kelompok + 1
    connection.execute(
        text(
            "INSERT INTO kelompok (id, code, name, pendamping_id, desa_id, created_at) "
            "VALUES (:id, 'BENCH-KLP-WIB', 'Kelompok WIB', :pendamping, :desa, :now)"
        ),
        {"id": kelompok, "pendamping": pendamping, "desa": desa, "now": now},
    )
    first, last = shape.families + 1, shape.families + shape.wib_families
    connection.execute(
        text(
            """
            INSERT INTO family (id, pkh_id, kelompok_id, desa_id, channel_code, status,
                                created_at, updated_at)
            SELECT f, 'BENCH-' || lpad(f::text, 8, '0'), :kelompok, :desa, 'bri', 'active',
                   :now, :now
            FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS f;
            """
        ),
        {"kelompok": kelompok, "desa": desa, "first": first, "last": last, "now": now},
    )
    _copy(connection, "family_member", _MEMBER_COLUMNS, _member_lines(range(first, last + 1)))
    connection.execute(
        text(
            """
            INSERT INTO telegram_user (telegram_user_id, chat_id, first_name, role, family_id,
                                       reminders_enabled, language, is_unreachable, linked_at,
                                       created_at, updated_at)
            SELECT :base + f, :base + f, 'Ibu ' || f, 'kpm', f, true, 'id', false, :now, :now,
                   :now
            FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS f
            """
        ),
        {"base": FIRST_TELEGRAM_ID, "first": first, "last": last, "now": now},
    )
    connection.execute(
        text(
            """
            INSERT INTO outbox_message (dedupe_key, kind, chat_id, user_id, text, priority,
                                        urgent, time_zone, state, not_before, attempts,
                                        created_at, updated_at)
            SELECT 'bench-wib:' || u.id, 'broadcast', u.chat_id, u.id,
                   'Pesan dari pendamping untuk kelompok WIB.', 2, false, 'Asia/Jakarta',
                   'queued', :now - interval '1 hour', 0, :now, :now
            FROM telegram_user u JOIN family f ON f.id = u.family_id
            WHERE f.kelompok_id = :kelompok
            """
        ),
        {"kelompok": kelompok, "now": now},
    )
    _move_sequences(connection, "region", "pendamping", "kelompok", "family")


def _roll_up_statistics(engine: Engine, now: datetime) -> None:
    """Run the statistics roll-up job once, as the scheduler would have (if the schema has one)."""
    with engine.connect() as connection:
        if not _has_column(connection, "statistics_rollup", "rolled_up_until"):
            return
    from programme.stats import roll_up

    with (
        _step("statistics roll-up (the scheduled job's first run)"),
        make_session_factory(engine).begin() as session,
    ):
        roll_up(session, now=now)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- the CSV files ------------------------------------------------------------------------------

ROSTER_HEADER = (
    "pkh_id,kelompok_code,desa_code,channel_code,member_no,name,relation,sex,birth_date,"
    "is_pengurus,nik\n"
)


def _roster_lines(shape: Shape, family: int, *, renamed: bool) -> Iterator[str]:
    group = shape.kelompok_of(family)
    cells = (
        pkh_id(family),
        kelompok_code(group),
        shape.desa_code(shape.desa_of(group)),
        channel_of(family),
    )
    for member in members_of(family):
        name = member.name + (" Baru" if renamed and member.member_no == 1 else "")
        yield (
            ",".join(
                (
                    *cells,
                    str(member.member_no),
                    name,
                    member.relation,
                    member.sex,
                    member.birth_date.isoformat(),
                    "ya" if member.is_pengurus else "tidak",
                    member.nik,
                )
            )
            + "\n"
        )


def write_roster(path: Path, shape: Shape, *, rows: int, new_from: int, new_share: float) -> int:
    """A roster file of about `rows` rows: stored families (1 in 10 renamed) and new ones."""
    written = 0
    stored = 1
    new = new_from
    with path.open("w", encoding="utf-8") as file:
        file.write(ROSTER_HEADER)
        while written < rows:
            if written < rows * new_share:
                family, new = new, new + 1
            else:
                family, stored = stored, stored + 1
            for line in _roster_lines(shape, family, renamed=family % 10 == 0):
                file.write(line)
                written += 1
    return written


# --- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    operation: str
    measured: str
    bar: str
    ok: bool


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    output: str


def run_pkh(args: Sequence[str], environment: dict[str, str]) -> Run:
    """`pkh ARGS` as a subprocess: wall time, peak RSS (from wait4) and output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _PKH, *args],
        env=environment,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(time.perf_counter() - started, usage.ru_maxrss / 1024, process.returncode, output)


def _environment(url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(DATABASE_URL=url, PKH_SECRET_KEY=SECRET_KEY, PYTHONUNBUFFERED="1")
    return environment


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def measure_import(
    url: str, shape: Shape, workdir: Path, *, label: str, rows: int, new_from: int,
    max_seconds: float, max_mb: float,
) -> Measurement:  # fmt: skip
    path = workdir / f"roster-{rows}.csv"
    written = write_roster(path, shape, rows=rows, new_from=new_from, new_share=0.3)
    size_mb = path.stat().st_size / 1024 / 1024
    _say(f"  {label}: {written:,} rows, {size_mb:.0f} MB …")
    run = run_pkh(["import", "roster", str(path)], _environment(url))
    path.unlink()
    imported = run.returncode == 0
    summary = f"{run.seconds:.1f} s, {run.peak_mb:.0f} MB"
    if not imported:
        last = run.output.strip().splitlines()[-3:]
        summary += " — FAILED: " + " / ".join(last)[:200]
    else:
        summary += f" ({written:,} rows, {size_mb:.0f} MB file)"
    bar = f"≤ {max_seconds:.0f} s, ≤ {max_mb:.0f} MB"
    ok = imported and run.seconds <= max_seconds and run.peak_mb <= max_mb
    return Measurement(label, summary, bar, ok)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def dashboard(url: str) -> Iterator[httpx.Client]:
    """`pkh admin serve` on a free port, and a browser logged in as an admin."""
    from admin.users import create_user
    from programme.models import UserRole

    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        create_user(
            session,
            username=f"{ADMIN}-{secrets.token_hex(3)}",
            password=ADMIN_PASSWORD,
            role=UserRole.ADMIN,
            actor="bench",
        )
        username = session.execute(
            text("SELECT username FROM admin_user ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    engine.dispose()
    port = _free_port()
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        [sys.executable, "-c", _PKH, "admin", "serve", "--port", str(port)],
        env=_environment(url),
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            for _ in range(300):
                try:
                    page = client.get("/login")
                    break
                except httpx.TransportError:
                    if server.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"the dashboard did not start:\n{log.read()}") from None
                    time.sleep(0.1)
            else:
                raise RuntimeError("the dashboard did not answer within 30 s")
            token = _csrf(page.text)
            response = client.post(
                "/login",
                data={
                    "username": username,
                    "password": ADMIN_PASSWORD,
                    "csrf_token": token,
                    "next": "/",
                },
            )
            if response.status_code != 303:
                raise RuntimeError(f"could not log in to the dashboard: {response.status_code}")
            yield client
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _timed(action: Callable[[], Any], *, runs: int, warm_up: int = 1) -> list[float]:
    for _ in range(warm_up):
        action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def measure_stats(client: httpx.Client, *, runs: int) -> Measurement:
    charts: list[str] = []

    def view() -> None:
        page = client.get("/stats")
        page.raise_for_status()
        charts[:] = [
            html.unescape(src) for src in re.findall(r'src="(/stats/chart/[^"]+)"', page.text)
        ]
        for chart in charts:
            client.get(chart).raise_for_status()

    median = statistics.median(_timed(view, runs=runs))
    return Measurement(
        f"admin /stats page + its {len(charts)} charts (median of {runs})",
        _ms(median),
        "≤ 1 s",
        median <= 1,
    )


def measure_inbox(client: httpx.Client, *, runs: int, waiting: int) -> Measurement:
    def view() -> None:
        client.get("/inbox").raise_for_status()

    median = statistics.median(_timed(view, runs=runs))
    return Measurement(
        f"admin /inbox with {waiting:,} waiting (median of {runs})",
        _ms(median),
        "≤ 1 s",
        median <= 1,
    )


def measure_stage_open(url: str) -> Measurement:
    engine = make_engine(url)
    with engine.connect() as connection:
        # The latest stage not yet opened in the province (a --reuse run opens another one).
        year, stage_no = connection.execute(
            text(
                "SELECT year, stage_no FROM payment_stage AS s WHERE NOT EXISTS ("
                " SELECT 1 FROM payment_window w JOIN region r ON r.id = w.region_id"
                " WHERE w.stage_id = s.id AND r.code = :province)"
                " ORDER BY year DESC, stage_no DESC"
            ),
            {"province": PROVINCE},
        ).first() or (None, None)
    engine.dispose()
    run = run_pkh(
        ["stage", "open", str(year), str(stage_no), "--region", PROVINCE], _environment(url)
    )
    told = re.search(r"(\d+) families queued", run.output)
    if run.returncode != 0 or told is None:
        return Measurement(
            "pkh stage open", "FAILED: " + run.output[-200:], "≤ 15 s, ≤ 300 MB", False
        )
    notified = int(told.group(1))
    return Measurement(
        f"pkh stage open for {notified:,} linked families",
        f"{run.seconds:.1f} s, {run.peak_mb:.0f} MB",
        "≤ 15 s, ≤ 300 MB",
        run.seconds <= 15 and run.peak_mb <= 300,
    )


def _quiet_moment(after: datetime) -> datetime:
    """The next 13.30 UTC after `after`: 21.30 WITA (resting), 20.30 WIB (sending)."""
    moment = after.replace(hour=13, minute=30, second=0, microsecond=0)
    return moment if moment > after + timedelta(minutes=5) else moment + timedelta(days=1)


def measure_claims(url: str, *, claims: int) -> Measurement:
    """The drain's claims at 21.30 WITA: WITA (and WIT) rest, the WIB queue is sent.

    Each claim runs as the drain runs it, in a transaction of its own, timed from the client;
    on a shared machine that time includes waiting for a CPU. Every other claim is run as
    EXPLAIN ANALYZE of the very statement claim_next sends (which performs it), giving the
    database's own planning + execution time; the bar is judged on that, and on its staying flat
    from the first claims to the last.
    """
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    quiet = QuietHours()
    now = _quiet_moment(datetime.now(UTC))
    with engine.begin() as connection:
        # The WIB queue as built (a --reuse run finds the last run's claims in flight).
        connection.exec_driver_sql(
            "UPDATE outbox_message SET state = 'queued' WHERE dedupe_key LIKE 'bench-wib:%%'"
        )
        resting = connection.execute(
            text(
                "SELECT count(*) FROM outbox_message WHERE state = 'queued' AND NOT urgent"
                " AND time_zone IN ('Asia/Makassar', 'Asia/Jayapura')"
            )
        ).scalar_one()
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().startswith("UPDATE outbox_message"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    client: list[float] = []
    server: list[float] = []
    for number in range(claims + 20):
        if number % 2:
            server.append(_explained_claim(engine, *sent[-1]))
            continue
        started = time.perf_counter()
        with sessions.begin() as session:
            claimed = outbox.claim_next(session, now=now, quiet=quiet)
        if claimed is None:
            raise RuntimeError("the WIB queue ran dry")
        if number >= 20:  # the first ones warm the caches
            client.append(time.perf_counter() - started)
    event.remove(engine, "before_cursor_execute", capture)
    engine.dispose()
    server = server[10:]
    p50, p95 = statistics.median(server), sorted(server)[int(len(server) * 0.95)]
    first, last = statistics.median(server[:100]), statistics.median(server[-100:])
    return Measurement(
        f"outbox claim while {resting:,} rest in quiet hours ({len(client) + len(server):,})",
        f"database p50 {_ms(p50)}, p95 {_ms(p95)} (first 100 {_ms(first)}, last 100"
        f" {_ms(last)}); from the drain, with its commit, p50 {_ms(statistics.median(client))}",
        "flat, ≤ 2 ms",
        p95 <= 0.002 and last <= max(1.5 * first, first + 0.0005),
    )


def _explained_claim(engine: Engine, statement: str, parameters: Any) -> float:
    """Seconds the database spends planning and executing one claim (EXPLAIN ANALYZE runs it)."""
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        (plan,) = cursor.fetchone()[0]
    return float(plan["Planning Time"] + plan["Execution Time"]) / 1000


def measure_mark_unreachable(url: str, *, calls: int) -> Measurement:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with engine.connect() as connection:
        chats = list(
            connection.execute(
                text(
                    "SELECT chat_id FROM telegram_user WHERE role = 'kpm' ORDER BY id DESC"
                    " LIMIT :calls"
                ),
                {"calls": calls},
            ).scalars()
        )
        plan = "\n".join(
            connection.execute(
                text("EXPLAIN SELECT id FROM telegram_user WHERE chat_id = :chat"),
                {"chat": chats[0]},
            ).scalars()
        )
    iterator = iter(chats * 2)
    times = _timed(
        lambda: accounts.mark_unreachable(sessions, next(iterator)), runs=calls - 5, warm_up=5
    )
    engine.dispose()
    indexed = "Index" in plan and "Seq Scan" not in plan
    median = statistics.median(times)
    how = "index scan" if indexed else "sequential scan"
    return Measurement(
        f"mark_unreachable on a 403 (median of {len(times)})",
        f"{_ms(median)} ({how})",
        "indexed",
        indexed,
    )


@dataclass
class BenchResult:
    families: int
    build_seconds: float | None
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.measurements)

    def table(self) -> str:
        rows = [("operation", "measured", "bar", "ok?")]
        rows += [
            (m.operation, m.measured, m.bar, "yes" if m.ok else "NO") for m in self.measurements
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        lines.insert(1, "-|-".join("-" * width for width in widths))
        return "\n".join(lines)


def run_benchmark(
    url: str = DEFAULT_URL,
    *,
    families: int = DEFAULT_FAMILIES,
    big_import_rows: int | None = None,
    reuse: bool = False,
    runs: int = 5,
) -> BenchResult:
    """Build (unless `reuse`) and measure; prints as it goes."""
    shape = Shape(families)
    build_seconds = None if reuse else build(url, shape)
    result = BenchResult(families, build_seconds)
    rows = min(SMALL_IMPORT_ROWS, max(100, families // 100))
    big_rows = big_import_rows if big_import_rows is not None else families
    _say("measuring")
    with tempfile.TemporaryDirectory(prefix="pkh-bench-scale-") as directory:
        workdir = Path(directory)
        result.measurements.append(
            measure_import(
                url,
                shape,
                workdir,
                label=f"roster import, {rows:,}-row file",
                rows=rows,
                new_from=families + 100_000,
                max_seconds=15,
                max_mb=500,
            )
        )
        result.measurements.append(
            measure_import(
                url,
                shape,
                workdir,
                label=f"roster import, {big_rows:,}-row file",
                rows=big_rows,
                new_from=families + 10_000_000,
                max_seconds=600,
                max_mb=1024,
            )
        )
    _say("  the dashboard …")
    with dashboard(url) as client:
        result.measurements.append(measure_stats(client, runs=runs))
        result.measurements.append(measure_inbox(client, runs=runs, waiting=shape.waiting))
    _say("  pkh stage open …")
    result.measurements.append(measure_stage_open(url))
    _say("  outbox claims and 403s …")
    claims = min(2_000, shape.wib_families - 50)
    result.measurements.append(measure_claims(url, claims=claims))
    result.measurements.append(measure_mark_unreachable(url, calls=200))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--families", type=int, default=DEFAULT_FAMILIES)
    parser.add_argument(
        "--database-url", default=os.environ.get("PKH_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--big-import-rows", type=int, default=None)
    parser.add_argument("--reuse", action="store_true", help="measure the database already built")
    parser.add_argument("--runs", type=int, default=5, help="timed views of each dashboard page")
    options = parser.parse_args(argv)
    result = run_benchmark(
        options.database_url,
        families=options.families,
        big_import_rows=options.big_import_rows,
        reuse=options.reuse,
        runs=options.runs,
    )
    print()
    print(
        f"{options.families:,} families"
        + (f", built in {result.build_seconds:.0f} s" if result.build_seconds else "")
    )
    print(result.table())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
