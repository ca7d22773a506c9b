"""Telegram accounts: who is writing, linking them to a family, what we store, deleting it.

Plain functions of a database session (the caller owns the transaction), used by the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import (
    ColumnElement,
    String,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from programme.invites import hash_invite_code
from programme.models import (
    AnswerRating,
    AuditLog,
    InviteCode,
    LinkAttempt,
    OutboxMessage,
    OutboxState,
    ProcessedUpdate,
    QuestionLog,
    TelegramUser,
    UnansweredQuery,
    UserRole,
)
from programme.nik import InvalidNikError, normalize_nik
from programme.queries import find_member_by_nik

MAX_LINK_ATTEMPTS = 5  # wrong NIK/date-of-birth tries within LOCKOUT before the account is locked
LOCKOUT = timedelta(hours=24)


class _HasUserId(Protocol):
    @property
    def user_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Sender:
    """What Telegram tells us about the person writing."""

    telegram_user_id: int
    chat_id: int  # where the message came from: positive for a private chat, negative for groups
    first_name: str | None
    username: str | None
    language_code: str | None


def account(session: Session, asker: _HasUserId) -> TelegramUser:
    """The account row of someone who has written to us (made by `upsert_user` on first contact)."""
    user = session.get(TelegramUser, asker.user_id) if asker.user_id is not None else None
    if user is None:
        raise LookupError(f"no Telegram account {asker.user_id}")
    return user


def record_refused_staff_command(
    session: Session, *, user_id: int | None, actor: str, command: str
) -> None:
    """A KPM tried a pendamping command: audited, so misuse of the tools shows up."""
    session.add(
        AuditLog(
            actor_user_id=user_id,
            actor=actor,
            action="refused_staff_command",
            details={"command": command},
        )
    )


def upsert_user(session: Session, sender: Sender) -> TelegramUser:
    """The TelegramUser row for this person, created on first contact, names kept current.

    The account's chat is always the person's private chat (Telegram gives it the user's own
    id): everything personal the bot sends (reminders, notices, replies from the admins) goes
    there. A message from a group never replaces it, and says nothing about whether the private
    chat works; only a private message marks the account reachable again.
    """
    private = sender.chat_id > 0  # Telegram: private chats are positive, groups negative
    user = session.scalars(
        select(TelegramUser).where(TelegramUser.telegram_user_id == sender.telegram_user_id)
    ).one_or_none()
    if user is None:
        user = TelegramUser(
            telegram_user_id=sender.telegram_user_id,
            chat_id=sender.telegram_user_id,
            role=UserRole.KPM,
            language="en" if (sender.language_code or "").startswith("en") else "id",
        )
        session.add(user)
    if private:
        user.chat_id = sender.chat_id
        user.is_unreachable = False  # they wrote to us: the chat works again
    elif user.chat_id <= 0:  # set from a group by an earlier version: back to the private chat
        user.chat_id = sender.telegram_user_id
    user.first_name = sender.first_name
    user.username = sender.username
    session.flush()
    return user


def mark_unreachable(sessions: sessionmaker[Session], chat_id: int) -> None:
    """Telegram answered 403 for this chat (or said the user blocked the bot): no more reminders
    or broadcasts to it."""
    with sessions.begin() as session:
        set_chat_reachable(session, chat_id, reachable=False)


def set_chat_reachable(session: Session, chat_id: int, *, reachable: bool) -> None:
    """Record whether the account(s) of this private chat can be sent to (Telegram told us the
    user blocked or unblocked the bot)."""
    for user in session.scalars(select(TelegramUser).where(TelegramUser.chat_id == chat_id)):
        user.is_unreachable = not reachable


def record_flood(
    session: Session, *, telegram_user_id: int | None, chat: str, dropped: int, seconds: float
) -> None:
    """A chat sent faster than the bot could answer and `dropped` messages went unread: one
    audit row for the whole flood (never the texts), so the admins see who and how much."""
    user = (
        session.scalars(
            select(TelegramUser).where(TelegramUser.telegram_user_id == telegram_user_id)
        ).one_or_none()
        if telegram_user_id is not None
        else None
    )
    session.add(
        AuditLog(
            actor_user_id=user.id if user else None,
            actor=f"telegram:{telegram_user_id}" if telegram_user_id else "telegram:unknown",
            action="flood_dropped",
            details={"chat": chat, "dropped": dropped, "seconds": round(seconds, 1)},
        )
    )


def already_processed(session: Session, update_id: int) -> bool:
    """Whether an update id was handled before (Telegram re-delivered it)."""
    return session.get(ProcessedUpdate, update_id) is not None


def first_time(session: Session, update_id: int) -> bool:
    """Record an update id; False when it was already processed (Telegram re-delivered it)."""
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True


class LinkResult(StrEnum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    INVALID = "invalid"
    LOCKED = "locked"
    NOT_A_KPM = "not_a_kpm"


def link_with_invite(
    session: Session, user: TelegramUser, *, code: str, secret_key: str, now: datetime
) -> LinkResult:
    """Use a one-time invite code from the pendamping to link the account to its family."""
    if user.role is not UserRole.KPM:
        return LinkResult.NOT_A_KPM
    invite = session.scalars(
        select(InviteCode).where(InviteCode.code_hash == hash_invite_code(code, secret_key))
    ).one_or_none()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return LinkResult.INVALID
    if user.family_id == invite.family_id:
        return LinkResult.ALREADY_LINKED
    invite.used_at, invite.used_by_user_id = now, user.id
    _link(session, user, family_id=invite.family_id, how="invite", now=now)
    return LinkResult.LINKED


def link_with_nik(
    session: Session,
    user: TelegramUser,
    *,
    nik: str,
    birth_date: date,
    secret_key: str,
    now: datetime,
) -> LinkResult:
    """Link by the pengurus' NIK and date of birth; locked after repeated failures."""
    if user.role is not UserRole.KPM:
        return LinkResult.NOT_A_KPM
    if failed_attempts(session, user, now=now) >= MAX_LINK_ATTEMPTS:
        return LinkResult.LOCKED
    try:
        member = find_member_by_nik(session, nik=normalize_nik(nik), secret_key=secret_key)
    except InvalidNikError:
        member = None
    matches = member is not None and member.is_pengurus and member.birth_date == birth_date
    session.add(
        LinkAttempt(telegram_user_id=user.telegram_user_id, succeeded=matches, attempted_at=now)
    )
    if not matches or member is None:
        return LinkResult.INVALID
    _link(session, user, family_id=member.family_id, how="nik", now=now)
    return LinkResult.LINKED


