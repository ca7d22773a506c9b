"""The NLU interface of PRODUCT.md §4: intent names and canonical entity values.

Tests, training data, evaluation and actions all use these names. Standard library only, so that
Rasa's environment can import it too.
"""

from __future__ import annotations

from typing import Final

INTENTS: Final[tuple[str, ...]] = (
    "ask_payment_schedule",
    "ask_benefit_amount",
    "ask_payment_status",
    "ask_recipient_check",
    "ask_registration",
    "ask_obligations",
    "ask_p2k2_modules",
    "ask_p2k2_schedule",
    "ask_graduation",
    "ask_after_graduation",
    "ask_bpnt",
    "report_card_problem",
    "file_complaint",
    "ask_pendamping_contact",
    "update_family_data",
    "greet",
    "thank",
    "goodbye",
    "bot_challenge",
    "ask_help",
    "request_human",
    "out_of_scope",
)

FALLBACK_INTENT: Final = "nlu_fallback"

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
}
