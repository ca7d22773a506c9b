"""What every action receives and returns: plain data, no Telegram types.

An action is a function `(Request) -> Reply`. The terminal chat, the Telegram bot and the tests
all call the same actions through `actions.answer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from core.i18n import Translator
from nlu.client import ParseResult
from programme.buttons import Button
from programme.models import TelegramUser, UnansweredReason, UserRole


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to one message."""

    text: str
    buttons: tuple[Button, ...] = ()
    # Set when the admins should see the question (fallback, out of scope, NLU down).
    unanswered: UnansweredReason | None = None
    intent: str | None = None
    topic_key: str | None = None
    # Set by request_human: the bot forwards the question to this pendamping.
    handoff_pendamping_id: int | None = None


@dataclass(frozen=True, slots=True)
class Asker:
    """Who is asking: their role and what their Telegram account is linked to."""

    user_id: int | None = None
    role: UserRole = UserRole.KPM
    family_id: int | None = None
    pendamping_id: int | None = None
    language: str = "id"
    first_name: str | None = None

    @classmethod
    def from_user(cls, user: TelegramUser) -> Asker:
        return cls(
            user_id=user.id,
            role=user.role,
            family_id=user.family_id,
            pendamping_id=user.pendamping_id,
            language=user.language,
            first_name=user.first_name,
        )

    @property
    def is_linked_kpm(self) -> bool:
        return self.role is UserRole.KPM and self.family_id is not None


@dataclass(frozen=True)
class Request:
    """Everything an action may use: the parse, the asker, a database session, now, a translator."""

    parse: ParseResult
    asker: Asker
    session: Session
    now: datetime
    tr: Translator = field(default_factory=Translator)

    @property
    def year(self) -> int | None:
        """The year the message names ("2027", "tahun depan", "thn lalu"), resolved against
        today; None when it names none. (`now` is UTC: around New Year use the local date.)"""
        return self.parse.year(self.now.date())


Action = Callable[[Request], Reply]

__all__ = ["Action", "Asker", "Button", "Reply", "Request"]
