"""One message's path, shared by the terminal chat and the Telegram bot.

text → NLU client → action → reply; what the bot could not answer is recorded for the admins,
and every message leaves a QuestionLog row (intent and outcome, never the text) for the statistics.
When the NLU server is down or slow, the user still gets the menu and a short apology.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from actions import Asker, Reply, Request, answer
from actions.content import main_menu
from bot import groups
from core.i18n import translator
from nlu.client import NLUClient, NLUError, ParseResult
from programme import questions
from programme.models import UnansweredReason

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Assistant:
    """Answers messages; one instance per process, shared by all chats."""

    def __init__(
        self,
        *,
        nlu: NLUClient,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
        channel: str = "telegram",
    ) -> None:
        self._nlu = nlu
        self._sessions = sessions
        self._clock = clock
        self._channel = channel  # "telegram" or "terminal", for the statistics

    async def reply_to_text(
        self, text: str, asker: Asker, *, group_of_bot: str | None = None
    ) -> Reply:
        """Understand a free-text message and answer it.

        `group_of_bot` (the bot's username) says the message was written in a group: general
        facts only there, and a link to the private chat for a question about the asker's own
        family (bot.groups).
        """
        try:
            parse = await self._nlu.parse(text)
        except NLUError as error:
            log.warning("answering without NLU: %s", error)
            return await asyncio.to_thread(self._answer_without_nlu, text, asker)
        return await asyncio.to_thread(self._answer, parse, asker, group_of_bot)

    async def reply_to_topic(
        self, intent: str, asker: Asker, *, group_of_bot: str | None = None
    ) -> Reply:
        """Answer a topic button ("ask:<intent>") as if the user had asked that question."""
        parse = ParseResult(
            text=f"[{intent}]", intent=intent, confidence=1.0, ranking=(), entities=()
        )
        return await asyncio.to_thread(self._answer, parse, asker, group_of_bot)

    def _answer(self, parse: ParseResult, asker: Asker, group_of_bot: str | None = None) -> Reply:
        now = self._clock()
        tr = translator(asker.language)
        with self._sessions.begin() as session:
            if group_of_bot is None:
                reply = answer(Request(parse, asker, session, now, tr))
            elif groups.is_personal(parse):
                reply = groups.continue_privately(tr, group_of_bot, parse.intent)
            else:
                general = groups.general_asker(asker)
                reply = groups.for_group(answer(Request(parse, general, session, now, tr)))
            if reply.unanswered is not None:
                record_unanswered(
                    session, parse=parse, asker=asker, reason=reply.unanswered, now=now
                )
            record_question(
                session,
                parse=parse,
                asker=asker,
                reason=reply.unanswered,
                channel=self._channel,
                now=now,
            )
        return reply

    def _answer_without_nlu(self, text: str, asker: Asker) -> Reply:
        tr = translator(asker.language)
        parse = ParseResult(text=text, intent="", confidence=0.0, ranking=(), entities=())
        now = self._clock()
        with self._sessions.begin() as session:
            record_unanswered(
                session, parse=parse, asker=asker, reason=UnansweredReason.NLU_DOWN, now=now
            )
            record_question(
                session,
                parse=parse,
                asker=asker,
                reason=UnansweredReason.NLU_DOWN,
                channel=self._channel,
                now=now,
            )
        return Reply(
            tr._(
                "Mohon maaf, saat ini saya belum bisa membaca pesan Bapak/Ibu. Silakan pilih "
                "topik di bawah ini, atau coba kirim lagi beberapa saat lagi."
            ),
            main_menu(tr),
            unanswered=UnansweredReason.NLU_DOWN,
        )


def record_unanswered(
    session: Session,
    *,
    parse: ParseResult,
    asker: Asker,
    reason: UnansweredReason,
    now: datetime | None = None,
) -> None:
    """Put a question in the admins' inbox, with the NLU's top guesses (NIKs masked)."""
    questions.record_unanswered(
        session,
        text=parse.text,
        reason=reason,
        user_id=asker.user_id,
        top_guesses=[
            {"intent": g.name, "confidence": round(g.confidence, 4)} for g in parse.ranking[:5]
        ],
        confidence=parse.confidence if parse.intent else None,
        now=now or utc_now(),
    )


def record_question(
    session: Session,
    *,
    parse: ParseResult,
    asker: Asker,
    reason: UnansweredReason | None,
    channel: str,
    now: datetime,
) -> None:
    """Count one message for the statistics: who, which intent, answered or not; no text."""
    questions.record_question(
        session,
        user_id=asker.user_id,
        intent=parse.intent or None,
        confidence=parse.confidence if parse.intent else None,
        reason=reason,
        channel=channel,
        now=now,
    )
