"""Mask the NIKs that free text already holds; index login attempts by client address

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Before this revision only 16 digits in a row were masked, so a NIK typed in groups
("3302 0112 3456 7891", "3302-0112-…", "3302.0112.…") was stored in clear in the inbox, in
admin replies quoting it (outbox), in audit details and elsewhere. From now on the free-text
columns mask on the way in (programme.masked); this revision masks what is already there, with
the same function (core.redaction.redact_nik). Masking cannot be undone: the downgrade leaves the
masked text as it is and only drops the index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core.redaction import redact_nik
from programme.masked import mask_document

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 1000
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# table -> its free-text columns (the ones programme.models declares as Masked*)
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "unanswered_query": ("text",),
    "answer_rating": ("question_text",),
    "broadcast": ("text",),
    "outbox_message": ("text", "error"),
    "p2k2_meeting": ("place", "note"),
    "telegram_user": ("first_name", "username"),
    "login_attempt": ("username",),
}
JSON_COLUMNS: dict[str, tuple[str, ...]] = {"audit_log": ("details",)}


def upgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_client_at", ["client", "attempted_at"])
    connection = op.get_bind()
    for name, columns in TEXT_COLUMNS.items():
        _mask_table(connection, name, columns, sa.Text(), _mask_text)
    for name, columns in JSON_COLUMNS.items():
        _mask_table(connection, name, columns, _JSON, mask_document)


def downgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_client_at")


def _mask_text(value: Any) -> Any:
    return redact_nik(value) if isinstance(value, str) else value


def _mask_table(
    connection: sa.Connection,
    name: str,
    columns: tuple[str, ...],
    column_type: sa.types.TypeEngine[Any],
    mask: Callable[[Any], Any],
) -> None:
    """Page through the table by id and rewrite the rows whose masked text differs."""
    table = sa.table(
        name, sa.column("id", sa.Integer()), *(sa.column(c, column_type) for c in columns)
    )
    candidates = [
        _may_hold_a_nik(connection, table.c[c], c in JSON_COLUMNS.get(name, ())) for c in columns
    ]
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table)
            .where(table.c.id > last, sa.or_(*candidates))
            .order_by(table.c.id)
            .limit(_PAGE)
        ).all()
        if not rows:
            return
        for row in rows:
            values = {c: getattr(row, c) for c in columns}
            masked = {c: mask(v) for c, v in values.items()}
            if masked != values:
                connection.execute(sa.update(table).where(table.c.id == row.id).values(**masked))
        last = rows[-1].id


def _may_hold_a_nik(connection: sa.Connection, column: Any, is_json: bool) -> Any:
    """A cheap filter: on PostgreSQL, values with at least 16 digits; elsewhere, not NULL."""
    if connection.dialect.name != "postgresql":
        return column.is_not(None)
    as_text = sa.cast(column, sa.Text()) if is_json else column
    digits = sa.func.regexp_replace(as_text, "[^0-9\uff10-\uff19]", "", "g")  # and full-width
    return sa.func.length(digits) >= 16
