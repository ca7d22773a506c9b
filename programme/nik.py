"""NIK (national ID number) handling: a keyed hash and the last four digits, never the NIK."""

# A NIK is personal data under UU 27/2022. We keep HMAC-SHA256(PKH_SECRET_KEY, NIK) to find a person
# again and the last four digits to show ("NIK berakhiran 0123"). Nothing here puts a NIK into an
# exception message, and NikRedactingFilter masks any 16-digit run that still reaches a log record.

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Final

NIK_LENGTH: Final = 16
_SEPARATORS: Final = re.compile(r"[\s.\-]")
_NIK_LIKE: Final = re.compile(r"(?<!\d)\d{16}(?!\d)")


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


def redact_nik(text: str) -> str:
    """`text` with every 16-digit run masked down to its last four digits."""
    return _NIK_LIKE.sub(lambda match: "************" + match.group()[-4:], text)


class NikRedactingFilter(logging.Filter):
    """A logging filter (attach it to handlers) that masks NIK-like numbers in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_nik(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
