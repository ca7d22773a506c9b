"""When PKH is paid, how much, and whether the asker's own money for a stage has arrived.

Answers are for the year the question names ("tahap 1 2027", "tahun depan"), else this year;
a window is upcoming, running or finished by its dates and today in the family's time zone
(WIB for anyone not linked), unless programme staff closed it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from actions.base import Reply, Request
from actions.card import channel_line
from actions.content import faq_text, link_hint_for, paragraphs, pick_topic, topic_buttons
from actions.household import (
    FamilyBenefit,
    Household,
    family_status_label,
    household_of,
    local_today,
    pendamping_contact,
    pendamping_line,
    roman,
    stage_label,
)
from actions.registry import answers
from core.i18n import Translator
from nlu.schema import Intent
from programme.benefits import (
    benefit_amounts,
    benefit_year,
    component,
    components_by_code,
    rates_year,
)
from programme.content import complaint_channels
from programme.households import family_benefit
from programme.imports import IMPORT_SOURCE
from programme.models import (
    BenefitAmount,
    BenefitYear,
    ChannelKind,
    Component,
    Disbursement,
    DisbursementStatus,
    FamilyStatus,
    PaymentStage,
    PaymentWindow,
    TimeZone,
    WindowBasis,
)
from programme.payments import (
    WindowState,
    current_stage,
    failure_reason,
    family_disbursement,
    family_disbursements,
    household_window,
    national_window,
    schedule_updated_on,
    stage_of,
    stage_to_come,
    stages_of_year,
    window_state,
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
# Who may collect the money ("boleh diwakilkan?", "pendamping yg ambilin"): typed or normalised.
WITHDRAWAL_KEYWORDS = {
    "withdrawal": (
        "ambilin",
        "ngambilin",
        "diambilin",
        "ambilkan",
        "diambilkan",
        "mengambilkan",
        "ngambilkan",
        "tarikin",
        "narikin",
        "ditarikin",
        "menarikkan",
        "ditarikkan",
        "wakilkan",
        "diwakilkan",
        "mewakilkan",
        "wakilin",
        "diwakilin",
        "diwakili",
        "surat kuasa",
        "dikuasakan",
        "yang ambil",
        "yg ambil",
        "yang mengambil",
        "diambil siapa",
        "diambil orang lain",
        "harus pengurus",
    )
}
# What to bring to the bank, the ATM or the post office.
BRING_KEYWORDS = {
    "what_to_bring": (
        "bawa",
        "dibawa",
        "membawa",
        "bawain",
        "syarat",
        "syaratnya",
        "persyaratan",
        "berkas",
        "dokumen",
        "fotokopi",
    )
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
PENDAMPING_WORDS = {"pendamping": ("pendamping", "pendampingnya", "pendamping pkh")}
# Where to report someone who offers to collect the family's money (complaint_channels.yml).
WITHDRAWAL_COMPLAINT_CHANNELS = ("call171", "dinsos")
# Topics that answer how the money is collected, not when: no stage windows after them (nor
# after the Pos topic when the question is what to bring).
COLLECTING_TOPICS = ("withdrawal", "pendamping_withdrawal", "what_to_bring")
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
    "components": (
        "komponen apa",
        "komponen keluarga",
        "komponen saya",
        "komponen kami",
        "komponennya apa",
        "komponen pkh apa",
        "apa saja komponen",
        "apa aja komponen",
        "terhitung komponen",
        "masuk komponen",
        "tercatat komponen",
        "dari komponen",
        "punya komponen",
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


def money(tr: Translator, amount: Decimal, *, uncertain: bool) -> str:
    """Rupiah, prefixed with "sekitar" when the amount still needs verification."""
    return tr._("sekitar {amount}", amount=tr.rupiah(amount)) if uncertain else tr.rupiah(amount)


@dataclass(frozen=True)
class AskedStages:
    """The year a question is about and its stages; a stage we have no row for stays a number."""

    year: int
    stages: list[PaymentStage | int]


def asked_year(request: Request, household: Household | None) -> int:
    """The year the question names ("2027", "tahun depan"), else this year, in local time."""
    today = local_today(request, household)
    return request.parse.year(today) or today.year


def requested_stages(
    request: Request, household: Household | None, *, to_come: bool = False
) -> AskedStages:
    """The stages named in the question, of the year it names (else this year's).

    No stage named: every stage of another year when one is named; else the current stage
    (with `to_come`, the one being paid or the next to start, for "kapan cair?").
    """
    today = local_today(request, household)
    named_year = request.parse.year(today)
    year = named_year or today.year
    asked = [int(value) for value in request.parse.values("stage")]
    if asked:
        return AskedStages(
            year, [stage_of(request.session, year=year, stage_no=n) or n for n in asked]
        )
    if named_year is not None and named_year != today.year:
        return AskedStages(year, list(stages_of_year(request.session, year=year)))
    zone = household.time_zone if household else TimeZone.WIB
    find = stage_to_come if to_come else current_stage
    current = find(request.session, now=request.now, time_zone=zone)
    return AskedStages(current.year if current else year, [current] if current else [])


def per_stage(
    request: Request,
    household: Household | None,
    render: Callable[[PaymentStage], str],
    *,
    to_come: bool = False,
) -> list[str]:
    """`render` every requested stage, saying which ones we have no schedule for."""
    asked = requested_stages(request, household, to_come=to_come)
    if not asked.stages:
        return [missing_schedule_text(request, asked.year), faq_text(request, SCHEDULE)]
    return [
        render(stage)
        if isinstance(stage, PaymentStage)
        else missing_schedule_text(request, asked.year, stage)
        for stage in asked.stages
    ]


def missing_schedule_text(request: Request, year: int, stage_no: int | None = None) -> str:
    """No schedule for that year (or stage) yet: say so, with the date of our latest schedule."""
    tr = request.tr
    latest = schedule_updated_on(request.session)
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


def period(tr: Translator, window: PaymentWindow) -> str:
    """Whole months as "Oktober–Desember", anything else as dates ("16–27 November 2026")."""
    whole_months = window.starts_on.day == 1 and (window.ends_on + timedelta(days=1)).day == 1
    if whole_months and window.starts_on.year == window.ends_on.year:
        return tr.month_range(window.starts_on.month, window.ends_on.month)
    return tr.date_range(window.starts_on, window.ends_on)


def state_label(tr: Translator, state: WindowState) -> str:
    """A window's state in a few words."""
    labels = {
        WindowState.UPCOMING: tr._("belum dimulai"),
        WindowState.RUNNING: tr._("sedang berjalan"),
        WindowState.FINISHED: tr._("sudah selesai"),
        WindowState.CLOSED: tr._("sudah ditutup"),
    }
    return labels[state]


def window_caution(tr: Translator, window: PaymentWindow, *, time_zone: str) -> str:
    """How sure the window is, where it comes from and when, and whether it was closed."""
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
    return " ".join(
        filter(None, [sureness, source_text(tr, window), closed_text(tr, window, time_zone)])
    )


def source_text(tr: Translator, window: PaymentWindow) -> str:
    """Where the window comes from (the announcement, the report or the import) and its date."""
    source = (window.source or window.stage.source or "").strip().rstrip(".")
    if source == IMPORT_SOURCE:
        source = tr._("file jadwal yang diimpor petugas PKH")
    day = window.source_date or window.stage.source_date
    named = tr._("Sumber: {source}.", source=source) if source else ""
    if day is None:
        return named
    updated = tr._("Data terakhir diperbarui {date}.", date=tr.short_date(day))
    return f"{named} {updated}".strip()


def closed_text(tr: Translator, window: PaymentWindow, time_zone: str) -> str:
    """When programme staff closed the window; "" for a window nobody closed."""
    if window.closed_at is None:
        return ""
    day = window.closed_at.astimezone(ZoneInfo(time_zone)).date()
    return tr._("Penyaluran tahap ini sudah ditutup pada {date}.", date=tr.short_date(day))


def national_state(request: Request, window: PaymentWindow) -> WindowState:
    """A national window's state on today's date in WIB, the national reference."""
    return window_state(window, today=local_today(request, None))


# --- ask_payment_schedule ------------------------------------------------------------------------


@answers(SCHEDULE)
def answer_payment_schedule(request: Request) -> Reply:
    """The stage's window: for the family's region and channel if linked, else in general."""
    household = household_of(request)
    topic = schedule_topic(request)
    if topic is not None and is_about_collecting(request, topic):
        return collecting_reply(request, household, topic)
    parts = [faq_text(request, SCHEDULE, topic)] if topic else []
    if household is not None:
        parts += per_stage(
            request, household, lambda stage: own_schedule(request, household, stage), to_come=True
        )
    else:
        if not topic:
            parts.append(general_schedule(request))
        parts.append(link_hint_for(request))
    buttons = topic_buttons(request.tr, [STATUS, AMOUNT])
    return Reply("\n\n".join(p for p in parts if p), buttons, intent=SCHEDULE, topic_key=topic)


def schedule_topic(request: Request) -> str | None:
    """Who may collect the money, what to bring, a bank's way of paying, or the waves."""
    text = request.parse.text
    bank = request.parse.first("bank")
    if pick_topic(text, WITHDRAWAL_KEYWORDS):
        return "pendamping_withdrawal" if pick_topic(text, PENDAMPING_WORDS) else "withdrawal"
    if pick_topic(text, BRING_KEYWORDS):
        # The Pos answer already says what to bring, and more precisely.
        return "pos" if bank == "pos" else "what_to_bring"
    if bank in BANK_TOPICS:
        return BANK_TOPICS[bank]
    return pick_topic(text, SCHEDULE_KEYWORDS)


def is_about_collecting(request: Request, topic: str) -> bool:
    """True when the question is who collects the money or what to bring, not when it comes."""
    if topic == "pos":
        return pick_topic(request.parse.text, BRING_KEYWORDS) is not None
    return topic in COLLECTING_TOPICS


def collecting_reply(request: Request, household: Household | None, topic: str) -> Reply:
    """Who may collect the money and what to bring; a plain no for a pendamping collecting it."""
    tr = request.tr
    parts = [faq_text(request, SCHEDULE, topic)]
    if topic == "pendamping_withdrawal":
        channels = complaint_channels(request.session, codes=WITHDRAWAL_COMPLAINT_CHANNELS)
        lines = [channel_line(tr, channel, household) for channel in channels]
        parts.append("\n".join([tr._("Laporkan ke:"), *lines]))
        buttons = topic_buttons(tr, [Intent.FILE_COMPLAINT, Intent.REQUEST_HUMAN])
    else:
        buttons = topic_buttons(tr, [SCHEDULE, STATUS])
    if household is not None:
        parts.append(own_collecting_text(tr, household))
    else:
        parts.append(link_hint_for(request))
    return Reply(paragraphs(*parts), buttons, intent=SCHEDULE, topic_key=topic)


def own_collecting_text(tr: Translator, household: Household) -> str:
    """The family's channel and its registered pengurus, who collects the money."""
    channel = household.channel
    if channel.kind is ChannelKind.POS:
        how = tr._(
            "Bantuan keluarga Bapak/Ibu disalurkan lewat {channel}: tunggu surat undangannya.",
            channel=channel.name,
        )
    else:
        how = tr._("Bantuan keluarga Bapak/Ibu disalurkan lewat {channel}.", channel=channel.name)
    pengurus = next((m for m in household.members if m.is_pengurus), None)
    if pengurus is None:
        return how
    who = tr._("Pengurus yang tercatat di data kami: {name}.", name=pengurus.name)
    return f"{how}\n{who}"


def general_schedule(request: Request) -> str:
    """The asked stages' national windows, or the year's four stages when none was named."""
    if request.parse.values("stage"):
        return "\n\n".join(per_stage(request, None, lambda stage: stage_text(request, stage)))
    return year_overview(request)


def stage_text(request: Request, stage: PaymentStage) -> str:
    """One stage's national window, its state, note and how sure it is."""
    tr = request.tr
    window = national_window(request.session, stage_id=stage.id)
    if window is None:
        return missing_schedule_text(request, stage.year, stage.stage_no)
    line = tr._(
        "Tahap {stage} tahun {year}: {period} ({status}).",
        stage=stage_label(stage),
        year=stage.year,
        period=period(tr, window),
        status=state_label(tr, national_state(request, window)),
    )
    caution = window_caution(tr, window, time_zone=TimeZone.WIB)
    return "\n".join(filter(None, [line, stage.note, caution]))


def year_overview(request: Request) -> str:
    """The year's stages, one line each, then the current stage's note and how sure it is."""
    tr = request.tr
    year = asked_year(request, None)
    stages = stages_of_year(request.session, year=year)
    windows = [(s, w) for s in stages if (w := national_window(request.session, stage_id=s.id))]
    if not windows:
        return "\n\n".join([missing_schedule_text(request, year), faq_text(request, SCHEDULE)])
    lines = [
        tr._(
            "• Tahap {stage}: {period} ({status})",
            stage=stage_label(s),
            period=period(tr, w),
            status=state_label(tr, national_state(request, w)),
        )
        for s, w in windows
    ]
    current = current_stage(request.session, now=request.now)
    note = current.note if current and current.year == year else None
    heading = tr._("Jadwal pencairan PKH tahun {year}:", year=year)
    caution = window_caution(tr, windows[-1][1], time_zone=TimeZone.WIB)
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
        family_window_line(request, window, household),
        window.note or stage.note,
        window_caution(tr, window, time_zone=household.time_zone),
        disbursement_summary(tr, stage, disbursement),
    ]
    return "\n".join(line for line in lines if line)


