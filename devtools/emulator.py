"""A local emulator of the Telegram Bot API, for the bot's end-to-end tests and benchmarks.

Point python-telegram-bot at it with ``base_url=emulator.base_url``, inject what users do
(``user_sends``, ``user_taps``, …), read what the bot did (``sent``, ``calls``), and make the API
fail, stall or enforce Telegram's flood limits to exercise the bot's sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import ClientError, ClientSession, ClientTimeout, web

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
DEFAULT_TOKEN = "123456:TEST-TOKEN"  # noqa: S105 - valid in shape only, never a real bot
Handler = Callable[[JSONDict], Awaitable[Any]]
T = TypeVar("T")

# PTB sends these parameters JSON-encoded inside form fields; all others stay plain strings, so a
# text such as "[1, 2]" is never mistaken for JSON.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
    }
)
# (most accepted sends, per seconds) — https://core.telegram.org/bots/faq#broadcasting-to-users
OVERALL_LIMIT = (30, 1.0)
PRIVATE_CHAT_LIMIT = (1, 1.0)
GROUP_CHAT_LIMIT = (20, 60.0)
LIMITED_METHODS = frozenset({"sendMessage", "editMessageText"})
MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
PARSE_MODES = frozenset({"HTML", "Markdown", "MarkdownV2"})
COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram's servers mark commands and @mentions in what users type; PTB's CommandHandler relies
# on the bot_command entity, so injected texts get them too.
ENTITY_PATTERN = re.compile(
    r"(?<!\S)(/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?|@[A-Za-z0-9_]{5,32})"
)
CHAT_SCOPES = frozenset({"chat", "chat_administrators"})
GLOBAL_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
)
# Short, rising pauses between webhook retries: Telegram's are longer, tests should stay fast.
WEBHOOK_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Telegram error answer: HTTP status, description and, for 429, retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> JSONDict:
        """The answer's JSON body, as Telegram shapes it."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent or edited (sendMessage, editMessageText, editMessageReplyMarkup)."""

    method: str
    chat_id: int
    text: str | None
    reply_markup: JSONDict | None
    parse_mode: str | None
    message_id: int
    received_at: float  # time.monotonic() when the emulator accepted it


@dataclass(frozen=True, slots=True)
class AnsweredCallback:
    """The bot's answerCallbackQuery to a tap injected by ``user_taps``."""

    callback_query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(slots=True)
class _Failure:
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None
    remaining: int


@dataclass(slots=True)
class _Delay:
    seconds: float
    remaining: int


@dataclass(slots=True)
class _Pending:
    update: JSONDict
    update_id: int
    # Injected with an update_id the bot may already have confirmed: delivered once regardless.
    redelivery: bool
    delivered: bool = False


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class _FloodControl:
    """Telegram's flood limits on sending, as sliding windows of accepted sends."""

    def __init__(self) -> None:
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}

    def breach(self, chat_id: int, now: float) -> tuple[str, int] | None:
        """The limit a send now would break and the whole seconds until it fits, or None."""
        kind, (limit, period) = (
            ("group", GROUP_CHAT_LIMIT) if chat_id < 0 else ("chat", PRIVATE_CHAT_LIMIT)
        )
        window = self._per_chat.get(chat_id)
        if window is not None and (wait := _seconds_until_room(window, limit, period, now)):
            return kind, wait
        if wait := _seconds_until_room(self._overall, *OVERALL_LIMIT, now):
            return "global", wait
        return None

    def accept(self, chat_id: int, now: float) -> None:
        """Count an accepted send in the overall and the chat's window."""
        self._overall.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)


def _seconds_until_room(window: deque[float], limit: int, period: float, now: float) -> int:
    """0 if the window has room for one more send now, else the seconds to wait (at least 1)."""
    while window and window[0] <= now - period:
        window.popleft()
    if len(window) < limit:
        return 0
    return max(1, math.ceil(window[0] + period - now))


