"""A Zalo resident's photo, fetched to be read (bot/screens.py).

A `user_send_image` event carries the photo's address on Zalo's CDN (`message.attachments[0]
.payload.url`); the attachment's ref is `zalo:<url>`. The address comes from the event, so it is
fetched only from the hosts of ZALO_MEDIA_HOSTS (a host or any of its subdomains; https only,
plain http only for this machine, where the tests' fake Zalo serves it), without following
redirects, within `FETCH_TIMEOUT_SECONDS`, and only up to the reader's 10 MB cap: a larger one
is not downloaded further. The bytes stay in memory (the reader drops them).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from bot.screens import Fetch
from core.screens import MAX_IMAGE_BYTES

FETCH_TIMEOUT_SECONDS = 10.0
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class NotAllowed(ValueError):
    """An address outside ZALO_MEDIA_HOSTS (or not https)."""


def media_hosts(setting: str) -> tuple[str, ...]:
    """The hosts of ZALO_MEDIA_HOSTS ("zdn.vn,zadn.vn"), lower case."""
    return tuple(host.strip().lower().strip(".") for host in setting.split(",") if host.strip())


def allowed(url: str, hosts: Sequence[str]) -> bool:
    """Whether `url` is on one of `hosts` (or a subdomain), over https (http: loopback only)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK):
        return False
    return any(host == entry or host.endswith(f".{entry}") for entry in hosts)


def photo_fetcher(http: httpx.AsyncClient, hosts: Sequence[str]) -> Fetch:
    """The photo at an event's address, in memory; None when it is over 10 MB. Raises for an
    address not allowed and for an answer other than a 2xx (the photo is then not read)."""

    async def fetch(url: str) -> bytes | None:
        if not allowed(url, hosts):
            raise NotAllowed(urlsplit(url).hostname or "no host")
        timeout = httpx.Timeout(FETCH_TIMEOUT_SECONDS)
        async with http.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
            response.raise_for_status()  # a redirect, too (not followed)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_IMAGE_BYTES:
                return None
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_IMAGE_BYTES:
                    return None
        return bytes(data)

    return fetch
