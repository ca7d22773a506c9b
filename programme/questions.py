"""What the message path writes for every question: the statistics row and, when the bot could
not answer, the inbox row (NIKs masked before anything is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.inbox import add_question
from programme.models import AnswerRating, QuestionLog, UnansweredReason


def record_unanswered(
    session: Session,
    *,
    text: str,
    reason: UnansweredReason,
    user_id: int | None,
    top_guesses: list[dict[str, Any]],
    confidence: float | None,
    now: datetime,
) -> None:
    """Put a question in the admins' inbox, with the NLU's top guesses (programme.inbox: NIKs
    masked, its group key computed once, at most INBOX_DAILY_CAP a day from one asker)."""
    add_question(
        session,
        text=text,
        reason=reason,
        top_guesses=top_guesses,
        confidence=confidence,
        user_id=user_id,
        now=now,
    )


def record_question(
    session: Session,
    *,
    user_id: int | None,
    intent: str | None,
    confidence: float | None,
    reason: UnansweredReason | None,
    channel: str,
    now: datetime,
) -> None:
    """Count one message for the statistics: who, which intent, answered or not; never the text."""
    session.add(
        QuestionLog(
            user_id=user_id,
            intent=intent,
            confidence=confidence,
            answered=reason is None,
            reason=reason,
            channel=channel,
            created_at=now,
        )
    )


def record_rating(
    session: Session,
    *,
    user_id: int | None,
    message_id: int,
    intent: str,
    question: str | None,
    helpful: bool,
    now: datetime,
) -> bool:
    """Record 👍/👎 once per answer (False if it was already rated); a 👎 goes to the inbox."""
    exists = session.scalar(
        select(AnswerRating.id).where(
            AnswerRating.user_id == user_id, AnswerRating.message_id == message_id
        )
    )
    if exists:
        return False
    session.add(
        AnswerRating(
            user_id=user_id,
            message_id=message_id,
            intent=intent,
            question_text=question or None,
            is_helpful=helpful,
        )
    )
    if not helpful:
        record_unanswered(
            session,
            text=question or f"[{intent}]",
            reason=UnansweredReason.NEGATIVE_RATING,
            user_id=user_id,
            top_guesses=[],
            confidence=0.0,
            now=now,
        )
    return True
