"""/hapus leaves nothing that points to the person: outbox texts and audit references included."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, inspect, select, text
from sqlalchemy.orm import Session

from programme import accounts, outbox
from programme.models import (
    AuditLog,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    QuestionLog,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
)

DEMO_INVITE = "DEMO-LINK-WITA"
KPM, OTHER = 555_100_001, 555_100_002


def _message(
    user: TelegramUser, key: str, text: str, kind: OutboxKind, now: datetime
) -> outbox.NewMessage:
    return outbox.NewMessage(
        dedupe_key=f"{key}:user:{user.id}",
        kind=kind,
        chat_id=user.chat_id,
        user_id=user.id,
        text=text,
        time_zone=TimeZone.WITA,
        not_before=now,
    )


def _account_with_history(
    session: Session, telegram_id: int, secret_key: str, now: datetime
) -> TelegramUser:
    user = accounts.upsert_user(
        session, accounts.Sender(telegram_id, telegram_id, "Agustina", "agus", "id")
    )
    if telegram_id == KPM:
        accounts.link_with_invite(session, user, code=DEMO_INVITE, secret_key=secret_key, now=now)
    session.add_all(
        [
            UnansweredQuery(
                text="kenapa saldo saya kosong", reason=UnansweredReason.FALLBACK, user_id=user.id
            ),
            QuestionLog(user_id=user.id, answered=False, channel="telegram", created_at=now),
            AuditLog(
                actor_user_id=user.id,
                actor=f"telegram:{telegram_id}",
                action="refused_staff_command",
                details={"command": "/siaran"},
            ),
        ]
    )
    outbox.enqueue(
        session,
        [
            _message(
                user,
                "admin-reply:1",
                "Jawaban atas «kenapa saldo saya kosong»",
                OutboxKind.ADMIN_REPLY,
                now,
            ),
            _message(
                user, "admin-reply:2", "Jawaban atas «kapan cair»", OutboxKind.ADMIN_REPLY, now
            ),
            _message(user, "broadcast:7", "Besok ada pertemuan P2K2.", OutboxKind.BROADCAST, now),
        ],
        now=now,
    )
    session.flush()
    # The second reply and the broadcast were delivered already; the first waits in the queue.
    for key in ("admin-reply:2", "broadcast:7"):
        row = session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"{key}:user:{user.id}")
        )
        assert row is not None
        row.state, row.telegram_message_id, row.sent_at = OutboxState.SENT, 991, now
    session.flush()
    return user


def test_deleting_clears_the_outbox_and_the_audit_references(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    user = _account_with_history(seeded, KPM, secret_key, demo_now)
    other = _account_with_history(seeded, OTHER, secret_key, demo_now)
    user_id, broadcast_rows = (
        user.id,
        _count(seeded, OutboxMessage, OutboxMessage.dedupe_key.like("broadcast:7:%")),
    )
    data = accounts.stored_data(seeded, user)
    assert data["messages"] == 3 and data["audit_entries"] == 2 and data["questions_kept"] == 1

    accounts.delete_user_data(seeded, user)
    seeded.flush()
    seeded.expire_all()

    # Nothing queued for them any more; what was sent is a bare delivery record.
    assert _count(seeded, OutboxMessage, OutboxMessage.user_id == user_id) == 0
    assert _count(seeded, OutboxMessage, OutboxMessage.chat_id == KPM) == 0
    assert _count(seeded, OutboxMessage, OutboxMessage.dedupe_key.like(f"%:user:{user_id}")) == 0
    blank = seeded.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like("deleted:%"))
    ).all()
    assert sorted(row.state for row in blank) == [OutboxState.SENT, OutboxState.SENT]
    assert all(row.text == "" and row.chat_id == 0 and row.buttons is None for row in blank)
    # The broadcast's report still counts the delivery.
    assert _count(seeded, OutboxMessage, OutboxMessage.state == OutboxState.SENT) >= 2
    assert broadcast_rows == 2
    # The statistics keep the count, not the person.
    assert _count(seeded, QuestionLog, QuestionLog.user_id == user_id) == 0
    assert _count(seeded, QuestionLog, QuestionLog.user_id.is_(None)) >= 1

    # No audit entry names them, by Telegram id or account id; the deletion itself is recorded.
    audit = seeded.execute(text("SELECT actor, actor_user_id, details FROM audit_log")).all()
    assert not [row for row in audit if str(KPM) in str(row) or row.actor_user_id == user_id]
    actions = seeded.scalars(
        select(AuditLog.action).where(AuditLog.actor == accounts.DELETED_ACTOR)
    ).all()
    assert sorted(actions) == ["delete_own_data", "link_account", "refused_staff_command"]

    # The other account is untouched.
    assert accounts.stored_data(seeded, other)["messages"] == 3
    assert _count(seeded, AuditLog, AuditLog.actor == f"telegram:{OTHER}") == 1


def test_a_dump_of_the_database_holds_no_trace_of_a_deleted_account(
    seeded: Session, secret_key: str, demo_now: datetime
) -> None:
    user = _account_with_history(seeded, KPM, secret_key, demo_now)
    accounts.delete_user_data(seeded, user)
    seeded.flush()
    connection = seeded.connection()
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
            assert str(KPM) not in str(tuple(row)), (table, row)


def _count(session: Session, model: type[Any], condition: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(condition)) or 0)
