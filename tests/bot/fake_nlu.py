"""A stand-in for the Rasa server, for bot tests that are about the bot and not the model.

It answers Rasa's /status and /model/parse with an intent picked by a few keyword rules, fast and
the same every time, so the robustness tests can send hundreds of updates without a real model.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any, Self

from aiohttp import web

# First match wins; (pattern, intent, entities found by the pattern's named groups).
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(halo|hai|assalam\w*)\b"), "greet"),
    (re.compile(r"\bstatus\b|\bsaldo\b|belum masuk"), "ask_payment_status"),
    (re.compile(r"\bpendamping\b"), "ask_pendamping_contact"),
    (re.compile(r"\bp2k2\b|\bpertemuan\b"), "ask_p2k2_schedule"),
    (re.compile(r"\bberapa\b|\bbrp\b"), "ask_benefit_amount"),
    (re.compile(r"\bkapan\b|\bcair\b|\btahap\b"), "ask_payment_schedule"),
)
COMPONENTS = {"sd": "anak_sd", "smp": "anak_smp", "sma": "anak_sma", "bumil": "ibu_hamil"}


def parse(text: str) -> dict[str, Any]:
    """A Rasa-shaped parse of `text`."""
    lowered = text.lower()
    intent = next((name for pattern, name in RULES if pattern.search(lowered)), "out_of_scope")
    entities = [
        {"entity": "component", "value": value, "start": m.start(), "end": m.end()}
        for word, value in COMPONENTS.items()
        for m in re.finditer(rf"\b{word}\b", lowered)
    ]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
        "entities": entities,
    }


class FakeNlu:
    """An HTTP server on 127.0.0.1 that speaks the part of Rasa's API the bot uses."""

    def __init__(self) -> None:
        self.url = ""
        self.parsed: list[str] = []
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/status", self._status)
        app.router.add_post("/model/parse", self._parse)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz"})

    async def _parse(self, request: web.Request) -> web.Response:
        text = str((await request.json()).get("text", ""))
        self.parsed.append(text)
        return web.json_response(parse(text))
