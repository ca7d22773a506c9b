"""The statistics pages: figures and charts for a period, its charts as SVG, and a CSV export."""

# The figures are computed once per page view: the page stores them, and its six chart images
# (which the browser asks for right after the page) and the CSV link reuse them for up to
# REUSE_SECONDS instead of counting a month of a province seven more times.

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from admin import charts
from admin.spreadsheet import csv_response, spreadsheet_number
from admin.web import Page, login_required, render
from core.i18n import Translator
from nlu.topics import topic_name
from programme.models import OutboxKind, OutboxState
from programme.stats import WIB, Period, Statistics, statistics

DEFAULT_DAYS = 30
LONGEST_PERIOD_DAYS = 366
REUSE_SECONDS = 60.0
REMEMBERED_VIEWS = 32


def csv_header(tr: Translator) -> tuple[str, ...]:
    """The CSV's column names, in the viewer's language."""
    return (
        tr._("Tanggal"),
        tr._("Pertanyaan"),
        tr._("Tidak terjawab"),
        tr._("Persentase fallback"),
        tr._("Membantu"),
        tr._("Tidak membantu"),
        tr._("Pesan terkirim"),
        tr._("Pesan diblokir"),
        tr._("Pesan gagal"),
    )


class BadPeriod(ValueError):
    """The from/to dates in the address cannot be used; the message says why, translated."""


def read_period(
    params: Mapping[str, str], *, today: date, tr: Translator, zone: ZoneInfo = WIB
) -> Period:
    """The period asked for by ?from=YYYY-MM-DD&to=YYYY-MM-DD, as days in `zone`; by default
    the last 30 days."""
    try:
        last = date.fromisoformat(params["to"]) if params.get("to") else today
        first = (
            date.fromisoformat(params["from"])
            if params.get("from")
            else last - timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError as error:
        raise BadPeriod(
            tr._("Tanggal tidak valid. Tulis tanggal sebagai TTTT-BB-HH, misalnya 2026-11-23.")
        ) from error
    if first > last:
        raise BadPeriod(tr._("Tanggal awal harus sebelum atau sama dengan tanggal akhir."))
    if (last - first).days + 1 > LONGEST_PERIOD_DAYS:
        raise BadPeriod(tr._("Periode paling lama {days} hari.", days=LONGEST_PERIOD_DAYS))
    return Period(first, last, zone)


@login_required
def stats_page(request: Request, page: Page) -> Response:
    """GET /stats: the period's figures, each chart with its numbers in a table."""
    tr = page.viewer.tr
    try:
        period = _period(request, page)
    except BadPeriod as error:
        return render(
            request,
            "stats.html",
            page=page,
            status_code=400,
            error=str(error),
            stats=None,
            from_value=request.query_params.get("from", ""),
            to_value=request.query_params.get("to", ""),
        )
    stats = _computed(request, page, period, fresh=True)
    return render(
        request,
        "stats.html",
        page=page,
        error=None,
        stats=stats,
        from_value=period.first.isoformat(),
        to_value=period.last.isoformat(),
        range_query=urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()}),
        percent=lambda value: _percent(tr, value),
        intent_label=lambda intent: topic_name(intent, tr) if intent else tr._("(tidak dipahami)"),
        region_label=lambda name: name or tr._("(belum terhubung)"),
        outbox_label=lambda kind: _outbox_label(tr, kind),
    )


@login_required
def stats_chart(request: Request, page: Page) -> Response:
    """GET /stats/chart/<name>.svg: one chart of the period, as an SVG image."""
    draw = CHARTS[request.url.path.removeprefix("/stats/chart/").removesuffix(".svg")]
    try:
        period = _period(request, page)
    except BadPeriod as error:
        return PlainTextResponse(str(error), status_code=400)
    stats = _computed(request, page, period)
    return Response(draw(stats, page.viewer.tr), media_type="image/svg+xml")


@login_required
def stats_csv(request: Request, page: Page) -> Response:
    """GET /stats.csv: one row per day of the period (the viewer's zone), for spreadsheets."""
    try:
        period = _period(request, page)
    except BadPeriod as error:
        return PlainTextResponse(str(error), status_code=400)
    stats = _computed(request, page, period)
    rows = [
        (
            day.day,
            day.questions,
            day.unanswered,
            "" if day.fallback_rate is None else spreadsheet_number(day.fallback_rate),
            day.helpful,
            day.unhelpful,
            day.sent,
            day.blocked,
            day.failed,
        )
        for day in stats.days
    ]
    filename = f"pkh-statistik-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    # ';', BOM, DD/MM/YYYY and a decimal comma: what Indonesian spreadsheets open directly.
    return csv_response(csv_header(page.viewer.tr), rows, filename)