def family_window_line(request: Request, window: PaymentWindow, household: Household) -> str:
    """The window that applies to the family: its region's and channel's, or the national one."""
    tr = request.tr
    state = window_state(window, today=household.today(request.now))
    values = {"period": period(tr, window), "status": state_label(tr, state)}
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
            "Belum ada catatan penyaluran tahap {stage} tahun {year} untuk keluarga Bapak/Ibu.",
            stage=stage_label(stage),
            year=stage.year,
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
    """Amounts per component for the year asked; for a linked family, its own components."""
    household = household_of(request)
    year = asked_year(request, household)
    rates = rates_year(request.session, up_to=year)
    topic = pick_topic(request.parse.text, AMOUNT_KEYWORDS)
    components = request.parse.values("component")
    parts = [missing_rates_text(request, year, rates)]
    if rates is None:
        parts.append(faq_text(request, AMOUNT, topic or "general", amount_list=""))
    elif topic == "components":
        parts.append(
            family_components_text(request, household, rates)
            if household
            else general_amounts_text(request, rates)
        )
    elif topic:
        parts += [faq_text(request, AMOUNT, topic), *topic_extra(request, household, topic)]
    elif components:
        parts += [component_text(request, code, rates, household) for code in components]
    elif household:
        parts.append(family_benefit_text(request, household, rates))
    else:
        parts.append(general_amounts_text(request, rates))
    if household is None:
        parts.append(link_hint_for(request))
    buttons = topic_buttons(request.tr, [SCHEDULE, STATUS])
    return Reply(paragraphs(*parts), buttons, intent=AMOUNT, topic_key=topic)


