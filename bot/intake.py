"""What comes in from Telegram, read one update at a time: one that cannot be read is skipped.

python-telegram-bot reads a whole getUpdates batch in one go (`Update.de_list`); if one update in
it does not parse (a message without `date`, a `from` without `first_name`, a field of the wrong
type), the batch is dropped, logged in full and fetched again: the bot answers nobody and the log
fills with other users' messages. Here every update of the batch is read on its own. One that
cannot be read, or whose fields have types the handlers could not use, is replaced by a bare
`{"update_id": …}`: PTB confirms it like any other (so Telegram does not send it again), no
handler matches it, and it is logged once with its id and kind — never its content. Fields and
update kinds that a newer Bot API adds are kept by PTB in `api_kwargs` and ignored.

Polling reads through `UpdatesRequest` (PTB's `get_updates_request`, which sees the raw answer
before PTB parses it); webhook mode reads each POSTed update with `read_update`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from http import HTTPStatus
from typing import Any

from telegram import Bot, Chat, Message, MessageEntity, Update, User
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
_KIND = re.compile(r"[a-z_]{1,40}")


def read_update(data: object, bot: Bot | None = None) -> Update | None:
    """The Update in `data` (for `bot`), or None (logged once, id and kind only) when it cannot
    be used. Polling only checks here; PTB reads the checked batch again for its bot."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    kind = _kind(data)
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        log.warning("skipped an update without a usable update_id (kind %s)", kind)
        return None
    try:
        update = Update.de_json(data, bot)  # type: ignore[arg-type]
        problem = _unusable(update)
    except Exception as error:  # whatever PTB raises for what it cannot read
        problem = _reason(error)
    if problem is not None:
        log.warning("skipped update %s (%s): cannot be read (%s)", update_id, kind, problem)
        return None
    return update


def readable_batch(batch: list[Any]) -> list[Any]:
    """A getUpdates result in which every update that cannot be used is a bare `update_id`."""
    readable: list[Any] = []
    for data in batch:
        if read_update(data) is not None:
            readable.append(data)
        elif isinstance(data, dict) and _is_id(data.get("update_id")):
            readable.append({"update_id": data["update_id"]})  # still confirmed
    return readable


class UpdatesRequest(HTTPXRequest):
    """PTB's HTTP request for getUpdates, with each update of the answer checked on its own."""

    async def do_request(self, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, payload = await super().do_request(url, *args, **kwargs)
        if status == HTTPStatus.OK and url.endswith("/getUpdates"):
            payload = _readable_payload(payload)
        return status, payload


def _readable_payload(payload: bytes) -> bytes:
    """A getUpdates answer's JSON with `readable_batch` applied to its result."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload  # PTB reports an answer that is not JSON
    if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
        return payload
    answer["result"] = readable_batch(answer["result"])
    return json.dumps(answer).encode()


# --- what the handlers rely on ---------------------------------------------------------------
# PTB does not check the types of what it reads: a "text" that is a number or a "chat" id that is
# a string would reach the handlers. These are the fields they (and PTB's filters) use.


def _unusable(update: Update) -> str | None:
    """The first field the handlers could not use, or None."""
    messages = (
        update.message,
        update.edited_message,
        update.channel_post,
        update.edited_channel_post,
        update.business_message,
        update.edited_business_message,
    )
    for message in messages:
        if message is not None and (problem := _message_problem(message)):
            return problem
    query = update.callback_query
    if query is not None:
        if not isinstance(query.id, str) or not _optional(query.data, str):
            return "callback_query"
        if (problem := _user_problem(query.from_user)) is not None:
            return problem
        if isinstance(query.message, Message) and (problem := _message_problem(query.message)):
            return problem
    change = update.my_chat_member
    if change is not None:
        if (problem := _chat_problem(change.chat) or _user_problem(change.from_user)) is not None:
            return problem
        if not isinstance(change.new_chat_member.status, str):
            return "my_chat_member.status"
    return None


def _message_problem(message: Message, *, depth: int = 0) -> str | None:
    if not _is_id(message.message_id) or not isinstance(message.date, datetime):
        return "message"
    if not _optional(message.text, str) or not _optional(message.caption, str):
        return "message.text"
    if (problem := _chat_problem(message.chat)) is not None:
        return problem
    if message.sender_chat is not None and (problem := _chat_problem(message.sender_chat)):
        return problem
    if message.from_user is not None and (problem := _user_problem(message.from_user)):
        return problem
    for entity in (*message.entities, *message.caption_entities):
        if not isinstance(entity, MessageEntity) or not _entity_fits(entity):
            return "message.entities"
    reply = message.reply_to_message
    if reply is not None and depth == 0:
        return _message_problem(reply, depth=1)
    return None


def _chat_problem(chat: Chat) -> str | None:
    if not isinstance(chat, Chat) or not _is_id(chat.id) or not isinstance(chat.type, str):
        return "chat"
    return None


def _user_problem(user: User) -> str | None:
    fields_fit = (
        _is_id(user.id)
        and isinstance(user.first_name, str)
        and isinstance(user.is_bot, bool)
        and _optional(user.username, str)
        and _optional(user.language_code, str)
    )
    return None if isinstance(user, User) and fields_fit else "from"


def _entity_fits(entity: MessageEntity) -> bool:
    return _is_id(entity.offset) and _is_id(entity.length) and isinstance(entity.type, str)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(value: object, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _kind(data: object) -> str:
    """The update's kind ("message", "poll", …) for the log; never any of its content."""
    if not isinstance(data, dict):
        return type(data).__name__
    kinds = [key for key in data if key != "update_id"]
    if not kinds:
        return "empty"
    kind = str(kinds[0])
    return kind if _KIND.fullmatch(kind) else "unknown"


def _reason(error: Exception) -> str:
    """Why PTB could not read it, without the values: a missing key's name at most."""
    if isinstance(error, KeyError) and error.args and _KIND.fullmatch(str(error.args[0])):
        return f"missing {error.args[0]}"
    return type(error).__name__
