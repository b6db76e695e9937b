"""`python -m bot`: serve the gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT.

This is the one way the gateway is started (locally by `cns run`, in docker-compose). It
refuses to start with unsafe settings and names them (core.settings.check_secrets).
WebSockets are off: rasa-sdk pins websockets 10, which uvicorn's WebSocket support no
longer imports, and the gateway does not serve WebSockets. Client addresses (sign-in
limits) come from `X-Forwarded-For` only on connections from FORWARDED_ALLOW_IPS.
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from core.logging import announce_settings, configure_logging, secret_values
from core.settings import Settings, get_settings, refuse_unsafe

log = logging.getLogger(__name__)


def server_config(settings: Settings) -> uvicorn.Config:
    """How uvicorn serves the gateway app (built by `bot.app:create_app` from the settings)."""
    return uvicorn.Config(
        "bot.app:create_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        ws="none",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, secrets=secret_values(settings))
    refuse_unsafe(settings, log)
    announce_settings(settings, log)
    server = uvicorn.Server(server_config(settings))
    server.run()
    if not server.started:  # e.g. the port is taken: fail as `uvicorn.run` does
        sys.exit(3)


if __name__ == "__main__":
    main()
