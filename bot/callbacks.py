"""Signed callback data: a button's payload is accepted only if this bot made it, recently, for
the person who taps it.

Telegram returns callback_data exactly as sent, so anyone can forge one with a modified client;
an HMAC (PKH_SECRET_KEY) and an issue time make forged or stale buttons harmless. The Telegram
user a button was shown to is signed in too: in a shared chat (a group, a forwarded message)
someone else's tap is refused instead of acting on their own account.
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
    """A verified button: what kind, its value, and the Telegram user it was made for."""

    kind: ButtonKind
    value: str
    for_user: int

    def is_for(self, telegram_user_id: int | None) -> bool:
        """Whether the person tapping is the one the button was shown to."""
        return telegram_user_id == self.for_user


class CallbackSigner:
    """Makes and checks callback_data strings like "ask:ask_help:cv3k1:6k1x9c:Zq3…".

    The parts: kind, value, the intended user (base 36), the minute of issue (base 36), the HMAC.
    The kind comes first, so handlers can match a button by its prefix ("^kl:").
    """

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def _mac(self, payload: str) -> str:
        # surrogatepass: JSON may carry lone surrogates, which a strict encode refuses.
        digest = hmac.new(self._key, payload.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()[:9]).decode()

    def sign(self, kind: ButtonKind, value: str, *, for_user: int, now: float | None = None) -> str:
        """The callback_data of a button shown to the Telegram user `for_user`."""
        if ":" in value or for_user < 0:
            raise ValueError(f"cannot sign {value!r} for {for_user}")
        issued = _base36(int(now if now is not None else time.time()) // 60)
        payload = f"{kind}:{value}:{_base36(for_user)}:{issued}"
        data = f"{payload}:{self._mac(payload)}"
        if len(data.encode()) > _LIMIT:
            raise ValueError(f"callback data too long for Telegram: {data!r}")
        return data

    def verify(self, data: str | None, *, now: float | None = None) -> Callback | None:
        """The callback if `data` was signed by us and is not stale; None otherwise.

        Whether the person tapping may use it is the caller's question (`Callback.is_for`).
        """
        if not data or data.count(":") != 4:
            return None
        kind, value, user, issued, mac = data.split(":")
        expected = self._mac(f"{kind}:{value}:{user}:{issued}")
        # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
        if not hmac.compare_digest(mac.encode("utf-8", "surrogatepass"), expected.encode()):
            return None
        try:
            age = (now if now is not None else time.time()) - int(issued, 36) * 60
            for_user = int(user, 36)
        except ValueError:
            return None
        if not -120 <= age <= MAX_AGE_SECONDS or kind not in _KINDS:
            return None
        return Callback(ButtonKind(kind), value, for_user)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text or "0"
