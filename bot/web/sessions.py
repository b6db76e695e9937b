"""Signing in to the gateway's web pages for staff (the volunteer desk at /desk, the report page
at /admin/reports): one machinery for both.

Passwords are scrypt-hashed and checked off the event loop (core/passwords.py); a wrong name
takes as long as a wrong password (DUMMY_HASH).

Only tries that fail count against the limits (a right password gives its try back), and no
stranger can lock a named user out. Per 15 minutes:
- a name may be tried 5 times from one client address (a pair counter: an attacker's tries
  from their address never block the same name from the user's address; a success clears it);
- one address may make 30 tries (a commune office's staff often share one address);
- once a name has had 20 tries from all addresses together (it is being guessed from many
  addresses), it may be tried only from an address that has not tried it yet in the window:
  one guess per address, while its owner, signing in from an address without failures, still
  gets in.
The client address is the connection's, or the `X-Forwarded-For` one when the connection comes
from a trusted proxy (`FORWARDED_ALLOW_IPS`, applied by uvicorn in bot/__main__.py).

Sessions live in Redis (every replica sees them) behind an HttpOnly, Secure, SameSite=Strict
cookie scoped to the area's path; every state-changing call must also carry the session's CSRF
token in `X-CSRF-Token`. A session is bound to the account's id and its random
`security_stamp`, checked against the database on every request: a new password (a new stamp)
ends every session of the account, a removed account's sessions end, and an account created
later under a reused id (SQLite) inherits none. Signing out deletes the session from Redis.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, StringConstraints
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import in_db
from core.models import Staff, Volunteer
from core.passwords import DUMMY_HASH, password_matches
from core.ratelimit import RateLimit

SESSION_SECONDS = 12 * 3600
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_TRIES_PER_NAME_AND_ADDRESS = 5
LOGIN_TRIES_PER_ADDRESS = 30  # a commune office's staff often share one address
LOGIN_TRIES_PER_NAME = 20  # from all addresses; beyond it, one try per new address
STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

WRONG_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
TOO_MANY_TRIES = "Anh/chị đã thử sai nhiều lần. Vui lòng thử lại sau 15 phút."
SIGNED_OUT = "Anh/chị cần đăng nhập lại."
BAD_CSRF = "Phiên làm việc không hợp lệ, anh/chị tải lại trang giúp em."

# Who may sign in: volunteers at /desk, staff at /admin.
Account = TypeVar("Account", Volunteer, Staff)


class Login(BaseModel):
    username: Annotated[
        str,  # no NUL: no name has one, and PostgreSQL cannot even look for it
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00]*$"
        ),
    ]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


@dataclass(frozen=True)
class WebUser:
    """Who a session belongs to (a volunteer's or a staff member's id) and its CSRF token."""

    id: int
    csrf: str


@dataclass(frozen=True)
class LoginTries:
    """The sign-in limits of one area (see the module's docstring). Every try is counted before
    the password is checked, so that parallel tries cannot slip past a limit; a success gives
    its try back."""

    per_pair: RateLimit
    per_address: RateLimit
    per_name: RateLimit

    @classmethod
    def of(cls, redis: Redis, area: str) -> LoginTries:
        prefix = f"ratelimit:{area}-login"
        return cls(
            RateLimit(
                redis, f"{prefix}:pair", LOGIN_TRIES_PER_NAME_AND_ADDRESS, LOGIN_WINDOW_SECONDS
            ),
            RateLimit(redis, f"{prefix}:ip", LOGIN_TRIES_PER_ADDRESS, LOGIN_WINDOW_SECONDS),
            RateLimit(redis, f"{prefix}:name", LOGIN_TRIES_PER_NAME, LOGIN_WINDOW_SECONDS),
        )

    async def admit(self, name: str, address: str) -> bool:
        """Count a try of `name` from `address`; False when it must be refused unchecked."""
        from_here = await self.per_pair.add(f"{address}|{name}")
        from_address = await self.per_address.add(address)
        on_name = await self.per_name.add(name)
        if from_here > self.per_pair.limit or from_address > self.per_address.limit:
            return False
        return on_name <= self.per_name.limit or from_here == 1

    async def succeeded(self, name: str, address: str) -> None:
        """The password was right: the try does not count, nor do earlier ones from here."""
        await self.per_pair.forget(f"{address}|{name}")
        await self.per_address.give_back(address)
        await self.per_name.give_back(name)


def client_address(request: Request) -> str:
    """The client's address as uvicorn gives it (the proxy's `X-Forwarded-For` when trusted)."""
    return request.client.host if request.client else "?"


def _named(session: Session, model: type[Account], name: str) -> tuple[int, str | None, str] | None:
    """The id, password hash and security stamp of the account signing in as `name`."""
    account = session.scalars(select(model).where(model.username == name)).one_or_none()
    return (account.id, account.password_hash, account.security_stamp) if account else None


def _stamp(session: Session, model: type[Account], account_id: int) -> str | None:
    account = session.get(model, account_id)
    return account.security_stamp if account else None


@dataclass(frozen=True)
class SignIn(Generic[Account]):
    """The sign-in of one area of the site (`area` = "desk" → cookie `cns_desk` on /desk,
    sessions under `desk:session:` in Redis) for the accounts of `model`. `signed_in` and
    `checked` are FastAPI dependencies."""

    area: str
    model: type[Account]

    @property
    def cookie(self) -> str:
        return f"cns_{self.area}"

    @property
    def path(self) -> str:
        return f"/{self.area}"

    def _key(self, token: str) -> str:
        return f"{self.area}:session:{token}"

    async def login(self, body: Login, request: Request, response: Response) -> WebUser:
        """Check the password (429 after too many failed tries, 401 when wrong) and open a
        session."""
        redis: Redis = request.app.state.redis
        tries = LoginTries.of(redis, self.area)
        address, name = client_address(request), body.username.lower()
        if not await tries.admit(name, address):
            raise HTTPException(429, TOO_MANY_TRIES)
        found = await in_db(lambda session: _named(session, self.model, name))
        stored = found[1] if found else DUMMY_HASH
        if not await password_matches(body.password, stored) or found is None:
            raise HTTPException(401, WRONG_LOGIN)
        await tries.succeeded(name, address)
        account_id, _, stamp = found
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        value = json.dumps({"user": account_id, "stamp": stamp, "csrf": csrf})
        await redis.set(self._key(token), value, ex=SESSION_SECONDS)
        response.set_cookie(
            self.cookie,
            token,
            max_age=SESSION_SECONDS,
            httponly=True,
            secure=True,
            samesite="strict",
            path=self.path,
        )
        return WebUser(account_id, csrf)

    async def signed_in(self, request: Request) -> WebUser:
        """The session's user; 401 without a live session of a current account and password."""
        redis: Redis = request.app.state.redis
        token = request.cookies.get(self.cookie)
        raw = await redis.get(self._key(token)) if token else None
        data = json.loads(raw) if raw else {}
        if "stamp" not in data:  # none, expired, or written by an older version
            raise HTTPException(401, SIGNED_OUT)
        user = WebUser(int(data["user"]), str(data["csrf"]))
        stamp = await in_db(lambda session: _stamp(session, self.model, user.id))
        if stamp is None or not hmac.compare_digest(stamp, str(data["stamp"])):
            await redis.delete(self._key(str(token)))  # removed, or a new password since
            raise HTTPException(401, SIGNED_OUT)
        return user

    async def checked(self, request: Request) -> WebUser:
        """A signed-in user whose request carries the session's CSRF token (403 otherwise)."""
        user = await self.signed_in(request)
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), user.csrf.encode()):
            raise HTTPException(403, BAD_CSRF)
        return user

    async def logout(self, request: Request, response: Response) -> None:
        token = request.cookies.get(self.cookie)
        if token:
            await request.app.state.redis.delete(self._key(token))
        response.delete_cookie(
            self.cookie, path=self.path, secure=True, httponly=True, samesite="strict"
        )

    def account_routes(self, me: Callable[[Session, WebUser], dict[str, Any]]) -> APIRouter:
        """`POST {path}/api/login`, `POST {path}/api/logout` (CSRF) and `GET {path}/api/me`;
        `me` describes the signed-in user (login answers with it too)."""
        router = APIRouter()

        @router.post(f"{self.path}/api/login")
        async def sign_in(body: Login, request: Request, response: Response) -> dict[str, Any]:
            user = await self.login(body, request, response)
            return await in_db(lambda session: me(session, user))

        @router.post(f"{self.path}/api/logout", status_code=204)
        async def sign_out(
            request: Request,
            response: Response,
            _: WebUser = Depends(self.checked),  # noqa: B008 - FastAPI's way
        ) -> None:
            await self.logout(request, response)

        @router.get(f"{self.path}/api/me")
        async def whoami(user: WebUser = Depends(self.signed_in)) -> dict[str, Any]:  # noqa: B008
            return await in_db(lambda session: me(session, user))

        return router


def static_page(name: str) -> FileResponse:
    """A static page of bot/web/static under the strict content policy."""
    return FileResponse(
        STATIC_DIR / name, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )
