"""When PKH is paid, how much, and whether the asker's own money for a stage has arrived."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from actions.base import Reply, Request
from actions.content import faq_text, link_hint_for, paragraphs, pick_topic, topic_buttons
from actions.household import (
    FamilyBenefit,
    Household,
    benefit_amounts,
    current_stage,
    family_benefit,
    family_disbursement,
    family_disbursements,
    family_status_label,
    household_of,
    pendamping_line,
    roman,
    stage_label,
    stage_of,
)
from actions.registry import answers
from core.i18n import Translator
from nlu.schema import Intent
from programme.models import (
    BenefitAmount,
    BenefitYear,
    Component,
    Disbursement,
    DisbursementStatus,
    FailureReason,
    FamilyStatus,
    PaymentStage,
    PaymentWindow,
    ScheduleStatus,
    TimeZone,
    WindowBasis,
)

SCHEDULE = Intent.ASK_PAYMENT_SCHEDULE
AMOUNT = Intent.ASK_BENEFIT_AMOUNT
STATUS = Intent.ASK_PAYMENT_STATUS

# A bank entity steers the schedule answer to how that channel pays out (faq.yml topics).
BANK_TOPICS = {
    "pos": "pos",
    "bsi": "bsi",
    "bri": "kks",
    "bni": "kks",
    "mandiri": "kks",
    "btn": "kks",
}
SCHEDULE_KEYWORDS = {
    "wave": (
        "gelombang",
        "bergelombang",
        "tetangga",
        "serentak",
        "duluan",
        "bareng",
        "barengan",
        "lebih dulu",
        "orang lain",
    ),
}
AMOUNT_KEYWORDS = {
    "history_2019": ("2019", "bantuan tetap"),
    "cap": (
        "maksimal",
        "maksimum",
        "paling banyak",
        "batas komponen",
        "batasnya",
        "4 komponen",
        "empat komponen",
        "lebih dari 4",
    ),
    "changed": (
        "berkurang",
        "dikurangi",
        "berubah",
        "beda",
        "berbeda",
        "tidak sama",
        "turun jadi",
        "nilainya turun",
        "naik jadi",
        "kok sedikit",
        "jadi sedikit",
        "kok kurang",
    ),
}
STATUS_KEYWORDS = {
    "how_to_check": ("cara cek", "cara mengecek", "bagaimana cek", "cek di hp", "cara lihat"),
    "reasons": (
        "kenapa",
        "kosong",
        "zonk",
        "dihentikan",
        "diputus",
        "dicoret",
        "belum masuk",
        "tidak masuk",
        "belum cair",
        "tidak cair",
    ),
}
# The failure reason whose explanation fits a stage that is simply not paid out yet.
WAVE_REASON = "WAVE"


# --- shared pieces -------------------------------------------------------------------------------


def local_today(request: Request, household: Household | None) -> date:
    """Today in the family's time zone; WIB (the national reference) for anyone else."""
    if household is not None:
        return household.today(request.now)
    return request.now.astimezone(ZoneInfo(TimeZone.WIB)).date()


def money(tr: Translator, amount: Decimal, *, uncertain: bool) -> str:
    """Rupiah, prefixed with "sekitar" when the amount still needs verification."""
    return tr._("sekitar {amount}", amount=tr.rupiah(amount)) if uncertain else tr.rupiah(amount)


def requested_stages(request: Request, household: Household | None) -> list[PaymentStage | int]:
    """The stages named in the question (this year's), else the current one.

    A stage number the database does not have comes back as the bare number.
    """
    asked = [int(value) for value in request.parse.values("stage")]
    if not asked:
        zone = household.time_zone if household else TimeZone.WIB
        current = current_stage(request.session, now=request.now, time_zone=zone)
        return [current] if current else []
    year = local_today(request, household).year
    return [stage_of(request.session, year=year, stage_no=n) or n for n in asked]


