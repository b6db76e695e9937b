"""`python -m actions.server`: the action server, answering only Rasa.

rasa_sdk's own runner listens on 0.0.0.0, configures CORS for every origin and checks nobody:
any machine on the LAN, or any web page open on this one (a `text/plain` POST needs no
preflight, and CORS never stops a request from running), could run an action — erase a
resident, switch consent on, forge report events. This runner serves the same rasa_sdk app
on ACTIONS_HOST:ACTIONS_PORT (127.0.0.1 unless a container network needs more) with no CORS
origin allowed, and answers every route but `/health` only with the shared secret
ACTIONS_TOKEN, which Rasa sends as `?token=` on each call (`token` of the `action_endpoint` in
endpoints.yml). `/health` stays open for the gateway's /healthz.
"""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from core.logging import announce_settings, configure_logging, secret_values
from core.settings import get_settings, refuse_unsafe

ACTIONS_PACKAGE = "actions"
OPEN_PATHS = frozenset({"/health"})

log = logging.getLogger(__name__)


def create_app(token: str) -> Sanic:
    """rasa_sdk's app with every action of this package, no CORS, and `token` required."""
    if not token:
        raise ValueError("the action server needs a token")
    expected = token.encode()
    app: Sanic = create_sdk_app(ACTIONS_PACKAGE, cors_origins=None)

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        sent = request.args.get("token")
        if sent is None:
            return json({"error": "token required"}, status=401)
        if not hmac.compare_digest(sent.encode(), expected):
            return json({"error": "wrong token"}, status=403)
        return None

    app.register_middleware(require_token, "request")
    return app


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, secrets=secret_values(settings))
    refuse_unsafe(settings, log)
    announce_settings(settings, log)
    if settings.actions_token is None or not settings.actions_token.get_secret_value().strip():
        raise SystemExit("ACTIONS_TOKEN is not set: the action server answers only Rasa, with it.")
    app = create_app(settings.actions_token.get_secret_value())
    log.info("action server on http://%s:%s", settings.actions_host, settings.actions_port)
    app.run(
        host=settings.actions_host,
        port=settings.actions_port,
        workers=1,
        access_log=False,  # an access line would carry the token of the query string
        motd=False,
    )


if __name__ == "__main__":
    main()
