"""The admin statistics page at provincial scale: the page and its charts over HTTP, timed.

`measure_stats(database_url)` fills a PostgreSQL database with a month of traffic (by default
1,000,000 question_log rows and 1,000,000 outbox rows, made by `generate_series` in the server),
starts the real dashboard (`pkh admin serve`) as a child process, logs in as an admin and loads
`/stats` for that month followed by its six charts, as a browser does. It prints and returns the
median time after warm-up. `make bench-scale` (devtools/bench_scale.py) calls it on its
1M-family database; on its own: `python -m devtools.bench_stats postgresql+psycopg://…`.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from admin.stats import CHARTS
from admin.users import create_user
from core.settings import PROJECT_ROOT
from programme import migrate, stats
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.models import Family, QuestionLog, StatisticsRollUp, UserRole, utcnow
from programme.seed import seed_reference
from programme.stats import Period, roll_up

SECRET_KEY = "stats-bench-key-not-a-secret"  # noqa: S105 - a throwaway database
PASSWORD = "stats-bench-password"  # noqa: S105 - a throwaway account
WIB_OFFSET = timedelta(hours=7)
DAYS = 30
USERS = 100_000  # Telegram users who ask; bench-scale's linked KPM are used first
# Most questions are about a few topics; the rest are spread thin (the top-15 chart cuts them).
INTENTS = (
    "ask_payment_schedule",
    "ask_payment_status",
    "ask_benefit_amount",
    "ask_p2k2_schedule",
    "ask_recipient_check",
    "greet",
    "thank",
    "ask_bpnt",
    "report_card_problem",
    "ask_registration",
    "ask_obligations",
    "ask_pendamping_contact",
    "ask_graduation",
    "ask_p2k2_modules",
    "update_family_data",
    "file_complaint",
    "ask_after_graduation",
    "ask_help",
    "request_human",
    "bot_challenge",
    "goodbye",
    "out_of_scope",
)


def measure_stats(
    database_url: str,
    *,
    questions: int = 1_000_000,
    outbox: int = 1_000_000,
    repeats: int = 7,
    warm_up: int = 2,
    log_path: Path | None = None,
) -> dict[str, Any]:
    """Fill the database (once), roll the statistics up as the scheduled job does, and time
    `/stats` with all its charts over HTTP; medians after warm-up.

    Returns the figures as a dict (seconds unless named otherwise): `page_and_charts_s` (the
    page, then its six charts at once as a browser loads them: the bar), `sequential_s` (the
    page, then each chart after the other), `page_s`, `slowest_chart_s`, `server_peak_rss_mb`;
    `without_rollups_s` (the same page and charts before the roll-up existed, or None when the
    database was already rolled up), `rollup_s` (rolling a month up the first time); the
    page's statistics with PostgreSQL's generic and with custom plans (ms); the rows counted.
    """
    if make_url(database_url).get_backend_name() != "postgresql":
        raise ValueError(
            "the statistics benchmark needs PostgreSQL (it fills with generate_series)"
        )
    filled = fill_database(database_url, questions=questions, outbox=outbox)
    first, last = filled["first_day"], filled["last_day"]
    period = Period(first, last)
    username = _admin_account(database_url)
    log_path = log_path or Path(tempfile.mkdtemp(prefix="pkh-bench-stats-")) / "admin.log"
    without_rollups: float | None = None
    if not _rolled_up(database_url):
        # One warm-up and three runs: without the roll-up a page view takes seconds.
        before = _time_page_views(database_url, username, period, log_path, repeats=3, warm_up=1)
        without_rollups = before["page_and_charts_s"]
    rollup_s = roll_up_everything(database_url)
    after = _time_page_views(
        database_url, username, period, log_path, repeats=repeats, warm_up=warm_up
    )
    result = {
        "question_rows_in_period": filled["questions"],
        "outbox_rows_in_period": filled["outbox"],
        "period": f"{first.isoformat()}..{last.isoformat()}",
        "fill_s": filled["fill_s"],
        "rollup_s": rollup_s,
        "without_rollups_s": without_rollups,
        **after,
        **generic_plan_effect(database_url, period),
        "repeats": repeats,
    }
    print(render_table(result))
    return result


def render_table(result: dict[str, Any]) -> str:
    before = result["without_rollups_s"]
    rows = [
        ("question_log rows in the period", f"{result['question_rows_in_period']:,}"),
        ("outbox rows in the period", f"{result['outbox_rows_in_period']:,}"),
        ("period (WIB days)", result["period"]),
        ("filling the database, s", f"{result['fill_s']:.1f}"),
        ("rolling up what was not yet (the job), s", f"{result['rollup_s']:.1f}"),
        (
            "/stats + 6 charts before the roll-up, median s",
            "(already rolled up)" if before is None else f"{before:.3f}",
        ),
        (
            "/stats + 6 charts (browser-like), median s — bar ≤ 1",
            f"{result['page_and_charts_s']:.3f}",
        ),
        ("/stats + 6 charts one after another, median s", f"{result['sequential_s']:.3f}"),
        ("  /stats alone, median s", f"{result['page_s']:.3f}"),
        ("  slowest chart, median s", f"{result['slowest_chart_s']:.3f}"),
        ("dashboard peak RSS, MB", f"{result['server_peak_rss_mb']:.0f}"),
        (
            "the page's statistics, generic / custom plans, ms",
            f"{result['statistics_generic_plan_ms']:.0f}"
            f" / {result['statistics_custom_plan_ms']:.0f}",
        ),
    ]
    return "\n".join(["| measure | value |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)])


def _time_page_views(
    database_url: str,
    username: str,
    period: Period,
    log_path: Path,
    *,
    repeats: int,
    warm_up: int,
) -> dict[str, float]:
    """Load the page and its charts `warm_up + repeats` times through a fresh dashboard."""
    query = f"from={period.first.isoformat()}&to={period.last.isoformat()}"
    chart_paths = [f"/stats/chart/{name}.svg?{query}" for name in CHARTS]
    parallel: list[float] = []
    sequential: list[float] = []
    pages: list[float] = []
    slowest: list[float] = []
    with _dashboard(database_url, log_path) as (base_url, pid):
        with (
            httpx.Client(base_url=base_url, timeout=600) as browser,
            ThreadPoolExecutor(max_workers=len(chart_paths)) as pool,
        ):
            _log_in(browser, username)
            for run in range(warm_up + repeats):
                started = time.perf_counter()
                _get(browser, f"/stats?{query}")
                page_done = time.perf_counter()
                # A browser fetches the page's images over up to six connections at once.
                chart_times = list(pool.map(lambda path: _timed_get(browser, path), chart_paths))
                browser_done = time.perf_counter()
                for path in chart_paths:
                    _get(browser, path)
                sequential_done = time.perf_counter()
                if run >= warm_up:
                    pages.append(page_done - started)
                    parallel.append(browser_done - started)
                    sequential.append((page_done - started) + (sequential_done - browser_done))
                    slowest.append(max(chart_times))
        peak_rss_mb = _peak_rss_mb(pid)
    return {
        "page_and_charts_s": statistics.median(parallel),
        "sequential_s": statistics.median(sequential),
        "page_s": statistics.median(pages),
        "slowest_chart_s": statistics.median(slowest),
        "server_peak_rss_mb": peak_rss_mb,
    }


def roll_up_everything(database_url: str) -> float:
    """Run the statistics roll-up until it is up to date, as the scheduled job does; seconds."""
    started = time.perf_counter()
    engine = make_engine(database_url)
    try:
        sessions = make_session_factory(engine)
        while True:
            with sessions.begin() as session:
                if roll_up(session, now=utcnow()) == 0:
                    break
        # What autovacuum does soon after: fresh statistics and visibility for the planner.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("question_hour", "outbox_hour", "active_user_month"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


def generic_plan_effect(database_url: str, period: Period) -> dict[str, float]:
    """The page's statistics (`programme.stats.statistics`, the roll-ups as they are), 10 times
    on one connection with PostgreSQL's generic plans forced and with custom plans forced:
    the median of the last four runs of each, in ms. psycopg prepares a statement from its
    5th execution on; from then on a generic plan cannot see the period."""
    timings: dict[str, float] = {}
    real_preparation = stats._prepare_for_counting
    try:
        for mode in ("force_generic_plan", "force_custom_plan"):

            def prepare(session: Session, mode: str = mode) -> None:
                session.execute(text("SET LOCAL work_mem = '32MB'"))
                session.execute(text(f"SET LOCAL plan_cache_mode = {mode}"))

            stats._prepare_for_counting = prepare  # one setting changed, measured
            engine = make_engine(database_url)  # a new connection: nothing prepared yet
            try:
                with make_session_factory(engine)() as session:
                    runs = []
                    for _ in range(10):
                        started = time.perf_counter()
                        stats.statistics(session, period=period, everything=True)
                        runs.append(time.perf_counter() - started)
                        session.rollback()
                timings[mode] = statistics.median(runs[-4:]) * 1000
            finally:
                engine.dispose()
    finally:
        stats._prepare_for_counting = real_preparation
    return {
        "statistics_generic_plan_ms": timings["force_generic_plan"],
        "statistics_custom_plan_ms": timings["force_custom_plan"],
    }


def _rolled_up(database_url: str) -> bool:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(StatisticsRollUp)) != 0
    finally:
        engine.dispose()


# --- the data ---------------------------------------------------------------------------------


def fill_database(database_url: str, *, questions: int, outbox: int) -> dict[str, Any]:
    """A month of questions, ratings and bulk messages ending today (WIB); skipped if present."""
    started = time.perf_counter()
    migrate.upgrade(database_url)
    last = (datetime.now(UTC) + WIB_OFFSET).date()
    first = last - timedelta(days=DAYS - 1)
    start = datetime.combine(first, clock_time(), UTC) - WIB_OFFSET
    end = min(
        datetime.combine(last + timedelta(days=1), clock_time(), UTC) - WIB_OFFSET,
        datetime.now(UTC),
    )
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            if session.scalar(select(func.count()).select_from(Family)) == 0:
                seed_reference(session)
                seed_demo(session, secret_key=SECRET_KEY)
        with engine.begin() as connection:
            in_period = connection.scalar(
                select(func.count())
                .select_from(QuestionLog)
                .where(QuestionLog.created_at >= start, QuestionLog.created_at < end)
            )
            if (in_period or 0) < questions:
                _add_users(connection, USERS)
                _add_questions(connection, questions, start, end)
                _add_ratings(connection, questions // 20, start, end)
                _add_outbox(connection, outbox, start, end)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("telegram_user", "question_log", "answer_rating", "outbox_message"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
        with engine.connect() as connection:
            counted_questions = connection.scalar(
                text(
                    "SELECT count(*) FROM question_log WHERE created_at >= :s AND created_at < :e"
                ),
                {"s": start, "e": end},
            )
            counted_outbox = connection.scalar(
                text(
                    "SELECT count(*) FROM outbox_message WHERE"
                    " coalesce(sent_at, updated_at) >= :s AND coalesce(sent_at, updated_at) < :e"
                ),
                {"s": start, "e": end},
            )
    finally:
        engine.dispose()
    return {
        "first_day": first,
        "last_day": last,
        "questions": counted_questions,
        "outbox": counted_outbox,
        "fill_s": time.perf_counter() - started,
    }


def _add_users(connection: Connection, wanted: int) -> None:
    """Up to `wanted` KPM accounts: bench-scale's linked ones, plus new ones on other families."""
    have = connection.scalar(text("SELECT count(*) FROM telegram_user WHERE role = 'kpm'")) or 0
    if have >= wanted:
        return
    # A fifth of those who ask have not linked their account to a family yet.
    connection.execute(
        text(
            """
            INSERT INTO telegram_user (telegram_user_id, chat_id, first_name, role, family_id,
                                       reminders_enabled, language, is_unreachable, linked_at,
                                       created_at, updated_at)
            SELECT 8000000000 + n, 8000000000 + n, 'Ibu', 'kpm',
                   CASE WHEN n % 5 = 0 THEN NULL ELSE f.id END,
                   true, 'id', false, CASE WHEN n % 5 = 0 THEN NULL ELSE now() END, now(), now()
            FROM generate_series(1, :count) AS n
            JOIN LATERAL (
                SELECT id FROM family ORDER BY id
                OFFSET (n * 7919) % greatest((SELECT count(*) FROM family), 1) LIMIT 1
            ) AS f ON true
            ON CONFLICT (telegram_user_id) DO NOTHING
            """
        ),
        {"count": wanted - have},
    )


