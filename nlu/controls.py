"""The small contract between the actions, the gateway and our Rasa code, beyond what
residents see. Pure Python: imported by the gateway and the actions, and inside Rasa.

An action sends a control as a `custom` JSON message (never shown to a resident); the gateway
acts on it after the turn. The actions ask the privacy question when it is needed
(actions/privacy_notice.py); CONSENT_ACTION answers the CONSENT_INTENT of its buttons.
"""

from __future__ import annotations

import json

MAX_PAYLOAD_BYTES = 64  # Telegram's callback data


def payload(intent: str, **entities: str | int) -> str:
    """A button's payload, `/intent{"entity":value}` with compact ASCII JSON, at most 64 bytes:
    Rasa reads the JSON as entities without the NLU model."""
    text = f"/{intent}" + (json.dumps(entities, separators=(",", ":")) if entities else "")
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"button payload longer than {MAX_PAYLOAD_BYTES} bytes: {text}")
    return text


ERASE_CONVERSATION = "erase_conversation"  # the resident's data was erased: drop Rasa's copy
ERASED_AS = "erased_as"  # the unlinkable id that counts the erasure exchange
CONSENT_INTENT = "consent"
CONSENT_ACTION = "action_consent"  # the notice in full, or records the resident's answer
# Subscribe the resident to their commune's announcements on this channel (the gateway knows
# the chat id; core/repositories/subscriptions.py): {"subscribe_announcements": true}
SUBSCRIBE = "subscribe_announcements"
# Open a ticket: {"handoff": true, "reason", "service", "step", "summary", "announcement"}.
HANDOFF = "handoff"
# The announcement a resident asks about: the entity of its "Hỏi thêm" button
# (`payload("request_human", announcement="12")`), the message metadata the gateway adds to a
# reply soon after one reached them, and the field of the HANDOFF request naming it.
ANNOUNCEMENT = "announcement"
# Message metadata set by the gateway when the resident agreed that their words may be kept;
# Rasa's tracker stores (nlu/tracker_store.py) and the actions keep no other text.
STORE_TEXT = "store_text"