def per_stage(
    request: Request, household: Household | None, render: Callable[[PaymentStage], str]
) -> list[str]:
    """`render` every requested stage, saying which ones we have no schedule for."""
    stages = requested_stages(request, household)
    year = local_today(request, household).year
    if not stages:
        return [missing_schedule_text(request, year), faq_text(request, SCHEDULE)]
    return [
        render(stage)
        if isinstance(stage, PaymentStage)
        else missing_schedule_text(request, year, stage)
        for stage in stages
    ]


def missing_schedule_text(request: Request, year: int, stage_no: int | None = None) -> str:
    """No schedule for that year (or stage) yet: say so, with the date of our latest schedule."""
    tr = request.tr
    latest = request.session.scalar(select(func.max(PaymentStage.source_date)))
    updated = ""
    if latest is not None:
        updated = tr._("Data jadwal kami terakhir diperbarui {date}.", date=tr.short_date(latest))
    if stage_no is None:
        missing = tr._("Belum ada jadwal resmi tahun {year} di data kami.", year=year)
    else:
        missing = tr._(
            "Belum ada jadwal resmi untuk tahap {stage} tahun {year} di data kami.",
            stage=roman(stage_no),
            year=year,
        )
    return f"{missing} {updated}".strip()


# --- payment windows -----------------------------------------------------------------------------


def stages_of_year(session: Session, *, year: int) -> Sequence[PaymentStage]:
    """The year's stages, stage I first."""
    return session.scalars(
        select(PaymentStage).where(PaymentStage.year == year).order_by(PaymentStage.stage_no)
    ).all()


def national_window(session: Session, *, stage_id: int) -> PaymentWindow | None:
    """The stage's window for every region and every channel."""
    return session.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage_id,
            PaymentWindow.region_id.is_(None),
            PaymentWindow.channel_code.is_(None),
        )
    ).first()


def household_window(
    session: Session, *, stage_id: int, household: Household
) -> PaymentWindow | None:
    """The most specific window of a stage for the family's region and channel."""
    region_ids = household.region_ids
    windows = session.scalars(
        select(PaymentWindow).where(
            PaymentWindow.stage_id == stage_id,
            or_(PaymentWindow.region_id.is_(None), PaymentWindow.region_id.in_(region_ids)),
            or_(
                PaymentWindow.channel_code.is_(None),
                PaymentWindow.channel_code == household.channel.code,
            ),
        )
    ).all()

    def specificity(window: PaymentWindow) -> tuple[int, int]:
        # A desa window beats a kabupaten one, which beats the national one; then the channel's.
        place = region_ids.index(window.region_id) if window.region_id else len(region_ids)
        return place, 0 if window.channel_code else 1

    return min(windows, key=specificity, default=None)


def period(tr: Translator, window: PaymentWindow) -> str:
    """Whole months as "Oktober–Desember", anything else as dates ("16–27 November 2026")."""
    whole_months = window.starts_on.day == 1 and (window.ends_on + timedelta(days=1)).day == 1
    if whole_months and window.starts_on.year == window.ends_on.year:
        return tr.month_range(window.starts_on.month, window.ends_on.month)
    return tr.date_range(window.starts_on, window.ends_on)


def schedule_status_label(tr: Translator, status: ScheduleStatus) -> str:
    """A stage's or window's progress in a few words."""
    labels = {
        ScheduleStatus.PLANNED: tr._("belum dimulai"),
        ScheduleStatus.IN_PROGRESS: tr._("sedang berjalan"),
        ScheduleStatus.COMPLETED: tr._("sudah selesai"),
    }
    return labels[status]


def window_caution(tr: Translator, window: PaymentWindow) -> str:
    """How sure the window is (basis, needs_verification) and when it was last updated."""
    if window.basis is WindowBasis.USUAL_PATTERN:
        sureness = tr._(
            "Ini pola yang biasa, bukan tanggal resmi; tanggal pastinya perlu dipastikan ke "
            "pendamping."
        )
    elif window.needs_verification:
        sureness = tr._("Jadwal ini belum pasti; perlu dipastikan ke pendamping.")
    elif window.basis is WindowBasis.REPORTED:
        sureness = tr._("Jadwal ini menurut pemberitaan, bukan pengumuman resmi.")
    else:
        sureness = tr._("Jadwal ini dari pengumuman resmi.")
    if window.source_date is None:
        return sureness
    updated = tr._("Data terakhir diperbarui {date}.", date=tr.short_date(window.source_date))
    return f"{sureness} {updated}"


