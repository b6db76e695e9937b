"""A fake Zalo Official Account API for tests, speaking the real wire format.

`FakeZalo` serves, on one 127.0.0.1 port (a random free one) from a background thread, both
Zalo hosts a gateway talks to: the OA Open API (https://openapi.zalo.me) and the OAuth server
(https://oauth.zaloapp.com). Point ZALO_API_BASE_URL and ZALO_OAUTH_BASE_URL at
`FakeZalo.base_url`. It also plays Zalo's webhook: a test makes a user write, and the fake
POSTs the signed event JSON to `FakeZalo.webhook_url` and reports the HTTP status and timing.

What it reproduces:

- ``POST /v3.0/oa/message/cs`` (consultation message, header ``access_token``), JSON
  ``{"recipient": {"user_id"}, "message": {"text", "attachment"?}}`` where the attachment may
  be a button template ``{"type": "template", "payload": {"buttons": [{"title", "type",
  "payload"}]}}``; answers HTTP 200 even on errors: ``{"data": {"quota", "message_id",
  "user_id", "sent_time"}, "error": 0, "message": "Success"}`` or ``{"error": <negative
  code>, "message": "..."}``, with ``X-RateLimit-Limit`` / ``X-RateLimit-Remain`` headers;
- ``GET /v3.0/oa/user/detail?data={"user_id": ...}`` (the user's profile);
- ``POST /v4/oa/access_token`` (form ``app_id``, ``refresh_token``, ``grant_type``, header
  ``secret_key``) answering ``{"access_token", "refresh_token", "expires_in": "90000"}``;
  each refresh token works once and a refresh retires the previous access token;
- the OA's first tokens, authorization code with PKCE: ``GET /v4/oa/permission?app_id=…
  &redirect_uri=…&code_challenge=…&state=…`` plays the OA admin who allows the app at once
  and answers 302 to ``redirect_uri?oa_id=…&code=…&state=…&code_challenge=…``; the code then
  works once at ``POST /v4/oa/access_token`` (form ``code``, ``app_id``, ``grant_type=
  authorization_code``, ``code_verifier``) and only with the verifier whose BASE64URL
  (SHA-256), unpadded, is the challenge the permission step was given. The error codes of
  a bad code or verifier (-14019, -14020) are the fake's own: Zalo's table was not found;
- the errors: -216 invalid access token, -201 invalid field, -210 text over 2,000
  characters, -213 user not following, -230 no interaction in 7 days, and the reply window
  of a consultation message: free for 48 h after the user's last interaction and at most 8
  replies in it (-305 past 48 h, -311 out of replies, by default; both are settable, see
  `FakeZalo.__init__`), -32 rate limit (4,000 calls a minute), and injected 5xx answers;
- webhook events as Zalo builds them (user_send_text / image / file / location / sticker /
  other attachments, follow, unfollow, user_received_message, user_seen_message and the
  OA's own oa_send_text echo), compact JSON signed with ``X-ZEvent-Signature:
  mac=<sha256 hex of app_id + raw body + timestamp + OA secret key>`` (plain SHA-256 over
  the concatenation; timestamp is the event's ``timestamp`` field, milliseconds as text);
- the CDN that serves the photos users send: `FakeZalo.photo_url(data)` is an address on this
  server (GET /media/<name>) to give to `user_image`; `media_requests` lists what was fetched.

Tests play the users with thread-safe methods: create users (`FakeZalo.user`), make them
write, follow, unfollow or press a button (``user_*``, each returning a `Delivery`), replay
an event as Zalo's retry does (`FakeZalo.resend`), move Zalo's clock (`FakeZalo.now`,
`FakeZalo.advance`), expire the access token, inject failures; then look at what the OA sent
(`FakeZalo.sent`, `FakeZalo.wait_for`), every API call (`FakeZalo.calls`), the token
refreshes (`FakeZalo.refresh_calls`) and each user's reply window (`FakeZalo.window`).

Zalo's clock starts at the real time when the fake is made and moves only when a test moves
it: event timestamps, ``sent_time`` and the reply windows all read it.

Sources (fetched via the team's search tool; the developers.zalo.me pages are a client-side
app, their text was read from mirrors and from code quoting them):
docs.zaloplatforms.com/docs/OA/tin-nhan/tin-tu-van/gui-tin-tu-van-dang-van-ban (request,
2,000-character limit, response with ``quota``), .../OA/phu-luc/ma-loi (error codes),
.../OA/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new (token lifetimes, single-use refresh
tokens, ``expires_in`` as text), .../OA/phu-luc/gioi-han-toc-do-api (-32, 4,000/min);
hainh.me/zalo-api-php-webhook-callback-official-account.html (the signature's four parts).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.server import FakeService, ServerThread
from tests.fakes.telegram_api import utf16_len

JSON = dict[str, Any]
_T = TypeVar("_T")

DEFAULT_APP_ID = "3206567425609033798"
DEFAULT_OA_ID = "579745863508352884"
DEFAULT_APP_SECRET = "FakeAppSecret-0123456789"
DEFAULT_OA_SECRET_KEY = "FakeOASecretKey-0123456789"
DEFAULT_ACCESS_TOKEN = "fake-zalo-access-token-0"
DEFAULT_REFRESH_TOKEN = "fake-zalo-refresh-token-0"

SIGNATURE_HEADER = "X-ZEvent-Signature"
TEXT_LIMIT = 2000
"""Characters in a consultation text ("Giới hạn tối đa là 2.000 ký tự"), counted here in
UTF-16 code units as Zalo's Java servers do (the same for Vietnamese letters)."""
MAX_BUTTONS = 5
BUTTON_TITLE_LIMIT = 100
REPLY_WINDOW = timedelta(hours=48)
FREE_REPLIES = 8
INTERACTION_WINDOW = timedelta(days=7)
ACCESS_TOKEN_SECONDS = 90_000
RATE_LIMIT_PER_MINUTE = 4000
BUTTON_TYPES = frozenset(
    {"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.sms", "oa.open.phone"}
)
QUERY_BUTTONS = frozenset({"oa.query.show", "oa.query.hide"})
"""Buttons that make the user send their payload as a message when pressed."""

