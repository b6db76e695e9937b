"""The small contract between actions and the gateway, beyond what residents see.

An action sends a control as a `custom` JSON message (never shown to a resident); the gateway
acts on it after the turn. The gateway triggers CONSENT_INTENT to show the privacy notice.
"""

from __future__ import annotations

ERASE_CONVERSATION = "erase_conversation"  # the resident's data was erased: drop Rasa's copy
ERASED_AS = "erased_as"  # the unlinkable id that counts the erasure exchange
CONSENT_INTENT = "consent"
HANDOFF = "handoff"  # open a ticket: {"handoff": true, "reason", "service", "step", "summary"}
# Message metadata set by the gateway when the resident agreed that their words may be kept;
# Rasa's tracker stores (nlu/tracker_store.py) and the actions keep no other text.
STORE_TEXT = "store_text"
