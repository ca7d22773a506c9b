"""NIK (national ID number) handling: a keyed hash and the last four digits, never the NIK."""

# A NIK is personal data under UU 27/2022. We keep HMAC-SHA256(PKH_SECRET_KEY, NIK) to find a person
# again and the last four digits to show ("NIK berakhiran 0123"). Nothing here puts a NIK into an
# exception message. Text that may hold one is masked by `redact_nik` (core.redaction, re-exported
# here): in the database's free-text columns, the training data and every log record.

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from core.redaction import RedactingFilter, redact_nik

NIK_LENGTH: Final = 16
_SEPARATORS: Final = re.compile(r"[\s.\-]")


class InvalidNikError(ValueError):
    """The text is not a 16-digit NIK (the message never repeats the input)."""


def normalize_nik(nik: str) -> str:
    """The NIK as 16 digits, with the spaces, dots and dashes people type removed."""
    digits = _SEPARATORS.sub("", nik)
    if len(digits) != NIK_LENGTH or not digits.isascii() or not digits.isdigit():
        raise InvalidNikError("NIK harus 16 digit angka")
    return digits


def hash_nik(nik: str, key: str | bytes) -> str:
    """HMAC-SHA256 of the normalized NIK under `key`, as 64 hex characters."""
    if not key:
        raise ValueError("PKH_SECRET_KEY is required to hash a NIK")
    key_bytes = key.encode() if isinstance(key, str) else key
    # The "nik:" prefix keeps these hashes apart from other values hashed with the same key.
    message = b"nik:" + normalize_nik(nik).encode()
    return hmac.new(key_bytes, message, hashlib.sha256).hexdigest()


def nik_last4(nik: str) -> str:
    """The last four digits of the NIK, the most we show or store in clear."""
    return normalize_nik(nik)[-4:]


def nik_date_part_is_plausible(nik: str) -> bool:
    """Whether digits 7–12 read as a birth date DDMMYY (day + 40 for women), as Dukcapil writes."""
    digits = normalize_nik(nik)
    day, month = int(digits[6:8]), int(digits[8:10])
    if day > 40:
        day -= 40
    # The year has two digits, so 29 February is allowed whatever the century.
    days_in_month = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and 1 <= day <= days_in_month[month]


# The one masking function and the logging filter live in the foundation (core.redaction), so the
# CLI and the dashboard can install them on every log handler; they are the same objects here.
NikRedactingFilter = RedactingFilter

__all__ = [
    "NIK_LENGTH",
    "InvalidNikError",
    "NikRedactingFilter",
    "hash_nik",
    "nik_date_part_is_plausible",
    "nik_last4",
    "normalize_nik",
    "redact_nik",
]
