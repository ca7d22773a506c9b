"""Asking the real actions a question, as a demo user, on the seeded database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import Asker, Reply, Request, answer
from core.i18n import Translator
from nlu.client import Entity, IntentGuess, ParseResult
from programme.demo import demo_handles
from programme.models import TelegramUser


@dataclass
class Ask:
    """`ask("ask_benefit_amount", "anak smp dapet brp", component="anak_smp", as_="kpm-wita")`."""

    session: Session
    now: datetime

    def asker(self, handle: str | None, language: str = "id") -> Asker:
        if handle is None:
            return Asker(language=language)
        telegram_id = demo_handles()[handle]
        user = self.session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == telegram_id)
        ).one()
        return Asker.from_user(user)

    def __call__(
        self,
        intent: str,
        text: str = "",
        *,
        as_: str | None = None,
        language: str = "id",
        ranking: tuple[str, ...] = (),
        now: datetime | None = None,
        **entities: str,
    ) -> Reply:
        parse = ParseResult(
            text=text or intent,
            intent=intent,
            confidence=0.95,
            ranking=tuple(IntentGuess(name, 0.3) for name in ranking),
            entities=tuple(Entity(name, value, value) for name, value in entities.items()),
        )
        request = Request(
            parse, self.asker(as_, language), self.session, now or self.now, Translator(language)
        )
        return answer(request)


@pytest.fixture
def ask(seeded: Session, demo_now: datetime) -> Ask:
    return Ask(seeded, demo_now)
