"""A fake Telegram Bot API server for tests, speaking the real wire format.

`FakeTelegram` serves a Bot API look-alike on 127.0.0.1 (a random free port) from a
background thread, so code using python-telegram-bot talks to it exactly as it talks to
api.telegram.org: set ``TELEGRAM_API_BASE_URL`` to `FakeTelegram.base_url` (PTB's
``base_url`` is ``f"{base_url}/bot"``, its ``base_file_url`` ``f"{base_url}/file/bot"``).

What it reproduces of the real server (https://core.telegram.org/bots/api):

- requests as query strings, JSON bodies, url-encoded forms or multipart uploads, complex
  values JSON-encoded inside forms (as PTB sends them); method names are case-insensitive;
- answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
  "description": "..."}`` with the same HTTP status: 401 for a wrong token (404 for a
  malformed one), 404 for an unknown method, 400 "Bad Request: ...", 403 "Forbidden: ...",
  409 "Conflict: ...", 429 with ``parameters.retry_after``;
- long polling (getUpdates with offset, limit, timeout, allowed_updates; a newer call
  ends a waiting one with 409) and webhooks (pushed in order with the
  ``X-Telegram-Bot-Api-Secret-Token`` header, retried on failure; getUpdates is 409 then);
- the objects PTB 22 deserialises, topic messages of forum supergroups
  (``message_thread_id``, ``is_topic_message``, the topic's creation message as
  ``reply_to_message``), HTML parse mode turned into plain text and entities (Markdown modes
  are accepted and kept verbatim), file uploads, getFile and file downloads;
- optionally (``enforce_limits=True``) the flood limits: 1 message a second to one private
  chat, 20 a minute to one group (all its topics together), 30 a second in all.

Tests play everybody but the bot with thread-safe methods: create users, private chats and
forum groups; make a user send text, media, a location or a command, or press an inline
button; then look at what the bot sent (`FakeTelegram.sent`, `FakeTelegram.wait_for`), the
callback answers, the forum topics and every call it made (`FakeTelegram.calls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import math
import mimetypes
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeService, ServerThread

JSON = dict[str, Any]
_T = TypeVar("_T")
ChatRef = JSON | int | None
"""A chat for the control methods: a Chat dict, a chat id, or None for the user's private
chat with the bot."""

DEFAULT_TOKEN = "7000000001:AAFakeTokenForTests_0123456789-abcd"
DEFAULT_BOT_USERNAME = "cns_helpdesk_bot"
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
"""The six icon colours a forum topic may have (the first is the default)."""

_TOKEN_SHAPE = re.compile(r"\d+:[\w-]{30,}")
_CHAT_ACTIONS = frozenset(
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
_CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "voice",
    "location",
    "caption",
    "caption_entities",
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_UNKNOWN_QUERY = "query is too old and response timeout expired or query ID is invalid"


# --------------------------------------------------------------------------- errors


class BotApiError(Exception):
    """An error answer of the Bot API: raised inside a method, sent as its error JSON."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """The JSON body the real server sends for this error."""
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str) -> BotApiError:
    """400 "Bad Request: <what>"."""
    return BotApiError(400, f"Bad Request: {what}")


def forbidden(what: str) -> BotApiError:
    """403 "Forbidden: <what>"."""
    return BotApiError(403, f"Forbidden: {what}")


def conflict(what: str) -> BotApiError:
    """409 "Conflict: <what>"."""
    return BotApiError(409, f"Conflict: {what}")


def too_many_requests(retry_after: int) -> BotApiError:
    """429 with the seconds to wait, in the description and in ``parameters``."""
    return BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Upload:
    """A file uploaded in a multipart/form-data request."""

    filename: str
    content_type: str
    data: bytes


def _to_int(value: object) -> int | None:
    """An integer parameter as the real server reads it (numbers, or digits in a string)."""
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value.strip())
    return None


class Params:
    """The parameters of one call, converted on access the way the real server converts
    them: form fields are strings, with complex values JSON inside them. What a method read
    is kept, converted, for the call log."""

    def __init__(
        self,
        values: Mapping[str, object] | None = None,
        uploads: Mapping[str, Upload] | None = None,
    ) -> None:
        self._values = dict(values or {})
        self._uploads = dict(uploads or {})
        self._read: JSON = {}

    def snapshot(self) -> JSON:
        """Every parameter, converted where the method read it."""
        raw: JSON = dict(self._values)
        raw.update(
            {k: {"upload": u.filename, "size": len(u.data)} for k, u in self._uploads.items()}
        )
        return {**raw, **self._read}

    def _get(self, name: str) -> object:
        value = self._values.get(name)
        return None if value == "" else value

    def string(self, name: str) -> str | None:
        """A string parameter (numbers given in JSON bodies become their text)."""
        value = self._get(name)
        if value is None:
            return None
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        self._read[name] = text
        return text

    def integer(self, name: str) -> int | None:
        """An integer parameter; 400 if it is not a number."""
        value = self._get(name)
        if value is None:
            return None
        number = _to_int(value)
        if number is None:
            raise bad_request(f"invalid {name} specified")
        self._read[name] = number
        return number

    def need_int(self, name: str) -> int:
        """A required integer parameter; 400 "<name> is empty" when missing."""
        number = self.integer(name)
        if number is None:
            raise bad_request(f"{name} is empty")
        return number

    def chat_id(self, name: str = "chat_id") -> int:
        """A chat id; "@username" names only channels, which this fake has none of."""
        value = self._get(name)
        if isinstance(value, str) and value.startswith("@"):
            raise bad_request("chat not found")
        return self.need_int(name)

    def need_float(self, name: str) -> float:
        """A required number."""
        value = self._get(name)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as error:
            raise bad_request(f"{name} is empty" if value is None else f"invalid {name}") from error
        self._read[name] = number
        return number

    def flag(self, name: str) -> bool:
        """A boolean parameter ("true"/"1" in forms)."""
        value = self._get(name)
        result = value is True or value == 1 or str(value).lower() in ("true", "1")
        if value is not None:
            self._read[name] = result
        return result

    def structured(self, name: str) -> object:
        """A JSON-serialised parameter (reply_markup, entities, allowed_updates, ...)."""
        value = self._get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise bad_request(f"can't parse {name} JSON object") from error
        if value is not None:
            self._read[name] = value
        return value

    def file(self, name: str) -> Upload | str | None:
        """A file parameter: an upload (also via "attach://<part>") or a file_id / URL."""
        upload = self._uploads.get(name)
        if upload is None:
            text = self.string(name)
            if text is None or not text.startswith("attach://"):
                return text
            upload = self._uploads.get(text.removeprefix("attach://"))
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        self._read[name] = {"upload": upload.filename, "size": len(upload.data)}
        return upload


_DISPOSITION_PARAM = re.compile(r';\s*([\w*-]+)="((?:[^"\\]|\\.)*)"')


def _part_headers(head: bytes) -> dict[str, str]:
    """The headers of one multipart part, names lower-cased."""
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def parse_multipart(body: bytes, content_type: str) -> Iterator[tuple[str, Upload | str]]:
    """The fields of a multipart/form-data body: (name, text) or (name, Upload)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise bad_request("can't parse multipart/form-data: no boundary")
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = _part_headers(head)
        disposition = dict(_DISPOSITION_PARAM.findall(headers.get("content-disposition", "")))
        name, data = disposition.get("name"), data.removesuffix(b"\r\n")
        if not name:
            continue
        if "filename" in disposition:
            kind = headers.get("content-type", "application/octet-stream")
            yield name, Upload(disposition["filename"], kind, data)
        else:
            yield name, data.decode("utf-8", "replace")


