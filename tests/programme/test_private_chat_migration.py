"""Revision 0014 puts accounts whose chat_id an older bot set to a group back on their own chat."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from programme import migrate


def test_group_chat_ids_become_the_private_chat_again(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url, "0013")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO telegram_user (telegram_user_id, chat_id, role, language,"
                " reminders_enabled, is_unreachable, created_at, updated_at) VALUES"
                " (7001, -100123, 'kpm', 'id', true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                " (7002, 7002, 'kpm', 'id', true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )

    migrate.upgrade(empty_database_url)

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT telegram_user_id, chat_id FROM telegram_user ORDER BY telegram_user_id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(7001, 7001), (7002, 7002)]
