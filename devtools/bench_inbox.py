"""The admins' inbox at scale: N waiting questions (adversarial text too), `GET /inbox` timed.

`measure_inbox(database_url, questions=50_000)` migrates the database, seeds the reference data
and the demo roster if it has none, adds N waiting questions from 2,000 linked KPM and anonymous
askers — everyday questions in many spellings, very long ones, one word repeated hundreds of
times, random Unicode — with their grouping keys computed as intake computes them, then logs in as
an admin and times the inbox's query and the whole page (median after a warm-up). On its own:

    python -m devtools.bench_inbox --questions 50000 postgresql+psycopg://postgres@127.0.0.1/x

Without a URL it creates a throwaway PostgreSQL database on PKH_BENCH_POSTGRES_URL's server
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg import sql
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from admin.app import build_admin_app
from admin.users import create_user
from core.settings import Settings
from programme import migrate
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.grouping import group_keys
from programme.inbox import QueryFilter, group_queries
from programme.models import (
    Family,
    TelegramUser,
    UnansweredQuery,
    UnansweredReason,
    UserRole,
    utcnow,
)
from programme.seed import seed_reference

SECRET_KEY = "inbox-bench-key-not-a-secret"  # noqa: S105 - a throwaway database
PASSWORD = "inbox-bench-password"  # noqa: S105 - a throwaway account
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ASKERS = 2_000
FIRST_TELEGRAM_ID = 880_000_001
BAR_SECONDS = 1.0  # issue 15: /inbox with 50k waiting questions ≤ 1 s

_WORDS = (
    "kapan pkh cair tahap satu dua tiga empat bansos bantuan uang saldo kosong kok belum "
    "masuk rekening kartu kks atm bri bni mandiri bsi pos kantor desa kami saya ibu bapak "
    "min kak tolong dong ya sih gimana cara daftar syarat anak sd smp sma lansia hamil "
    "balita disabilitas berapa dapat nominal jadwal pertemuan p2k2 modul pendamping nomor "
    "hp ganti alamat pindah meninggal graduasi mandiri keluar bpnt sembako beras telur "
    "kube usaha modal pinjaman kur warung dicoret data dtks dinsos kelurahan kecamatan "
    "kabupaten bulan ini depan kemarin sudah lama sekali "
)
_VOCABULARY = _WORDS.split()
_POPULAR = (
    "kapan pkh tahap {n} cair",
    "saldo kks saya kosong kok belum masuk",
    "anak smp dapat berapa bu",
    "gimana cara daftar pkh di desa kami",
    "kartu atm saya tertelan mesin",
    "jadwal p2k2 bulan ini kapan",
)
# Letters, marks, symbols and emoji from many scripts, and the invisible joiners people paste.
_UNICODE_RANGES = (
    (0x00C0, 0x024F),
    (0x0300, 0x036F),
    (0x0400, 0x04FF),
    (0x0600, 0x06FF),
    (0x0E00, 0x0E7F),
    (0x3040, 0x30FF),
    (0x4E00, 0x9FFF),
    (0xA980, 0xA9DF),  # Javanese
    (0x1F300, 0x1F6FF),
    (0x200B, 0x200F),
)


@dataclass(frozen=True)
class InboxTimings:
    """What one measurement found."""

    questions: int
    groups: int
    fill_seconds: float
    query_seconds: float  # programme.inbox.group_queries for the first page, median
    page_seconds: float  # GET /inbox, the whole page, median after a warm-up
    page_first_seconds: float  # the first GET /inbox after filling (cold caches)
    last_page_seconds: float  # GET /inbox?page=<last>

    def report(self) -> str:
        verdict = "within" if self.page_seconds <= BAR_SECONDS else "OVER"
        return "\n".join(
            (
                f"inbox bench: {self.questions:,} waiting questions in {self.groups:,} groups",
                f"  fill (keys computed as intake does)  {self.fill_seconds:8.2f} s",
                f"  group_queries, first page (median)   {self.query_seconds * 1000:8.1f} ms",
                f"  GET /inbox, first request            {self.page_first_seconds * 1000:8.1f} ms",
                f"  GET /inbox (median of 5)             {self.page_seconds * 1000:8.1f} ms"
                f"   bar ≤ {BAR_SECONDS:.0f} s: {verdict}",
                f"  GET /inbox?page=last (median of 5)   {self.last_page_seconds * 1000:8.1f} ms",
            )
        )


def adversarial_texts(count: int, *, seed: int = 1) -> list[str]:
    """`count` questions: everyday ones in many spellings, and text made to be hard to group."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible benchmark, not a secret
    makers: list[Callable[[random.Random], str]] = [
        _popular, _popular, _popular, _everyday, _everyday, _long, _repeated, _random_unicode,
    ]  # fmt: skip
    return [rng.choice(makers)(rng) for _ in range(count)]


def _popular(rng: random.Random) -> str:
    text = rng.choice(_POPULAR).format(n=rng.randint(1, 4))
    if rng.random() < 0.5:
        text = text.upper() if rng.random() < 0.3 else text.capitalize()
    if rng.random() < 0.4:
        text = re.sub(r"([aeiou])", lambda m: m.group() * rng.randint(1, 3), text, count=1)
    return text + rng.choice(("", "?", "??", " min", " ya", "!!", " 🙏"))


def _everyday(rng: random.Random) -> str:
    return " ".join(rng.choices(_VOCABULARY, k=rng.randint(3, 15)))


def _long(rng: random.Random) -> str:
    return " ".join(rng.choices(_VOCABULARY, k=rng.randint(300, 700)))[:4096]


def _repeated(rng: random.Random) -> str:
    unit = rng.choice(("kapan ", "cair ", "pkh pkh ", "?", "😭", "tolong bu ", "a"))
    return (unit * rng.randint(100, 1000))[:4096]


