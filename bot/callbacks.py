"""Signed callback data: a button's payload is accepted only if this bot made it, recently.

Telegram returns callback_data exactly as sent, so anyone can forge one with a modified client;
an HMAC (PKH_SECRET_KEY) and an issue time make forged or stale buttons harmless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from programme.buttons import ButtonKind

MAX_AGE_SECONDS = 14 * 24 * 3600  # older buttons are answered with "please ask again"
_LIMIT = 64  # Telegram's maximum callback_data length in bytes
_KINDS = frozenset(ButtonKind)


@dataclass(frozen=True, slots=True)
class Callback:
    """A verified button press: what kind of button, and its value."""

    kind: ButtonKind
    value: str


class CallbackSigner:
    """Makes and checks callback_data strings like "ask:ask_help:6k1x9c:Zq3…"."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:9]).decode()

    def sign(self, kind: ButtonKind, value: str, *, now: float | None = None) -> str:
        issued = _base36(int(now if now is not None else time.time()) // 60)
        payload = f"{kind}:{value}:{issued}"
        data = f"{payload}:{self._mac(payload)}"
        if len(data.encode()) > _LIMIT:
            raise ValueError(f"callback data too long for Telegram: {data!r}")
        return data

    def verify(self, data: str | None, *, now: float | None = None) -> Callback | None:
        """The callback if `data` was signed by us and is not stale; None otherwise."""
        if not data or data.count(":") != 3:
            return None
        kind, value, issued, mac = data.split(":")
        if not hmac.compare_digest(mac, self._mac(f"{kind}:{value}:{issued}")):
            return None
        try:
            age = (now if now is not None else time.time()) - int(issued, 36) * 60
        except ValueError:
            return None
        if not -120 <= age <= MAX_AGE_SECONDS or kind not in _KINDS:
            return None
        return Callback(ButtonKind(kind), value)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text or "0"
