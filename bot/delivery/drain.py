"""The outbox drain: the leader's workers that send queued bulk messages through the one sender.

Each worker claims one row (queued → sending, committed), sends it with bulk priority, and
records the outcome (sent / blocked / failed, or queued again after a transient error). A crash
between the two commits leaves the row in `sending`: that is the in-flight window. It holds at
most `concurrency` rows, and only those whose request had actually reached Telegram can be
shown twice when they are sent again after the restart (`programme.outbox.recover_interrupted`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.callbacks import CallbackSigner
from bot.delivery.sender import SendOptions, retry_after_seconds
from core.quiet import QuietHours
from programme import outbox
from programme.buttons import Button
from programme.outbox import ClaimedMessage

log = logging.getLogger(__name__)

BULK: SendOptions = {"priority": "bulk", "retry_timeouts": False}
IDLE_POLL_SECONDS = 1.0  # how often an idle drain looks for rows other processes queued
NETWORK_BACKOFF = timedelta(seconds=5)


class OutboxDrain:
    """Sends the outbox while this worker leads; `start`/`stop` follow the leadership."""

    def __init__(
        self,
        bot: ExtBot[SendOptions],
        sessions: sessionmaker[Session],
        signer: CallbackSigner,
        *,
        clock: Callable[[], datetime],
        quiet: QuietHours | None,
        concurrency: int = 8,
    ) -> None:
        self._bot = bot
        self._sessions = sessions
        self._signer = signer
        self._clock = clock
        self._quiet = quiet
        self._concurrency = concurrency
        self._workers: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.in_flight: set[int] = set()  # claimed by this process and not finished

    @property
    def running(self) -> bool:
        return bool(self._workers)

    def poke(self) -> None:
        """Something was queued: look now instead of at the next idle poll."""
        self._wake.set()

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"outbox-drain-{number}")
                for number in range(self._concurrency)
            ]

    async def stop(self) -> None:
        """Stop sending; rows claimed but not finished stay `sending` for the next leader."""
        workers, self._workers = self._workers, []
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _work(self) -> None:
        while True:
            claimed = await self._claim_unless_stopped()
            if claimed is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
                continue
            self.in_flight.add(claimed.id)
            try:
                await self._send(claimed)
            except Exception:  # a bug must not stop the drain; the row stays for recovery
                log.exception("outbox message %s could not be handled", claimed.id)
            finally:
                self.in_flight.discard(claimed.id)

    async def _claim_unless_stopped(self) -> ClaimedMessage | None:
        """Claim the next row; if the drain is stopped meanwhile, give the row back at once.

        A thread cannot be cancelled: without this, a claim still waiting for the database when
        the drain stops would commit afterwards and leave its row `sending` until recovery.
        """
        claiming = asyncio.ensure_future(asyncio.to_thread(self._claim))
        try:
            return await asyncio.shield(claiming)
        except asyncio.CancelledError:
            claimed = await claiming
            if claimed is not None:
                await self._finish(outbox.give_back, claimed.id)
            raise

    def _claim(self) -> ClaimedMessage | None:
        with self._sessions.begin() as session:
            return outbox.claim_next(session, now=self._clock(), quiet=self._quiet)

    async def _send(self, message: ClaimedMessage) -> None:
        try:
            sent = await self._bot.send_message(
                message.chat_id,
                message.text,
                reply_markup=self._markup(message),
                rate_limit_args=BULK,
            )
        except Forbidden as exc:
            await self._finish(outbox.mark_blocked, message.id, error=str(exc))
        except RetryAfter as exc:  # still flooded after the sender's own retries
            wait = timedelta(seconds=retry_after_seconds(exc))
            await self._retry_later(message, str(exc), wait)
        except TimedOut as exc:
            # It may have been delivered: failing it (the pendamping can resend) rather than
            # sending it again keeps the "never twice" promise.
            await self._finish(
                outbox.mark_failed, message.id, error=f"timed out, delivery unknown: {exc}"
            )
        except BadRequest as exc:
            await self._finish(outbox.mark_failed, message.id, error=str(exc))
        except NetworkError as exc:  # 5xx or a dropped connection: never delivered
            await self._retry_later(message, str(exc), NETWORK_BACKOFF * message.attempts)
        else:
            await self._finish(outbox.mark_sent, message.id, telegram_message_id=sent.message_id)

    async def _retry_later(self, message: ClaimedMessage, error: str, wait: timedelta) -> None:
        if message.attempts >= outbox.MAX_ATTEMPTS:
            await self._finish(outbox.mark_failed, message.id, error=error)
            return
        await self._finish(
            outbox.retry_later, message.id, error=error, not_before=self._clock() + wait
        )

    async def _finish(self, record: Callable[..., None], message_id: int, **values: object) -> None:
        def work() -> None:
            with self._sessions.begin() as session:
                record(session, message_id, now=self._clock(), **values)

        await asyncio.to_thread(work)

    def _markup(self, message: ClaimedMessage) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        button.label,
                        # Outbox messages go to private chats, whose id is the recipient's
                        # (a group's negative id would make a button nobody may use).
                        callback_data=self._signer.sign(
                            button.kind, button.value, for_user=max(message.chat_id, 0)
                        ),
                    )
                    for button in map(Button.from_dict, row)
                ]
                for row in message.buttons
            ]
        )
