"""The gateway ASGI app: `uvicorn bot.app:create_app --factory`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import health
from bot.admin import web as admin_web
from bot.announcements import AnnouncementWorker
from bot.channels import telegram, web, zalo
from bot.channels.telegram import telegram_running
from bot.channels.web_mailbox import WebMailbox
from bot.channels.zalo import zalo_running
from bot.desk import web as desk_web
from bot.desk.handoff import DeskPolicy, Handoff
from bot.desk.hours import DeskHours
from bot.desk.timers import DeskTimers
from bot.limits import API_BODY_LIMIT, PHOTO_BODY_LIMIT, WEBHOOK_BODY_LIMIT, BodyLimit
from bot.outbox import Outbox
from bot.rasa_client import RasaClient
from bot.router import Router
from bot.screens import TOO_LARGE_REPLY as TOO_LARGE_PHOTO_REPLY
from bot.screens import Screens
from bot.tasks import Tasks
from bot.typed_buttons import TypedButtons
from bot.web.static_files import RevalidatedStaticFiles
from core.kv import make_redis
from core.logging import configure_logging, secret_values
from core.outages import STORAGE_OUTAGES
from core.screens import ScreenReader
from core.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "web" / "static"
log = logging.getLogger(__name__)

INVALID_REQUEST_REPLY = (
    "Dạ, tin nhắn chưa đúng định dạng hoặc dài quá {max} ký tự. Anh/chị kiểm tra lại giúp em ạ."
)

TOO_LARGE = "Nội dung gửi lên quá lớn."
TOO_LARGE_REPLY = "Dạ, tin nhắn dài quá, em chưa nhận được. Anh/chị gửi ngắn hơn giúp em ạ."
STORAGE_DOWN = "Hệ thống lưu trữ tạm thời không trả lời."


def error_body(detail: object, text: str) -> dict[str, object]:
    """The gateway's error shape: `detail` for API clients and the desk/admin pages, a
    Vietnamese message for the chat page (the same shape as a reply). The proxy in front of
    several gateways answers in it too (cns/replicas.py)."""
    return {"detail": detail, "messages": [{"text": text, "buttons": []}]}


def _polite(status: int, detail: object, text: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(detail, text))


# What every error answer of the gateway holds, documented in place of FastAPI's default.
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
        "messages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "buttons"],
                "properties": {"text": {"type": "string"}, "buttons": {"type": "array"}},
            },
        },
    },
}


def _invalid(status: int, detail: object) -> JSONResponse:
    return _polite(status, detail, INVALID_REQUEST_REPLY.format(max=web.MAX_TEXT))


def desk_policy(settings: Settings) -> DeskPolicy:
    return DeskPolicy(
        sla_minutes=settings.desk_sla_minutes,
        hours=DeskHours.parse(settings.desk_hours),
        expire_after=timedelta(hours=settings.desk_expire_hours),
        new_tickets_per_commune=settings.desk_new_tickets_per_commune,
        new_tickets_window=timedelta(minutes=settings.desk_new_tickets_window_minutes),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, secrets=secret_values(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
        app.state.settings = settings
        app.state.rasa = RasaClient(settings.rasa_url, token=token)
        app.state.redis = make_redis(settings.redis_url)
        app.state.mailbox = WebMailbox(app.state.redis)
        app.state.outbox = Outbox(app.state.redis)
        typed_buttons = TypedButtons(app.state.redis)
        app.state.handoff = Handoff(
            senders={web.CHANNEL: app.state.mailbox},
            policy=desk_policy(settings),
            typed_buttons=typed_buttons,
        )
        app.state.router = Router(
            rasa=app.state.rasa,
            pseudonym_key=settings.pseudonym_key.get_secret_value(),
            typed_buttons=typed_buttons,
            handoff=app.state.handoff,
            rasa_tracker_database_url=settings.rasa_tracker_database_url,
            screens=Screens(ScreenReader()),
        )
        app.state.web_limits = web.WebLimits.of(app.state.redis, settings)
        app.state.tasks = tasks = Tasks()
        shared = (app.state.router, app.state.handoff, app.state.outbox, app.state.redis)
        async with AsyncExitStack() as stack:
            if settings.telegram_bot_token:
                running = telegram_running(*shared, settings, tasks)
                app.state.telegram = await stack.enter_async_context(running)
            if settings.zalo_app_id and settings.zalo_oa_secret_key:
                zalo_channel = zalo_running(*shared, settings, tasks)
                app.state.zalo = await stack.enter_async_context(zalo_channel)
            retention = timedelta(days=settings.retention_days)
            timers = DeskTimers(app.state.handoff)
            tasks.spawn("desk-timers", lambda: timers.run_forever(retention))
            assert app.state.router.screens is not None
            reader = app.state.router.screens.reader
            stack.callback(reader.close)  # its worker processes
            if settings.screens_warm_start:  # in the background: the gateway serves at once
                warming = asyncio.create_task(reader.warm(), name="ocr-warm")
                stack.callback(warming.cancel)
            announcer = AnnouncementWorker(
                app.state.outbox,
                app.state.mailbox,
                app.state.redis,
                senders=frozenset(
                    name for name in ("telegram", "zalo") if hasattr(app.state, name)
                ),
            )
            tasks.spawn("announcements", announcer.run_forever)
            stack.push_async_callback(tasks.cancel)  # first thing done on the way out
            yield
        await app.state.rasa.aclose()
        await app.state.redis.aclose()

    app = FastAPI(title="Trợ lý Tổ Công nghệ số", lifespan=lifespan)
    app.add_middleware(
        BodyLimit,
        limit=API_BODY_LIMIT,
        per_prefix=[
            ("/webhooks/", WEBHOOK_BODY_LIMIT),
            ("/api/chat/photo", PHOTO_BODY_LIMIT, _polite(413, TOO_LARGE, TOO_LARGE_PHOTO_REPLY)),
        ],
        refusal=_polite(413, TOO_LARGE, TOO_LARGE_REPLY),
    )
    app.include_router(health.api)
    app.include_router(web.api)
    app.include_router(desk_web.desk)
    app.include_router(admin_web.admin)
    app.include_router(telegram.webhook)
    app.include_router(zalo.webhook)
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        return _invalid(422, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and request.url.path.startswith("/api/"):
            return _invalid(400, exc.detail)  # e.g. a body that is not JSON
        return await http_exception_handler(request, exc)

    async def storage_down(request: Request, exc: Exception) -> JSONResponse:
        cause = getattr(exc, "orig", None) or exc  # the driver's words, without SQL parameters
        log.error("%s %s: storage unavailable: %r", request.method, request.url.path, cause)
        return _polite(503, STORAGE_DOWN, web.RASA_DOWN_REPLY)

    for outage in STORAGE_OUTAGES:
        app.add_exception_handler(outage, storage_down)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema["components"]["schemas"]["HTTPValidationError"] = ERROR_SCHEMA
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    return app