def _bench_users(connection: Connection) -> int:
    connection.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS bench_user AS"
            " SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id FROM telegram_user"
            " WHERE role = 'kpm'"
        )
    )
    connection.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS bench_user_n ON bench_user (n)"))
    return int(connection.scalar(text("SELECT count(*) FROM bench_user")) or 0)


def _spread(start: datetime, end: datetime) -> dict[str, Any]:
    return {"start": start, "seconds": (end - start).total_seconds()}


def _add_questions(connection: Connection, count: int, start: datetime, end: datetime) -> None:
    users = _bench_users(connection)
    # One in eight goes unanswered (fallback or low confidence); intents are skewed (power 2).
    connection.execute(
        text(
            """
            INSERT INTO question_log (created_at, user_id, intent, confidence, answered, reason,
                                      channel)
            SELECT :start + make_interval(secs => g * :seconds / :count),
                   u.id,
                   CASE WHEN r < 0.08 THEN 'nlu_fallback'
                        ELSE (CAST(:intents AS text[]))
                             [1 + floor(power(random(), 2) * :intent_count)::int] END,
                   CASE WHEN r < 0.12 THEN 0.3 ELSE 0.9 END,
                   r >= 0.12,
                   CASE WHEN r < 0.08 THEN 'fallback' WHEN r < 0.12 THEN 'low_confidence' END,
                   'telegram'
            FROM (SELECT g, random() AS r, floor(random() * :users)::bigint AS n
                  FROM generate_series(0, :count - 1) AS g) AS q
            JOIN bench_user AS u ON u.n = q.n
            """
        ),
        {
            **_spread(start, end),
            "count": count,
            "users": users,
            "intents": list(INTENTS),
            "intent_count": len(INTENTS),
        },
    )