def _random_unicode(rng: random.Random) -> str:
    characters = []
    for _ in range(rng.randint(5, 300)):
        low, high = rng.choice(_UNICODE_RANGES)
        characters.append(chr(rng.randint(low, high)))
        if rng.random() < 0.15:
            characters.append(" ")
    return "".join(characters)


def fill_inbox(database_url: str, *, questions: int, seed: int = 1) -> float:
    """Add `questions` waiting questions (seeding the database first if empty); seconds taken."""
    started = time.perf_counter()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            if session.scalar(select(func.count(Family.id))) == 0:
                seed_reference(session)
                seed_demo(session, secret_key=SECRET_KEY)
            users = _askers(session)
            texts = adversarial_texts(questions, seed=seed)
            keys = group_keys(texts)
            rng = random.Random(seed)  # noqa: S311 - reproducible, not a secret
            now = utcnow()
            rows = [
                {
                    "text": question,
                    "group_key": key,
                    "reason": rng.choice(list(UnansweredReason)),
                    "top_guesses": [
                        {"intent": "ask_payment_schedule", "confidence": 0.41},
                        {"intent": "nlu_fallback", "confidence": 0.3},
                    ],
                    "confidence": 0.41,
                    "user_id": rng.choice(users) if rng.random() < 0.8 else None,
                    "created_at": now - timedelta(minutes=questions - number),
                }
                for number, (question, key) in enumerate(zip(texts, keys, strict=True))
            ]
            for start in range(0, len(rows), 5_000):
                session.execute(insert(UnansweredQuery), rows[start : start + 5_000])
        if engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk insert: statistics and the visibility map.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE unanswered_query"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


def _askers(session: Session) -> list[int]:
    """ASKERS linked KPM (made once per database), spread over the demo's families."""
    existing = list(
        session.scalars(
            select(TelegramUser.id).where(TelegramUser.telegram_user_id >= FIRST_TELEGRAM_ID)
        )
    )
    if existing:
        return existing
    families = list(session.scalars(select(Family.id).order_by(Family.id)))
    session.execute(
        insert(TelegramUser),
        [
            {
                "telegram_user_id": FIRST_TELEGRAM_ID + number,
                "chat_id": FIRST_TELEGRAM_ID + number,
                "role": UserRole.KPM,
                "family_id": families[number % len(families)],
            }
            for number in range(ASKERS)
        ],
    )
    return list(
        session.scalars(
            select(TelegramUser.id).where(TelegramUser.telegram_user_id >= FIRST_TELEGRAM_ID)
        )
    )


def time_inbox(database_url: str, *, repeats: int = 5) -> tuple[float, float, float, int, float]:
    """(first page seconds, median page seconds, median query seconds, groups, last page)."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    username = f"bench-{secrets.token_hex(3)}"
    with sessions.begin() as session:
        create_user(
            session, username=username, password=PASSWORD, role=UserRole.ADMIN, actor="bench"
        )
    settings = Settings.model_validate({"DATABASE_URL": database_url, "PKH_SECRET_KEY": SECRET_KEY})
    app = build_admin_app(settings)
    with TestClient(app, follow_redirects=False) as client:
        _log_in(client, username)
        first = _timed(lambda: _get(client, "/inbox"))
        page = median(lambda: _get(client, "/inbox"), repeats)
        html = _get(client, "/inbox")
        pages = [int(n) for n in re.findall(r"[?&]page=(\d+)", html)] or [1]
        last = median(lambda: _get(client, f"/inbox?page={max(pages)}"), repeats)
    query_seconds = 0.0
    groups = 0
    with sessions.begin() as session:
        query_seconds = median(lambda: group_queries(session, filter=QueryFilter()), repeats)
        groups = count_groups(session)
    engine.dispose()
    return first, page, query_seconds, groups, last


def count_groups(session: Session) -> int:
    waiting = UnansweredQuery.resolved_at.is_(None)
    keys = select(UnansweredQuery.group_key).where(waiting).group_by(UnansweredQuery.group_key)
    return session.scalar(select(func.count()).select_from(keys.subquery())) or 0


def _log_in(client: TestClient, username: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303, response.text


def _get(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return str(response.text)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(action: Callable[[], object], repeats: int) -> float:
    """The median wall time of `repeats` runs after one warm-up run."""
    action()
    return statistics.median(_timed(action) for _ in range(repeats))


def measure_inbox(database_url: str, *, questions: int = 50_000, seed: int = 1) -> InboxTimings:
    """Fill the inbox of `database_url` with `questions` waiting questions and time /inbox."""
    fill = fill_inbox(database_url, questions=questions, seed=seed)
    first, page, query, groups, last = time_inbox(database_url)
    return InboxTimings(questions, groups, fill, query, page, first, last)


@contextmanager
def throwaway_postgres(server_url: str = DEFAULT_SERVER) -> Iterator[str]:
    """A new, empty PostgreSQL database on `server_url`'s server, dropped afterwards."""
    name = f"pkh_bench_inbox_{secrets.token_hex(4)}"
    libpq = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("database_url", nargs="?", help="default: a throwaway PostgreSQL database")
    parser.add_argument("--questions", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args(argv)
    if arguments.database_url:
        timings = measure_inbox(
            arguments.database_url, questions=arguments.questions, seed=arguments.seed
        )
    else:
        server = os.environ.get("PKH_BENCH_POSTGRES_URL", DEFAULT_SERVER)
        with throwaway_postgres(server) as url:
            timings = measure_inbox(url, questions=arguments.questions, seed=arguments.seed)
    print(timings.report())
    return 0 if timings.page_seconds <= BAR_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
