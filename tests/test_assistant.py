"""The assistant's one message path: every message leaves a QuestionLog row, never its text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from actions import Asker
from bot.assistant import Assistant
from nlu.client import NLUClient
from programme.db import make_engine, make_session_factory
from programme.demo import demo_handles
from programme.models import QuestionLog, TelegramUser, UnansweredQuery, UnansweredReason

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.fixture
def sessions(fresh_seeded_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_seeded_database)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.execute(delete(QuestionLog))
    yield factory
    engine.dispose()


def nlu_answering(intent: str, confidence: float) -> NLUClient:
    """A stand-in Rasa server that recognises every message as `intent`."""

    def parse(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        return httpx.Response(
            200,
            json={
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "intent_ranking": [{"name": intent, "confidence": confidence}],
                "entities": [],
            },
        )

    return NLUClient("http://nlu.test", transport=httpx.MockTransport(parse))


def nlu_down() -> NLUClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return NLUClient("http://nlu.test", transport=httpx.MockTransport(refuse))


def kpm(sessions: sessionmaker[Session]) -> Asker:
    with sessions.begin() as session:
        user = session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == demo_handles()["kpm-wib"])
        ).one()
        return Asker.from_user(user)


def logged(sessions: sessionmaker[Session]) -> list[QuestionLog]:
    with sessions.begin() as session:
        rows = list(session.scalars(select(QuestionLog).order_by(QuestionLog.id)))
        session.expunge_all()
        return rows


async def test_an_answered_question_is_logged_with_its_intent_and_no_text(
    sessions: sessionmaker[Session],
) -> None:
    asker = kpm(sessions)
    async with nlu_answering("greet", 0.97) as nlu:
        assistant = Assistant(nlu=nlu, sessions=sessions, clock=lambda: NOW, channel="terminal")
        await assistant.reply_to_text("halo min, NIK saya 3171234567890123", asker)

    [row] = logged(sessions)
    assert (row.user_id, row.intent, row.answered, row.reason) == (
        asker.user_id,
        "greet",
        True,
        None,
    )
    assert row.confidence == pytest.approx(0.97)
    assert (row.channel, row.created_at) == ("terminal", NOW)
    assert "text" not in QuestionLog.__table__.columns


async def test_a_question_for_the_inbox_is_logged_as_unanswered_in_the_same_transaction(
    sessions: sessionmaker[Session],
) -> None:
    asker = kpm(sessions)
    async with nlu_answering("nlu_fallback", 0.3) as nlu:
        assistant = Assistant(nlu=nlu, sessions=sessions, clock=lambda: NOW)
        await assistant.reply_to_text("kapan ada bantuan beras ya", asker)

    [row] = logged(sessions)
    assert (row.intent, row.answered, row.reason) == ("nlu_fallback", False, "fallback")
    assert row.channel == "telegram"
    with sessions.begin() as session:
        inbox = session.scalars(
            select(UnansweredQuery).where(UnansweredQuery.text == "kapan ada bantuan beras ya")
        ).one()
        assert inbox.created_at.date() == row.created_at.date()


async def test_a_question_asked_while_the_nlu_is_down_is_logged_without_an_intent(
    sessions: sessionmaker[Session],
) -> None:
    async with nlu_down() as nlu:
        assistant = Assistant(nlu=nlu, sessions=sessions, clock=lambda: NOW)
        reply = await assistant.reply_to_text("pkh tahap 4 kpn cair", kpm(sessions))

    assert reply.unanswered is UnansweredReason.NLU_DOWN
    [row] = logged(sessions)
    assert (row.intent, row.confidence, row.answered) == (None, None, False)
    assert row.reason is UnansweredReason.NLU_DOWN
