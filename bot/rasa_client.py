"""Talking to Rasa over HTTP: the REST channel for replies, the HTTP API for the parse."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bot.messages import Button, OutboundMessage

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error."""


@dataclass(frozen=True)
class ParsedIntent:
    name: str
    confidence: float
    # The best-ranked real intent when `name` is the fallback: what the resident most likely
    # meant, counted in the report's "questions the bot did not understand".
    candidate: str | None = None


@dataclass(frozen=True)
class RasaTurn:
    """What Rasa answered to one message: the replies in order, and the actions' control
    messages (`custom` JSON, never shown to the resident)."""

    messages: list[OutboundMessage]
    controls: list[dict[str, Any]]

    def control(self, name: str) -> dict[str, Any] | None:
        """The first control message that sets `name` to true, if any."""
        return next((item for item in self.controls if item.get(name) is True), None)


def _to_outbound(item: dict[str, Any]) -> OutboundMessage | None:
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    buttons = tuple(
        Button(title=str(b["title"]), payload=str(b["payload"]))
        for b in item.get("buttons") or []
        if isinstance(b, dict) and "title" in b and "payload" in b
    )
    return OutboundMessage(text=text, buttons=buttons)


def _turn(items: list[Any]) -> RasaTurn:
    dicts = [item for item in items if isinstance(item, dict)]
    return RasaTurn(
        messages=[msg for item in dicts if (msg := _to_outbound(item))],
        controls=[item["custom"] for item in dicts if isinstance(item.get("custom"), dict)],
    )


class RasaClient:
    """One async HTTP client to one Rasa server (or a load balancer in front of several)."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        self._token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _params(self) -> dict[str, str]:
        return {"token": self._token} if self._token else {}

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        """Send one user message through Rasa's REST channel; the bot's replies in order."""
        items = await self._post(
            "/webhooks/rest/webhook", {"sender": sender, "message": text, "metadata": metadata}
        )
        if not isinstance(items, list):
            raise RasaUnavailable(f"unexpected reply from Rasa: {type(items).__name__}")
        return _turn(items)

    async def trigger_intent(self, sender: str, intent: str) -> RasaTurn:
        """Run the conversation as if the resident had sent `intent` (no text, no NLU)."""
        body = await self._post(
            f"/conversations/{sender}/trigger_intent", {"name": intent}, params=self._params()
        )
        items = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise RasaUnavailable("unexpected reply from Rasa's trigger_intent")
        return _turn(items)

    async def _post(
        self, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> Any:
        try:
            response = await self._http.post(path, json=body, params=params)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc

    async def forget(self, sender: str) -> None:
        """Replace Rasa's copy of the conversation with nothing (in-memory and Redis tracker
        stores; a SQL tracker store also needs `core.erasure.erase_rasa_tracker`)."""
        try:
            response = await self._http.put(
                f"/conversations/{sender}/tracker/events", json=[], params=self._params()
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc

    async def latest_intent(self, sender: str) -> ParsedIntent | None:
        """The intent Rasa gave the sender's latest message (tracker without its events)."""
        try:
            response = await self._http.get(
                f"/conversations/{sender}/tracker",
                params={"include_events": "NONE", **self._params()},
            )
            response.raise_for_status()
            latest = response.json().get("latest_message") or {}
            intent = latest.get("intent") or {}
            ranking = latest.get("intent_ranking") or []
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("could not read the latest intent from Rasa: %s", exc)
            return None
        name = intent.get("name")
        if not isinstance(name, str):
            return None
        candidate = next(
            (
                str(entry["name"])
                for entry in ranking
                if isinstance(entry, dict) and entry.get("name") not in (None, name)
            ),
            None,
        )
        return ParsedIntent(
            name=name, confidence=float(intent.get("confidence") or 0.0), candidate=candidate
        )

    async def healthy(self) -> bool:
        try:
            response = await self._http.get("/version", timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