async def read_params(request: Request) -> Params:
    """The parameters of a request: query string plus a JSON, form or multipart body."""
    values: dict[str, object] = dict(request.query_params)
    uploads: dict[str, Upload] = {}
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if body and kind == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError as error:
            raise bad_request("can't parse JSON object") from error
        if not isinstance(parsed, dict):
            raise bad_request("can't parse JSON object")
        values.update(parsed)
    elif body and kind == "application/x-www-form-urlencoded":
        values.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif body and kind == "multipart/form-data":
        for name, value in parse_multipart(body, content_type):
            if isinstance(value, Upload):
                uploads[name] = value
            else:
                values[name] = value
    return Params(values, uploads)


# --------------------------------------------------------------------------- text and markup


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram's entity offsets and limits count."""
    return len(text.encode("utf-16-le")) // 2


class _EntityError(Exception):
    """Text that Telegram's parse modes reject."""


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
"""The only named character references Telegram's HTML mode knows."""


class _HtmlText(HTMLParser):
    """Telegram's HTML parse mode: plain text plus MessageEntity dicts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.length = 0  # UTF-16 code units so far
        self.entities: list[JSON] = []
        self.open: list[tuple[str, int, JSON]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            kind = "spoiler"
        if kind is None:
            raise _EntityError(f'Unsupported start tag "{tag}"')
        entity: JSON = {"type": kind}
        if tag == "a":
            entity["url"] = dict(attrs).get("href") or ""
        self.open.append((tag, self.length, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise _EntityError(f'Unmatched end tag "{tag}"')
        _, start, entity = self.open.pop()
        if self.length > start and entity.get("url", True):
            self.entities.append({**entity, "offset": start, "length": self.length - start})

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise _EntityError('Unexpected "<": write it as "&lt;"')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        self._append(_HTML_NAMED.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._append(html.unescape(f"&#{name};"))

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def result(self) -> tuple[str, list[JSON]]:
        """The plain text and its entities, ordered by offset."""
        self.close()
        if self.open:
            tag = self.open[-1][0]
            raise _EntityError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        return "".join(self.parts), sorted(self.entities, key=lambda e: int(e["offset"]))


def parse_text(text: str, parse_mode: str | None, entities: object) -> tuple[str, list[JSON]]:
    """Text and entities as the real server stores them for a parse_mode (or given entities)."""
    if isinstance(entities, list):
        return text, entities
    mode = (parse_mode or "").lower()
    if mode in ("", "markdown", "markdownv2"):
        return text, []
    if mode != "html":
        raise bad_request("unsupported parse_mode")
    parser = _HtmlText()
    try:
        parser.feed(text)
        return parser.result()
    except _EntityError as error:
        raise bad_request(f"can't parse entities: {error}") from error


def text_content(p: Params, key: str, *, limit: int, required: bool) -> JSON:
    """The "text" or "caption" of a message being sent, with its entities, or 400."""
    entities_key = "entities" if key == "text" else "caption_entities"
    raw = p.string(key)
    if raw is None and not required:
        return {}
    text, entities = parse_text(raw or "", p.string("parse_mode"), p.structured(entities_key))
    if required and not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > limit:
        raise bad_request("message is too long" if key == "text" else "message caption is too long")
    content: JSON = {key: text}
    if entities:
        content[entities_key] = entities
    return content


_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _check_inline_button(button: object) -> None:
    """One InlineKeyboardButton: a text, exactly one action, callback_data of 1-64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= 64
    ):
        raise bad_request("BUTTON_DATA_INVALID")


def _rows(rows: object, what: str) -> list[list[Any]]:
    """A keyboard's rows: a list of lists, or 400."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f"can't parse {what} JSON object")
    return rows


def reply_markup(raw: object) -> JSON | None:
    """Validates reply_markup like the real server; returns what the sent Message carries
    (only inline keyboards are echoed back)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = _rows(raw["inline_keyboard"], "inline keyboard")
        for button in itertools.chain.from_iterable(rows):
            _check_inline_button(button)
        return {"inline_keyboard": rows}
    if "keyboard" in raw:
        _rows(raw["keyboard"], "reply keyboard markup")
        return None
    if raw.get("remove_keyboard") or raw.get("force_reply"):
        return None
    raise bad_request("can't parse reply keyboard markup JSON object")


def _find_button(message: JSON, data: str | None, text: str | None) -> JSON:
    """The inline button of `message` with this callback_data or text, else ValueError."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    for button in itertools.chain.from_iterable(rows):
        if "callback_data" in button and (
            button["callback_data"] == data or (data is None and button["text"] == text)
        ):
            return dict(button)
    raise ValueError(f"message {message['message_id']} has no callback button {data or text!r}")


# --------------------------------------------------------------------------- state


def _now() -> int:
    return int(time.time())


def _shallow(message: JSON) -> JSON:
    """A message as nested in another: without its own reply_to_message."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


@dataclass(frozen=True)
class RateLimits:
    """Telegram's flood limits for bots (https://core.telegram.org/bots/faq)."""

    private_per_second: int = 1
    group_per_minute: int = 20
    global_per_second: int = 30