OA_ERRORS: dict[int, str] = {
    -32: "Your application reached limit call api",
    -210: "Parameter exceeds allowable limit",
    -213: "User has not followed OA",
    -216: "Access token is invalid",
    -220: "access_token is expired or removed",
    -230: "User has not interacted with the OA in the past 7 days",
    -305: "Offical Account cannot response to user after 48 hours",
    -311: "Out of quota for responding to user message",
}
"""Error messages of the OA API, verbatim (typos are Zalo's). -201 reads "<field> is
invalid!"."""

OAUTH_INVALID_REFRESH_TOKEN = -14014
OAUTH_INVALID_CODE = -14019
OAUTH_INVALID_CODE_VERIFIER = -14020
OAUTH_INVALID_APP = -14002
OAUTH_INVALID_PARAMETER = -14001

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SERVER_ERROR_TEXT = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


# --------------------------------------------------------------------------- wire helpers


class ZaloApiError(Exception):
    """An error answer of the OA API: HTTP 200 with ``{"error": code, "message": ...}``."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else OA_ERRORS.get(code, "Unknown error")
        super().__init__(f"{code}: {self.message}")

    def body(self) -> JSON:
        """The JSON body the real server sends."""
        return {"error": self.code, "message": self.message}


def invalid(field_name: str) -> ZaloApiError:
    """-201 "<field> is invalid!"."""
    return ZaloApiError(-201, f"{field_name} is invalid!")


def oauth_error(code: int, name: str, description: str) -> JSON:
    """An error answer of the OAuth server (HTTP 200)."""
    return {"error": code, "error_name": name, "error_description": description}


def pkce_challenge(verifier: str) -> str:
    """The code_challenge of a PKCE code_verifier: BASE64URL(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def webhook_mac(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex SHA-256 that signs a webhook event: sha256(app_id + body + timestamp + key)."""
    signed = app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(signed).hexdigest()


def encode_event(event: Mapping[str, Any]) -> bytes:
    """An event as Zalo sends it: compact JSON, UTF-8, non-ASCII letters unescaped."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def millis(moment: datetime) -> str:
    """Milliseconds since the epoch as text, as Zalo writes timestamps."""
    return str((moment - _EPOCH) // timedelta(milliseconds=1))


def _zalo_id() -> str:
    """A 19-digit id like Zalo's user, OA and app ids."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


def _message_id() -> str:
    """A message id like Zalo's (20 hexadecimal digits)."""
    return secrets.token_hex(10)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Delivery:
    """One webhook event: what was (or is to be) POSTed and how the receiver answered."""

    event: JSON
    body: bytes
    signature: str
    """The X-ZEvent-Signature header value ("mac=<hex>")."""
    status: int | None = None
    """The receiver's HTTP status; 0 if it did not answer; None if not delivered yet."""
    elapsed: float | None = None
    """Seconds from sending the request to receiving the answer."""
    response: str = ""

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx (Zalo wants 200 within about 2 s)."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class ReplyWindow:
    """Where a user stands in the consultation reply window, at Zalo's current time."""

    user_id: str
    last_interaction: datetime | None
    replies: int
    """Consultation messages sent since the last interaction."""
    free_until: datetime | None
    """When the free 48 h window closes (None: the user never interacted)."""
    free_left: int | None
    """Replies left in the window (None: no per-window limit)."""
    error: int | None
    """The error a consultation message would get now (None: it would be accepted)."""

    @property
    def open(self) -> bool:
        """Whether a consultation message would be accepted now."""
        return self.error is None


@dataclass
class _User:
    user_id: str
    user_id_by_app: str
    name: str
    following: bool
    last_interaction: datetime | None = None
    replies: int = 0


@dataclass(frozen=True)
class _Failure:
    error: int
    message: str | None


@dataclass
class _State:
    """Everything the fake knows. Callers hold `lock` around every access."""

    app_id: str
    app_secret: str
    oa_secret_key: str
    oa_id: str
    access_token: str
    refresh_token: str
    now: datetime
    reply_window: timedelta | None
    free_replies: int | None
    rate_limit: int
    echo: bool
    lock: threading.RLock = field(default_factory=threading.RLock)
    access_valid: bool = True
    expired_error: int = -216
    retired_refresh_tokens: list[str] = field(default_factory=list)
    refresh_calls: list[JSON] = field(default_factory=list)
    users: dict[str, _User] = field(default_factory=dict)
    sent: list[JSON] = field(default_factory=list)
    calls: list[JSON] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    recent_calls: deque[float] = field(default_factory=deque)
    webhook_url: str | None = None
    generation: int = 0
    authorization_codes: dict[str, str] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)  # photos users sent, by name
    media_requests: list[str] = field(default_factory=list)
    """Codes of the permission step not yet exchanged, and the code_challenge each was given."""

    def user(self, user_id: str) -> _User:
        """A user the test made, or KeyError."""
        found = self.users.get(str(user_id))
        if found is None:
            raise KeyError(f"no Zalo user {user_id!r}: make one with FakeZalo.user()")
        return found

    def window_error(self, user: _User) -> int | None:
        """The error a consultation message to `user` gets now, if any."""
        if user.last_interaction is None or self.now - user.last_interaction > INTERACTION_WINDOW:
            return -230
        if self.reply_window is not None and self.now - user.last_interaction > self.reply_window:
            return -305
        free = self.free_replies
        if free is not None and self.in_free_window(user) and user.replies >= free:
            return -311
        return None

    @property
    def free_window(self) -> timedelta:
        """How long after the user's last interaction consultation messages are free."""
        return self.reply_window or REPLY_WINDOW

    def in_free_window(self, user: _User) -> bool:
        """Whether `user` interacted within the free window (48 h)."""
        last = user.last_interaction
        return last is not None and self.now - last <= self.free_window

    def take_failure(self, api: str) -> _Failure | None:
        """The next failure injected for `api` ("oa" or "oauth"), if any."""
        queued = self.failures.get(api)
        return queued.popleft() if queued else None

    def admit(self) -> int:
        """Counts one OA API call against the per-minute limit; the calls left, or -32."""
        moment = time.monotonic()
        while self.recent_calls and moment - self.recent_calls[0] >= 60:
            self.recent_calls.popleft()
        if len(self.recent_calls) >= self.rate_limit:
            raise ZaloApiError(-32)
        self.recent_calls.append(moment)
        return self.rate_limit - len(self.recent_calls)


# --------------------------------------------------------------------------- OA API


def _check_button(button: object) -> JSON:
    """One button of a template, or -201."""
    if not isinstance(button, dict):
        raise invalid("buttons")
    title, kind, payload = button.get("title"), button.get("type"), button.get("payload")
    if not isinstance(title, str) or not title.strip() or utf16_len(title) > BUTTON_TITLE_LIMIT:
        raise invalid("title")
    if kind not in BUTTON_TYPES:
        raise invalid("type")
    if kind in QUERY_BUTTONS and (not isinstance(payload, str) or not payload):
        raise invalid("payload")
    if kind == "oa.open.url" and not (isinstance(payload, dict) and payload.get("url")):
        raise invalid("payload")
    return dict(button)


def _check_message(message: object) -> tuple[str | None, JSON | None, list[JSON]]:
    """The text, attachment and buttons of a message to send, or the API's error."""
    if not isinstance(message, dict):
        raise invalid("message")
    text, attachment = message.get("text"), message.get("attachment")
    if text is not None and not isinstance(text, str):
        raise invalid("text")
    if text is not None and utf16_len(text) > TEXT_LIMIT:
        raise ZaloApiError(-210)
    buttons: list[JSON] = []
    if attachment is not None:
        if not isinstance(attachment, dict) or attachment.get("type") != "template":
            raise invalid("attachment")
        payload = attachment.get("payload")
        if not isinstance(payload, dict):
            raise invalid("payload")
        raw_buttons = payload.get("buttons", [])
        if not isinstance(raw_buttons, list) or len(raw_buttons) > MAX_BUTTONS:
            raise invalid("buttons")
        buttons = [_check_button(button) for button in raw_buttons]
        if "template_type" not in payload and not buttons:
            raise invalid("buttons")
        if "template_type" not in payload and not text:
            raise invalid("text")
    elif not text:
        raise invalid("text")
    return text, (copy.deepcopy(attachment) if attachment is not None else None), buttons


class _OaApi:
    """The OA API's methods and the OAuth endpoint, on the shared state."""

    def __init__(self, state: _State) -> None:
        self.s = state

    def check_token(self, token: str | None) -> None:
        s = self.s
        if token != s.access_token:
            raise ZaloApiError(-216)
        if not s.access_valid:
            raise ZaloApiError(s.expired_error)

    def send_cs(self, token: str | None, body: bytes) -> JSON:
        """POST /v3.0/oa/message/cs: the answer's body, or ZaloApiError."""
        s = self.s
        self.check_token(token)
        try:
            request = json.loads(body) if body else None
        except ValueError as error:
            raise invalid("body") from error
        if not isinstance(request, dict):
            raise invalid("body")
        recipient = request.get("recipient")
        user_id = recipient.get("user_id") if isinstance(recipient, dict) else None
        user = s.users.get(str(user_id)) if isinstance(user_id, str | int) else None
        if user is None:
            raise invalid("user_id")
        if not user.following:
            raise ZaloApiError(-213)
        text, attachment, buttons = _check_message(request.get("message"))
        refusal = s.window_error(user)
        if refusal is not None:
            raise ZaloApiError(refusal)
        in_free_window = s.in_free_window(user)
        user.replies += 1
        data: JSON = {}
        if in_free_window:
            data["quota"] = {"quota_type": "reply"}
            if s.free_replies is not None:
                remain = str(s.free_replies - user.replies)
                data["quota"].update(remain=remain, total=str(s.free_replies))
        data.update(message_id=_message_id(), user_id=user.user_id, sent_time=millis(s.now))
        s.sent.append(
            {
                "message_id": data["message_id"],
                "user_id": user.user_id,
                "text": text,
                "buttons": buttons,
                "attachment": attachment,
                "sent_time": data["sent_time"],
                "quota": copy.deepcopy(data.get("quota")),
            }
        )
        return {"data": data, "error": 0, "message": "Success"}

    def user_detail(self, token: str | None, raw: str | None) -> JSON:
        """GET /v3.0/oa/user/detail?data={"user_id": ...}."""
        self.check_token(token)
        try:
            query = json.loads(raw) if raw else None
        except ValueError as error:
            raise invalid("data") from error
        user_id = query.get("user_id") if isinstance(query, dict) else None
        user = self.s.users.get(str(user_id)) if isinstance(user_id, str | int) else None
        if user is None:
            raise invalid("user_id")
        last = user.last_interaction
        avatar = f"https://s120-ava-talk.zadn.vn/fake/{user.user_id}.jpg"
        data = {
            "user_id": user.user_id,
            "user_id_by_app": user.user_id_by_app,
            "user_external_id": "",
            "display_name": user.name,
            "user_alias": "",
            "is_sensitive": False,
            "user_last_interaction_date": last.strftime("%d/%m/%Y") if last else "",
            "user_is_follower": user.following,
            "avatar": avatar,
            "avatars": {"120": avatar, "240": avatar.replace("s120", "s240")},
        }
        return {"data": data, "error": 0, "message": "Success"}

    def permission(self, params: Mapping[str, str]) -> tuple[str, str] | JSON:
        """GET /v4/oa/permission, the OA admin allowing the app: (redirect_uri, code), or the
        OAuth server's error JSON."""
        s = self.s
        if params.get("app_id") != s.app_id:
            return oauth_error(OAUTH_INVALID_APP, "Invalid app", "app_id is invalid")
        if not params.get("redirect_uri") or not params.get("code_challenge"):
            return oauth_error(
                OAUTH_INVALID_PARAMETER, "Invalid parameter", "redirect_uri or code_challenge"
            )
        code = secrets.token_urlsafe(32)
        s.authorization_codes[code] = params["code_challenge"]
        return params["redirect_uri"], code

    def access_token(self, fields: Mapping[str, str], secret_key: str | None) -> JSON:
        """POST /v4/oa/access_token: new tokens for a refresh token or an authorization code
        with its verifier, or the OAuth server's error JSON."""
        s = self.s
        grant_type = fields.get("grant_type")
        call: JSON = {
            "app_id": fields.get("app_id"),
            "grant_type": grant_type,
            "refresh_token": fields.get("refresh_token"),
            "code": fields.get("code"),
            "code_verifier": fields.get("code_verifier"),
            "secret_key": secret_key,
        }
        answer: JSON
        if fields.get("app_id") != s.app_id or secret_key != s.app_secret:
            answer = oauth_error(
                OAUTH_INVALID_APP, "Invalid app", "app_id or secret_key is invalid"
            )
        elif grant_type == "refresh_token":
            answer = self._refresh(fields.get("refresh_token"))
        elif grant_type == "authorization_code":
            answer = self._authorize(fields.get("code"), fields.get("code_verifier"))
        else:
            answer = oauth_error(
                OAUTH_INVALID_PARAMETER, "Invalid parameter", "grant_type is invalid"
            )
        call.update(ok="access_token" in answer, error=answer.get("error"))
        s.refresh_calls.append(call)
        return answer

    def _refresh(self, given: str | None) -> JSON:
        s = self.s
        if not given or given != s.refresh_token:
            return oauth_error(
                OAUTH_INVALID_REFRESH_TOKEN,
                "Invalid refresh token",
                "refresh_token is invalid, expired or already used",
            )
        s.retired_refresh_tokens.append(given)
        return self._issue()

    def _authorize(self, code: str | None, verifier: str | None) -> JSON:
        s = self.s
        challenge = s.authorization_codes.get(code or "")
        if challenge is None:
            return oauth_error(
                OAUTH_INVALID_CODE, "Invalid code", "code is invalid, expired or already used"
            )
        if not verifier or pkce_challenge(verifier) != challenge:
            return oauth_error(
                OAUTH_INVALID_CODE_VERIFIER,
                "Invalid code verifier",
                "code_verifier does not match the code_challenge",
            )
        del s.authorization_codes[code or ""]
        s.retired_refresh_tokens.append(s.refresh_token)
        return self._issue()

    def _issue(self) -> JSON:
        """A new token pair; the previous access token stops working."""
        s = self.s
        s.generation += 1
        s.access_token = f"fake-zalo-access-token-{s.generation}-{secrets.token_urlsafe(24)}"
        s.refresh_token = f"fake-zalo-refresh-token-{s.generation}-{secrets.token_urlsafe(24)}"
        s.access_valid = True
        return {
            "access_token": s.access_token,
            "refresh_token": s.refresh_token,
            "expires_in": str(ACCESS_TOKEN_SECONDS),
        }


class _HttpApi:
    """Routes, failure injection, rate-limit headers and the call log."""

    def __init__(self, state: _State, webhooks: _Webhooks) -> None:
        self.s = state
        self.api = _OaApi(state)
        self.webhooks = webhooks

    def app(self) -> Starlette:
        """The ASGI application."""
        return Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self.send_cs, methods=["POST"]),
                Route("/v3.0/oa/user/detail", self.user_detail, methods=["GET"]),
                Route("/v4/oa/access_token", self.access_token, methods=["POST"]),
                Route("/v4/oa/permission", self.permission, methods=["GET"]),
                Route("/media/{name}", self.media, methods=["GET"]),
            ]
        )

    def _oa_call(self, request: Request, body: bytes, run: Callable[[], JSON]) -> Response:
        """Runs one OA API method under the lock, with injected failures and rate limits."""
        s = self.s
        with s.lock:
            entry: JSON = {
                "method": request.method,
                "path": request.url.path,
                "access_token": request.headers.get("access_token"),
                "body": _decoded(body),
            }
            failure = s.take_failure("oa")
            if failure is not None and failure.error > 0:
                s.calls.append({**entry, "ok": False, "error": failure.error})
                return _http_failure(failure)
            headers = {"X-RateLimit-Limit": str(s.rate_limit)}
            try:
                headers["X-RateLimit-Remain"] = str(s.admit())
                if failure is not None:
                    raise ZaloApiError(failure.error, failure.message)
                answer = run()
            except ZaloApiError as error:
                headers.setdefault("X-RateLimit-Remain", "0")
                s.calls.append({**entry, "ok": False, "error": error.code})
                return JSONResponse(error.body(), headers=headers)
            s.calls.append({**entry, "ok": True, "error": 0})
        return JSONResponse(answer, headers=headers)

    async def media(self, request: Request) -> Response:
        """GET /media/{name}: a photo a user sent, as Zalo's CDN serves it."""
        name = request.path_params["name"]
        with self.s.lock:
            self.s.media_requests.append(name)
            data = self.s.media.get(name)
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/jpeg")

    async def send_cs(self, request: Request) -> Response:
        """POST /v3.0/oa/message/cs."""
        body = await request.body()
        token = request.headers.get("access_token")
        response = self._oa_call(request, body, lambda: self.api.send_cs(token, body))
        if self.s.echo and response.status_code == 200:
            answer = json.loads(bytes(response.body))
            if answer.get("error") == 0:
                self.webhooks.echo(answer["data"]["message_id"])
        return response

    async def user_detail(self, request: Request) -> Response:
        """GET /v3.0/oa/user/detail."""
        token, raw = request.headers.get("access_token"), request.query_params.get("data")
        return self._oa_call(request, b"", lambda: self.api.user_detail(token, raw))

    async def access_token(self, request: Request) -> Response:
        """POST /v4/oa/access_token (the OAuth host)."""
        body = await request.body()
        fields = dict(request.query_params)
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        with self.s.lock:
            failure = self.s.take_failure("oauth")
            if failure is not None and failure.error > 0:
                return _http_failure(failure)
            if failure is not None:
                name = failure.message or "Injected failure"
                return JSONResponse(oauth_error(failure.error, name, name))
            return JSONResponse(self.api.access_token(fields, request.headers.get("secret_key")))

    async def permission(self, request: Request) -> Response:
        """GET /v4/oa/permission (the OAuth host's page where the OA's admin allows the app)."""
        params = dict(request.query_params)
        with self.s.lock:
            allowed = self.api.permission(params)
            oa_id = self.s.oa_id
        if isinstance(allowed, dict):
            return JSONResponse(allowed, status_code=400)
        redirect_uri, code = allowed
        back = {"oa_id": oa_id, "code": code, "state": params.get("state", "")}
        back["code_challenge"] = params["code_challenge"]
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(back)}", status_code=302)