# --- ask_payment_schedule ------------------------------------------------------------------------


@answers(SCHEDULE)
def answer_payment_schedule(request: Request) -> Reply:
    """The stage's window: for the family's region and channel if linked, else in general."""
    household = household_of(request)
    topic = schedule_topic(request)
    parts = [faq_text(request, SCHEDULE, topic)] if topic else []
    if household is not None:
        parts += per_stage(
            request, household, lambda stage: own_schedule(request, household, stage)
        )
    else:
        if not topic:
            parts.append(general_schedule(request))
        parts.append(link_hint_for(request))
    buttons = topic_buttons(request.tr, [STATUS, AMOUNT])
    return Reply("\n\n".join(p for p in parts if p), buttons, intent=SCHEDULE, topic_key=topic)


def schedule_topic(request: Request) -> str | None:
    """A bank named in the question picks its FAQ topic; talk of neighbours picks "wave"."""
    bank = request.parse.first("bank")
    if bank in BANK_TOPICS:
        return BANK_TOPICS[bank]
    return pick_topic(request.parse.text, SCHEDULE_KEYWORDS)


def general_schedule(request: Request) -> str:
    """The asked stages' national windows, or this year's four stages when none was named."""
    if request.parse.values("stage"):
        return "\n\n".join(per_stage(request, None, lambda stage: stage_text(request, stage)))
    return year_overview(request)


def stage_text(request: Request, stage: PaymentStage) -> str:
    """One stage's national window, its status, note and how sure it is."""
    tr = request.tr
    window = national_window(request.session, stage_id=stage.id)
    if window is None:
        return missing_schedule_text(request, stage.year, stage.stage_no)
    line = tr._(
        "Tahap {stage} tahun {year}: {period} ({status}).",
        stage=stage_label(stage),
        year=stage.year,
        period=period(tr, window),
        status=schedule_status_label(tr, stage.status),
    )
    return "\n".join(filter(None, [line, stage.note, window_caution(tr, window)]))


def year_overview(request: Request) -> str:
    """This year's stages, one line each, then the current stage's note and how sure it is."""
    tr = request.tr
    year = local_today(request, None).year
    stages = stages_of_year(request.session, year=year)
    windows = [(s, w) for s in stages if (w := national_window(request.session, stage_id=s.id))]
    if not windows:
        return "\n\n".join([missing_schedule_text(request, year), faq_text(request, SCHEDULE)])
    lines = [
        tr._(
            "• Tahap {stage}: {period} ({status})",
            stage=stage_label(s),
            period=period(tr, w),
            status=schedule_status_label(tr, s.status),
        )
        for s, w in windows
    ]
    current = current_stage(request.session, now=request.now)
    note = current.note if current and current.year == year else None
    heading = tr._("Jadwal pencairan PKH tahun {year}:", year=year)
    caution = window_caution(tr, windows[-1][1])
    return "\n".join(filter(None, [heading, *lines, note, caution]))


def own_schedule(request: Request, household: Household, stage: PaymentStage) -> str:
    """The stage's window for the family's region and channel, and the family's own status."""
    tr = request.tr
    window = household_window(request.session, stage_id=stage.id, household=household)
    if window is None:
        return missing_schedule_text(request, stage.year, stage.stage_no)
    disbursement = family_disbursement(
        request.session, family_id=household.family.id, stage_id=stage.id
    )
    lines = [
        tr._("Tahap {stage} tahun {year}:", stage=stage_label(stage), year=stage.year),
        family_window_line(tr, window, household),
        window.note or stage.note,
        window_caution(tr, window),
        disbursement_summary(tr, stage, disbursement),
    ]
    return "\n".join(line for line in lines if line)


