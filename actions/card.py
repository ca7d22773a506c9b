"""The KKS card (lost, blocked, swallowed, …), complaints and where to make them, and BPNT."""

from __future__ import annotations

from actions.base import Reply, Request
from actions.content import faq_text, pick_topic, topic_buttons
from actions.household import Household, household_of, pendamping_line, stage_label
from actions.registry import answers
from core.i18n import Translator
from nlu.schema import Intent
from programme.content import complaint_channels
from programme.models import ChannelKind, ComplaintChannel, DisbursementStatus
from programme.payments import current_stage, family_disbursement

CARD = Intent.REPORT_CARD_PROBLEM
COMPLAINT = Intent.FILE_COMPLAINT
BPNT = Intent.ASK_BPNT

# Sub-topics of faq.yml, picked from whole words of the question (typed or normalised, so
# "ketelen" counts as "tertelan"); the first match wins. Inflected forms are listed one by one.
CARD_KEYWORDS = {
    "swallowed": (
        "tertelan",
        "ketelan",
        "ditelan",
        "nyangkut",
        "tersangkut",
        "tertahan",
        "ditahan atm",
        "ditahan mesin",
        "tidak keluar",
    ),
    "card_held": (
        "ditahan",
        "dipegang",
        "disimpan ketua",
        "disimpan pendamping",
        "dibawa ketua",
        "dibawa pendamping",
        "tidak dikembalikan",
    ),
    "blocked": (
        "blokir",
        "diblokir",
        "terblokir",
        "keblokir",
        "terkunci",
        "kekunci",
        "salah pin",
        "pin salah",
        "tidak bisa dipakai",
        "tidak bisa digunakan",
    ),
    "pin_forgotten": ("lupa pin", "pin lupa", "lupa pinnya", "lupa kode", "ganti pin", "reset pin"),
    "lost": ("hilang", "kehilangan", "dicuri", "kecurian", "jatuh", "tercecer", "kececer"),
    "damaged": ("rusak", "patah", "retak", "tidak terbaca", "tidak kebaca", "chip", "bengkok"),
    "never_received": (
        "belum dapat",
        "belum dibagikan",
        "belum terima",
        "belum menerima",
        "belum pernah",
        "belum punya",
        "tidak dapat kartu",
        "tidak punya kartu",
        "kartu baru",
    ),
}
COMPLAINT_KEYWORDS = {
    "card_held": CARD_KEYWORDS["card_held"],
    "illegal_levy": (
        "pungli",
        "pungutan",
        "potong",
        "dipotong",
        "potongan",
        "motong",
        "minta uang",
        "dimintai uang",
        "minta bagian",
        "minta jatah",
        "setor",
        "setoran",
        "uang rokok",
        "sumbangan",
    ),
    "wrong_target": (
        "salah sasaran",
        "tidak tepat sasaran",
        "tidak layak",
        "orang mampu",
        "orang kaya",
        "sudah mampu",
        "punya mobil",
        "sanggah",
        "tidak adil",
    ),
}
# Which complaint channels (complaint_channels.yml codes) fit each complaint topic. A levy or a
# held card may involve the pendamping, so those go to 171 and the Dinas Sosial.
COMPLAINT_CHANNELS = {
    "general": ("call171", "pendamping", "dinsos", "cekbansos_app"),
    "illegal_levy": ("call171", "dinsos"),
    "card_held": ("call171", "dinsos"),
    "wrong_target": ("cekbansos_app", "operator_desa", "pendamping"),
}
PENDAMPING_CHANNEL = "pendamping"


# --- report_card_problem ------------------------------------------------------------------------