def _decoded(body: bytes) -> object:
    """A request body for the call log: its JSON, or its text."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _http_failure(failure: _Failure) -> Response:
    text = failure.message or _SERVER_ERROR_TEXT.get(failure.error, f"{failure.error} Error")
    return PlainTextResponse(text, status_code=failure.error)


# --------------------------------------------------------------------------- webhooks


class _Webhooks:
    """POSTs events to the webhook URL from the server's event loop."""

    def __init__(self, state: _State, timeout: float) -> None:
        self.s = state
        self.timeout = timeout
        self.client: httpx.AsyncClient | None = None
        self.tasks: set[asyncio.Task[Delivery]] = set()

    async def deliver(self, delivery: Delivery) -> Delivery:
        """POSTs one event; records and returns the delivery with the receiver's answer."""
        with self.s.lock:
            url = self.s.webhook_url
        if url is None:
            raise RuntimeError("FakeZalo.webhook_url is not set")
        if self.client is None:  # made on first use: creating one costs tens of milliseconds
            self.client = httpx.AsyncClient(timeout=self.timeout)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: delivery.signature}
        started = time.perf_counter()
        try:
            answer = await self.client.post(url, content=delivery.body, headers=headers)
            status, text = answer.status_code, answer.text
        except httpx.HTTPError:
            status, text = 0, ""
        done = replace(delivery, status=status, elapsed=time.perf_counter() - started)
        done = replace(done, response=text)
        with self.s.lock:
            self.s.deliveries.append(done)
        return done

    def echo(self, message_id: str) -> None:
        """Queues the oa_send_text event Zalo sends after the OA sent a message (called in
        the server's loop)."""
        with self.s.lock:
            if self.s.webhook_url is None:
                return
            message = next(m for m in self.s.sent if m["message_id"] == message_id)
            user = self.s.user(message["user_id"])
            event = _oa_event(self.s, user, "oa_send_text", message_id, message["text"] or "")
            delivery = _signed(self.s, event, bad_signature=False)
        task = asyncio.get_running_loop().create_task(self.deliver(delivery))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        """Cancels queued echoes and closes the HTTP client."""
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task
        if self.client is not None:
            await self.client.aclose()