def family_window_line(tr: Translator, window: PaymentWindow, household: Household) -> str:
    """The window that applies to the family: its region's and channel's, or the national one."""
    values = {"period": period(tr, window), "status": schedule_status_label(tr, window.status)}
    if window.region_id is None and window.channel_code is None:
        return tr._(
            "Jadwal umumnya: {period} ({status}). Jadwal khusus untuk wilayah dan bank "
            "Bapak/Ibu belum ada di data kami.",
            **values,
        )
    return tr._(
        "Jadwal untuk {place}, lewat {channel}: {period} ({status}).",
        place=window.region.name if window.region else tr._("semua wilayah"),
        channel=household.channel.name,
        **values,
    )


def disbursement_summary(
    tr: Translator, stage: PaymentStage, disbursement: Disbursement | None
) -> str:
    """One line on the family's own money for the stage."""
    if disbursement is None:
        return tr._(
            "Belum ada catatan penyaluran tahap {stage} untuk keluarga Bapak/Ibu.",
            stage=stage_label(stage),
        )
    if disbursement.status is DisbursementStatus.PAID and disbursement.paid_on is not None:
        return tr._(
            "Status keluarga Bapak/Ibu: sudah disalurkan {date} ({amount}).",
            date=tr.short_date(disbursement.paid_on),
            amount=tr.rupiah(disbursement.amount),
        )
    if disbursement.status is DisbursementStatus.FAILED and disbursement.failure_reason:
        return tr._(
            "Status keluarga Bapak/Ibu: belum bisa disalurkan ({reason}).",
            reason=disbursement.failure_reason.title,
        )
    return tr._("Status keluarga Bapak/Ibu: belum disalurkan.")


# --- ask_benefit_amount --------------------------------------------------------------------------


@answers(AMOUNT)
def answer_benefit_amount(request: Request) -> Reply:
    """Amounts per component for this year; for a linked family, its own components and total."""
    household = household_of(request)
    benefit_year = rates_year(request.session, up_to=local_today(request, household).year)
    topic = pick_topic(request.parse.text, AMOUNT_KEYWORDS)
    components = request.parse.values("component")
    if benefit_year is None:
        parts = [faq_text(request, AMOUNT, topic or "general", amount_list="")]
    elif topic:
        parts = [faq_text(request, AMOUNT, topic), *topic_extra(request, household, topic)]
    elif components:
        parts = [component_text(request, code, benefit_year, household) for code in components]
    elif household:
        parts = [family_benefit_text(request, household, benefit_year)]
    else:
        parts = [general_amounts_text(request, benefit_year)]
    if household is None:
        parts.append(link_hint_for(request))
    buttons = topic_buttons(request.tr, [SCHEDULE, STATUS])
    return Reply("\n\n".join(p for p in parts if p), buttons, intent=AMOUNT, topic_key=topic)


def rates_year(session: Session, *, up_to: int) -> BenefitYear | None:
    """The latest benefit year with amounts, not after `up_to` (this year, normally)."""
    return session.scalars(
        select(BenefitYear).where(BenefitYear.year <= up_to).order_by(BenefitYear.year.desc())
    ).first()


def components_by_code(session: Session) -> dict[str, Component]:
    """Every component row by its code."""
    return {c.code: c for c in session.scalars(select(Component).order_by(Component.sort_order))}


def year_caution(tr: Translator, benefit_year: BenefitYear) -> str:
    """The year's scheme note when its amounts are not confirmed for that year; else ""."""
    if not benefit_year.needs_verification:
        return ""
    return tr._(
        "Catatan: {note} Perlu dipastikan ke pendamping.", note=benefit_year.scheme_note.strip()
    )