def scope_key(scope: JSONDict | None, language_code: str | None = None) -> str:
    """The key under which ``commands`` stores a scope: "default", "chat:42", "chat:42/id", …"""
    kind = str((scope or {}).get("type", "default"))
    if kind in GLOBAL_SCOPES:
        key = kind
    elif kind in CHAT_SCOPES and scope is not None and "chat_id" in scope:
        key = f"{kind}:{scope['chat_id']}"
    elif kind == "chat_member" and scope is not None and {"chat_id", "user_id"} <= scope.keys():
        key = f"chat_member:{scope['chat_id']}:{scope['user_id']}"
    else:
        raise ApiError(400, "Bad Request: wrong bot command scope")
    return f"{key}/{language_code}" if language_code else key


def _utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _auto_entities(text: str) -> list[JSONDict]:
    """The bot_command and mention entities Telegram's servers would mark in ``text``."""
    return [
        {
            "type": "bot_command" if match.group().startswith("/") else "mention",
            "offset": _utf16_length(text[: match.start()]),
            "length": _utf16_length(match.group()),
        }
        for match in ENTITY_PATTERN.finditer(text)
    ]


def _int(params: JSONDict, key: str) -> int | None:
    """The integer parameter ``key``; None when absent, Bad Request when not a number."""
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(400, f"Bad Request: wrong parameter {key}")
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"Bad Request: wrong parameter {key}") from None


def _required_int(params: JSONDict, key: str) -> int:
    """The integer parameter ``key``, which must be present."""
    value = _int(params, key)
    if value is None:
        raise ApiError(400, f"Bad Request: {key} is empty")
    return value


def _chat_id(params: JSONDict) -> int:
    """The numeric chat_id; "@channel" names are chats the emulator does not know."""
    if params.get("chat_id") in (None, ""):
        raise ApiError(400, "Bad Request: chat_id is empty")
    try:
        return _required_int(params, "chat_id")
    except ApiError:
        raise ApiError(400, "Bad Request: chat not found") from None


def _chat_id_or_none(params: JSONDict) -> int | None:
    """The chat_id if the call names a numeric one."""
    with contextlib.suppress(ApiError):
        return _int(params, "chat_id")
    return None


def _str(params: JSONDict, key: str) -> str | None:
    """The parameter ``key`` as text, None when absent."""
    value = params.get(key)
    return None if value is None else str(value)


def _bool(params: JSONDict, key: str) -> bool:
    """The parameter ``key`` as a boolean (PTB sends "true"/"false")."""
    return params.get(key) in (True, 1, "true", "True", "1")


def _text(params: JSONDict) -> str:
    """A message text, checked as Telegram checks it."""
    text = _str(params, "text")
    if not text or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise ApiError(400, "Bad Request: message is too long")
    parse_mode = _str(params, "parse_mode")
    if parse_mode and parse_mode not in PARSE_MODES:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
    return text


def _reply_markup(params: JSONDict) -> JSONDict | None:
    """The reply_markup, with inline buttons checked the way Telegram rejects them."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _inline_only(markup: JSONDict | None) -> JSONDict | None:
    """The markup as a Message carries it: only inline keyboards come back."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _callback_data(markup: JSONDict | None) -> set[str]:
    """Every callback_data of an inline keyboard."""
    rows = (markup or {}).get("inline_keyboard", [])
    return {str(b["callback_data"]) for row in rows for b in row if "callback_data" in b}


def _decode_json_fields(params: JSONDict) -> JSONDict:
    """Decode the parameters that arrive as JSON strings (reply_markup, scope, …)."""
    for key in JSON_FIELDS.intersection(params):
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    return params


async def _read_params(request: web.Request) -> JSONDict:
    """The call's parameters from its query string and JSON, urlencoded or multipart body."""
    params: JSONDict = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            params.update(body)
        else:
            for key, value in (await request.post()).items():
                # Uploaded files are not stored; their name is enough to see what was sent.
                params[key] = value if isinstance(value, str) else getattr(value, "filename", "")
    return _decode_json_fields(params)


