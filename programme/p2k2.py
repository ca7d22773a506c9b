"""The P2K2 curriculum as the answers read it: modules with their sessions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from programme.models import P2K2Module


def all_modules(session: Session) -> Sequence[P2K2Module]:
    """Every P2K2 module in order, with its sessions."""
    return session.scalars(
        select(P2K2Module).options(selectinload(P2K2Module.sessions)).order_by(P2K2Module.number)
    ).all()


def find_module(session: Session, *, code: str) -> P2K2Module | None:
    """One P2K2 module by its code, with its sessions."""
    return session.scalars(
        select(P2K2Module).where(P2K2Module.code == code).options(selectinload(P2K2Module.sessions))
    ).first()