def general_amounts_text(request: Request, benefit_year: BenefitYear) -> str:
    """The FAQ's general answer with this year's per-stage amount of every component."""
    tr = request.tr
    amounts = benefit_amounts(request.session, year=benefit_year.year)
    names = components_by_code(request.session)
    lines = [
        tr._(
            "• {name}: {amount}",
            name=names[code].name,
            amount=money(tr, row.per_stage or Decimal(0), uncertain=row.needs_verification),
        )
        for code, row in sorted(amounts.items(), key=lambda item: names[item[0]].sort_order)
    ]
    text = faq_text(request, AMOUNT, amount_list="\n".join(lines))
    return "\n\n".join(filter(None, [text, year_caution(tr, benefit_year)]))


def component_text(
    request: Request, code: str, benefit_year: BenefitYear, household: Household | None
) -> str:
    """One component's amount per stage and per year, who qualifies, and the family's share."""
    tr = request.tr
    row = benefit_amounts(request.session, year=benefit_year.year).get(code)
    component = request.session.get(Component, code)
    if row is None or row.per_stage is None or component is None:
        return general_amounts_text(request, benefit_year)
    line = tr._(
        "Komponen {name} tahun {year}: {per_stage} per tahap ({per_year} setahun).",
        name=component.name,
        year=benefit_year.year,
        per_stage=money(tr, row.per_stage, uncertain=row.needs_verification),
        per_year=money(tr, row.per_year, uncertain=row.needs_verification),
    )
    caution = year_caution(tr, benefit_year) or (
        tr._("Nilai ini belum pasti; perlu dipastikan ke pendamping.")
        if row.needs_verification
        else ""
    )
    family = family_component_line(request, household, row) if household else ""
    return "\n".join(filter(None, [line, component.eligibility_note.strip(), family, caution]))


def family_component_line(request: Request, household: Household, row: BenefitAmount) -> str:
    """How many of the family's members have this component, and whether the cap leaves it out."""
    benefit = family_benefit(request.session, household=household, year=row.year)
    count = household.components.count(row.component_code)
    if benefit is None or count == 0:
        return request.tr._(
            "Di data keluarga Bapak/Ibu belum tercatat anggota dengan komponen ini."
        )
    if row.component_code in benefit.unpaid:
        return request.tr._(
            "Di keluarga Bapak/Ibu ada {count} anggota dengan komponen ini; {left_out} di "
            "antaranya tidak ikut dihitung karena batas {cap} komponen per keluarga (aturan "
            "pemilihannya belum pasti, perlu dipastikan ke pendamping).",
            count=count,
            left_out=benefit.unpaid.count(row.component_code),
            cap=benefit.rates.max_paid_components,
        )
    return request.tr._(
        "Di keluarga Bapak/Ibu ada {count} anggota dengan komponen ini.", count=count
    )


def family_benefit_text(request: Request, household: Household, benefit_year: BenefitYear) -> str:
    """The family's components, the cap, and the per-stage total with its breakdown."""
    tr = request.tr
    benefit = family_benefit(request.session, household=household, year=benefit_year.year)
    if benefit is None or not benefit.components:
        return tr._(
            "Di data kami belum tercatat komponen PKH untuk keluarga Bapak/Ibu. Tanyakan ke "
            "pendamping, {pendamping}.",
            pendamping=household.pendamping.name,
        )
    heading = tr._(
        "Bantuan PKH keluarga Bapak/Ibu tahun {year}, per tahap:", year=benefit_year.year
    )
    uncertain = benefit.needs_verification
    total = tr._(
        "Jumlah: {total} per tahap, atau {year_total} setahun ({stages} tahap), lewat {channel}.",
        total=money(tr, benefit.total, uncertain=uncertain),
        year_total=money(tr, benefit.total * benefit_year.stages_per_year, uncertain=uncertain),
        stages=benefit_year.stages_per_year,
        channel=household.channel.name,
    )
    lines = [heading, *breakdown_lines(request, benefit), total]
    extra = [
        cap_text(tr, benefit, components_by_code(request.session)),
        year_caution(tr, benefit_year),
    ]
    return "\n".join(lines) + "".join(f"\n\n{text}" for text in extra if text)


