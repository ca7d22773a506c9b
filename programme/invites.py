"""One-time invite codes that link a Telegram account to a family; only their hash is stored.

A pendamping's codes are derived from PKH_SECRET_KEY, the family and the moment of issue, so that
running /undangan again can show the same, still valid link instead of voiding it; without the key
the stored hash and the row reveal nothing of the code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import Family, InviteCode


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


def derived_invite_code(key: str | bytes, *, family_id: int, issued_at: datetime) -> str:
    """The code of the invite issued to this family at this second (16 URL-safe characters)."""
    if not key:
        raise ValueError("PKH_SECRET_KEY is required to make an invite code")
    key_bytes = key.encode() if isinstance(key, str) else key
    message = f"invite-code:{family_id}:{int(issued_at.timestamp())}".encode()
    return base64.urlsafe_b64encode(
        hmac.new(key_bytes, message, hashlib.sha256).digest()[:12]
    ).decode()


def issue_family_invite(
    session: Session, *, pkh_id: str, secret_key: str, valid_for: timedelta, now: datetime
) -> str | None:
    """A new one-time code for the family with this PKH id, issued by its pendamping.

    Only the code's hash is stored; None when there is no such family.
    """
    family = session.scalars(select(Family).where(Family.pkh_id == pkh_id)).one_or_none()
    if family is None:
        return None
    code = new_invite_code()
    session.add(
        InviteCode(
            code_hash=hash_invite_code(code, secret_key),
            family_id=family.id,
            issued_by_pendamping_id=family.kelompok.pendamping_id,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    return code
