"""`GET /healthz`: the gateway is healthy when Rasa, the action server, the database and Redis
all answer and none of its background tasks (bot/tasks.py) is failing. `GET /livez`: the
process serves (what the proxy in front of several gateways checks).

It answers within about two seconds whatever hangs: each check runs at the same time under
its own time limit, and the database check opens a connection of its own (with short
connect and statement timeouts) instead of waiting for the pool, which a hanging database
may have filled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from functools import lru_cache

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from bot.rasa_client import RasaClient
from bot.tasks import Tasks
from core.db import make_engine
from core.settings import get_settings

CHECK_SECONDS = 1.5

api = APIRouter()


@lru_cache
def _probe_engine(url: str) -> Engine:
    """An engine for health checks only: no pool, so a stuck connection is never reused."""
    return make_engine(url, poolclass=NullPool, timeout_seconds=1)


def _database_ok() -> bool:
    try:
        with _probe_engine(get_settings().database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _actions_ok(actions_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=CHECK_SECONDS) as client:
            response = await client.get(f"{actions_url}/health")
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def _redis_ok(request: Request) -> bool:
    try:
        return bool(await request.app.state.redis.ping())
    except Exception:
        return False


async def _within(check: Awaitable[bool]) -> bool:
    """The check's answer, or False when it takes longer than CHECK_SECONDS (a thread that
    is still waiting finishes on its own; its answer is dropped)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CHECK_SECONDS):
            return await check
    return False


@api.get("/livez")
async def livez() -> JSONResponse:
    """200 while this process serves requests, whatever its dependencies do: the proxy in
    front of several gateways takes a replica out when this stops answering (its /healthz
    would take every replica out together when Rasa or the database is down)."""
    return JSONResponse({"status": "ok"})


@api.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    rasa: RasaClient = request.app.state.rasa
    settings = request.app.state.settings
    tasks: Tasks = request.app.state.tasks
    results = await asyncio.gather(
        _within(rasa.healthy()),
        _within(_actions_ok(settings.actions_url)),
        _within(asyncio.to_thread(_database_ok)),
        _within(_redis_ok(request)),
    )
    checks: dict[str, object] = dict(
        zip(("rasa", "actions", "database", "redis"), results, strict=True)
    )
    failing = [name for name, ok in checks.items() if not ok]
    failing += [f"task:{name}" for name in tasks.failing()]
    return JSONResponse(
        status_code=503 if failing else 200,
        content={
            "status": "ok" if not failing else "unavailable",
            "failing": failing,
            "checks": checks,
            "tasks": tasks.report(),
        },
    )