def breakdown_lines(request: Request, benefit: FamilyBenefit) -> list[str]:
    """One line per paid component: its name, how many members, and the amount."""
    tr = request.tr
    names = components_by_code(request.session)
    lines = []
    for code, count in Counter(benefit.paid).items():
        row = benefit.amounts[code]
        each = row.per_stage or Decimal(0)
        amount = money(tr, each * count, uncertain=row.needs_verification)
        if count == 1:
            lines.append(tr._("• {name}: {amount}", name=names[code].name, amount=amount))
        else:
            lines.append(
                tr._(
                    "• {name}, {count} orang: {amount}",
                    name=names[code].name,
                    count=count,
                    amount=amount,
                )
            )
    return lines


def cap_text(tr: Translator, benefit: FamilyBenefit, names: dict[str, Component]) -> str:
    """When the cap leaves components out: which ones, and that the rule is not certain."""
    cap = benefit.rates.max_paid_components
    if not benefit.unpaid or cap is None:
        return ""
    left_out = ", ".join(names[code].name for code in benefit.unpaid)
    return tr._(
        "Keluarga Bapak/Ibu punya {count} komponen, tetapi yang dihitung paling banyak {cap}, "
        "jadi {left_out} tidak ikut dihitung. Komponen mana yang dihitung belum pasti aturannya; "
        "di sini kami hitung yang nilainya paling besar. Perlu dipastikan ke pendamping.",
        count=len(benefit.components),
        cap=cap,
        left_out=left_out,
    )


def topic_extra(request: Request, household: Household | None, topic: str) -> list[str]:
    """For a linked family: its own breakdown (cap) or its amounts this year (changed)."""
    if household is None:
        return []
    year = local_today(request, household).year
    benefit_year = rates_year(request.session, up_to=year)
    if topic == "cap" and benefit_year is not None:
        return [family_benefit_text(request, household, benefit_year)]
    if topic == "changed":
        return [amount_history(request, household, year)]
    return []


def amount_history(request: Request, household: Household, year: int) -> str:
    """The family's recorded amount per stage of the year, to compare."""
    tr = request.tr
    rows = family_disbursements(request.session, family_id=household.family.id, year=year)
    if not rows:
        return ""
    lines = [
        tr._(
            "• Tahap {stage}: {amount} ({status})",
            stage=stage_label(row.stage),
            amount=tr.rupiah(row.amount),
            status=disbursement_status_label(tr, row.status),
        )
        for row in rows
    ]
    heading = tr._("Catatan kami untuk keluarga Bapak/Ibu tahun {year}:", year=year)
    return "\n".join([heading, *lines])


def disbursement_status_label(tr: Translator, status: DisbursementStatus) -> str:
    """A disbursement's state in a few words."""
    labels = {
        DisbursementStatus.PLANNED: tr._("belum disalurkan"),
        DisbursementStatus.PAID: tr._("sudah disalurkan"),
        DisbursementStatus.FAILED: tr._("gagal disalurkan"),
    }
    return labels[status]


# --- ask_payment_status --------------------------------------------------------------------------


@answers(STATUS)
def answer_payment_status(request: Request) -> Reply:
    """The family's own status for the current (or the asked) stage; else how to check."""
    household = household_of(request)
    if household is None:
        topic = pick_topic(request.parse.text, STATUS_KEYWORDS) or "general"
        text = paragraphs(faq_text(request, STATUS, topic), link_hint_for(request))
        return Reply(text, topic_buttons(request.tr, [SCHEDULE]), intent=STATUS, topic_key=topic)
    parts = per_stage(
        request, household, lambda stage: stage_status_text(request, household, stage)
    )
    parts.extend(
        filter(None, [family_standing(request.tr, household), checked_at(request, household)])
    )
    buttons = topic_buttons(request.tr, [SCHEDULE, Intent.REQUEST_HUMAN])
    return Reply("\n\n".join(parts), buttons, intent=STATUS)