class _RateLimiter:
    """Sliding windows of accepted sends, per chat and in all."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        self._per_chat: dict[int, deque[float]] = {}
        self._all: deque[float] = deque()

    @staticmethod
    def _wait(times: deque[float], window: float, cap: int, now: float) -> float:
        while times and times[0] <= now - window:
            times.popleft()
        return times[0] + window - now if len(times) >= cap else 0.0

    def admit(self, chat_id: int, private: bool, now: float) -> None:
        """Counts one send to `chat_id`, or raises 429 with the seconds to wait."""
        limits = self._limits
        window, cap = (
            (1.0, limits.private_per_second) if private else (60.0, limits.group_per_minute)
        )
        chat = self._per_chat.setdefault(chat_id, deque())
        wait = max(
            self._wait(chat, window, cap, now),
            self._wait(self._all, 1.0, limits.global_per_second, now),
        )
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        chat.append(now)
        self._all.append(now)


@dataclass
class _Chat:
    """A chat as the fake server knows it."""

    info: JSON  # the Chat object embedded in messages
    forum: bool = False
    started: bool = False  # private chats: the user has started the bot
    blocked: bool = False  # private chats: the user has blocked the bot
    next_message_id: int = 1
    topics: dict[int, JSON] = field(default_factory=dict)  # thread id -> ForumTopic
    closed: set[int] = field(default_factory=set)

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def private(self) -> bool:
        return bool(self.info["type"] == "private")

    def thread(self, thread_id: int | None) -> int | None:
        """Checks the message_thread_id of a message to this chat."""
        if thread_id is not None and thread_id not in self.topics:
            raise bad_request("message thread not found")
        return thread_id

    def topic(self, thread_id: int) -> JSON:
        """A forum topic of this chat, or 400."""
        if not self.forum:
            raise bad_request("the chat is not a forum")
        if thread_id not in self.topics:
            raise bad_request("TOPIC_ID_INVALID")
        return self.topics[thread_id]


_FILE_KINDS = {
    "photo": ("photos", ".jpg", "AgACAgIAAxkBAAI"),
    "document": ("documents", ".bin", "BQACAgIAAxkBAAI"),
    "voice": ("voice", ".oga", "AwACAgIAAxkBAAI"),
}


@dataclass
class _File:
    """A stored file: its bytes and the Telegram object that describes it."""

    kind: str  # photo, document or voice
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    extra: JSON  # width/height, file_name/mime_type, duration/mime_type

    def media(self) -> JSON | list[JSON]:
        """The PhotoSize list, Document or Voice of a message carrying this file."""
        obj = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            **self.extra,
        }
        return [obj] if self.kind == "photo" else obj

    def file(self) -> JSON:
        """The File object of getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


