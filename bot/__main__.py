"""`python -m bot`: serve the gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT.

This is the one way the gateway is started (locally by `cns run`, in docker-compose). It
refuses to start with unsafe settings and names them (core.settings.check_secrets).
WebSockets are off: rasa-sdk pins websockets 10, which uvicorn's WebSocket support no
longer imports, and the gateway does not serve WebSockets.
"""

from __future__ import annotations

import logging

import uvicorn

from core.logging import configure_logging
from core.settings import get_settings, refuse_unsafe

log = logging.getLogger(__name__)


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    refuse_unsafe(settings, log)
    uvicorn.run(
        "bot.app:create_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        ws="none",
        proxy_headers=True,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