def stage_status_text(request: Request, household: Household, stage: PaymentStage) -> str:
    """Paid (date, amount, channel), planned (the window) or failed (reason and advice)."""
    disbursement = family_disbursement(
        request.session, family_id=household.family.id, stage_id=stage.id
    )
    if disbursement is None:
        return disbursement_summary(request.tr, stage, None)
    if disbursement.status is DisbursementStatus.PAID and disbursement.paid_on is not None:
        return paid_text(request.tr, stage, disbursement, disbursement.paid_on)
    if disbursement.status is DisbursementStatus.FAILED:
        return failed_text(request.tr, stage, disbursement, household)
    return planned_text(request, stage, household)


def paid_text(
    tr: Translator, stage: PaymentStage, disbursement: Disbursement, paid_on: date
) -> str:
    """The stage was paid: when, how much, through which channel."""
    return tr._(
        "Tahap {stage} tahun {year} untuk keluarga Bapak/Ibu sudah disalurkan pada {date}: "
        "{amount} lewat {channel}.",
        stage=stage_label(stage),
        year=stage.year,
        date=tr.long_date(paid_on),
        amount=tr.rupiah(disbursement.amount),
        channel=disbursement.channel.name,
    )


def failed_text(
    tr: Translator, stage: PaymentStage, disbursement: Disbursement, household: Household
) -> str:
    """The stage failed: the reason, what was noted, what to do, and who can help."""
    reason = disbursement.failure_reason
    lines = [
        tr._(
            "Tahap {stage} tahun {year} untuk keluarga Bapak/Ibu belum bisa disalurkan.",
            stage=stage_label(stage),
            year=stage.year,
        )
    ]
    if reason is not None:
        lines.append(
            tr._(
                "Penyebabnya: {title}. {explanation}",
                title=reason.title,
                explanation=reason.explanation.strip(),
            )
        )
    if disbursement.note:
        lines.append(tr._("Catatan: {note}", note=disbursement.note))
    if reason is not None:
        lines.append(tr._("Yang perlu dilakukan: {advice}", advice=reason.advice.strip()))
        if reason.needs_verification:
            lines.append(tr._("Penyebab ini perlu dipastikan ke pendamping."))
    lines.append(pendamping_line(tr, household))
    return "\n".join(lines)


def planned_text(request: Request, stage: PaymentStage, household: Household) -> str:
    """Not paid yet: the window for the family's region and channel, and why it can take time."""
    tr = request.tr
    window = household_window(request.session, stage_id=stage.id, household=household)
    lines = [
        tr._(
            "Tahap {stage} tahun {year} untuk keluarga Bapak/Ibu belum disalurkan.",
            stage=stage_label(stage),
            year=stage.year,
        )
    ]
    if window is not None:
        lines += [family_window_line(tr, window, household), window_caution(tr, window)]
    # Waiting for one's turn only explains the delay once paying has started somewhere.
    wave = request.session.get(FailureReason, WAVE_REASON)
    if wave is not None and (window is None or window.status is not ScheduleStatus.PLANNED):
        lines += [wave.explanation.strip(), wave.advice.strip()]
    return "\n".join(lines)


def family_standing(tr: Translator, household: Household) -> str:
    """A line on the family's standing in PKH, only when it is not active."""
    family = household.family
    if family.status is FamilyStatus.ACTIVE:
        return ""
    if family.status_since is None:
        return tr._(
            "Status keluarga Bapak/Ibu di PKH: {status}.",
            status=family_status_label(tr, family.status),
        )
    return tr._(
        "Status keluarga Bapak/Ibu di PKH: {status} sejak {date}.",
        status=family_status_label(tr, family.status),
        date=tr.short_date(family.status_since),
    )


def checked_at(request: Request, household: Household) -> str:
    """When the data was looked up, in the family's own time zone."""
    return request.tr._(
        "Dicek pada {moment}.",
        moment=request.tr.local_datetime(request.now, household.time_zone),
    )