def missing_rates_text(request: Request, year: int, rates: BenefitYear | None) -> str:
    """When the year asked has no amounts of its own: say so, and which year's follow; else ""."""
    if rates is not None and rates.year == year:
        return ""
    if benefit_year(request.session, year=year) is not None:
        return ""
    tr = request.tr
    missing = tr._("Besaran bantuan PKH tahun {year} belum ada di data kami.", year=year)
    if rates is None:
        return missing
    shown = tr._("Berikut besaran tahun {year}, yang terakhir kami punya.", year=rates.year)
    return f"{missing} {shown}"


def year_caution(tr: Translator, benefit_year: BenefitYear) -> str:
    """The year's scheme note when its amounts are not confirmed for that year; else ""."""
    if not benefit_year.needs_verification:
        return ""
    return tr._(
        "Catatan: {note} Perlu dipastikan ke pendamping.", note=benefit_year.scheme_note.strip()
    )


def general_amounts_text(request: Request, benefit_year: BenefitYear) -> str:
    """The FAQ's general answer with the year's per-stage amount of every component."""
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
    found = component(request.session, code=code)
    if row is None or row.per_stage is None or found is None:
        return general_amounts_text(request, benefit_year)
    line = tr._(
        "Komponen {name} tahun {year}: {per_stage} per tahap ({per_year} setahun).",
        name=found.name,
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
    return "\n".join(filter(None, [line, found.eligibility_note.strip(), family, caution]))


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


def no_components_text(tr: Translator, household: Household) -> str:
    """The family has no component on record."""
    return tr._(
        "Di data kami belum tercatat komponen PKH untuk keluarga Bapak/Ibu. Tanyakan ke "
        "pendamping, {pendamping}.",
        pendamping=household.pendamping.name,
    )


def family_benefit_text(request: Request, household: Household, benefit_year: BenefitYear) -> str:
    """The family's components, the cap, and the per-stage total with its breakdown."""
    tr = request.tr
    benefit = family_benefit(request.session, household=household, year=benefit_year.year)
    if benefit is None or not benefit.components:
        return no_components_text(tr, household)
    heading = tr._(
        "Bantuan PKH keluarga Bapak/Ibu tahun {year}, per tahap:", year=benefit_year.year
    )
    lines = [heading, *breakdown_lines(request, benefit), total_line(tr, household, benefit)]
    extra = [
        cap_text(tr, benefit, components_by_code(request.session)),
        year_caution(tr, benefit_year),
    ]
    return "\n".join(lines) + "".join(f"\n\n{text}" for text in extra if text)


def total_line(tr: Translator, household: Household, benefit: FamilyBenefit) -> str:
    """The family's amount per stage and per year, and the channel it is paid through."""
    uncertain = benefit.needs_verification
    stages = benefit.year.stages_per_year
    return tr._(
        "Jumlah: {total} per tahap, atau {year_total} setahun ({stages} tahap), lewat {channel}.",
        total=money(tr, benefit.total, uncertain=uncertain),
        year_total=money(tr, benefit.total * stages, uncertain=uncertain),
        stages=stages,
        channel=household.channel.name,
    )


def family_components_text(
    request: Request, household: Household, benefit_year: BenefitYear
) -> str:
    """Who in the family holds which component, which ones the cap leaves out, and the total."""
    tr = request.tr
    benefit = family_benefit(request.session, household=household, year=benefit_year.year)
    held = [
        c
        for c in household.member_components
        if benefit and c.component_code in benefit.rates.per_stage
    ]
    if benefit is None or not held:
        return no_components_text(tr, household)
    # Which of two equal components the cap leaves out is not known; the later ones are marked.
    left_out = Counter(benefit.unpaid)
    marked: set[int] = set()
    for held_component in reversed(held):
        if left_out[held_component.component_code] > 0:
            left_out[held_component.component_code] -= 1
            marked.add(held_component.id)
    lines = [
        tr._(
            "Komponen PKH keluarga Bapak/Ibu menurut data kami (tahun {year}):",
            year=benefit_year.year,
        )
    ]
    for held_component in held:
        row = benefit.amounts[held_component.component_code]
        values = {
            "name": held_component.member.name,
            "component": held_component.component.name,
            "amount": money(tr, row.per_stage or Decimal(0), uncertain=row.needs_verification),
        }
        if held_component.id in marked:
            lines.append(tr._("• {name}: {component} (tidak ikut dihitung)", **values))
        else:
            lines.append(tr._("• {name}: {component}, {amount} per tahap", **values))
    lines.append(total_line(tr, household, benefit))
    report = tr._(
        "Kalau ada yang berubah (kelahiran, kehamilan, anak naik jenjang atau lulus, anggota "
        "meninggal), laporkan ke pendamping, {pendamping}, supaya komponennya diperbarui.",
        pendamping=pendamping_contact(tr, household.pendamping),
    )
    return paragraphs(
        "\n".join(lines),
        cap_text(tr, benefit, components_by_code(request.session)),
        year_caution(tr, benefit_year),
        report,
    )


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
    """For a linked family: its own breakdown (cap) or its amounts of the year (changed)."""
    if household is None:
        return []
    year = asked_year(request, household)
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
    state = None
    if window is not None:
        state = window_state(window, today=household.today(request.now))
        lines += [
            family_window_line(request, window, household),
            window_caution(tr, window, time_zone=household.time_zone),
        ]
    if state in (WindowState.FINISHED, WindowState.CLOSED):
        # The window is over: waiting for one's turn no longer explains anything.
        lines += [
            tr._(
                "Masa penyaluran tahap ini sudah lewat, tetapi di data kami bantuan keluarga "
                "Bapak/Ibu belum tercatat disalurkan. Silakan cek saldo, lalu tanyakan ke "
                "pendamping."
            ),
            pendamping_line(tr, household),
        ]
    elif state is not WindowState.UPCOMING:
        # Waiting for one's turn explains the delay once paying has started.
        wave = failure_reason(request.session, code=WAVE_REASON)
        if wave is not None:
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
