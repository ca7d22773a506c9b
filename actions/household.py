"""The asker's own family (`household_of`) and how a family, a stage and a pendamping are named.

Personal actions start from `household_of(request)`; None means the asker is not a linked KPM.
The family itself is read by `programme.households`.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from actions.base import Request
from core.i18n import Translator
from programme.households import FamilyBenefit, Household, load_household
from programme.models import FamilyStatus, PaymentStage, Pendamping, TimeZone

__all__ = [
    "FamilyBenefit",
    "Household",
    "family_status_label",
    "household_of",
    "local_today",
    "pendamping_contact",
    "pendamping_line",
    "roman",
    "stage_label",
]


def household_of(request: Request) -> Household | None:
    """The asker's household, or None when the asker is not a KPM linked to a family."""
    if not request.asker.is_linked_kpm or request.asker.family_id is None:
        return None
    return load_household(request.session, family_id=request.asker.family_id)


def local_today(request: Request, household: Household | None) -> date:
    """Today in the family's time zone; WIB (the national reference) for anyone else."""
    if household is not None:
        return household.today(request.now)
    return request.now.astimezone(ZoneInfo(TimeZone.WIB)).date()


# --- stages ------------------------------------------------------------------------------------


def roman(stage_no: int) -> str:
    """Tahap numbers are written as Roman numerals in Indonesian (tahap I–IV)."""
    return {1: "I", 2: "II", 3: "III", 4: "IV"}.get(stage_no, str(stage_no))


def stage_label(stage: PaymentStage) -> str:
    """The stage as written in Indonesian text: "IV" for tahap 4."""
    return roman(stage.stage_no)


# --- the family in words -------------------------------------------------------------------------


def family_status_label(tr: Translator, status: FamilyStatus) -> str:
    """The family's standing in PKH in a few words ("aktif", "ditangguhkan", …)."""
    labels = {
        FamilyStatus.ACTIVE: tr._("aktif"),
        FamilyStatus.SUSPENDED: tr._("ditangguhkan"),
        FamilyStatus.GRADUATED: tr._("sudah graduasi"),
        FamilyStatus.REMOVED: tr._("tidak lagi terdaftar"),
    }
    return labels[status]


def pendamping_contact(tr: Translator, pendamping: Pendamping) -> str:
    """The pendamping's name, with the phone number when we have one."""
    if pendamping.phone:
        return tr._("{name} ({phone})", name=pendamping.name, phone=pendamping.phone)
    return pendamping.name


def pendamping_line(tr: Translator, household: Household) -> str:
    """Who the family's pendamping is and how to reach them."""
    pendamping = household.pendamping
    if pendamping.phone:
        return tr._(
            "Pendamping Bapak/Ibu: {name} ({phone}).", name=pendamping.name, phone=pendamping.phone
        )
    return tr._("Pendamping Bapak/Ibu: {name}.", name=pendamping.name)