def _add_ratings(connection: Connection, count: int, start: datetime, end: datetime) -> None:
    users = _bench_users(connection)
    connection.execute(
        text(
            """
            INSERT INTO answer_rating (user_id, message_id, intent, is_helpful, created_at)
            SELECT u.id, 900000000 + g, 'ask_payment_schedule', random() < 0.8,
                   :start + make_interval(secs => g * :seconds / :count)
            FROM (SELECT g, floor(random() * :users)::bigint AS n
                  FROM generate_series(0, :count - 1) AS g) AS q
            JOIN bench_user AS u ON u.n = q.n
            ON CONFLICT DO NOTHING
            """
        ),
        {**_spread(start, end), "count": count, "users": users},
    )


def _add_outbox(connection: Connection, count: int, start: datetime, end: datetime) -> None:
    """Reminders, broadcasts and stage notices; most sent, some blocked, failed, still queued."""
    connection.execute(
        text(
            """
            INSERT INTO outbox_message (dedupe_key, kind, chat_id, text, priority, urgent,
                                        time_zone, state, not_before, attempts, created_at,
                                        updated_at, sent_at)
            SELECT 'bench-stats:' || g,
                   CASE WHEN k < 0.6 THEN 'reminder' WHEN k < 0.9 THEN 'broadcast'
                        ELSE 'stage_open' END,
                   8000000000 + g % 100000, 'Pengingat pertemuan P2K2 besok pukul 09.00',
                   0, false, 'Asia/Jakarta',
                   CASE WHEN s < 0.88 THEN 'sent' WHEN s < 0.93 THEN 'blocked'
                        WHEN s < 0.96 THEN 'failed' WHEN s < 0.98 THEN 'expired'
                        ELSE 'queued' END,
                   at - interval '1 minute', 1, at - interval '1 minute', at,
                   CASE WHEN s < 0.88 THEN at END
            FROM (SELECT g, random() AS k, random() AS s,
                         :start + make_interval(secs => g * :seconds / :count) AS at
                  FROM generate_series(0, :count - 1) AS g) AS o
            """
        ),
        {**_spread(start, end), "count": count},
    )