@answers(CARD)
def answer_card_problem(request: Request) -> Reply:
    """The steps for the card's problem; for a linked KPM, their own bank and pendamping."""
    topic = pick_topic(request.parse.text, CARD_KEYWORDS) or "general"
    if topic == "card_held":
        # Someone else keeping the card is a complaint, whatever the NLU called it.
        return complaint_reply(request, "card_held")
    household = household_of(request)
    parts = [faq_text(request, CARD, topic)]
    if household is not None:
        parts += [own_card_text(request, household), stage_problem_text(request, household)]
    buttons = topic_buttons(request.tr, ["request_human", COMPLAINT])
    text = "\n\n".join(part for part in parts if part)
    return Reply(text, buttons, intent=CARD, topic_key=topic)


def own_card_text(request: Request, household: Household) -> str:
    """Which bank holds the family's account (or that Pos pays without a card), and who helps."""
    tr = request.tr
    channel = household.channel
    if channel.kind is ChannelKind.POS:
        where = tr._(
            "Bantuan keluarga Bapak/Ibu disalurkan lewat {channel}, bukan lewat kartu KKS.",
            channel=channel.name,
        )
        where = f"{where}\n{channel.description.strip()}"
    else:
        where = tr._(
            "Kartu keluarga Bapak/Ibu adalah {channel}, jadi urusannya di kantor cabang atau "
            "call center bank itu.",
            channel=channel.name,
        )
    return f"{where}\n{pendamping_line(tr, household)}"


def stage_problem_text(request: Request, household: Household) -> str:
    """When the current stage failed for the family, its reason: often the card itself."""
    stage = current_stage(request.session, now=request.now, time_zone=household.time_zone)
    if stage is None:
        return ""
    disbursement = family_disbursement(
        request.session, family_id=household.family.id, stage_id=stage.id
    )
    if disbursement is None or disbursement.status is not DisbursementStatus.FAILED:
        return ""
    reason = disbursement.failure_reason
    if reason is None:
        return ""
    text = request.tr._(
        "Catatan kami: bantuan tahap {stage} tahun {year} untuk keluarga Bapak/Ibu belum bisa "
        "disalurkan ({reason}).",
        stage=stage_label(stage),
        year=stage.year,
        reason=reason.title,
    )
    return f"{text} {disbursement.note}" if disbursement.note else text


# --- file_complaint ------------------------------------------------------------------------------


@answers(COMPLAINT)
def answer_complaint(request: Request) -> Reply:
    """What to do about a levy, wrong targeting or a held card, and where to complain."""
    topic = pick_topic(request.parse.text, COMPLAINT_KEYWORDS) or "general"
    return complaint_reply(request, topic)


def complaint_reply(request: Request, topic: str) -> Reply:
    """The FAQ answer of a complaint topic followed by the channels that fit it."""
    household = household_of(request)
    channels = complaint_channels(request.session, codes=COMPLAINT_CHANNELS[topic])
    lines = [channel_line(request.tr, channel, household) for channel in channels]
    heading = request.tr._("Saluran yang bisa dihubungi:")
    text = "\n\n".join([faq_text(request, COMPLAINT, topic), "\n".join([heading, *lines])])
    buttons = topic_buttons(request.tr, ["request_human"])
    return Reply(text, buttons, intent=COMPLAINT, topic_key=topic)


def channel_line(tr: Translator, channel: ComplaintChannel, household: Household | None) -> str:
    """One channel as a bullet; the pendamping by name for a linked KPM."""
    if channel.code == PENDAMPING_CHANNEL and household is not None:
        return f"• {pendamping_line(tr, household)}"
    if channel.contact and channel.contact not in channel.name:
        return tr._("• {name}: {contact}", name=channel.name, contact=channel.contact)
    return tr._("• {name}", name=channel.name)


# --- ask_bpnt ------------------------------------------------------------------------------------


@answers(BPNT)
def answer_bpnt(request: Request) -> Reply:
    """What BPNT / Program Sembako is and how it is paid (its value worded with caution)."""
    buttons = topic_buttons(request.tr, [COMPLAINT, Intent.ASK_PAYMENT_SCHEDULE])
    return Reply(faq_text(request, BPNT), buttons, intent=BPNT, topic_key="general")