def _answer(status: int, body: JSONDict) -> web.Response:
    """A JSON response with Telegram's envelope."""
    return web.json_response(body, status=status)


class BotApiEmulator:
    """An in-process HTTP server that answers the Bot API methods the PKH bot uses."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        enforce_limits: bool = False,
        bot_username: str = "pkh_assistant_bot",
        bot_name: str = "PKH Assistant",
        port: int = 0,
        first_update_id: int = 100_001,
    ) -> None:
        self.token = token
        self.enforce_limits = enforce_limits
        self.port = port
        prefix = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        # What the bot did; clear() empties these.
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, JSONDict]] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.over_limit: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        self._sent_counts: Counter[tuple[int, str]] = Counter()
        # State of the emulated Telegram.
        self.commands: dict[str, list[JSONDict]] = {}
        self.blocked_chats: set[int] = set()
        self._pending: list[_Pending] = []
        self._webhook: _Webhook | None = None
        self._messages: dict[tuple[int, int], JSONDict] = {}  # the bot's, by (chat, id)
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._open_callbacks: dict[str, int] = {}  # callback_query_id -> user_id
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._flood = _FloodControl()
        # Telegram's update ids are unique per bot; tests that run several emulators against one
        # database give each its own range.
        self._last_update_id = first_update_id - 1
        self._last_message_id = 0
        self._last_file_id = 0
        self._generation = 0  # bumped by clear(), so waiters start over
        self._updates_changed = asyncio.Event()
        self._activity = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("getUpdates", self._get_updates),
                ("setWebhook", self._set_webhook),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("sendMessage", self._send_message),
                ("editMessageText", self._edit_message_text),
                ("editMessageReplyMarkup", self._edit_message_reply_markup),
                ("deleteMessage", self._delete_message),
                ("answerCallbackQuery", self._answer_callback_query),
                ("setMyCommands", self._set_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("sendChatAction", self._send_chat_action),
                ("setMyDescription", self._accept),
                ("setMyShortDescription", self._accept),
                ("setChatMenuButton", self._accept),
                ("close", self._accept),
                ("logOut", self._accept),
            )
        }

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The base_url to give python-telegram-bot; it appends "<token>/<method>"."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Serve on 127.0.0.1 (a free port unless one was given) and start webhook delivery."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        # No access log: the hot path of a 10,000-message benchmark must stay light.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = ClientSession(timeout=ClientTimeout(total=30))
        self._webhook_task = asyncio.create_task(self._deliver_webhook_updates())
        self._closing = False

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._wake_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the emulator."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the emulator."""
        await self.stop()

    # --- what users do ---------------------------------------------------------------------

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Siti",
        username: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """A user writes ``text`` (commands and @mentions get entities unless given)."""
        found = _auto_entities(text) if entities is None else entities
        content: JSONDict = {"text": text} | ({"entities": found} if found else {})
        return self._user_message(user_id, first_name, username, chat_id, chat_type, content)

    def user_sends_command(
        self, user_id: int, command: str, argument: str | None = None, **user: Any
    ) -> JSONDict:
        """A user sends ``/command [argument]``, e.g. a deep link's ``/start ABC123``."""
        text = f"{command} {argument}" if argument else command
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_length(command)}
        return self.user_sends(user_id, text, entities=[entity], **user)

    def user_sends_sticker(self, user_id: int, **user: Any) -> JSONDict:
        """A user sends a sticker."""
        sticker = self._file("sticker") | {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._user_content(user_id, {"sticker": sticker}, **user)

    def user_sends_photo(self, user_id: int, caption: str | None = None, **user: Any) -> JSONDict:
        """A user sends a photo (two sizes, as Telegram does), optionally captioned."""
        photo = [
            self._file("photo") | {"width": 90, "height": 120, "file_size": 1_500},
            self._file("photo") | {"width": 960, "height": 1280, "file_size": 98_000},
        ]
        content: JSONDict = {"photo": photo} | ({"caption": caption} if caption else {})
        return self._user_content(user_id, content, **user)

    def user_sends_voice(self, user_id: int, **user: Any) -> JSONDict:
        """A user sends a voice note."""
        voice = self._file("voice") | {"duration": 4, "mime_type": "audio/ogg", "file_size": 9_000}
        return self._user_content(user_id, {"voice": voice}, **user)

    def user_sends_location(self, user_id: int, lat: float, lon: float, **user: Any) -> JSONDict:
        """A user shares a location."""
        return self._user_content(
            user_id, {"location": {"latitude": lat, "longitude": lon}}, **user
        )

    def user_sends_document(
        self, user_id: int, caption: str | None = None, **user: Any
    ) -> JSONDict:
        """A user sends a PDF document, optionally captioned."""
        document = self._file("document") | {
            "file_name": "dokumen.pdf",
            "mime_type": "application/pdf",
            "file_size": 52_000,
        }
        content: JSONDict = {"document": document} | ({"caption": caption} if caption else {})
        return self._user_content(user_id, content, **user)

    def user_blocks_bot(self, user_id: int) -> JSONDict:
        """A user blocks the bot: sends to them answer 403, and a my_chat_member update says so."""
        self.block_chat(user_id)
        return self._queue({"my_chat_member": self._membership_change(user_id, "kicked")})

    def user_unblocks_bot(self, user_id: int) -> JSONDict:
        """A user unblocks the bot (Telegram sends my_chat_member; /start follows in the app)."""
        self.unblock_chat(user_id)
        return self._queue({"my_chat_member": self._membership_change(user_id, "member")})

    def user_edits(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> JSONDict:
        """A user edits a text they sent earlier (an ``edited_message`` update)."""
        original = self._user_messages.get((user_id if chat_id is None else chat_id, message_id))
        if original is None or original["from"]["id"] != user_id:
            raise ValueError(f"user {user_id} sent no message {message_id} there")
        original.pop("entities", None)
        original.update(text=new_text, edit_date=int(time.time()))
        if entities := _auto_entities(new_text):
            original["entities"] = entities
        return self._queue({"edited_message": copy.deepcopy(original)})

    def user_taps(
        self, user_id: int, message: SentMessage, callback_data: str, **user: Any
    ) -> JSONDict:
        """A user taps the inline button carrying ``callback_data`` under a bot's message."""
        current = self._messages.get((message.chat_id, message.message_id))
        if current is None:
            raise ValueError(f"the bot has no message {message.message_id} in {message.chat_id}")
        if callback_data not in _callback_data(current.get("reply_markup")):
            raise ValueError(f"message {message.message_id} has no button {callback_data!r}")
        query_id = str(self._next_file_number())
        self._open_callbacks[query_id] = user_id
        query = {
            "id": query_id,
            "from": self._user(user_id, **user),
            "message": copy.deepcopy(current),
            "chat_instance": str(message.chat_id),
            "data": callback_data,
        }
        return self._queue({"callback_query": query})

    def group_message(
        self, chat_id: int, user_id: int, text: str, *, mention_bot: bool = False, **user: Any
    ) -> JSONDict:
        """A member writes in a group chat, optionally @-mentioning the bot first."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if mention_bot:
            text = f"@{self.bot_user['username']} {text}"
        return self.user_sends(user_id, text, chat_id=chat_id, chat_type="group", **user)

    def inject_raw(self, update: JSONDict) -> JSONDict:
        """Queue any update, however malformed its content (its update_id must be a number; one
        already used is delivered again, for de-duplication)."""
        update = copy.deepcopy(update)
        update.setdefault("update_id", self._last_update_id + 1)
        update_id = int(update["update_id"])
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:  # a forged tap can be answered too
            sender = query.get("from")
            user_id = sender.get("id") if isinstance(sender, dict) else None
            self._open_callbacks[str(query["id"])] = user_id if isinstance(user_id, int) else 0
        self._pending.append(_Pending(update, update_id, update_id <= self._last_update_id))
        self._last_update_id = max(self._last_update_id, update_id)
        self._wake_pollers()
        return update

    # --- what the bot did ------------------------------------------------------------------

    def sent_counts(self) -> Counter[tuple[int, str]]:
        """Accepted sendMessage calls per (chat_id, text): a count above 1 is a duplicate."""
        return Counter(self._sent_counts)

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed by the bot."""
        return len(self._pending)

    async def wait_for_sent(
        self,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - a plain number reads best in tests
        predicate: Callable[[SentMessage], bool] | None = None,
    ) -> list[SentMessage]:
        """Wait until ``count`` sent messages match (in total, not since the call); return them."""

        def matches(message: SentMessage) -> bool:
            return (chat_id is None or message.chat_id == chat_id) and (
                predicate is None or predicate(message)
            )

        where = "" if chat_id is None else f" to chat {chat_id}"
        return await self._wait_for(lambda: self.sent, matches, count, timeout, f"messages{where}")

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - as in wait_for_sent
    ) -> list[JSONDict]:
        """Wait until the bot made ``count`` calls of ``method``; return their parameters."""
        name = self._canonical(method)
        found = await self._wait_for(
            lambda: self.calls, lambda call: call[0] == name, count, timeout, f"{name} calls"
        )
        return [params for _, params in found]

    def clear(self) -> None:
        """Forget what the bot did (sent, calls, answers, counters); keep Telegram's state."""
        self.sent.clear()
        self.calls.clear()
        self.answered_callbacks.clear()
        self.over_limit.clear()
        self.status_counts.clear()
        self._sent_counts.clear()
        self._generation += 1

    # --- failure injection -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        chat_id: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else DEFAULT_DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
            )
        failure = _Failure(
            status, description, retry_after if status == 429 else None, chat_id, times
        )
        self._failures.setdefault(self._canonical(method), []).append(failure)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before answering them."""
        self._delays.setdefault(self._canonical(method), []).append(_Delay(seconds, times))

    def block_chat(self, chat_id: int) -> None:
        """From now on every call to ``chat_id`` answers 403, as when a user blocks the bot."""
        self.blocked_chats.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """The user unblocked the bot."""
        self.blocked_chats.discard(chat_id)

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        """Answer one Bot API call."""
        if request.match_info["token"] != self.token:
            return _answer(401, ApiError(401, "Unauthorized").envelope())
        name = request.match_info["method"]
        entry = self._handlers.get(name.lower())
        method = entry[0] if entry else name
        try:
            params = await _read_params(request)
            self.calls.append((method, params))
            if entry is None:
                raise ApiError(404, "Not Found: method not found")
            await self._hold_if_delayed(method)
            self._fail_if_injected(method, params)
            result = await entry[1](params)
        except ApiError as error:
            self.status_counts[error.status] += 1
            return _answer(error.status, error.envelope())
        finally:
            self._wake_waiters()
        self.status_counts[200] += 1
        return _answer(200, {"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        """File downloads are not emulated."""
        return _answer(404, ApiError(404, "Not Found").envelope())

    async def _hold_if_delayed(self, method: str) -> None:
        """Sleep first if ``delay_next`` asked for it; the call still takes effect afterwards."""
        delays = self._delays.get(method)
        if delays:
            delay = delays[0]
            delay.remaining -= 1
            if delay.remaining <= 0:
                delays.pop(0)
            await asyncio.sleep(delay.seconds)

    def _fail_if_injected(self, method: str, params: JSONDict) -> None:
        """Raise the failure ``fail_next`` queued for this call, or 403 for a blocked chat."""
        chat_id = _chat_id_or_none(params)
        for failure in self._failures.get(method, []):
            if failure.chat_id is None or failure.chat_id == chat_id:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures[method].remove(failure)
                raise ApiError(failure.status, failure.description, failure.retry_after)
        if chat_id is not None and chat_id in self.blocked_chats:
            group = "Forbidden: bot was kicked from the group chat"
            raise ApiError(403, group if chat_id < 0 else DEFAULT_DESCRIPTIONS[403])

    # --- methods ---------------------------------------------------------------------------

    async def _accept(self, params: JSONDict) -> bool:
        """Methods whose effect the emulator only records in ``calls``."""
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        """getMe: the bot's own User."""
        return self.bot_user

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """getUpdates: long polling that returns as soon as there is something to deliver."""
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset")
        limit = min(max(_int(params, "limit") or 100, 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except ValueError:
            raise ApiError(400, "Bad Request: wrong parameter timeout") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            wake = self._updates_changed
            batch = self._take_updates(offset, limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), remaining)

    def _take_updates(self, offset: int | None, limit: int) -> list[JSONDict]:
        """Drop what ``offset`` confirms, then hand out the next updates in increasing id order."""
        if offset is not None and offset < 0:
            self._pending = self._pending[offset:]
        elif offset is not None:
            self._pending = [
                p
                for p in self._pending
                if p.update_id >= offset or (p.redelivery and not p.delivered)
            ]
        batch: list[_Pending] = []
        for pending in self._pending:
            # A batch never goes back in ids: PTB confirms with the last id + 1.
            if len(batch) == limit or (batch and pending.update_id <= batch[-1].update_id):
                break
            pending.delivered = True
            batch.append(pending)
        return [pending.update for pending in batch]

    async def _set_webhook(self, params: JSONDict) -> bool:
        """setWebhook: from now on updates are POSTed to ``url`` (an empty url removes it)."""
        url = _str(params, "url") or ""
        secret = _str(params, "secret_token")
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if secret is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        allowed = params.get("allowed_updates")
        max_connections = _int(params, "max_connections") or 40
        self._webhook = (
            _Webhook(url, secret, max_connections, allowed if isinstance(allowed, list) else None)
            if url
            else None
        )
        self._wake_pollers()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        """deleteWebhook: back to getUpdates, optionally dropping pending updates."""
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        """getWebhookInfo: the webhook, its backlog and its last delivery error."""
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _send_message(self, params: JSONDict) -> JSONDict:
        """sendMessage: store and record the bot's message, within the flood limits."""
        chat_id = _chat_id(params)
        text = _text(params)
        markup = _reply_markup(params)
        self._enforce_limits("sendMessage", chat_id)
        message: JSONDict = {
            "message_id": self._next_message_id(),
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if isinstance(params.get("entities"), list):
            message["entities"] = params["entities"]
        if inline := _inline_only(markup):
            message["reply_markup"] = inline
        self._messages[(chat_id, message["message_id"])] = message
        self._record("sendMessage", message, markup, _str(params, "parse_mode"))
        self._sent_counts[(chat_id, text)] += 1
        return message

    async def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        """editMessageText: change a bot message's text (and keyboard, which it replaces)."""
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        text = _text(params)
        markup = _inline_only(_reply_markup(params))
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        self._enforce_limits("editMessageText", message["chat"]["id"])
        message.update(text=text, edit_date=int(time.time()))
        self._set_markup(message, markup)
        self._record("editMessageText", message, markup, _str(params, "parse_mode"))
        return message

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        """editMessageReplyMarkup: replace or remove a bot message's inline keyboard."""
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        markup = _inline_only(_reply_markup(params))
        if message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message["edit_date"] = int(time.time())
        self._set_markup(message, markup)
        self._record("editMessageReplyMarkup", message, markup, None)
        return message

    async def _delete_message(self, params: JSONDict) -> bool:
        """deleteMessage: forget a message of the bot's or of a user's."""
        key = (_chat_id(params), _required_int(params, "message_id"))
        if self._messages.pop(key, None) is None and self._user_messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        """answerCallbackQuery: each tap can be answered once."""
        query_id = _str(params, "callback_query_id") or ""
        user_id = self._open_callbacks.pop(query_id, None)
        if user_id is None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        answer = AnsweredCallback(
            query_id,
            user_id,
            _str(params, "text"),
            _bool(params, "show_alert"),
            _str(params, "url"),
        )
        self.answered_callbacks.append(answer)
        return True

    async def _set_my_commands(self, params: JSONDict) -> bool:
        """setMyCommands: store the command list of one scope and language."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: wrong parameter commands")
        for command in commands:
            if not COMMAND_PATTERN.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = scope_key(params.get("scope"), _str(params, "language_code"))
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        if stored:
            self.commands[key] = stored
        else:
            self.commands.pop(key, None)
        return True

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        """deleteMyCommands: forget one scope's commands."""
        self.commands.pop(scope_key(params.get("scope"), _str(params, "language_code")), None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        """getMyCommands: exactly that scope's list (Telegram does not fall back here either)."""
        return self.commands.get(scope_key(params.get("scope"), _str(params, "language_code")), [])

    async def _send_chat_action(self, params: JSONDict) -> bool:
        """sendChatAction: "typing…" and friends; only checked and recorded in ``calls``."""
        _chat_id(params)
        if _str(params, "action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # --- helpers ---------------------------------------------------------------------------

    def _canonical(self, method: str) -> str:
        """The Bot API spelling of a method name; Telegram matches names case-insensitively."""
        entry = self._handlers.get(method.lower())
        if entry is None:
            raise ValueError(f"the emulator does not implement {method!r}")
        return entry[0]

    def _enforce_limits(self, method: str, chat_id: int) -> None:
        """Answer 429 when a send would break Telegram's flood limits; count the breach."""
        if not self.enforce_limits or method not in LIMITED_METHODS:
            return
        now = time.monotonic()
        breach = self._flood.breach(chat_id, now)
        if breach is not None:
            kind, wait = breach
            self.over_limit[kind] += 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._flood.accept(chat_id, now)

    def _record(
        self, method: str, message: JSONDict, markup: JSONDict | None, parse_mode: str | None
    ) -> None:
        """Add an accepted send or edit to ``sent``."""
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=message["chat"]["id"],
                text=message.get("text"),
                reply_markup=markup,
                parse_mode=parse_mode,
                message_id=message["message_id"],
                received_at=time.monotonic(),
            )
        )

    def _message_to_edit(self, params: JSONDict) -> JSONDict:
        """The bot's stored message that an edit names."""
        chat_id = _chat_id(params)
        message_id = _int(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            if (chat_id, message_id) in self._user_messages:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    @staticmethod
    def _set_markup(message: JSONDict, markup: JSONDict | None) -> None:
        """Attach or remove a message's inline keyboard."""
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup

    def _chat(self, chat_id: int) -> JSONDict:
        """The Chat for ``chat_id``: as users introduced it, else made up from the id."""
        chat = self._chats.get(chat_id)
        if chat is not None:
            return chat
        if chat_id >= 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def _membership_change(self, user_id: int, status: str) -> JSONDict:
        """A ChatMemberUpdated for the bot's membership of the private chat with ``user_id``."""

        def member(state: str) -> JSONDict:
            return {"user": self.bot_user, "status": state} | (
                {"until_date": 0} if state == "kicked" else {}
            )

        return {
            "chat": self._chat(user_id),
            "from": self._user(user_id),
            "date": int(time.time()),
            "old_chat_member": member("member" if status == "kicked" else "kicked"),
            "new_chat_member": member(status),
        }

    def _user(
        self, user_id: int, first_name: str = "Siti", username: str | None = None
    ) -> JSONDict:
        """A human User as Telegram describes one."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        user["language_code"] = "id"
        return user

    def _user_content(self, user_id: int, content: JSONDict, **user: Any) -> JSONDict:
        """A private message from ``user_id`` carrying ``content`` (sticker, photo, …)."""
        return self._user_message(
            user_id, user.get("first_name", "Siti"), user.get("username"), None, "private", content
        )

    def _user_message(
        self,
        user_id: int,
        first_name: str,
        username: str | None,
        chat_id: int | None,
        chat_type: str,
        content: JSONDict,
    ) -> JSONDict:
        """Store a user's message, remember its chat and queue it as an update."""
        if chat_id is None and chat_type != "private":
            raise ValueError(f"a {chat_type} message needs the group's chat_id")
        sender = self._user(user_id, first_name, username)
        chat_id = user_id if chat_id is None else chat_id
        if chat_type == "private":
            chat: JSONDict = {k: v for k, v in sender.items() if k in ("first_name", "username")}
            chat |= {"id": chat_id, "type": "private"}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": f"Kelompok PKH {-chat_id}"}
        self._chats[chat_id] = chat
        message: JSONDict = {
            "message_id": self._next_message_id(),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._user_messages[(chat_id, message["message_id"])] = message
        return self._queue({"message": copy.deepcopy(message)})

    def _queue(self, update: JSONDict) -> JSONDict:
        """Give ``update`` the next update_id and queue it for delivery."""
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, **update}
        self._pending.append(_Pending(update, self._last_update_id, redelivery=False))
        self._wake_pollers()
        return update

    def _file(self, kind: str) -> JSONDict:
        """A fresh file_id/file_unique_id pair."""
        number = self._next_file_number()
        return {"file_id": f"{kind}-{number}", "file_unique_id": f"u{kind}{number}"}

    def _next_file_number(self) -> int:
        """A number for file and callback query ids."""
        self._last_file_id += 1
        return self._last_file_id

    def _next_message_id(self) -> int:
        """The next message_id; one counter for all chats keeps ids increasing."""
        self._last_message_id += 1
        return self._last_message_id

    def _wake_pollers(self) -> None:
        """Wake long polls and webhook delivery: the updates changed."""
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _wake_waiters(self) -> None:
        """Wake ``wait_for_sent``/``wait_for_calls``: the bot did something."""
        self._activity.set()
        self._activity = asyncio.Event()

    async def _wait_for(
        self,
        records: Callable[[], list[T]],
        matches: Callable[[T], bool],
        count: int,
        seconds: float,
        what: str,
    ) -> list[T]:
        """Wait until ``count`` records match, scanning only what arrived since the last look."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        found: list[T] = []
        seen, generation = 0, self._generation
        while True:
            wake = self._activity
            if generation != self._generation or len(records()) < seen:
                found, seen, generation = [], 0, self._generation
            found.extend(record for record in records()[seen:] if matches(record))
            seen = len(records())
            remaining = deadline - loop.time()
            if len(found) >= count:
                return found
            if remaining <= 0:
                raise TimeoutError(f"waited {seconds}s for {count} {what}, got {len(found)}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), remaining)

    async def _deliver_webhook_updates(self) -> None:
        """POST pending updates to the webhook in order, retrying each until it is accepted."""
        failures = 0
        while True:
            wake = self._updates_changed
            hook = self._webhook
            if hook is None or not self._pending:
                await wake.wait()
                continue
            pending = self._pending[0]
            if await self._post_update(hook, pending.update):
                with contextlib.suppress(ValueError):
                    self._pending.remove(pending)
                failures = 0
            else:
                await asyncio.sleep(
                    WEBHOOK_RETRY_DELAYS[min(failures, len(WEBHOOK_RETRY_DELAYS) - 1)]
                )
                failures += 1

    async def _post_update(self, hook: _Webhook, update: JSONDict) -> bool:
        """POST one update as Telegram does; note the error on the webhook when it fails."""
        if self._session is None:
            return False
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        )
        try:
            async with self._session.post(hook.url, json=update, headers=headers) as response:
                if 200 <= response.status < 300:
                    return True
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (ClientError, TimeoutError) as exc:
            error = f"Connection failed: {exc!r}"
        log.debug("webhook delivery of update %s failed: %s", update.get("update_id"), error)
        hook.last_error_date, hook.last_error_message = int(time.time()), error
        return False