def _signed(state: _State, event: JSON, *, bad_signature: bool) -> Delivery:
    """An event encoded and signed as Zalo does (or with a wrong key)."""
    body = encode_event(event)
    key = "not-the-oa-secret-key" if bad_signature else state.oa_secret_key
    timestamp = str(event.get("timestamp", ""))
    mac = webhook_mac(str(event.get("app_id", state.app_id)), body, timestamp, key)
    return Delivery(event=copy.deepcopy(event), body=body, signature=f"mac={mac}")


def _user_event(state: _State, user: _User, event_name: str, message: JSON) -> JSON:
    """An event of a user writing to the OA, keys in Zalo's order."""
    return {
        "app_id": state.app_id,
        "sender": {"id": user.user_id},
        "user_id_by_app": user.user_id_by_app,
        "recipient": {"id": state.oa_id},
        "event_name": event_name,
        "message": message,
        "timestamp": millis(state.now),
    }


def _oa_event(state: _State, user: _User, event_name: str, message_id: str, text: str) -> JSON:
    """The OA's own message echoed to the webhook (oa_send_text)."""
    return {
        "app_id": state.app_id,
        "sender": {"id": state.oa_id},
        "user_id_by_app": user.user_id_by_app,
        "recipient": {"id": user.user_id},
        "event_name": event_name,
        "message": {"msg_id": message_id, "text": text},
        "timestamp": millis(state.now),
    }


