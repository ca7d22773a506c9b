"""Column types for free text people type: every NIK-shaped number is masked on the way in.

The bot, the dashboard and the scheduler write such text in many places (a question for the
inbox, a rating, an admin's reply quoting the question, an outbox row, an audit entry). Masking
in the column type covers every one of them, ORM and Core statements alike, and anything added
later: a value is masked by `core.redaction.redact_nik` when it is bound to a statement. Masking
never makes a text longer, so a value that fitted its column still does. Only free-text columns
use these types; hashes and codes (whose hex may hold 16 decimal digits in a row) never do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Dialect, String, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from core.redaction import redact_nik


class MaskedText(TypeDecorator[str]):
    """TEXT whose NIKs are masked when written."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else redact_nik(value)


class MaskedString(TypeDecorator[str]):
    """VARCHAR(n) whose NIKs are masked when written."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else redact_nik(value)


class MaskedJson(TypeDecorator[Any]):
    """A JSON document (JSONB on PostgreSQL) whose strings, at any depth, are masked."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return mask_document(value)


def mask_document(value: Any) -> Any:
    """A JSON-like value with every string in it masked (keys too)."""
    if isinstance(value, str):
        return redact_nik(value)
    if isinstance(value, dict):
        return {mask_document(key): mask_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_document(item) for item in value]
    return value
