"""`GET /healthz`: the gateway is healthy when Rasa, the action server, the database and
Redis all answer."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.rasa_client import RasaClient
from core.db import get_engine

api = APIRouter()


def _database_ok() -> bool:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _actions_ok(actions_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(f"{actions_url}/health")
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def _redis_ok(request: Request) -> bool:
    try:
        return bool(await request.app.state.redis.ping())
    except Exception:
        return False


@api.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    rasa: RasaClient = request.app.state.rasa
    settings = request.app.state.settings
    results = await asyncio.gather(
        rasa.healthy(),
        _actions_ok(settings.actions_url),
        asyncio.to_thread(_database_ok),
        _redis_ok(request),
    )
    checks = dict(zip(("rasa", "actions", "database", "redis"), results, strict=True))
    failing = [name for name, ok in checks.items() if not ok]
    status = 503 if failing else 200
    return JSONResponse(
        status_code=status,
        content={
            "status": "ok" if not failing else "unavailable",
            "failing": failing,
            "checks": checks,
        },
    )