# --- the dashboard ----------------------------------------------------------------------------


def _admin_account(database_url: str) -> str:
    username = f"bench-{secrets.token_hex(3)}"
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            create_user(
                session,
                username=username,
                password=PASSWORD,
                role=UserRole.ADMIN,
                pendamping_code=None,
                language="id",
                actor="bench-stats",
            )
    finally:
        engine.dispose()
    return username


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _dashboard(database_url: str, log_path: Path) -> Iterator[tuple[str, int]]:
    """`pkh admin serve` on a free port; yields its address and process id."""
    port = _free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "PKH_SECRET_KEY": SECRET_KEY}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # the same interpreter's entry point, fixed arguments
            [str(Path(sys.executable).parent / "pkh"), "admin", "serve", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/login", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start; see {log_path}") from None
                time.sleep(0.2)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _log_in(browser: httpx.Client, username: str) -> None:
    form = browser.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the login page"
    response = browser.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "/",
        },
    )
    if response.status_code != 303:
        raise RuntimeError(f"login failed: {response.status_code}")


def _get(browser: httpx.Client, path: str) -> None:
    response = browser.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")


def _timed_get(browser: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    _get(browser, path)
    return time.perf_counter() - started


def _peak_rss_mb(pid: int) -> float:
    """The dashboard process's peak resident memory (Linux /proc), before it is stopped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", help="a PostgreSQL URL (postgresql+psycopg://…)")
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--outbox", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    arguments = parser.parse_args()
    measure_stats(
        arguments.database_url,
        questions=arguments.questions,
        outbox=arguments.outbox,
        repeats=arguments.repeats,
    )


if __name__ == "__main__":
    main()