class _Files:
    """The files the fake knows, by file_id and by download path."""

    def __init__(self) -> None:
        self.by_id: dict[str, _File] = {}
        self.by_path: dict[str, _File] = {}
        self._numbers = itertools.count(1)

    def add(self, kind: str, data: bytes, extra: JSON, suffix: str = "") -> _File:
        """Registers new bytes; returns the file with fresh ids."""
        number = next(self._numbers)
        folder, default_suffix, prefix = _FILE_KINDS[kind]
        stored = _File(
            kind=kind,
            file_id=f"{prefix}{number:05d}{secrets.token_urlsafe(12)}",
            file_unique_id=f"AQAD{number:05d}",
            file_path=f"{folder}/file_{number}{suffix or default_suffix}",
            data=data,
            extra=extra,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def add_upload(self, kind: str, upload: Upload, p: Params) -> _File:
        """Registers an uploaded file, with the metadata Telegram would work out."""
        name = upload.filename or f"file{_FILE_KINDS[kind][1]}"
        if kind == "photo":
            return self.add(kind, upload.data, {"width": 1280, "height": 960})
        if kind == "voice":
            extra = {"duration": p.integer("duration") or 1, "mime_type": "audio/ogg"}
            return self.add(kind, upload.data, extra)
        mime = upload.content_type or "application/octet-stream"
        if mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or mime
        extra = {"file_name": name, "mime_type": mime}
        return self.add(kind, upload.data, extra, PurePosixPath(name).suffix)


@dataclass
class _Webhook:
    """The webhook set with setWebhook, and its last delivery error."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class _UpdateQueue:
    """Pending updates, confirmed by getUpdates offsets or by webhook deliveries."""

    def __init__(self) -> None:
        self.pending: list[JSON] = []
        self.allowed: list[str] | None = None  # allowed_updates of the last getUpdates
        self.webhook: _Webhook | None = None
        self.poller = 0  # generation of the newest getUpdates call
        # Like Telegram's, ids start at an arbitrary large number: two fake servers (two test
        # runs against the same Redis) never hand out the same update ids.
        self._next_id = secrets.randbelow(900_000_000) + 100_000_000

    def push(self, kind: str, payload: JSON) -> JSON:
        """Queues an update of `kind` ("message", "callback_query", ...)."""
        update = {"update_id": self._next_id, kind: copy.deepcopy(payload)}
        self._next_id += 1
        self.pending.append(update)
        return update

    def confirm(self, offset: int) -> None:
        """Forgets what an offset confirms (a negative one keeps only the last -offset)."""
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def deliverable(self, limit: int) -> list[JSON]:
        """The first `limit` updates of allowed types (others are dropped, as Telegram does)."""
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed
        self.pending = [u for u in self.pending if _is_allowed(u, allowed)]
        return copy.deepcopy(self.pending[:limit])


def _is_allowed(update: JSON, allowed: list[str] | None) -> bool:
    kind = next(k for k in update if k != "update_id")
    return kind in allowed if allowed else kind not in _NOT_BY_DEFAULT


class _Wakeup:
    """Wakes the server's waiting long polls and webhook pusher; notify from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Binds to the server's event loop (called from that loop)."""
        self._loop = loop
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """The event the next notification sets: take it *before* looking at the state."""
        assert self._event is not None, "the server is not running"
        return self._event

    def notify(self) -> None:
        """Wakes every waiter."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                self._loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        assert self._event is not None
        self._event.set()
        self._event = asyncio.Event()

    @staticmethod
    async def wait(event: asyncio.Event, seconds: float) -> None:
        """Waits for `event` at most `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class _World:
    """Everything the fake server knows. Callers hold `lock` around every access."""

    def __init__(self, token: str, bot_username: str, limits: RateLimits | None) -> None:
        self.lock = threading.RLock()
        self.wakeup = _Wakeup()
        self.token = token
        self.bot: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Trợ lý Tổ Công nghệ số",
            "username": bot_username,
        }
        self.chats: dict[int, _Chat] = {}
        self.messages: dict[tuple[int, int], JSON] = {}
        self.sent: list[tuple[str, tuple[int, int]]] = []  # (method, (chat id, message id))
        self.files = _Files()
        self.updates = _UpdateQueue()
        self.queries: dict[str, JSON] = {}  # unanswered callback queries by id
        self.answers: list[JSON] = []
        self.commands: dict[str, list[JSON]] = {}
        self.calls: list[JSON] = []
        self.deliveries: list[JSON] = []
        self.failures: dict[str, deque[BotApiError]] = {}
        self.limiter = _RateLimiter(limits) if limits else None
        self.rate_limited = 0
        self.closing = False
        self.numbers = itertools.count(1)
        # Called (in the server's thread, lock held) with each message the bot sends.
        self.on_send: Callable[[str, JSON], None] | None = None

    def chat(self, chat_id: int) -> _Chat:
        """A chat the bot can see, or 400 "chat not found"."""
        chat = self.chats.get(chat_id)
        if chat is None or (chat.private and not chat.started):
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: int) -> _Chat:
        """A chat the bot may send to, or the real server's 400/403."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.private and chat.blocked:
            raise forbidden("bot was blocked by the user")
        if chat.private and not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    def message(self, chat_id: int, message_id: int, missing: str) -> JSON:
        """A stored message, or 400 `missing`."""
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise bad_request(missing)
        return message

    def new_message(self, chat: _Chat, sender: JSON, content: JSON, thread_id: int | None) -> JSON:
        """Stores a new message in `chat` (in topic `thread_id`) and returns it."""
        message: JSON = {
            "message_id": chat.next_message_id,
            "from": dict(sender),
            "chat": dict(chat.info),
            "date": _now(),
            **content,
        }
        chat.next_message_id += 1
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
            created = self.messages[(chat.id, thread_id)]
            message.setdefault("reply_to_message", _shallow(created))
        self.messages[(chat.id, message["message_id"])] = message
        return message

    def service_message(self, chat: _Chat, thread_id: int | None, content: JSON) -> JSON:
        """A message about the chat itself (a topic created, closed, ...), from the bot."""
        return self.new_message(chat, self.bot, content, thread_id)

    def create_topic(self, chat: _Chat, name: str, icon_color: int, emoji: str | None) -> JSON:
        """A new forum topic; its id is that of its creation message, as in Telegram."""
        created: JSON = {"name": name, "icon_color": icon_color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        message = self.service_message(chat, None, {"forum_topic_created": created})
        thread_id = message["message_id"]
        message.update(message_thread_id=thread_id, is_topic_message=True)
        chat.topics[thread_id] = {"message_thread_id": thread_id, **created}
        return dict(chat.topics[thread_id])

    def push(self, kind: str, payload: JSON) -> JSON:
        """Queues an update and wakes long polls and the webhook pusher."""
        update = self.updates.push(kind, payload)
        self.wakeup.notify()
        return update

    def admit(self, chat: _Chat) -> None:
        """Applies the flood limits (when enforced) to one send to `chat`."""
        if self.limiter is None:
            return
        try:
            self.limiter.admit(chat.id, chat.private, time.monotonic())
        except BotApiError:
            self.rate_limited += 1
            raise

    def take_failure(self, method: str) -> BotApiError | None:
        """The next error injected for `method`, if any."""
        queued = self.failures.get(method.lower())
        if not queued:
            return None
        failure = queued.popleft()
        self.rate_limited += failure.error_code == 429
        return failure


# --------------------------------------------------------------------------- Bot API methods


@dataclass(frozen=True)
class _Described:
    """A result the real server sends with a "description" (setWebhook, deleteWebhook)."""

    result: object
    description: str


class _BotApi:
    """The Bot API methods, named in snake_case. Each takes the call's Params and returns its
    result; the caller holds the world's lock. getUpdates is `_LongPoll`'s."""

    def __init__(self, world: _World) -> None:
        self.w = world

    # ----- bot, chats, commands

    def get_me(self, p: Params) -> JSON:
        """The bot's User, with the getMe-only fields."""
        return {
            **self.w.bot,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def get_chat(self, p: Params) -> JSON:
        """A ChatFullInfo."""
        chat = self.w.chat(p.chat_id())
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        gifts["gifts_from_channels"] = False
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    @staticmethod
    def _commands_key(p: Params) -> str:
        scope = p.structured("scope") or {"type": "default"}
        return f"{json.dumps(scope, sort_keys=True)}|{p.string('language_code') or ''}"

    def set_my_commands(self, p: Params) -> bool:
        """Stores the command list of a scope and language."""
        commands = p.structured("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse BotCommand array JSON object")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.w.commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def get_my_commands(self, p: Params) -> list[JSON]:
        """The command list of a scope and language."""
        return self.w.commands.get(self._commands_key(p), [])

    def delete_my_commands(self, p: Params) -> bool:
        """Forgets the command list of a scope and language."""
        self.w.commands.pop(self._commands_key(p), None)
        return True

    # ----- webhook

    def set_webhook(self, p: Params) -> _Described:
        """Stores the webhook; plain http is accepted so that local gateways can use it."""
        url = p.string("url") or ""
        if not url:
            return self.delete_webhook(p)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: HTTPS URL must be provided for webhook")
        secret = p.string("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.structured("allowed_updates")
        queue = self.w.updates
        same = queue.webhook is not None and (queue.webhook.url, queue.webhook.secret_token) == (
            url,
            secret,
        )
        if p.flag("drop_pending_updates"):
            queue.pending.clear()
        queue.webhook = _Webhook(
            url=url,
            secret_token=secret,
            max_connections=p.integer("max_connections") or 40,
            allowed_updates=[str(a) for a in allowed] if isinstance(allowed, list) else None,
        )
        self.w.wakeup.notify()
        return _Described(True, "Webhook is already set" if same else "Webhook was set")

    def delete_webhook(self, p: Params) -> _Described:
        """Removes the webhook (getUpdates works again)."""
        queue = self.w.updates
        if p.flag("drop_pending_updates"):
            queue.pending.clear()
        had_webhook, queue.webhook = queue.webhook is not None, None
        return _Described(
            True, "Webhook was deleted" if had_webhook else "Webhook is already deleted"
        )

    def get_webhook_info(self, p: Params) -> JSON:
        """A WebhookInfo."""
        queue, hook = self.w.updates, self.w.updates.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(queue.pending),
        }
        if hook is not None:
            info.update(max_connections=hook.max_connections, ip_address="127.0.0.1")
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info.update(
                    last_error_date=hook.last_error_date,
                    last_error_message=hook.last_error_message,
                )
        return info

    # ----- sending

    def _reply_to(self, chat: _Chat, p: Params) -> JSON:
        """reply_to_message from reply_parameters (or the older reply_to_message_id)."""
        parameters = p.structured("reply_parameters")
        if isinstance(parameters, dict):
            message_id = _to_int(parameters.get("message_id"))
            lenient = bool(parameters.get("allow_sending_without_reply"))
        else:
            message_id = p.integer("reply_to_message_id")
            lenient = p.flag("allow_sending_without_reply")
        target = self.w.messages.get((chat.id, message_id or 0))
        if target is not None:
            return {"reply_to_message": _shallow(target)}
        if message_id is not None and not lenient:
            raise bad_request("message to be replied not found")
        return {}

    def _send(self, method: str, p: Params, content: JSON) -> JSON:
        """Checks and stores a message the bot sends; returns the Message."""
        chat = self.w.writable_chat(p.chat_id())
        thread_id = chat.thread(p.integer("message_thread_id"))
        markup = reply_markup(p.structured("reply_markup"))
        content = {**content, **self._reply_to(chat, p)}
        if markup is not None:
            content["reply_markup"] = markup
        self.w.admit(chat)
        message = self.w.new_message(chat, self.w.bot, content, thread_id)
        self.w.sent.append((method, (chat.id, message["message_id"])))
        if self.w.on_send is not None:
            self.w.on_send(method, message)
        return message

    def _input_file(self, p: Params, kind: str) -> _File:
        """The file of sendPhoto/sendDocument/sendVoice: uploaded, a file_id or a URL."""
        value = p.file(kind)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, Upload):
            return self.w.files.add_upload(kind, value, p)
        if value.startswith(("http://", "https://")):
            return self.w.files.add_upload(kind, Upload(value.rsplit("/", 1)[-1], "", b""), p)
        stored = self.w.files.by_id.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    def _send_file(self, method: str, p: Params, kind: str) -> JSON:
        stored = self._input_file(p, kind)
        caption = text_content(p, "caption", limit=1024, required=False)
        return self._send(method, p, {kind: stored.media(), **caption})

    def send_message(self, p: Params) -> JSON:
        """sendMessage: text of 1-4096 characters after entity parsing."""
        return self._send("sendMessage", p, text_content(p, "text", limit=4096, required=True))

    def send_photo(self, p: Params) -> JSON:
        """sendPhoto."""
        return self._send_file("sendPhoto", p, "photo")

    def send_document(self, p: Params) -> JSON:
        """sendDocument."""
        return self._send_file("sendDocument", p, "document")

    def send_voice(self, p: Params) -> JSON:
        """sendVoice."""
        return self._send_file("sendVoice", p, "voice")

    def send_location(self, p: Params) -> JSON:
        """sendLocation."""
        latitude, longitude = p.need_float("latitude"), p.need_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong location specified")
        location = {"latitude": latitude, "longitude": longitude}
        return self._send("sendLocation", p, {"location": location})

    def _source(self, p: Params, missing: str) -> JSON:
        source_chat = self.w.chat(p.chat_id("from_chat_id"))
        return self.w.message(source_chat.id, p.need_int("message_id"), missing)

    def copy_message(self, p: Params) -> JSON:
        """copyMessage: the content without a link to the original; returns a MessageId."""
        source = self._source(p, "message to copy not found")
        content = {k: copy.deepcopy(source[k]) for k in _CONTENT_KEYS if k in source}
        if not content:
            raise bad_request("message can't be copied")
        if "text" not in content and p.string("caption") is not None:
            content.pop("caption_entities", None)
            content.update(text_content(p, "caption", limit=1024, required=False))
        return {"message_id": self._send("copyMessage", p, content)["message_id"]}

    def forward_message(self, p: Params) -> JSON:
        """forwardMessage: the content with forward_origin."""
        source = self._source(p, "message to forward not found")
        content = {k: copy.deepcopy(source[k]) for k in _CONTENT_KEYS if k in source}
        if not content:
            raise bad_request("message can't be forwarded")
        origin = {"type": "user", "sender_user": source["from"], "date": source["date"]}
        return self._send("forwardMessage", p, {**content, "forward_origin": origin})

    def send_chat_action(self, p: Params) -> bool:
        """sendChatAction (recorded in the call log only)."""
        chat = self.w.writable_chat(p.chat_id())
        chat.thread(p.integer("message_thread_id"))
        if p.string("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ----- editing

    def _editable(self, p: Params) -> JSON:
        if p.string("inline_message_id") is not None:
            raise bad_request("MESSAGE_ID_INVALID")
        if p.string("chat_id") is None or p.string("message_id") is None:
            raise bad_request("message identifier is not specified")
        message = self.w.message(p.chat_id(), p.need_int("message_id"), "message to edit not found")
        if message["from"]["id"] != self.w.bot["id"]:
            raise bad_request("message can't be edited")
        return message

    def _edit(self, message: JSON, content: JSON, p: Params) -> JSON:
        updated = dict(message)
        if content:
            updated.pop("entities", None)
            updated.update(content)
        updated.pop("reply_markup", None)
        markup = reply_markup(p.structured("reply_markup"))
        if markup is not None:
            updated["reply_markup"] = markup
        if all(updated.get(k) == message.get(k) for k in ("text", "entities", "reply_markup")):
            raise bad_request(_NOT_MODIFIED)
        message.clear()
        message.update(updated, edit_date=_now())
        return message

    def edit_message_text(self, p: Params) -> JSON:
        """editMessageText (a keyboard not given again is removed, as in Telegram)."""
        message = self._editable(p)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        return self._edit(message, text_content(p, "text", limit=4096, required=True), p)

    def edit_message_reply_markup(self, p: Params) -> JSON:
        """editMessageReplyMarkup."""
        return self._edit(self._editable(p), {}, p)

    def answer_callback_query(self, p: Params) -> bool:
        """answerCallbackQuery: each query can be answered once."""
        query_id = p.string("callback_query_id") or ""
        if self.w.queries.pop(query_id, None) is None:
            raise bad_request(_UNKNOWN_QUERY)
        text = p.string("text")
        if text is not None and utf16_len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer: JSON = {"callback_query_id": query_id, "text": text}
        answer.update(show_alert=p.flag("show_alert"), url=p.string("url"))
        answer["cache_time"] = p.integer("cache_time") or 0
        self.w.answers.append(answer)
        return True

    # ----- forum topics

    def create_forum_topic(self, p: Params) -> JSON:
        """createForumTopic, only in forum supergroups."""
        chat = self.w.chat(p.chat_id())
        if not chat.forum:
            raise bad_request("the chat is not a forum")
        name = p.string("name") or ""
        if not name.strip():
            raise bad_request("TOPIC_TITLE_EMPTY")
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_INVALID")
        color = p.integer("icon_color") or TOPIC_COLORS[0]
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        return self.w.create_topic(chat, name, color, p.string("icon_custom_emoji_id"))

    def edit_forum_topic(self, p: Params) -> bool:
        """editForumTopic: a new name and/or custom emoji."""
        chat = self.w.chat(p.chat_id())
        topic = chat.topic(p.need_int("message_thread_id"))
        changes = {
            "name": p.string("name"),
            "icon_custom_emoji_id": p.string("icon_custom_emoji_id"),
        }
        changes = {k: v for k, v in changes.items() if v is not None and topic.get(k) != v}
        if not changes:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.update(changes)
        self.w.service_message(chat, topic["message_thread_id"], {"forum_topic_edited": changes})
        return True

    def _set_closed(self, p: Params, closed: bool) -> bool:
        chat = self.w.chat(p.chat_id())
        thread_id = chat.topic(p.need_int("message_thread_id"))["message_thread_id"]
        if (thread_id in chat.closed) == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        (chat.closed.add if closed else chat.closed.discard)(thread_id)
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self.w.service_message(chat, thread_id, {event: {}})
        return True

    def close_forum_topic(self, p: Params) -> bool:
        """closeForumTopic."""
        return self._set_closed(p, True)

    def reopen_forum_topic(self, p: Params) -> bool:
        """reopenForumTopic."""
        return self._set_closed(p, False)

    # ----- files

    def get_file(self, p: Params) -> JSON:
        """getFile: a File whose file_path downloads from /file/bot<token>/<file_path>."""
        stored = self.w.files.by_id.get(p.string("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return stored.file()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_METHODS = {
    _camel(name).lower(): _camel(name)
    for name in vars(_BotApi)
    if not name.startswith("_") and callable(getattr(_BotApi, name))
} | {"getupdates": "getUpdates"}
"""Lower-cased method name -> its canonical name."""


def _snake(method: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), method)


# --------------------------------------------------------------------------- HTTP side


class _LongPoll:
    """getUpdates: answers at once when updates are pending, else waits up to `timeout`."""

    def __init__(self, world: _World) -> None:
        self.w = world

    def _begin(self, p: Params) -> int:
        queue = self.w.updates
        if queue.webhook is not None:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = p.integer("offset")
        if offset:
            queue.confirm(offset)
        allowed = p.structured("allowed_updates")
        if isinstance(allowed, list):
            queue.allowed = [str(kind) for kind in allowed]
        queue.poller += 1
        self.w.wakeup.notify()  # ends an older waiting call
        return queue.poller

    def _take(self, generation: int, limit: int) -> list[JSON]:
        queue = self.w.updates
        if queue.poller != generation:
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        if queue.webhook is not None:
            raise conflict("terminated by setWebhook request")
        return queue.deliverable(limit)

    async def get_updates(self, p: Params) -> list[JSON]:
        """The getUpdates method."""
        with self.w.lock:
            generation = self._begin(p)
            limit = min(max(p.integer("limit") or 100, 1), 100)
            deadline = time.monotonic() + max(p.integer("timeout") or 0, 0)
        while True:
            event = self.w.wakeup.current()
            with self.w.lock:
                updates = self._take(generation, limit)
                closing = self.w.closing
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or closing:
                return updates
            await _Wakeup.wait(event, remaining)


class _WebhookPusher:
    """Pushes pending updates to the webhook one at a time and in order, like Telegram."""

    retry_delay = 0.5

    def __init__(self, world: _World) -> None:
        self.w = world
        self.client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """The background task: delivers whenever updates are pending."""
        while not self.w.closing:
            event = self.w.wakeup.current()
            statuses = await self.deliver()
            if statuses and not 200 <= statuses[-1] < 300:
                await asyncio.sleep(self.retry_delay)
                continue
            await _Wakeup.wait(event, 1.0)

    async def deliver(self) -> list[int]:
        """POSTs the pending updates until one fails; their HTTP statuses (0: no answer)."""
        statuses: list[int] = []
        async with self._lock:
            while (target := self._next()) is not None:
                webhook, update = target
                status, error = await self._post(webhook, update)
                statuses.append(status)
                if not self._settle(webhook, update, status, error):
                    break
        return statuses

    def _next(self) -> tuple[_Webhook, JSON] | None:
        with self.w.lock:
            webhook = self.w.updates.webhook
            pending = self.w.updates.deliverable(1) if webhook and not self.w.closing else []
            return (webhook, pending[0]) if webhook and pending else None

    async def _post(self, webhook: _Webhook, update: JSON) -> tuple[int, str]:
        if self.client is None:  # made on first use: creating one costs tens of milliseconds
            self.client = httpx.AsyncClient(timeout=10)
        secret = webhook.secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            response = await self.client.post(webhook.url, json=update, headers=headers)
        except httpx.HTTPError as error:
            return 0, f"Connection failed: {type(error).__name__}"
        reason = f"{response.status_code} {response.reason_phrase}"
        return response.status_code, f"Wrong response from the webhook: {reason}"

    def _settle(self, webhook: _Webhook, update: JSON, status: int, error: str) -> bool:
        with self.w.lock:
            self.w.deliveries.append({"update_id": update["update_id"], "status": status})
            if not 200 <= status < 300:
                webhook.last_error_date, webhook.last_error_message = _now(), error
                return False
            queue = self.w.updates
            queue.pending = [u for u in queue.pending if u["update_id"] != update["update_id"]]
            return True


def _error_response(error: BotApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.error_code)


class _HttpApi:
    """Routes, token check, parameter parsing and answers in the wire format."""

    def __init__(self, world: _World) -> None:
        self.w = world
        self.methods = _BotApi(world)
        self.long_poll = _LongPoll(world)

    def app(self) -> Starlette:
        """The ASGI application."""
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self.call, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self.download, methods=["GET"]),
            ]
        )

    def _check_token(self, token: str) -> None:
        if token != self.w.token:
            if _TOKEN_SHAPE.fullmatch(token):
                raise BotApiError(401, "Unauthorized")
            raise BotApiError(404, "Not Found")

    async def call(self, request: Request) -> Response:
        """One Bot API call."""
        try:
            self._check_token(request.path_params["token"])
            method = _METHODS.get(request.path_params["method"].lower())
            if method is None:
                raise BotApiError(404, "Not Found")
        except BotApiError as error:
            return _error_response(error)
        params = Params()
        try:
            params = await read_params(request)
            result = await self._run(method, params)
        except BotApiError as error:
            self._record(method, params, error.description)
            return _error_response(error)
        self._record(method, params, None)
        if isinstance(result, _Described):
            return JSONResponse(
                {"ok": True, "result": result.result, "description": result.description}
            )
        return JSONResponse({"ok": True, "result": result})

    async def _run(self, method: str, params: Params) -> object:
        with self.w.lock:
            failure = self.w.take_failure(method)
        if failure is not None:
            raise failure
        if method == "getUpdates":
            return await self.long_poll.get_updates(params)
        with self.w.lock:
            return copy.deepcopy(getattr(self.methods, _snake(method))(params))

    def _record(self, method: str, params: Params, error: str | None) -> None:
        entry = {"method": method, "params": params.snapshot(), "ok": error is None}
        if error is not None:
            entry["error"] = error
        with self.w.lock:
            self.w.calls.append(entry)

    async def download(self, request: Request) -> Response:
        """GET /file/bot<token>/<file_path>: the file's bytes."""
        try:
            self._check_token(request.path_params["token"])
        except BotApiError as error:
            return _error_response(error)
        with self.w.lock:
            stored = self.w.files.by_path.get(request.path_params["path"])
        if stored is None:
            return _error_response(BotApiError(404, "Not Found"))
        return Response(stored.data, media_type="application/octet-stream")


