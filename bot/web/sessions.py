"""Signing in to the gateway's web pages for staff (the volunteer desk at /desk, the report page
at /admin/reports): one machinery for both.

Passwords are scrypt-hashed; a wrong name takes as long as a wrong password (DUMMY_HASH); tries
are rate-limited per name and per address. Sessions live in Redis (every replica sees them)
behind an HttpOnly, Secure, SameSite=Strict cookie scoped to the area's path; every
state-changing call must also carry the session's CSRF token in `X-CSRF-Token`.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, StringConstraints
from redis.asyncio import Redis
from sqlalchemy.orm import Session

from core.db import in_db
from core.passwords import DUMMY_HASH, verify_password
from core.ratelimit import RateLimit

SESSION_SECONDS = 12 * 3600
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_TRIES_PER_NAME = 5
LOGIN_TRIES_PER_ADDRESS = 30  # a commune office's staff often share one address
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

# Looks a user up by their (lower-cased) name: their id and password hash, or None.
Credentials = Callable[[Session, str], tuple[int, str | None] | None]


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
class SignIn:
    """The sign-in of one area of the site (`area` = "desk" → cookie `cns_desk` on /desk,
    sessions under `desk:session:` in Redis). `signed_in` and `checked` are FastAPI
    dependencies."""

    area: str
    credentials: Credentials

    @property
    def cookie(self) -> str:
        return f"cns_{self.area}"

    @property
    def path(self) -> str:
        return f"/{self.area}"

    def _key(self, token: str) -> str:
        return f"{self.area}:session:{token}"

    async def login(self, body: Login, request: Request, response: Response) -> WebUser:
        """Check the password (429 after too many tries, 401 when wrong) and open a session."""
        redis: Redis = request.app.state.redis
        limits = f"ratelimit:{self.area}-login"
        per_name = RateLimit(redis, f"{limits}:name", LOGIN_TRIES_PER_NAME, LOGIN_WINDOW_SECONDS)
        per_address = RateLimit(
            redis, f"{limits}:ip", LOGIN_TRIES_PER_ADDRESS, LOGIN_WINDOW_SECONDS
        )
        address = request.client.host if request.client else "?"
        name = body.username.lower()
        if not (await per_name.hit(name) and await per_address.hit(address)):
            raise HTTPException(429, TOO_MANY_TRIES)
        found = await in_db(lambda session: self.credentials(session, name))
        stored = found[1] if found else DUMMY_HASH
        if not verify_password(body.password, stored) or found is None:
            raise HTTPException(401, WRONG_LOGIN)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        value = json.dumps({"user": found[0], "csrf": csrf})
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
        return WebUser(found[0], csrf)

    async def signed_in(self, request: Request) -> WebUser:
        """The session's user; 401 without a live session."""
        token = request.cookies.get(self.cookie)
        raw = await request.app.state.redis.get(self._key(token)) if token else None
        data = json.loads(raw) if raw else {}
        if "user" not in data:  # none, expired, or written by an older version
            raise HTTPException(401, SIGNED_OUT)
        return WebUser(int(data["user"]), str(data["csrf"]))

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
