"""The audit page in words: stage changes name the regional window, intents their topic names."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from programme.models import AuditLog
from tests.admin.conftest import log_in, make_account


def test_audit_lines_show_topic_names_and_record_kinds_not_codes(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    actor = f"test:{secrets.token_hex(4)}"
    with sessions.begin() as session:
        session.add(
            AuditLog(
                actor=actor,
                action="inbox.label",
                target_type="payment_window",
                target_id="7",
                details={"intent": "ask_payment_schedule", "time_zone": "WITA", "notified": 3},
            )
        )
    log_in(client, make_account(sessions))
    page = client.get("/audit", params={"actor": actor}).text
    assert "Topik: Jadwal pencairan" in page
    assert "Zona waktu: WITA" in page and "Keluarga diberi tahu: 3" in page
    assert "Jadwal pencairan wilayah 7" in page
    assert "ask_payment_schedule" not in page and "payment_window" not in page
