"""Webhook mode: a small server of our own that hands Telegram's POSTs to the bot.

As in python-telegram-bot's `customwebhookbot` example, the web server is ours, not PTB's: PTB's
answers 400 to an update it cannot read, and Telegram then sends that update again and again,
holding back every update behind it. Here such a POST is acknowledged (200) and skipped, logged
once with its id and kind (bot.intake). A request without Telegram's secret token gets 403.

An update is acknowledged only once it has been handled: a worker that dies first (a crash, a
kill -9, a deploy) never said "received", so Telegram delivers it again, to another worker when
several run behind a load balancer (tests/bot/test_nginx_workers.py).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import Iterator, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.context import BotApplication
from bot.intake import read_update
from bot.startup import keep_trying

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
PATH = "/telegram"


def webhook_app(application: BotApplication, *, secret_token: str) -> Starlette:
    """The ASGI app that receives Telegram's updates on POST /telegram."""
    expected = secret_token.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
        except ValueError:  # not JSON at all: nothing to read, nothing to re-send
            data = None
        update = read_update(data, application.bot)
        if update is not None:
            # Through the update processor (bot.lanes), as PTB's own update fetcher does.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        return Response()

    return Starlette(routes=[Route(PATH, receive, methods=["POST"])])


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: the bot stops the server itself (bot.app), so that
    SIGTERM ends in a clean shutdown instead of uvicorn raising the signal again afterwards."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def webhook_server(
    application: BotApplication, *, listen: str, port: int, secret_token: str
) -> uvicorn.Server:
    """A uvicorn server for the webhook; set `should_exit` to stop it."""
    config = uvicorn.Config(
        webhook_app(application, secret_token=secret_token),
        host=listen,
        port=port,
        log_config=None,  # our logging (with NIK and token masking), not uvicorn's handlers
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    return _Server(config)


async def register_webhook(
    application: BotApplication,
    *,
    url: str,
    secret_token: str,
    allowed_updates: Sequence[str] | None,
) -> bool:
    """Tell Telegram where to send updates, retried until it answers."""
    return await keep_trying(
        "setWebhook",
        lambda: application.bot.set_webhook(
            url, secret_token=secret_token, allowed_updates=allowed_updates
        ),
        attempts=None,  # without a webhook nothing arrives: keep trying
    )
