"""The gateway's input channel into Rasa: one HTTP request per resident turn.

`POST /webhooks/turn/webhook` with `Authorization: Bearer RASA_TOKEN` and
`{"sender", "message", "metadata"}` runs the turn like Rasa's REST channel and answers
`{"messages", "intent", "intent_ranking"}`: the bot's messages (REST channel format) and what
NLU made of the message, under one conversation lock and with one tracker save.

Named in credentials.yml (`rasa run --credentials credentials.yml`), the only channel there,
so Rasa's open REST webhook is not served; importing it also installs nlu/hot_paths.py (two
of Rasa's per-turn costs done once). Runs inside Rasa: imports nothing from core/ or bot/.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from nlu import hot_paths

hot_paths.install()

CHANNEL = "turn"


async def run_turn(
    agent: Agent, sender: str, text: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Handle the message as Rasa 3.6's MessageProcessor.handle_message does, under one
    conversation lock and with one tracker save; the answer of the webhook. `agent` must be
    ready."""
    processor = agent.processor
    assert processor is not None, "the agent has no model"
    output = CollectingOutputChannel()
    message = UserMessage(text, output, sender, input_channel=CHANNEL, metadata=metadata)
    async with agent.lock_store.lock(sender):
        tracker = await processor.log_message(message, should_save_tracker=False)
        tracker = await processor.run_action_extract_slots(output, tracker)
        await processor._run_prediction_loop(output, tracker)
        await processor.run_anonymization_pipeline(tracker)
        parsed = tracker.latest_message.parse_data if tracker.latest_message else {}
        await processor.save_tracker(tracker)
    return {
        "messages": output.messages,
        "intent": dict(parsed.get("intent") or {}) or None,
        "intent_ranking": [dict(entry) for entry in parsed.get("intent_ranking") or []],
    }


class TurnInput(InputChannel):
    """`/webhooks/turn/webhook`: the gateway's turns, only with Rasa's token."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TurnInput:
        token = (credentials or {}).get("token")
        if not isinstance(token, str) or not token:
            cls.raise_missing_credentials_exception()
        return cls(token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook; it runs the turn itself (`run_turn`), not through `on_new_message`,
        to answer with the tracker's parse."""
        webhook = Blueprint(f"turn_webhook_{id(self)}", __name__)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # In a header, never the URL: Sanic logs the URL of a request that fails.
            scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
            if scheme.lower() != "bearer":
                given = ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return response.json({"detail": "a valid token is required"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender, text = body.get("sender"), body.get("message")
            metadata = body.get("metadata", {})
            if not isinstance(sender, str) or not isinstance(text, str):
                return response.json({"detail": "sender and message are required"}, status=400)
            agent: Agent | None = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"detail": "no model loaded"}, status=503)
            if not isinstance(metadata, dict):
                return response.json({"detail": "metadata must be an object"}, status=400)
            return response.json(await run_turn(agent, sender, text, metadata))

        return webhook
