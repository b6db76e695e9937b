"""Talking to Rasa over HTTP: one request per resident turn (our turn channel,
nlu/channel.py), the HTTP API to forget a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.messages import Button, OutboundMessage

TURN_WEBHOOK = "/webhooks/turn/webhook"  # nlu/channel.py


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
    """What Rasa answered to one message: the replies in order, the actions' control messages
    (`custom` JSON, never shown to the resident), and the intent NLU gave the message."""

    messages: list[OutboundMessage]
    controls: list[dict[str, Any]]
    intent: ParsedIntent | None = None

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


def _intent(body: dict[str, Any]) -> ParsedIntent | None:
    """The intent of Rasa's parse; as candidate, the best-ranked other intent."""
    intent, ranking = body.get("intent"), body.get("intent_ranking")
    name = intent.get("name") if isinstance(intent, dict) else None
    if not isinstance(intent, dict) or not isinstance(name, str):
        return None
    entries = ranking if isinstance(ranking, list) else []
    candidate = next(
        (
            str(entry["name"])
            for entry in entries
            if isinstance(entry, dict) and entry.get("name") not in (None, name)
        ),
        None,
    )
    return ParsedIntent(
        name=name, confidence=float(intent.get("confidence") or 0.0), candidate=candidate
    )


def _turn(body: Any) -> RasaTurn:
    """The turn channel's answer: messages and the parse."""
    if not isinstance(body, dict):
        raise RasaUnavailable(f"unexpected reply from Rasa: {type(body).__name__}")
    dicts = [item for item in body.get("messages") or [] if isinstance(item, dict)]
    return RasaTurn(
        messages=[msg for item in dicts if (msg := _to_outbound(item))],
        controls=[item["custom"] for item in dicts if isinstance(item.get("custom"), dict)],
        intent=_intent(body),
    )


class RasaClient:
    """One async HTTP client to one Rasa server (or a load balancer in front of several)."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        self._token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _params(self) -> dict[str, str]:
        """Rasa's HTTP API takes its token only in the query string."""
        return {"token": self._token} if self._token else {}

    def _bearer(self) -> dict[str, str]:
        """The turn channel takes it in a header (a URL may end up in a log)."""
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def turn(self, sender: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        """One user message through the turn channel: Rasa's replies and parse."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            response = await self._http.post(TURN_WEBHOOK, json=body, headers=self._bearer())
            response.raise_for_status()
            return _turn(response.json())
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

    async def healthy(self) -> bool:
        try:
            response = await self._http.get("/version", timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
