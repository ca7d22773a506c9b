"""The NLU interface of PRODUCT.md §4: intent names and canonical entity values.

Tests, training data, evaluation and actions all use these names. Standard library only, so that
Rasa's environment can import it too.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Intent(StrEnum):
    """What the user wants (PRODUCT.md §4); the values are the names in the training data."""

    ASK_PAYMENT_SCHEDULE = "ask_payment_schedule"
    ASK_BENEFIT_AMOUNT = "ask_benefit_amount"
    ASK_PAYMENT_STATUS = "ask_payment_status"
    ASK_RECIPIENT_CHECK = "ask_recipient_check"
    ASK_REGISTRATION = "ask_registration"
    ASK_OBLIGATIONS = "ask_obligations"
    ASK_P2K2_MODULES = "ask_p2k2_modules"
    ASK_P2K2_SCHEDULE = "ask_p2k2_schedule"
    ASK_GRADUATION = "ask_graduation"
    ASK_AFTER_GRADUATION = "ask_after_graduation"
    ASK_BPNT = "ask_bpnt"
    REPORT_CARD_PROBLEM = "report_card_problem"
    FILE_COMPLAINT = "file_complaint"
    ASK_PENDAMPING_CONTACT = "ask_pendamping_contact"
    UPDATE_FAMILY_DATA = "update_family_data"
    GREET = "greet"
    THANK = "thank"
    GOODBYE = "goodbye"
    BOT_CHALLENGE = "bot_challenge"
    ASK_HELP = "ask_help"
    REQUEST_HUMAN = "request_human"
    OUT_OF_SCOPE = "out_of_scope"
    # Not a topic: what the model says when no intent is confident enough.
    NLU_FALLBACK = "nlu_fallback"


INTENTS: Final[tuple[Intent, ...]] = tuple(i for i in Intent if i is not Intent.NLU_FALLBACK)
FALLBACK_INTENT: Final = Intent.NLU_FALLBACK

ENTITY_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "component": (
        "ibu_hamil",
        "anak_usia_dini",
        "anak_sd",
        "anak_smp",
        "anak_sma",
        "disabilitas_berat",
        "lansia",
    ),
    "stage": ("1", "2", "3", "4"),
    "module": (
        "pengasuhan_pendidikan",
        "kesehatan_gizi",
        "ekonomi",
        "perlindungan_anak",
        "kesejahteraan_sosial",
    ),
    "bank": ("bri", "bni", "mandiri", "btn", "bsi", "pos"),
    "programme": ("pkh", "bpnt", "kube", "prokus", "kur"),
    # A year is open-ended: besides these relative values, any four-digit year ("2027") is
    # canonical. nlu.entities.resolve_year turns either into a number, given today's date.
    "year": ("tahun_lalu", "tahun_ini", "tahun_depan"),
}
