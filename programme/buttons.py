"""Buttons as data: what a reply or an outbox message offers, before any front end draws it.

A button's kind says what tapping it does; its value is that kind's argument (an intent, a
meeting and an answer, a conversation step). The bot signs `kind:value` into Telegram's
callback_data and decodes it in one place (`bot.callbacks`); the terminal chat reads the same
data. Outbox rows store buttons as `{"text", "kind", "value"}` dicts (JSON).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ButtonKind(enum.StrEnum):
    """What tapping a button does; the values are part of signed callback data, keep them short."""

    ASK = "ask"  # ask the question of an intent (value: the intent)
    RATE_UP = "up"  # 👍 under an answer (value: the answer's intent)
    RATE_DOWN = "down"  # 👎 under an answer
    DELETE = "del"  # /hapus confirmation (value: yes / no)
    REPLY = "reply"  # a pendamping answers a forwarded question (value: the KPM's chat)
    RSVP = "rsvp"  # Hadir / Tidak bisa under a reminder (value: <meeting>.<answer>)
    JADWAL = "jd"  # a step of /jadwal (value: the step's choice)
    SIARAN = "sr"  # a step of /siaran
    MEETING = "mt"  # a listed meeting's Batalkan and its confirmation
    BROADCAST = "sb"  # a listed broadcast's report, resend, cancel and its confirmation
    KELOMPOK = "kl"  # a kelompok's roster
    UNDANGAN = "ud"  # an invite batch


@dataclass(frozen=True, slots=True)
class Button:
    """A choice under a message: its label, what tapping it does, and that action's argument."""

    label: str
    kind: ButtonKind
    value: str

    @property
    def data(self) -> str:
        """`kind:value`, the unsigned form of its callback data (e.g. "ask:request_human")."""
        return f"{self.kind}:{self.value}"

    def as_dict(self) -> dict[str, str]:
        """The JSON form an outbox row keeps."""
        return {"text": self.label, "kind": self.kind.value, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Button:
        return cls(data["text"], ButtonKind(data["kind"]), data["value"])
