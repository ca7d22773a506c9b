"""A bot token's sending budget (TELEGRAM_BULK_RATE): the sender's limit, and paid broadcasts
above Telegram's free ~30 messages a second."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.delivery.sender import Limit, SendOptions, TelegramSender
from core.settings import Settings


class RecordingApi:
    """Stands in for PTB's HTTP call and keeps what each request would have posted."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        self.posted.append(dict(data))
        return {"ok": True}


async def send(sender: TelegramSender, api: RecordingApi, chat_id: int, bulk: bool) -> None:
    data: dict[str, Any] = {"chat_id": chat_id, "text": "Besok ada pertemuan P2K2."}
    options: SendOptions | None = {"priority": "bulk"} if bulk else None
    await sender.process_request(
        callback=api,
        args=("sendMessage", data),
        kwargs={},
        endpoint="sendMessage",
        data=data,
        rate_limit_args=options,
    )


def test_the_budget_is_30_messages_a_second_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BULK_RATE", raising=False)
    assert Settings(_env_file=None).telegram_bulk_rate == 30  # type: ignore[call-arg]
    monkeypatch.setenv("TELEGRAM_BULK_RATE", "300")
    assert Settings(_env_file=None).telegram_bulk_rate == 300  # type: ignore[call-arg]
    for refused in ("0", "1001", "banyak"):
        monkeypatch.setenv("TELEGRAM_BULK_RATE", refused)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)  # type: ignore[call-arg]


async def test_within_the_free_rate_nothing_is_sent_as_a_paid_broadcast() -> None:
    sender = TelegramSender(overall=Limit(30, 1.0), safety_margin=0.0)
    api = RecordingApi()
    await send(sender, api, 1, bulk=True)
    await send(sender, api, 2, bulk=False)
    assert all("allow_paid_broadcast" not in posted for posted in api.posted)


async def test_above_the_free_rate_bulk_messages_are_paid_broadcasts_and_replies_are_not() -> None:
    sender = TelegramSender(overall=Limit(300, 1.0), safety_margin=0.0)
    api = RecordingApi()
    await send(sender, api, 1, bulk=True)
    await send(sender, api, 2, bulk=False)
    assert api.posted[0]["allow_paid_broadcast"] is True
    assert "allow_paid_broadcast" not in api.posted[1]
