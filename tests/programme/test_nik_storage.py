"""No free-text column keeps a NIK, whichever way the text was typed and the row was written."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from programme import migrate, outbox
from programme.db import make_engine, make_session_factory
from programme.demo import seed_demo
from programme.models import (
    AnswerRating,
    AuditLog,
    Broadcast,
    Kelompok,
    LoginAttempt,
    OutboxKind,
    OutboxMessage,
    P2K2Meeting,
    Pendamping,
    TelegramUser,
    TimeZone,
    UnansweredQuery,
    UnansweredReason,
    utcnow,
)
from programme.seed import seed_reference
from tests.nik_forms import leaks, messages_with_nik

NIK = "3302011234567891"
FORMS = [
    "3302 0112 3456 7891",
    "3302-0112-3456-7891",
    "3302.0112.3456.7891",
    "3302\u00a001123456\t7891",
]


def _user(session: Session, telegram_id: int, first_name: str = "Ibu") -> TelegramUser:
    user = TelegramUser(telegram_user_id=telegram_id, chat_id=telegram_id, first_name=first_name)
    session.add(user)
    session.flush()
    return user


@pytest.mark.parametrize("typed", FORMS)
def test_orm_writes_of_free_text_are_masked(seeded: Session, typed: str) -> None:
    session = seeded
    user = _user(session, 880_100_001, first_name=f"Ibu {typed}")
    pendamping = session.scalars(select(Pendamping)).first()
    assert pendamping is not None
    rows = [
        UnansweredQuery(
            text=f"nik saya {typed}", reason=UnansweredReason.FALLBACK, user_id=user.id
        ),
        AnswerRating(user_id=user.id, question_text=f"{typed} blm cair", is_helpful=False),
        Broadcast(
            pendamping_id=pendamping.id, text=f"cek {typed}", send_at=utcnow(), created_at=utcnow()
        ),
        AuditLog(actor="test", action="t", details={"text": f"«{typed}»", "list": [typed]}),
        LoginAttempt(username=typed[:64], client="10.0.0.1", succeeded=False),
    ]
    session.add_all(rows)
    session.flush()
    session.expire_all()
    stored = [
        session.scalar(select(UnansweredQuery.text).where(UnansweredQuery.id == rows[0].id)),
        session.scalar(select(AnswerRating.question_text).where(AnswerRating.id == rows[1].id)),
        session.scalar(select(Broadcast.text).where(Broadcast.id == rows[2].id)),
        json.dumps(session.scalar(select(AuditLog.details).where(AuditLog.id == rows[3].id))),
        session.scalar(select(LoginAttempt.username).where(LoginAttempt.id == rows[4].id)),
        session.scalar(select(TelegramUser.first_name).where(TelegramUser.id == user.id)),
    ]
    for value in stored:
        assert value is not None and "7891" in value and not leaks(NIK, value), value


def test_core_inserts_and_updates_are_masked_too(seeded: Session) -> None:
    # The outbox writes with one multi-row INSERT (no ORM objects), the drain with UPDATEs.
    session = seeded
    user = _user(session, 880_100_002)
    added = outbox.enqueue(
        session,
        [
            outbox.NewMessage(
                dedupe_key="test:nik-storage",
                kind=OutboxKind.ADMIN_REPLY,
                chat_id=user.chat_id,
                user_id=user.id,
                text="Jawaban atas «NIK 3302-0112-3456-7891»",
                time_zone=TimeZone.WIB,
                not_before=utcnow(),
            )
        ],
        now=utcnow(),
    )
    assert added == 1
    row_id = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "test:nik-storage")
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(error="Bad Request: 3302.0112.3456.7891")
    )
    meeting = session.scalars(select(P2K2Meeting)).first()
    assert meeting is not None
    session.execute(
        update(P2K2Meeting)
        .where(P2K2Meeting.id == meeting.id)
        .values(place="Balai 3302 0112 3456 7891", note="nik 3302011234567891")
    )
    session.execute(
        insert(AuditLog).values(actor="t", action="t", details={"q": "3302 0112 3456 7891"})
    )
    values = session.execute(
        text(
            "SELECT o.text || o.error || m.place || m.note FROM outbox_message o, p2k2_meeting m"
            " WHERE o.id = :o AND m.id = :m"
        ),
        {"o": row_id, "m": meeting.id},
    ).scalar_one()
    details = (
        session.execute(text("SELECT details FROM audit_log WHERE action = 't'")).scalars().all()
    )
    assert not leaks(NIK, values) and values.count("7891") == 4
    assert not any(leaks(NIK, str(d)) for d in details)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=messages_with_nik())
def test_property_no_typed_nik_reaches_the_inbox_table(
    seeded: Session, message: tuple[str, str]
) -> None:
    nik, typed = message
    query = UnansweredQuery(text=typed, reason=UnansweredReason.LOW_CONFIDENCE)
    seeded.add(query)
    seeded.flush()
    stored = seeded.execute(
        text("SELECT text FROM unanswered_query WHERE id = :id"), {"id": query.id}
    ).scalar_one()
    assert not leaks(nik, stored), (typed, stored)


# --- the migration that masks what existing databases hold -------------------------------------

RAW = "tolong cek NIK 3302 0112 3456 7891 ya"
RAW_FORMS = [RAW, "3302-0112-3456-7891", "nik 3302.0112.3456.7891", "NIK\t3302011234567891"]


def test_revision_0006_masks_niks_already_stored(empty_database_url: str, secret_key: str) -> None:
    url = empty_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        ids = _store_unmasked_rows(engine, secret_key)
        assert _dump_leaks(engine), "the rows were not written unmasked"
        migrate.downgrade(url, "0005")  # a database from before the masking, holding NIKs
        assert _dump_leaks(engine)
        migrate.upgrade(url)
        assert _dump_leaks(engine) == []
        with engine.connect() as connection:
            question = connection.execute(
                text("SELECT text FROM unanswered_query WHERE id = :id"), {"id": ids["query"]}
            ).scalar_one()
        assert question == "tolong cek NIK ************7891 ya"
    finally:
        engine.dispose()


def _store_unmasked_rows(engine: Engine, secret_key: str) -> dict[str, int]:
    """Rows made by the real code, then given NIKs by raw SQL (as an old version stored them)."""
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed_reference(session)
        seed_demo(session, secret_key=secret_key)
        user = _user(session, 880_100_003)
        pendamping = session.scalars(select(Pendamping)).first()
        kelompok = session.scalars(select(Kelompok)).first()
        assert pendamping is not None and kelompok is not None
        query = UnansweredQuery(text="x", reason=UnansweredReason.FALLBACK, user_id=user.id)
        rating = AnswerRating(user_id=user.id, question_text="x", is_helpful=False)
        broadcast = Broadcast(pendamping_id=pendamping.id, text="x", send_at=utcnow())
        audit = AuditLog(actor="test", action="inbox.reply", details={})
        attempt = LoginAttempt(username="x", client="10.0.0.9", succeeded=False)
        meeting = P2K2Meeting(
            kelompok_id=kelompok.id, starts_at=utcnow() + timedelta(days=3), place="x"
        )
        session.add_all([query, rating, broadcast, audit, attempt, meeting])
        outbox.enqueue(
            session,
            [
                outbox.NewMessage(
                    dedupe_key="test:migration",
                    kind=OutboxKind.ADMIN_REPLY,
                    chat_id=user.chat_id,
                    user_id=user.id,
                    text="x",
                    time_zone=TimeZone.WIB,
                    not_before=utcnow(),
                )
            ],
            now=utcnow(),
        )
        session.flush()
        ids = {"query": query.id, "user": user.id}
        message_id = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "test:migration")
        )
        raw = [
            ("unanswered_query", "text", query.id),
            ("answer_rating", "question_text", rating.id),
            ("broadcast", "text", broadcast.id),
            ("outbox_message", "text", message_id),
            ("outbox_message", "error", message_id),
            ("p2k2_meeting", "place", meeting.id),
            ("p2k2_meeting", "note", meeting.id),
            ("telegram_user", "first_name", user.id),
            ("telegram_user", "username", user.id),
            ("login_attempt", "username", attempt.id),
        ]
        for number, (table, column, row_id) in enumerate(raw):
            session.execute(
                text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # noqa: S608
                {"value": RAW_FORMS[number % len(RAW_FORMS)], "id": row_id},
            )
        cast = "CAST(:value AS JSONB)" if engine.dialect.name == "postgresql" else ":value"
        session.execute(
            text(f"UPDATE audit_log SET details = {cast} WHERE id = :id"),  # noqa: S608
            {"value": json.dumps({"text": RAW, "ids": [1, 2]}), "id": audit.id},
        )
    return ids


def _dump_leaks(engine: Engine) -> list[str]:
    """Every (table, column) of the whole database whose text holds the NIK in some form."""
    from sqlalchemy import inspect

    found = []
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                for column, value in zip(columns, row, strict=True):
                    if value is not None and leaks(NIK, str(value)):
                        found.append(f"{table}.{column}")
    return sorted(set(found))


def test_the_dump_search_finds_what_it_should(engine: Engine) -> None:
    assert leaks(NIK, "3302\\xa00112\\xa03456\\xa07891")
    assert not leaks(NIK, "************7891")
    assert _dump_leaks(engine) == []
