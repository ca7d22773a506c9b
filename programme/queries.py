"""Look-ups on the programme database shared by actions, the bot and the admin web."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from programme.models import FamilyMember
from programme.nik import hash_nik


def find_member_by_nik(session: Session, *, nik: str, secret_key: str) -> FamilyMember | None:
    """The family member with this NIK, found through its keyed hash (the NIK is not stored)."""
    nik_hash = hash_nik(nik, secret_key)
    return session.scalars(select(FamilyMember).where(FamilyMember.nik_hash == nik_hash)).first()
