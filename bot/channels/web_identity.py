"""Identities of web chat residents, issued by the server and never chosen by the client.

An identity is a token `<id>.<signature>`: `id` is random (128 bits, URL-safe base64) and is
the resident's `channel_user_id` on the web channel (what the router pseudonymizes and the
mailbox is keyed by); `signature` is its HMAC-SHA256 under a key derived from PSEUDONYM_KEY
with a label of its own, so the token proves the server issued it. Only the whole token is a
credential: the id alone, as stored with a ticket, grants nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

LABEL = b"cns web chat identity v1"
ID_BYTES = 16
MAX_TOKEN = 128


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Identity:
    token: str  # the credential: travels in responses, the cookie and the header only
    user_id: str  # the channel_user_id


@dataclass(frozen=True)
class WebIdentities:
    """Issues and checks web residents' tokens."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> WebIdentities:
        """Keys derived from PSEUDONYM_KEY: a new PSEUDONYM_KEY starts everyone afresh, as it
        does for the pseudonymous ids anyway."""
        return cls(hmac.new(secret.encode(), LABEL, hashlib.sha256).digest())

    def issue(self) -> Identity:
        """A new resident."""
        user_id = secrets.token_urlsafe(ID_BYTES)
        return Identity(self._sign(user_id), user_id)

    def verify(self, token: str) -> Identity | None:
        """The resident of `token` when this server issued it; None for anything else."""
        if len(token) > MAX_TOKEN or not token.isascii():
            return None
        user_id, dot, _ = token.partition(".")
        if not dot or not user_id:
            return None
        if not hmac.compare_digest(self._sign(user_id).encode(), token.encode()):
            return None
        return Identity(token, user_id)

    def _sign(self, user_id: str) -> str:
        signature = hmac.new(self.key, user_id.encode(), hashlib.sha256).digest()
        return f"{user_id}.{_b64(signature)}"
