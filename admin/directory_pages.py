"""The directory pages: families, kelompok, pendamping and meetings, searched, paged, as CSV.

A pendamping sees only their own kelompok (programme.directory.Seen); the pendamping page also
lets an admin make a one-time Telegram link for a pendamping record, or take the role back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin.auth import Viewer, require_admin
from admin.spreadsheet import csv_response, spreadsheet_datetime
from admin.web import Page, error_page, login_required, render
from core.i18n import Translator
from programme import directory, pendamping_access
from programme.directory import Listing, Seen, clean_search
from programme.models import FamilyStatus, MeetingStatus

MAX_PAGE_DIGITS = 6


@dataclass(frozen=True)
class PageLink:
    """One entry of the pager: a page number (None: a gap) and its address."""

    number: int | None
    href: str
    current: bool = False


def seen_by(viewer: Viewer) -> Seen:
    scope = viewer.scope
    return Seen(everything=scope.everything, pendamping_id=scope.pendamping_id)


# --- families ------------------------------------------------------------------------------


@login_required
def families(request: Request, page: Page) -> Response:
    """GET /families?q=&region=&page=N."""
    filters = _filters(request, "q", "region")
    found = directory.find_families(
        page.session,
        seen=seen_by(page.viewer),
        search=filters["q"],
        region_code=filters["region"],
        page=_number(request),
    )
    return _directory_page(
        request,
        page,
        "families.html",
        "/families",
        filters,
        found,
        regions=directory.region_choices(page.session),
        family_status=family_status,
    )


@login_required
def families_csv(request: Request, page: Page) -> Response:
    """GET /families.csv?q=&region=: every family that matches."""
    filters = _filters(request, "q", "region")
    tr = page.viewer.tr
    rows = directory.all_pages(
        directory.find_families,
        session=page.session,
        seen=seen_by(page.viewer),
        search=filters["q"],
        region_code=filters["region"],
    )
    header = [tr._("ID PKH"), tr._("Nama pengurus"), tr._("Kelompok"), tr._("Desa")]
    header += [tr._("Status"), tr._("Terhubung ke Telegram")]
    lines = [
        (r.pkh_id, r.name, r.kelompok, r.desa, family_status(tr, r.status), _yes(tr, r.linked))
        for r in rows
    ]
    return csv_response(header, lines, "pkh-keluarga.csv")


# --- kelompok ------------------------------------------------------------------------------


@login_required
def kelompok(request: Request, page: Page) -> Response:
    """GET /kelompok?q=&page=N."""
    filters = _filters(request, "q")
    found = directory.find_kelompok(
        page.session, seen=seen_by(page.viewer), search=filters["q"], page=_number(request)
    )
    return _directory_page(request, page, "kelompok.html", "/kelompok", filters, found)


@login_required
def kelompok_csv(request: Request, page: Page) -> Response:
    """GET /kelompok.csv?q=."""
    filters = _filters(request, "q")
    tr = page.viewer.tr
    rows = directory.all_pages(
        directory.find_kelompok,
        session=page.session,
        seen=seen_by(page.viewer),
        search=filters["q"],
    )
    header = [tr._("Kode"), tr._("Nama kelompok"), tr._("Pendamping"), tr._("Desa")]
    header += [tr._("Jumlah keluarga"), tr._("Keluarga terhubung")]
    lines = [(r.code, r.name, r.pendamping, r.desa, r.families, r.linked) for r in rows]
    return csv_response(header, lines, "pkh-kelompok.csv")


# --- pendamping ----------------------------------------------------------------------------


@login_required
def pendamping(request: Request, page: Page) -> Response:
    """GET /pendamping?q=&page=N."""
    tr = page.viewer.tr
    done = request.query_params.get("done")
    notice = tr._("Akses pendamping dicabut.") if done == "revoked" else None
    return _pendamping_page(request, page, notice=notice)


@login_required
def pendamping_csv(request: Request, page: Page) -> Response:
    """GET /pendamping.csv?q=."""
    filters = _filters(request, "q")
    tr = page.viewer.tr
    rows = directory.all_pages(
        directory.find_pendamping,
        session=page.session,
        seen=seen_by(page.viewer),
        search=filters["q"],
    )
    header = [tr._("Kode"), tr._("Nama"), tr._("Wilayah"), tr._("Telepon")]
    header += [tr._("Jumlah kelompok"), tr._("Akun Telegram pendamping")]
    lines = [(r.code, r.name, r.region, r.phone, r.kelompok, _yes(tr, r.has_account)) for r in rows]
    return csv_response(header, lines, "pkh-pendamping.csv")


@login_required
def issue_link(request: Request, page: Page) -> Response:
    """POST /pendamping/<id>/link: a one-time Telegram link, shown on this page only once."""
    require_admin(page.viewer)
    tr = page.viewer.tr
    secret_key: str | None = request.app.state.invite_secret
    if not secret_key:
        return error_page(request, 503, tr._("PKH_SECRET_KEY belum diatur."), page=page)
    try:
        issued = pendamping_access.issue_pendamping_link(
            page.session,
            pendamping_id=request.path_params["pendamping_id"],
            secret_key=secret_key,
            now=page.now,
            actor=f"admin:{page.viewer.username}",
        )
    except LookupError:
        return error_page(request, 404, tr._("Pendamping tidak ditemukan."), page=page)
    bot: str | None = request.app.state.bot_username
    link = f"https://t.me/{bot}?start={issued.code}" if bot else None
    return _pendamping_page(request, page, issued=issued, issued_link=link)


@login_required
def revoke_access(request: Request, page: Page) -> Response:
    """POST /pendamping/<id>/revoke: unused links void, the Telegram account loses the role."""
    require_admin(page.viewer)
    pendamping_id = request.path_params["pendamping_id"]
    if pendamping_access.find_pendamping(page.session, str(pendamping_id)) is None:
        return error_page(request, 404, page.viewer.tr._("Pendamping tidak ditemukan."), page=page)
    pendamping_access.revoke_pendamping_access(
        page.session,
        pendamping_id=pendamping_id,
        now=page.now,
        actor=f"admin:{page.viewer.username}",
    )
    return RedirectResponse("/pendamping?done=revoked", status_code=303)


def _pendamping_page(
    request: Request,
    page: Page,
    *,
    notice: str | None = None,
    issued: pendamping_access.IssuedLink | None = None,
    issued_link: str | None = None,
) -> Response:
    filters = _filters(request, "q")
    found = directory.find_pendamping(
        page.session,
        seen=seen_by(page.viewer),
        search=filters["q"],
        page=_number(request),
        now=page.now,
    )
    return _directory_page(
        request,
        page,
        "pendamping.html",
        "/pendamping",
        filters,
        found,
        notice=notice,
        issued=issued,
        issued_link=issued_link,
    )


# --- meetings ------------------------------------------------------------------------------


@login_required
def meetings(request: Request, page: Page) -> Response:
    """GET /meetings?when=upcoming|past&q=&page=N (q: the kelompok or the place)."""
    filters = _filters(request, "q", "when")
    filters["when"] = "past" if filters["when"] == "past" else "upcoming"
    found = directory.find_meetings(
        page.session,
        seen=seen_by(page.viewer),
        now=page.now,
        upcoming=filters["when"] == "upcoming",
        search=filters["q"],
        page=_number(request),
    )
    return _directory_page(
        request,
        page,
        "meetings.html",
        "/meetings",
        filters,
        found,
        meeting_status=meeting_status,
        other_when_link=_link(
            "/meetings",
            {**filters, "when": "past" if filters["when"] == "upcoming" else "upcoming"},
            1,
        ),
    )


@login_required
def meetings_csv(request: Request, page: Page) -> Response:
    """GET /meetings.csv?when=&q=."""
    filters = _filters(request, "q", "when")
    tr, zone = page.viewer.tr, page.viewer.time_zone
    rows = directory.all_pages(
        directory.find_meetings,
        session=page.session,
        seen=seen_by(page.viewer),
        now=page.now,
        upcoming=filters["when"] != "past",
        search=filters["q"],
    )
    header = [tr._("Waktu ({zone})", zone=zone.abbreviation), tr._("Kelompok")]
    header += [tr._("Modul/sesi"), tr._("Tempat"), tr._("Status"), tr._("Hadir")]
    header += [tr._("Tidak bisa")]
    lines = [
        (
            spreadsheet_datetime(r.starts_at, zone.value),
            r.kelompok,
            r.module,
            r.place,
            meeting_status(tr, r.status),
            r.coming,
            r.not_coming,
        )
        for r in rows
    ]
    return csv_response(header, lines, "pkh-pertemuan.csv")


# --- words ---------------------------------------------------------------------------------


def family_status(tr: Translator, status: FamilyStatus) -> str:
    return {
        FamilyStatus.ACTIVE: tr._("Aktif"),
        FamilyStatus.SUSPENDED: tr._("Ditangguhkan"),
        FamilyStatus.GRADUATED: tr._("Graduasi"),
        FamilyStatus.REMOVED: tr._("Dikeluarkan"),
    }[status]


def meeting_status(tr: Translator, status: MeetingStatus) -> str:
    return {
        MeetingStatus.SCHEDULED: tr._("Terjadwal"),
        MeetingStatus.HELD: tr._("Sudah dilaksanakan"),
        MeetingStatus.CANCELLED: tr._("Dibatalkan"),
    }[status]


def _yes(tr: Translator, value: bool) -> str:
    return tr._("ya") if value else tr._("tidak")


# --- search and paging ---------------------------------------------------------------------


def _directory_page(
    request: Request,
    page: Page,
    template: str,
    path: str,
    filters: dict[str, str],
    found: Listing[Any],
    **context: Any,
) -> Response:
    return render(
        request,
        template,
        page=page,
        found=found,
        filters=filters,
        page_links=page_links(path, filters, found.number, found.page_count),
        csv_link=_csv_link(path, filters),
        zone=page.viewer.time_zone,
        **context,
    )


def page_links(
    path: str, filters: Mapping[str, str], number: int, page_count: int
) -> list[PageLink]:
    """1 … 4 5 [6] 7 8 … 20: the first, the last and two either side of the current page."""
    wanted = {1, page_count, *range(number - 2, number + 3)}
    shown = sorted(n for n in wanted if 1 <= n <= page_count)
    links: list[PageLink] = []
    for index, n in enumerate(shown):
        if index and n - shown[index - 1] > 1:
            links.append(PageLink(None, ""))
        links.append(PageLink(n, _link(path, filters, n), current=n == number))
    return links if page_count > 1 else []


def _filters(request: Request, *names: str) -> dict[str, str]:
    return {name: clean_search(request.query_params.get(name, "")) for name in names}


def _number(request: Request) -> int:
    value = request.query_params.get("page", "").strip()
    return (
        int(value) if value.isascii() and value.isdigit() and len(value) <= MAX_PAGE_DIGITS else 1
    )


def _link(path: str, filters: Mapping[str, str], number: int) -> str:
    kept = {key: value for key, value in filters.items() if value}
    return f"{path}?" + urlencode({**kept, "page": number})


def _csv_link(path: str, filters: Mapping[str, str]) -> str:
    kept = {key: value for key, value in filters.items() if value}
    return f"{path}.csv" + (f"?{urlencode(kept)}" if kept else "")