class RecentStatistics:
    """The figures of the last few page views, by scope and period, for their charts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: OrderedDict[tuple[object, ...], tuple[float, Statistics]] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> Statistics | None:
        with self._lock:
            found = self._views.get(key)
        if found is None or time.monotonic() - found[0] > REUSE_SECONDS:
            return None
        return found[1]

    def put(self, key: tuple[object, ...], stats: Statistics) -> None:
        with self._lock:
            self._views[key] = (time.monotonic(), stats)
            self._views.move_to_end(key)
            while len(self._views) > REMEMBERED_VIEWS:
                self._views.popitem(last=False)


def _computed(request: Request, page: Page, period: Period, *, fresh: bool = False) -> Statistics:
    """The period's figures in the viewer's scope: counted now for the page itself (`fresh`),
    reused from the page view just before for its charts and CSV."""
    state = request.app.state
    if not hasattr(state, "recent_statistics"):
        state.recent_statistics = RecentStatistics()
    recent: RecentStatistics = state.recent_statistics
    scope = page.viewer.scope
    key = (scope.everything, scope.pendamping_id, period.first, period.last, period.zone.key)
    stats = None if fresh else recent.get(key)
    if stats is None:
        stats = statistics(
            page.session,
            period=period,
            everything=scope.everything,
            pendamping_id=scope.pendamping_id,
        )
        recent.put(key, stats)
    return stats


def _period(request: Request, page: Page) -> Period:
    """The period in the viewer's own zone (WIB, WITA or WIT): their days, their "today"."""
    zone = ZoneInfo(page.viewer.time_zone.value)
    today = page.now.astimezone(zone).date()
    return read_period(request.query_params, today=today, tr=page.viewer.tr, zone=zone)


def _percent(tr: Translator, value: float | None) -> str:
    if value is None:
        return "–"
    return str(format_percent(value / 100, format="#,##0.0%", locale=tr.locale))


def _outbox_label(tr: Translator, kind: OutboxKind) -> str:
    return tr._("Pengingat") if kind is OutboxKind.REMINDER else tr._("Siaran")


def _state_label(tr: Translator, state: OutboxState) -> str:
    labels = {
        OutboxState.SENT: tr._("terkirim"),
        OutboxState.BLOCKED: tr._("diblokir"),
        OutboxState.FAILED: tr._("gagal"),
    }
    return labels[state]


# --- the charts, by the name in their address ----------------------------------------------


def _day_labels(stats: Statistics) -> list[str]:
    return [day.day.strftime("%d/%m") for day in stats.days]


def _questions_chart(stats: Statistics, tr: Translator) -> str:
    questions = [day.questions for day in stats.days]
    return charts.bar_chart(_day_labels(stats), questions, y_label=tr._("Pertanyaan"))


def _intents_chart(stats: Statistics, tr: Translator) -> str:
    labels = [topic_name(i, tr) if i else tr._("(tidak dipahami)") for i, _ in stats.intents]
    counts = [count for _, count in stats.intents]
    return charts.horizontal_bar_chart(labels, counts, x_label=tr._("Pertanyaan"))


def _fallback_chart(stats: Statistics, tr: Translator) -> str:
    rates = [day.fallback_rate for day in stats.days]
    return charts.line_chart(
        _day_labels(stats), rates, y_label=tr._("Tidak terjawab (%)"), y_max=100
    )


def _ratings_chart(stats: Statistics, tr: Translator) -> str:
    return charts.paired_bar_chart(
        _day_labels(stats),
        [day.helpful for day in stats.days],
        [day.unhelpful for day in stats.days],
        names=(tr._("Membantu"), tr._("Tidak membantu")),
        y_label=tr._("Penilaian"),
    )


def _outbox_chart(stats: Statistics, tr: Translator) -> str:
    labels, counts = [], []
    for row in stats.outbox:
        for state, count in (
            (OutboxState.SENT, row.sent),
            (OutboxState.BLOCKED, row.blocked),
            (OutboxState.FAILED, row.failed),
        ):
            labels.append(f"{_outbox_label(tr, row.kind)}: {_state_label(tr, state)}")
            counts.append(count)
    return charts.horizontal_bar_chart(labels, counts, x_label=tr._("Pesan"))


def _regions_chart(stats: Statistics, tr: Translator) -> str:
    labels = [name or tr._("(belum terhubung)") for name, _ in stats.regions]
    counts = [count for _, count in stats.regions]
    return charts.horizontal_bar_chart(labels, counts, x_label=tr._("Pengguna aktif"))


CHARTS: dict[str, Callable[[Statistics, Translator], str]] = {
    "questions": _questions_chart,
    "intents": _intents_chart,
    "fallback": _fallback_chart,
    "ratings": _ratings_chart,
    "outbox": _outbox_chart,
    "regions": _regions_chart,
}
