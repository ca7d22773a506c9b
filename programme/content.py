"""What the bot says from data: FAQ answers by (intent, topic) and the complaint channels."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import ComplaintChannel, FaqAnswer

GENERAL_TOPIC = "general"


def faq(session: Session, *, intent: str, topic: str = GENERAL_TOPIC) -> FaqAnswer | None:
    """The FAQ row for (intent, topic), else the intent's general answer, else None."""
    rows = session.scalars(
        select(FaqAnswer).where(
            FaqAnswer.intent == intent, FaqAnswer.topic_key.in_((topic, GENERAL_TOPIC))
        )
    ).all()
    by_topic = {row.topic_key: row for row in rows}
    return by_topic.get(topic) or by_topic.get(GENERAL_TOPIC)


def complaint_channels(session: Session, *, codes: Sequence[str]) -> Sequence[ComplaintChannel]:
    """The current complaint channels with these codes, in the table's order."""
    return session.scalars(
        select(ComplaintChannel)
        .where(ComplaintChannel.code.in_(codes), ComplaintChannel.is_current)
        .order_by(ComplaintChannel.sort_order)
    ).all()