# --------------------------------------------------------------------------- server thread


class _ServerThread(ServerThread):
    """The fake Zalo server (OA API and OAuth on one port)."""

    def __init__(self, app: Starlette, on_shutdown: Callable[[], Coroutine[Any, Any, None]]):
        super().__init__(app, "fake-zalo")
        self.on_shutdown = on_shutdown

    async def stopped(self) -> None:
        await self.on_shutdown()


# --------------------------------------------------------------------------- the fake


class FakeZalo(FakeService):
    """The Zalo OA API, its OAuth server and its webhook sender, for one OA and one app.

    Use as a context manager (or `start`/`stop`). Control methods are thread-safe. Those
    that deliver a webhook event block until the receiver answers: from async tests whose
    receiver runs in the test's own event loop, pass ``deliver=False`` and await
    `deliver_async` (likewise `resend_async`, `wait_for_async`).
    """

    _server: _ServerThread

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        app_secret: str = DEFAULT_APP_SECRET,
        oa_secret_key: str = DEFAULT_OA_SECRET_KEY,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
        oa_id: str = DEFAULT_OA_ID,
        reply_window: timedelta | None = REPLY_WINDOW,
        free_replies: int | None = FREE_REPLIES,
        rate_limit_per_minute: int = RATE_LIMIT_PER_MINUTE,
        echo: bool = False,
        webhook_timeout: float = 10.0,
    ) -> None:
        """`reply_window` / `free_replies`: consultation messages are refused (-305 / -311)
        past 48 h after the user's last interaction / past 8 replies in it; None for
        either models Zalo's rule from 2026-01-01 (unlimited and free within 48 h, billed
        after, refused only past 7 days with -230). `echo`: after each message the OA
        sends, POST Zalo's oa_send_text event to the webhook."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._state = _State(
            app_id=app_id,
            app_secret=app_secret,
            oa_secret_key=oa_secret_key,
            oa_id=oa_id,
            access_token=access_token,
            refresh_token=refresh_token,
            now=now,
            reply_window=reply_window,
            free_replies=free_replies,
            rate_limit=rate_limit_per_minute,
            echo=echo,
        )
        self._webhooks = _Webhooks(self._state, webhook_timeout)
        app = _HttpApi(self._state, self._webhooks).app()
        self._server = _ServerThread(app, self._webhooks.close)
        self._deliver_timeout = webhook_timeout + 5

    # ----- lifecycle and addresses

    @property
    def app_id(self) -> str:
        """The app's id (the webhook events' "app_id")."""
        return self._state.app_id

    def gateway_settings(self) -> dict[str, str]:
        """The gateway's Zalo settings (`core.settings.Settings` field names) for this OA, its
        current tokens and this server: `offline_settings(url, **zalo.gateway_settings())`, or
        upper-cased as a process's environment."""
        with self._state.lock:
            return {
                "zalo_app_id": self._state.app_id,
                "zalo_app_secret": self._state.app_secret,
                "zalo_oa_secret_key": self._state.oa_secret_key,
                "zalo_access_token": self._state.access_token,
                "zalo_refresh_token": self._state.refresh_token,
                "zalo_api_base_url": self.base_url,
                "zalo_oauth_base_url": self.base_url,
            }

    @property
    def oa_id(self) -> str:
        """The Official Account's id (the "recipient" of users' messages)."""
        return self._state.oa_id

    @property
    def webhook_url(self) -> str | None:
        """Where events are POSTed (the URL set in Zalo's developer console)."""
        with self._state.lock:
            return self._state.webhook_url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        with self._state.lock:
            self._state.webhook_url = url

    # ----- tokens

    @property
    def access_token(self) -> str:
        """The current access token (it may have been expired with `expire_access_token`)."""
        with self._state.lock:
            return self._state.access_token

    @property
    def refresh_token(self) -> str:
        """The refresh token that works now (once)."""
        with self._state.lock:
            return self._state.refresh_token

    @property
    def access_token_valid(self) -> bool:
        """Whether the current access token is accepted."""
        with self._state.lock:
            return self._state.access_valid

    def expire_access_token(self, error: Literal[-216, -220] = -216) -> None:
        """The current access token stops working: calls get `error` until a refresh
        (Zalo answers -216 "Access token is invalid" for an expired token; -220 "access_token
        is expired or removed" is the other code its table has)."""
        with self._state.lock:
            self._state.access_valid, self._state.expired_error = False, error

    @property
    def refresh_calls(self) -> list[JSON]:
        """Every POST /v4/oa/access_token, oldest first: {"app_id", "grant_type",
        "refresh_token", "code", "code_verifier", "secret_key", "ok", "error"} (the fields a
        grant did not send are None)."""
        with self._state.lock:
            return copy.deepcopy(self._state.refresh_calls)

    # ----- Zalo's clock

    @property
    def now(self) -> datetime:
        """Zalo's current time (UTC); set it to move time."""
        with self._state.lock:
            return self._state.now

    @now.setter
    def now(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("Zalo's clock needs an aware datetime")
        with self._state.lock:
            self._state.now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Moves Zalo's clock forward; returns the new time."""
        with self._state.lock:
            self._state.now += delta
            return self._state.now

    # ----- users

    def user(self, name: str, *, following: bool = True) -> str:
        """A new Zalo user (following the OA unless told otherwise, not having written
        yet): their user id."""
        with self._state.lock:
            user_id = _zalo_id()
            while user_id in self._state.users:
                user_id = _zalo_id()
            self._state.users[user_id] = _User(user_id, _zalo_id(), name, following)
            return user_id

    def user_id_by_app(self, user_id: str) -> str:
        """The user's app-scoped id (the events' "user_id_by_app")."""
        with self._state.lock:
            return self._state.user(user_id).user_id_by_app

    def window(self, user_id: str) -> ReplyWindow:
        """The user's reply window now."""
        s = self._state
        with s.lock:
            user = s.user(user_id)
            last = user.last_interaction
            free_left = None
            if s.free_replies is not None and s.in_free_window(user):
                free_left = max(0, s.free_replies - user.replies)
            return ReplyWindow(
                user_id=user.user_id,
                last_interaction=last,
                replies=user.replies,
                free_until=last + s.free_window if last else None,
                free_left=free_left,
                error=s.window_error(user) if user.following else -213,
            )

    # ----- what users do (each returns the Delivery; deliver=False only builds it)

    def user_text(
        self, user_id: str, text: str, *, bad_signature: bool = False, deliver: bool = True
    ) -> Delivery:
        """The user sends `text` (user_send_text)."""
        return self._message(
            user_id, "user_send_text", {"text": text}, bad_signature=bad_signature, deliver=deliver
        )

    def photo_url(self, data: bytes) -> str:
        """An address on this server where `data` is served, as Zalo's CDN serves the photos
        users send (give it to `user_image`)."""
        name = f"{secrets.token_hex(8)}.jpg"
        with self._state.lock:
            self._state.media[name] = data
        return f"{self.base_url}/media/{name}"

    @property
    def media_requests(self) -> list[str]:
        """The photos fetched from this server (their names), oldest first."""
        with self._state.lock:
            return list(self._state.media_requests)

    def user_image(
        self,
        user_id: str,
        url: str = "https://f20-zpc.zdn.vn/jpg/fake/photo.jpg",
        *,
        caption: str | None = None,
        bad_signature: bool = False,
        deliver: bool = True,
    ) -> Delivery:
        """The user sends a photo (user_send_image), with a caption as its "text"."""
        thumbnail = url.replace("://", "://t-", 1) if "://" in url else url
        payload = {"thumbnail": thumbnail, "url": url}
        return self.user_attachment(
            user_id, "image", payload, text=caption, bad_signature=bad_signature, deliver=deliver
        )

    def user_file(
        self,
        user_id: str,
        name: str = "giay-to.pdf",
        *,
        data: bytes = b"%PDF-1.4 fake",
        url: str | None = None,
        bad_signature: bool = False,
        deliver: bool = True,
    ) -> Delivery:
        """The user sends a file (user_send_file): name, size, checksum, extension, url."""
        payload = {
            "url": url or f"https://f21-zfcloud.zdn.vn/fake/{secrets.token_hex(8)}/{name}",
            "size": str(len(data)),
            "name": name,
            "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "type": name.rsplit(".", 1)[-1].lower() if "." in name else "",
        }
        return self.user_attachment(
            user_id, "file", payload, bad_signature=bad_signature, deliver=deliver
        )

    def user_location(
        self,
        user_id: str,
        latitude: float,
        longitude: float,
        *,
        bad_signature: bool = False,
        deliver: bool = True,
    ) -> Delivery:
        """The user shares a location (user_send_location); coordinates are text."""
        coordinates = {"latitude": str(latitude), "longitude": str(longitude)}
        return self.user_attachment(
            user_id,
            "location",
            {"coordinates": coordinates},
            bad_signature=bad_signature,
            deliver=deliver,
        )

    def user_sticker(
        self,
        user_id: str,
        sticker_id: str = "bfe458bf64fa8da4d4eb",
        *,
        bad_signature: bool = False,
        deliver: bool = True,
    ) -> Delivery:
        """The user sends a sticker (user_send_sticker)."""
        url = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker_id}&size=130"
        return self.user_attachment(
            user_id,
            "sticker",
            {"id": sticker_id, "url": url},
            bad_signature=bad_signature,
            deliver=deliver,
        )

    def user_attachment(
        self,
        user_id: str,
        kind: str,
        payload: JSON,
        *,
        text: str | None = None,
        bad_signature: bool = False,
        deliver: bool = True,
    ) -> Delivery:
        """The user sends one attachment of `kind` ("image", "gif", "audio", "video",
        "file", "link", "location", "sticker"): event user_send_<kind>."""
        message: JSON = {"attachments": [{"type": kind, "payload": copy.deepcopy(payload)}]}
        if text is not None:
            message["text"] = text
        return self._message(
            user_id, f"user_send_{kind}", message, bad_signature=bad_signature, deliver=deliver
        )

    def user_press(
        self,
        user_id: str,
        message: Mapping[str, Any],
        *,
        title: str | None = None,
        payload: str | None = None,
        bad_signature: bool = False,
        deliver: bool = True,
    ) -> Delivery:
        """The user presses a query button (oa.query.show / oa.query.hide) of `message` (as
        `sent` returns it), chosen by `title` or `payload`: Zalo then sends the button's
        payload as the user's text (user_send_text). ValueError if there is no such button."""
        for button in message.get("buttons", []):
            if button.get("type") not in QUERY_BUTTONS:
                continue
            if (title is None or button["title"] == title) and (
                payload is None or button["payload"] == payload
            ):
                return self.user_text(
                    user_id, button["payload"], bad_signature=bad_signature, deliver=deliver
                )
        raise ValueError(f"no query button {title or payload!r} in {message.get('buttons')}")

    def user_follow(
        self, user_id: str, *, bad_signature: bool = False, deliver: bool = True
    ) -> Delivery:
        """The user follows the OA (follow); it counts as an interaction."""
        return self._follow(user_id, "follow", bad_signature=bad_signature, deliver=deliver)

    def user_unfollow(
        self, user_id: str, *, bad_signature: bool = False, deliver: bool = True
    ) -> Delivery:
        """The user unfollows the OA (unfollow): messages to them then get -213."""
        return self._follow(user_id, "unfollow", bad_signature=bad_signature, deliver=deliver)

    def user_received(
        self, user_id: str, message_ids: Iterable[str], *, deliver: bool = True
    ) -> Delivery:
        """The user's phone received the OA's messages (user_received_message)."""
        return self._receipt(user_id, "user_received_message", message_ids, deliver)

    def user_seen(
        self, user_id: str, message_ids: Iterable[str], *, deliver: bool = True
    ) -> Delivery:
        """The user saw the OA's messages (user_seen_message)."""
        return self._receipt(user_id, "user_seen_message", message_ids, deliver)

    def oa_echo(self, message: Mapping[str, Any], *, deliver: bool = True) -> Delivery:
        """The oa_send_text event Zalo sends for a message the OA sent (`sent` item)."""
        with self._state.lock:
            user = self._state.user(message["user_id"])
            event = _oa_event(
                self._state, user, "oa_send_text", message["message_id"], message["text"] or ""
            )
            delivery = _signed(self._state, event, bad_signature=False)
        return self.deliver(delivery) if deliver else delivery

    def event(self, event: JSON, *, bad_signature: bool = False, deliver: bool = True) -> Delivery:
        """Any event JSON, signed (its "timestamp" and "app_id" are used as given)."""
        with self._state.lock:
            delivery = _signed(self._state, event, bad_signature=bad_signature)
        return self.deliver(delivery) if deliver else delivery

    def _message(
        self, user_id: str, event_name: str, message: JSON, *, bad_signature: bool, deliver: bool
    ) -> Delivery:
        """A user's message: an interaction (the reply window restarts), then its event."""
        s = self._state
        with s.lock:
            user = s.user(user_id)
            user.last_interaction, user.replies = s.now, 0
            event = _user_event(s, user, event_name, {"msg_id": _message_id(), **message})
            delivery = _signed(s, event, bad_signature=bad_signature)
        return self.deliver(delivery) if deliver else delivery

    def _follow(
        self, user_id: str, event_name: str, *, bad_signature: bool, deliver: bool
    ) -> Delivery:
        s = self._state
        with s.lock:
            user = s.user(user_id)
            user.following = event_name == "follow"
            if user.following:
                user.last_interaction, user.replies = s.now, 0
            event: JSON = {
                "app_id": s.app_id,
                "oa_id": s.oa_id,
                "user_id_by_app": user.user_id_by_app,
                "event_name": event_name,
                "timestamp": millis(s.now),
                "source": "oa_profile",
                "follower": {"id": user.user_id},
            }
            delivery = _signed(s, event, bad_signature=bad_signature)
        return self.deliver(delivery) if deliver else delivery

    def _receipt(
        self, user_id: str, event_name: str, message_ids: Iterable[str], deliver: bool
    ) -> Delivery:
        s = self._state
        with s.lock:
            user = s.user(user_id)
            event: JSON = {
                "app_id": s.app_id,
                "sender": {"id": s.oa_id},
                "user_id_by_app": user.user_id_by_app,
                "recipient": {"id": user.user_id},
                "event_name": event_name,
                "message": {"msg_ids": list(message_ids)},
                "timestamp": millis(s.now),
            }
            delivery = _signed(s, event, bad_signature=False)
        return self.deliver(delivery) if deliver else delivery

    # ----- delivering

    def deliver(self, delivery: Delivery) -> Delivery:
        """POSTs the event to `webhook_url` now; the delivery with the receiver's status and
        the time it took (status 0: no answer). Blocks: see `deliver_async`."""
        future = self._server.submit(self._webhooks.deliver(delivery))
        return future.result(self._deliver_timeout)

    async def deliver_async(self, delivery: Delivery) -> Delivery:
        """`deliver` for async tests (does not block the event loop)."""
        future = self._server.submit(self._webhooks.deliver(delivery))
        return await asyncio.wait_for(asyncio.wrap_future(future), self._deliver_timeout)

    def resend(self, delivery: Delivery) -> Delivery:
        """Zalo's retry: the same body and signature POSTed again."""
        return self.deliver(replace(delivery, status=None, elapsed=None, response=""))

    async def resend_async(self, delivery: Delivery) -> Delivery:
        """`resend` for async tests."""
        return await self.deliver_async(replace(delivery, status=None, elapsed=None, response=""))

    def deliveries(self) -> list[Delivery]:
        """Every POST to the webhook, oldest first (echoes included)."""
        with self._state.lock:
            return list(self._state.deliveries)

    # ----- what the OA did

    def sent(self, user_id: str | None = None) -> list[JSON]:
        """Messages the OA sent (accepted by the API), oldest first: {"message_id",
        "user_id", "text", "buttons", "attachment", "sent_time", "quota"}."""
        with self._state.lock:
            return [
                copy.deepcopy(message)
                for message in self._state.sent
                if user_id is None or message["user_id"] == str(user_id)
            ]

    def calls(self, path: str | None = None) -> list[JSON]:
        """Every OA API call (of `path`), oldest first: {"method", "path", "access_token",
        "body", "ok", "error"}."""
        with self._state.lock:
            return [
                copy.deepcopy(call)
                for call in self._state.calls
                if path is None or call["path"] == path
            ]

    def _nothing_matched(self, timeout: float) -> AssertionError:
        summary = [(m["user_id"], m["text"]) for m in self.sent()]
        return AssertionError(f"nothing the OA sent in {timeout}s matched; it sent {summary}")

    # ----- steering the server

    def fail_next(
        self,
        times: int = 1,
        error: int = 500,
        *,
        message: str | None = None,
        api: Literal["oa", "oauth"] = "oa",
    ) -> None:
        """The next `times` calls of the OA API (or of the OAuth endpoint) fail: an HTTP
        status (500, 502, 503, 429, ...) answers that status with a short text body; a
        negative Zalo code (-32 for the rate limit, ...) answers HTTP 200 with its error
        JSON (`message` defaults to Zalo's text for the code)."""
        with self._state.lock:
            queued = self._state.failures.setdefault(api, deque())
            queued.extend([_Failure(error, message)] * times)
