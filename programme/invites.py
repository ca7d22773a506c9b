"""One-time invite codes that link a Telegram account to a family; only their hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_invite_code() -> str:
    """A fresh random code, safe in a t.me/<bot>?start=<code> link (letters, digits, - and _)."""
    return secrets.token_urlsafe(12)


def hash_invite_code(code: str, key: str | bytes) -> str:
    """HMAC-SHA256 of the code under `key`, as 64 hex characters."""
    if not key:
        raise ValueError("PKH_SECRET_KEY is required to hash an invite code")
    key_bytes = key.encode() if isinstance(key, str) else key
    # The "invite:" prefix keeps these hashes apart from NIK hashes made with the same key.
    return hmac.new(key_bytes, b"invite:" + code.strip().encode(), hashlib.sha256).hexdigest()