class _ServerThread(ServerThread):
    """The fake Telegram server: its HTTP API, and the webhook pusher in the same loop."""

    def __init__(self, world: _World, auto_webhook: bool) -> None:
        super().__init__(_HttpApi(world).app(), "fake-telegram")
        self.w = world
        self.pusher = _WebhookPusher(world)
        self.auto_webhook = auto_webhook
        self._pushing: asyncio.Task[None] | None = None

    async def serving(self) -> None:
        assert self.loop is not None
        self.w.wakeup.bind(self.loop)
        if self.auto_webhook:
            self._pushing = asyncio.create_task(self.pusher.run())

    async def stopped(self) -> None:
        if self._pushing is not None:
            self._pushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pushing
        if self.pusher.client is not None:
            await self.pusher.client.aclose()

    def stop(self) -> None:
        """Ends waiting long polls, stops the server and joins its thread."""
        with self.w.lock:
            self.w.closing = True
        self.w.wakeup.notify()
        super().stop()


# --------------------------------------------------------------------------- the fake


class FakeTelegram(FakeService):
    """A Bot API server for one bot, plus methods for tests to play its users.

    Use as a context manager (or `start`/`stop`). Control methods are thread-safe and
    never block, so they can be called from sync tests and from async tests alike, except
    `wait_for` and `deliver_webhook`, which block (use their `_async` twins in async tests).
    """

    _server: _ServerThread

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        enforce_limits: bool = False,
        limits: RateLimits | None = None,
        auto_webhook: bool = True,
        on_send: Callable[[str, JSON], None] | None = None,
    ) -> None:
        """`enforce_limits` turns on Telegram's flood limits (`limits`, default
        `RateLimits()`); `auto_webhook=False` pushes updates to a webhook only when
        `deliver_webhook` is called. `on_send(method, message)` is called with every message
        the bot sends, the moment it is stored (in the server's thread, with the fake's lock
        held: it must be quick and must not call back into the fake; benchmarks time answers
        with it)."""
        limits = (limits or RateLimits()) if enforce_limits else None
        self._world = _World(token, bot_username, limits)
        self._world.on_send = on_send
        self._server = _ServerThread(self._world, auto_webhook)

    # ----- lifecycle and addresses

    @property
    def api_url(self) -> str:
        """Where methods are called: f"{api_url}/sendMessage"."""
        return f"{self.base_url}/bot{self.token}"

    @property
    def token(self) -> str:
        """The bot's token."""
        return self._world.token

    @property
    def bot(self) -> JSON:
        """The bot's User."""
        return dict(self._world.bot)

    # ----- users and chats

    def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> JSON:
        """A new Telegram user (who has not started the bot yet): a User dict."""
        with self._world.lock:
            user: JSON = {"id": 100_000_000 + next(self._world.numbers), "is_bot": False}
            user["first_name"] = first_name
            names = {"last_name": last_name, "username": username}
            user.update({k: v for k, v in names.items() if v is not None})
            user["language_code"] = language_code
            info = {"id": user["id"], "type": "private", "first_name": first_name}
            info.update({k: v for k, v in names.items() if v is not None})
            self._world.chats[user["id"]] = _Chat(info)
            return user

    def private_chat(self, user: JSON) -> JSON:
        """The user's private chat with the bot, started (as after /start)."""
        with self._world.lock:
            chat = self._world.chats[user["id"]]
            chat.started, chat.blocked = True, False
            return dict(chat.info)

    def block_bot(self, user: JSON) -> None:
        """The user blocks the bot: sends to them get 403 until they write again."""
        with self._world.lock:
            self._world.chats[user["id"]].blocked = True

    def group(self, title: str, *, forum: bool = False) -> JSON:
        """A new supergroup (a forum if `forum`) with the bot as administrator: a Chat dict."""
        with self._world.lock:
            chat_id = -1_001_000_000_000 - next(self._world.numbers)
            info: JSON = {"id": chat_id, "type": "supergroup", "title": title}
            if forum:
                info["is_forum"] = True
            chat = _Chat(info, forum=forum, started=True, next_message_id=2)
            self._world.chats[chat_id] = chat
            return dict(info)

    def forum_group(self, title: str) -> JSON:
        """A new forum supergroup with the bot as administrator: a Chat dict."""
        return self.group(title, forum=True)

    def topics(self, chat: ChatRef) -> list[JSON]:
        """The forum topics of a group: ForumTopic dicts plus "is_closed"."""
        with self._world.lock:
            found = self._world.chats[self._chat_id(chat)]
            return [
                {**topic, "is_closed": thread_id in found.closed}
                for thread_id, topic in found.topics.items()
            ]

    # ----- what users do

    def user_text(
        self, user: JSON, text: str, *, chat: ChatRef = None, thread_id: int | None = None
    ) -> JSON:
        """`user` sends `text` to the bot (or in `chat`, in its topic `thread_id`)."""
        return self._incoming(user, {"text": text}, chat, thread_id)

    def user_command(
        self,
        user: JSON,
        command: str,
        args: str = "",
        *,
        chat: ChatRef = None,
        thread_id: int | None = None,
        mention: bool = False,
    ) -> JSON:
        """`user` sends "/command args" (with "@botname" if `mention`), with its
        bot_command entity."""
        head = f"/{command}" + (f"@{self._world.bot['username']}" if mention else "")
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(head)}
        text = f"{head} {args}" if args else head
        return self._incoming(user, {"text": text, "entities": [entity]}, chat, thread_id)

    def user_photo(
        self,
        user: JSON,
        data: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        caption: str | None = None,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> JSON:
        """`user` sends a photo whose bytes getFile + download return."""
        with self._world.lock:
            stored = self._world.files.add("photo", data, {"width": 1280, "height": 960})
        content = {"photo": stored.media(), **({"caption": caption} if caption else {})}
        return self._incoming(user, content, chat, thread_id)

    def user_document(
        self,
        user: JSON,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> JSON:
        """`user` sends a document (mime type guessed from `file_name` if not given)."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        upload = Upload(file_name, mime, data)
        with self._world.lock:
            stored = self._world.files.add_upload("document", upload, Params())
        content = {"document": stored.media(), **({"caption": caption} if caption else {})}
        return self._incoming(user, content, chat, thread_id)

    def user_voice(
        self,
        user: JSON,
        data: bytes = b"OggSfake-voice",
        *,
        duration: int = 3,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> JSON:
        """`user` sends a voice message."""
        extra = {"duration": duration, "mime_type": "audio/ogg"}
        with self._world.lock:
            stored = self._world.files.add("voice", data, extra)
        return self._incoming(user, {"voice": stored.media()}, chat, thread_id)

    def user_location(
        self,
        user: JSON,
        latitude: float,
        longitude: float,
        *,
        chat: ChatRef = None,
        thread_id: int | None = None,
    ) -> JSON:
        """`user` shares a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._incoming(user, {"location": location}, chat, thread_id)

    def press(
        self, user: JSON, message: JSON, *, data: str | None = None, text: str | None = None
    ) -> JSON:
        """`user` presses the inline button of `message` (a Message dict the bot sent) with
        callback_data `data` (or labelled `text`): queues a callback_query update and returns
        the CallbackQuery. ValueError if the message (as it is now) has no such button."""
        with self._world.lock:
            world = self._world
            chat_id = int(message["chat"]["id"])
            stored = world.messages.get((chat_id, int(message["message_id"])))
            if stored is None:
                raise ValueError(f"no message {message['message_id']} in chat {chat_id}")
            button = _find_button(stored, data, text)
            query: JSON = {"id": str(4_000_000_000_000_000_000 + next(world.numbers))}
            query.update({"from": dict(user), "message": copy.deepcopy(stored)})
            query["chat_instance"] = str(abs(chat_id) * 1_000_003 + 17)
            query["data"] = button["callback_data"]
            world.queries[query["id"]] = query
            world.push("callback_query", query)
            return copy.deepcopy(query)

    def _chat_id(self, chat: ChatRef) -> int:
        if isinstance(chat, dict):
            return int(chat["id"])
        if chat is None:
            raise ValueError("a chat is needed")
        return chat

    def _incoming(self, user: JSON, content: JSON, chat: ChatRef, thread_id: int | None) -> JSON:
        """Stores a message from `user` and queues its update."""
        with self._world.lock:
            world = self._world
            target = world.chats.get(user["id"] if chat is None else self._chat_id(chat))
            if target is None:
                raise ValueError(f"unknown chat {chat!r}")
            if target.private:
                target.started, target.blocked = True, False
            if thread_id is not None and thread_id in target.closed:
                raise ValueError(f"topic {thread_id} is closed: members cannot write in it")
            message = world.new_message(target, user, content, target.thread(thread_id))
            world.push("message", message)
            return copy.deepcopy(message)

    # ----- what the bot did

    def sent(
        self,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        method: str | None = None,
    ) -> list[JSON]:
        """Messages the bot sent, oldest first, as they are now (after edits): Message dicts
        with an added "method" ("sendMessage", "sendPhoto", "copyMessage", ...)."""
        with self._world.lock:
            found = [
                {**copy.deepcopy(self._world.messages[key]), "method": used}
                for used, key in self._world.sent
                if (chat_id is None or key[0] == chat_id)
                and (method is None or used.lower() == method.lower())
            ]
        return [m for m in found if thread_id is None or m.get("message_thread_id") == thread_id]

    def calls(self, method: str | None = None) -> list[JSON]:
        """Every call the bot made (of `method`), oldest first: {"method", "params", "ok",
        "error"?} with params converted as the method read them."""
        with self._world.lock:
            return [
                copy.deepcopy(call)
                for call in self._world.calls
                if method is None or call["method"].lower() == method.lower()
            ]

    def answered_callbacks(self) -> list[JSON]:
        """The answerCallbackQuery calls that succeeded: {"callback_query_id", "text",
        "show_alert", "url", "cache_time"}."""
        with self._world.lock:
            return copy.deepcopy(self._world.answers)

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes of a file (sent by the bot or a user)."""
        with self._world.lock:
            return self._world.files.by_id[file_id].data

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        with self._world.lock:
            return copy.deepcopy(self._world.updates.pending)

    def webhook_info(self) -> JSON:
        """What getWebhookInfo answers now."""
        with self._world.lock:
            return _BotApi(self._world).get_webhook_info(Params())

    def webhook_deliveries(self) -> list[JSON]:
        """Every POST to the webhook: {"update_id", "status"} (status 0: no answer)."""
        with self._world.lock:
            return copy.deepcopy(self._world.deliveries)

    @property
    def rate_limited_count(self) -> int:
        """How many 429 answers were served."""
        with self._world.lock:
            return self._world.rate_limited

    def _nothing_matched(self, timeout: float) -> AssertionError:
        summary = [(m["method"], m.get("text", m.get("caption"))) for m in self.sent()]
        return AssertionError(f"nothing the bot sent in {timeout}s matched; it sent {summary}")

    # ----- steering the server

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail with this error (e.g. 429, 502)."""
        error = BotApiError(error_code, description, retry_after)
        with self._world.lock:
            self._world.failures.setdefault(method.lower(), deque()).extend([error] * times)

    def deliver_webhook(self, timeout: float = 10.0) -> list[int]:
        """POSTs pending updates to the webhook now, in order, until one fails; returns the
        HTTP statuses (0: no answer). Blocks: from async tests use `deliver_webhook_async`."""
        return self._server.submit(self._server.pusher.deliver()).result(timeout)

    async def deliver_webhook_async(self, timeout: float = 10.0) -> list[int]:  # noqa: ASYNC109
        """`deliver_webhook` for async tests."""
        future = self._server.submit(self._server.pusher.deliver())
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
