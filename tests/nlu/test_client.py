"""The async NLU client: parse results, canonical entities and typed errors."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from nlu.client import NLUBadResponse, NLUClient, NLUUnavailable
from nlu.server import free_port

RASA_PARSE = {
    "text": "pkh tahap III anak smp kapan cair",
    "intent": {"name": "ask_payment_schedule", "confidence": 0.93},
    "entities": [
        {"entity": "stage", "value": "III", "start": 10, "end": 13, "extractor": "DIETClassifier"},
        {"entity": "component", "value": "anak_smp", "start": 14, "end": 22},
        {"entity": "bank", "value": "bca", "start": 0, "end": 3},
    ],
    "intent_ranking": [
        {"name": "ask_payment_schedule", "confidence": 0.93},
        {"name": "ask_payment_status", "confidence": 0.05},
    ],
}


def client_answering(handler: Any) -> NLUClient:
    return NLUClient("http://nlu.test", transport=httpx.MockTransport(handler))


async def test_parse_returns_intent_ranking_and_canonical_entities() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=RASA_PARSE)

    async with client_answering(handler) as client:
        result = await client.parse("pkh tahap III anak smp kapan cair")

    assert seen == [{"text": "pkh tahap III anak smp kapan cair"}]
    assert result.intent == "ask_payment_schedule"
    assert result.confidence == pytest.approx(0.93)
    assert [g.name for g in result.ranking] == ["ask_payment_schedule", "ask_payment_status"]
    assert result.first("stage") == "3"
    assert result.values("component") == ["anak_smp"]
    assert result.entities[0].text == "III"
    assert result.values("bank") == []  # "bca" names no channel of PKH: dropped
    assert not result.is_fallback


async def test_years_and_spelled_out_stages_the_model_missed_are_found_in_the_text() -> None:
    payload = {
        "text": "pkh tahap papat thn depan kapan cair",
        "intent": {"name": "ask_payment_schedule", "confidence": 0.9},
        "entities": [{"entity": "programme", "value": "pkh", "start": 0, "end": 3}],
        "intent_ranking": [],
    }
    async with client_answering(lambda request: httpx.Response(200, json=payload)) as client:
        result = await client.parse(payload["text"])
    assert result.first("stage") == "4"
    assert result.first("year") == "tahun_depan"
    assert [e.text for e in result.entities if e.entity == "year"] == ["thn depan"]
    assert result.year(date(2026, 11, 23)) == 2027


async def test_a_year_the_model_found_is_not_added_twice() -> None:
    payload = {
        "text": "tahap 1 2027",
        "intent": {"name": "ask_payment_schedule", "confidence": 0.9},
        "entities": [{"entity": "year", "value": "2027", "start": 8, "end": 12}],
        "intent_ranking": [],
    }
    async with client_answering(lambda request: httpx.Response(200, json=payload)) as client:
        result = await client.parse(payload["text"])
    assert result.values("year") == ["2027"] and len(result.entities) == 2
    assert result.year(date(2026, 1, 1)) == 2027


async def test_blank_text_is_a_fallback_without_calling_the_server() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the server must not be called")

    async with client_answering(handler) as client:
        result = await client.parse("   ")
    assert result.is_fallback


async def test_server_that_refuses_connections_is_unavailable() -> None:
    async with NLUClient(f"http://127.0.0.1:{free_port()}", timeout=1.0) as client:
        with pytest.raises(NLUUnavailable):
            await client.parse("kapan cair")
        assert not await client.is_ready()


async def test_slow_server_is_unavailable_not_a_hang() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    async with client_answering(handler) as client:
        with pytest.raises(NLUUnavailable, match="too slow"):
            await client.parse("kapan cair")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"intent_ranking": [{"confidence": "x"}]}),
    ],
)
async def test_broken_answers_are_bad_responses(response: httpx.Response) -> None:
    async with client_answering(lambda request: response) as client:
        with pytest.raises(NLUBadResponse):
            await client.parse("kapan cair")


async def test_missing_intent_is_a_fallback() -> None:
    payload = {"text": "x", "intent": None, "entities": [], "intent_ranking": []}
    async with client_answering(lambda request: httpx.Response(200, json=payload)) as client:
        assert (await client.parse("x")).is_fallback