def failed_attempts(session: Session, user: TelegramUser, *, now: datetime) -> int:
    """Wrong NIK/date-of-birth tries in the lock-out window."""
    count = session.scalar(
        select(func.count())
        .select_from(LinkAttempt)
        .where(
            LinkAttempt.telegram_user_id == user.telegram_user_id,
            LinkAttempt.succeeded.is_(False),
            LinkAttempt.attempted_at > now - LOCKOUT,
        )
    )
    return int(count or 0)


def _link(session: Session, user: TelegramUser, *, family_id: int, how: str, now: datetime) -> None:
    user.family_id, user.linked_at = family_id, now
    session.add(
        AuditLog(
            actor_user_id=user.id,
            actor=f"telegram:{user.telegram_user_id}",
            action="link_account",
            target_type="family",
            target_id=str(family_id),
            details={"how": how},
        )
    )


# What /hapus leaves of an account: no Telegram id, no name, no text; the audit log says
# that something happened (and when), not who did it.
DELETED_ACTOR = "telegram:deleted"
_UNSENT = (OutboxState.QUEUED, OutboxState.SENDING)


def stored_data(session: Session, user: TelegramUser) -> dict[str, object]:
    """What the bot stores about this person (for /dataku)."""
    questions = session.scalar(
        select(func.count()).select_from(UnansweredQuery).where(UnansweredQuery.user_id == user.id)
    )
    ratings = session.scalar(
        select(func.count()).select_from(AnswerRating).where(AnswerRating.user_id == user.id)
    )
    messages = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == user.id)
    )
    audited = session.scalar(select(func.count()).select_from(AuditLog).where(_actor_is(user)))
    return {
        "telegram_user_id": user.telegram_user_id,
        "first_name": user.first_name,
        "username": user.username,
        "role": user.role.value,
        "family": user.family.pkh_id if user.family else None,
        "linked_at": user.linked_at,
        "reminders_enabled": user.reminders_enabled,
        "language": user.language,
        "questions_kept": int(questions or 0),
        "ratings": int(ratings or 0),
        "messages": int(messages or 0),
        "audit_entries": int(audited or 0),
    }


def delete_user_data(session: Session, user: TelegramUser) -> None:
    """Forget this Telegram account: what it asked and rated, what was sent to it, and who it was.

    Deleted: the inbox questions, ratings, link attempts, messages not sent yet, and the account
    row. Kept without anything that points to the person: the delivery records of messages
    already sent (text, chat and account cleared; the broadcast reports still add up), the
    question counts for the statistics (no text was ever kept there) and the audit log entries,
    whose actor becomes "telegram:deleted". The family's programme record is not the user's to
    delete (it belongs to the programme); only the link to it goes.
    """
    session.execute(delete(UnansweredQuery).where(UnansweredQuery.user_id == user.id))
    session.execute(delete(AnswerRating).where(AnswerRating.user_id == user.id))
    session.execute(
        delete(LinkAttempt).where(LinkAttempt.telegram_user_id == user.telegram_user_id)
    )
    mine = or_(OutboxMessage.user_id == user.id, OutboxMessage.chat_id == user.chat_id)
    session.execute(
        delete(OutboxMessage).where(mine, OutboxMessage.state.in_(_UNSENT)),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(OutboxMessage)
        .where(mine)
        .values(
            # the key named the account ("…:user:55"); a new one frees it for whoever gets id 55
            dedupe_key=literal("deleted:", String) + cast(OutboxMessage.id, String),
            text="",
            buttons=None,
            error=None,
            chat_id=0,
            user_id=None,
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(QuestionLog).where(QuestionLog.user_id == user.id).values(user_id=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(AuditLog).where(_actor_is(user)).values(actor=DELETED_ACTOR, actor_user_id=None),
        execution_options={"synchronize_session": False},
    )
    session.add(AuditLog(actor=DELETED_ACTOR, action="delete_own_data", details={}))
    session.delete(user)


def _actor_is(user: TelegramUser) -> ColumnElement[bool]:
    return or_(
        AuditLog.actor == f"telegram:{user.telegram_user_id}", AuditLog.actor_user_id == user.id
    )
