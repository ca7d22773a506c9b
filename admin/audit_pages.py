"""The admins' audit log page: who did what, newest first, filtered and paged."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from admin.audit import (
    PAGE_SIZE,
    AuditFilter,
    action_choices,
    action_label,
    details_text,
    find_entries,
    target_text,
)
from admin.auth import require_admin
from admin.web import Page, login_required, render


@login_required
def audit_log(request: Request, page: Page) -> Response:
    """GET /audit?actor=&action=&from=&to=&page=N."""
    require_admin(page.viewer)
    query = request.query_params
    first_day, last_day = _day(query.get("from", "")), _day(query.get("to", ""))
    wanted = AuditFilter(
        actor=query.get("actor", "").strip(),
        action=query.get("action", "").strip(),
        first_day=first_day,
        last_day=last_day,
        time_zone=page.viewer.time_zone.value,
    )
    found = find_entries(page.session, wanted=wanted, page=_number(query.get("page", "")))
    filters = {
        "actor": wanted.actor,
        "action": wanted.action,
        "from": first_day.isoformat() if first_day else "",
        "to": last_day.isoformat() if last_day else "",
    }
    bad_day = (query.get("from") and first_day is None) or (query.get("to") and last_day is None)
    return render(
        request,
        "audit.html",
        page=page,
        found=found,
        page_size=PAGE_SIZE,
        filters=filters,
        details_text=details_text,
        action_label=action_label,
        action_choices=action_choices,
        target_text=target_text,
        previous_link=_link(filters, found.number - 1) if found.number > 1 else None,
        next_link=_link(filters, found.number + 1) if found.number < found.page_count else None,
        error=page.viewer.tr._("Tanggal ditulis TTTT-BB-HH.") if bad_day else None,
    )


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _number(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _link(filters: dict[str, str], number: int) -> str:
    kept = {key: value for key, value in filters.items() if value}
    return "/audit?" + urlencode({**kept, "page": number})
