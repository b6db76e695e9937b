"""The local stack's three processes and how each is started.

Every process listens on 127.0.0.1 only. Rasa's HTTP API answers only with RASA_TOKEN, the
action server only with ACTIONS_TOKEN (Rasa sends it: endpoints.yml), and neither allows any
CORS origin; for a local run both tokens are made up when they are not configured.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from cns.replicas import (
    Replicas,
    ReplicasRefused,
    check_replicas,
    endpoints_yaml,
    haproxy_executable,
    write_proxy_files,
)
from cns.supervisor import Service
from cns.training import rasa_environment, rasa_executable
from core.logging import replaced_settings
from core.settings import VAR_DIR, Settings

__all__ = [
    "Ports",
    "Replicas",
    "ReplicasRefused",
    "free_port",
    "local_services",
    "overridden_settings",
    "stack_settings",
    "stack_tokens",
]

TOKEN_NAMES = ("RASA_TOKEN", "ACTIONS_TOKEN")
# `rasa run` takes its token only as an argument, and every user of the machine can read a
# process's arguments (`ps`), so this adds it from the environment inside the process (as
# --auth-token=VALUE: a token starting with '-' would otherwise read as an option).
RASA_WITH_TOKEN = (
    "import os, sys; "
    "sys.argv = ['rasa', *sys.argv[1:], '--auth-token=' + os.environ['RASA_TOKEN']]; "
    "from rasa.__main__ import main; main()"
)
LOCAL_TOKENS_FILE = "local-tokens.json"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def new_token() -> str:
    return secrets.token_urlsafe(32)


def local_tokens(var_dir: Path = VAR_DIR) -> dict[str, str]:
    """RASA_TOKEN and ACTIONS_TOKEN of `cns run` on this machine: made once and kept in
    var/local-tokens.json, readable by its owner only, so that `cns forget` can reach the
    Rasa of a running stack too."""
    path = var_dir / LOCAL_TOKENS_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None
    if isinstance(stored, dict) and all(isinstance(stored.get(n), str) for n in TOKEN_NAMES):
        path.chmod(0o600)
        return {name: stored[name] for name in TOKEN_NAMES}
    tokens = {name: new_token() for name in TOKEN_NAMES}
    var_dir.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(tokens, file)
    return tokens


def stack_tokens(settings: Settings, var_dir: Path = VAR_DIR) -> dict[str, str]:
    """RASA_TOKEN and ACTIONS_TOKEN for the local stack: the configured ones and, in
    development, the machine's local ones for any that is not (none in production)."""
    configured = {"RASA_TOKEN": settings.rasa_token, "ACTIONS_TOKEN": settings.actions_token}
    tokens = {name: secret.get_secret_value() for name, secret in configured.items() if secret}
    if settings.app_env == "development" and len(tokens) < len(TOKEN_NAMES):
        tokens = local_tokens(var_dir) | tokens
    return tokens


@dataclass(frozen=True)
class Ports:
    rasa: int = 5005
    actions: int = 5055
    gateway: int = 8000
    host: str = "127.0.0.1"

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"


def stack_settings(ports: Ports) -> dict[str, str]:
    """The settings `cns run` sets for its processes whatever the environment or .env says:
    where each listens and how they reach each other (with replicas, each process listens
    on a free port and HAProxy on these)."""
    return {
        "RASA_URL": ports.url(ports.rasa),
        "ACTIONS_URL": ports.url(ports.actions),
        "ACTIONS_HOST": ports.host,
        "ACTIONS_PORT": str(ports.actions),
        "GATEWAY_HOST": ports.host,
        "GATEWAY_PORT": str(ports.gateway),
    }


def overridden_settings(settings: Settings, ports: Ports) -> str | None:
    """One warning line naming each setting the environment or .env sets that `cns run`
    replaces (`stack_settings`), with the value set and the value used; None when none is."""
    return replaced_settings(
        "`cns run`",
        (
            (name, getattr(settings, name.lower()), used)
            for name, used in stack_settings(ports).items()
            if name.lower() in settings.model_fields_set
        ),
    )


def local_services(
    root: Path,
    model: Path,
    ports: Ports,
    *,
    env: dict[str, str] | None = None,
    rasa_token: str | None = None,
    actions_token: str | None = None,
    replicas: Replicas | None = None,
    var_dir: Path = VAR_DIR,
) -> list[Service]:
    """rasa, actions and gateway wired to each other on `ports`.

    `env` is the base environment of every process (default: this process's); the URLs
    that connect the three are always set from `ports`. Each token is the one given, else
    the one in `env`, else a new random one; every process gets both (RASA_TOKEN,
    ACTIONS_TOKEN), so a caller reads them from any service's `env`.

    With `replicas`, `replicas.<service>` processes of each service listen on free ports
    behind HAProxy, which takes the ports of `ports` (cns/replicas.py); its configuration
    and Rasa's endpoints file are written into `var_dir`. The first service is always a Rasa
    process, the last the proxy. Raises ReplicasRefused when `env` cannot run replicas
    (DATABASE_URL not on PostgreSQL, REDIS_URL unset, Telegram polling, no HAProxy).
    """
    base = dict(os.environ if env is None else env) | stack_settings(ports)
    base.update(
        RASA_TOKEN=rasa_token or base.get("RASA_TOKEN") or new_token(),
        ACTIONS_TOKEN=actions_token or base.get("ACTIONS_TOKEN") or new_token(),
        RASA_TELEMETRY_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    if replicas is None:
        return [
            _rasa(root, model, ports.host, ports.rasa, Path("endpoints.yml"), base),
            _actions(ports.host, ports.actions, base),
            _gateway(ports.host, ports.gateway, base),
        ]
    stores = check_replicas(base, replicas)
    proxy = haproxy_executable()
    base["RASA_TRACKER_DATABASE_URL"] = stores.tracker_database_url
    endpoints, passwords = endpoints_yaml(stores)
    var_dir.mkdir(parents=True, exist_ok=True)
    endpoints_file = var_dir / "endpoints.replicas.yml"
    endpoints_file.write_text(endpoints, encoding="utf-8")
    backends = {name: [free_port() for _ in range(replicas.count(name))] for name in SERVICES}
    config = write_proxy_files(
        var_dir,
        ports.host,
        {"rasa": ports.rasa, "actions": ports.actions, "gateway": ports.gateway},
        backends,
    )
    services = [
        _rasa(root, model, ports.host, port, endpoints_file, base | passwords | RASA_LOCKS, number)
        for number, port in enumerate(backends["rasa"], start=1)
    ]
    services += [
        _actions(ports.host, port, base, number)
        for number, port in enumerate(backends["actions"], start=1)
    ]
    services += [
        _gateway(ports.host, port, base, number)
        for number, port in enumerate(backends["gateway"], start=1)
    ]
    services.append(Service("haproxy", [proxy, "-db", "-f", str(config)], base))
    return services


SERVICES = ("rasa", "actions", "gateway")
# A conversation's lock in Redis outlives a Rasa replica killed mid-turn by this many seconds
# (Rasa's default is 60): the resident's next turn waits at most that long on another replica.
RASA_LOCKS = {"TICKET_LOCK_LIFETIME": "5"}


def _named(service: str, number: int | None) -> str:
    return service if number is None else f"{service}-{number}"


def _rasa(
    root: Path,
    model: Path,
    host: str,
    port: int,
    endpoints: Path,
    env: dict[str, str],
    number: int | None = None,
) -> Service:
    # No --cors: Rasa then allows no cross-origin caller.
    argv = [
        str(rasa_executable(root).with_name("python")),
        "-c",
        RASA_WITH_TOKEN,
        "run",
        "--enable-api",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        "credentials.yml",
        "--interface",
        host,
        "--port",
        str(port),
    ]
    return Service(_named("rasa", number), argv, rasa_environment(root, env))


def _actions(host: str, port: int, env: dict[str, str], number: int | None = None) -> Service:
    return Service(
        _named("actions", number),
        [sys.executable, "-m", "actions.server"],
        env | {"ACTIONS_HOST": host, "ACTIONS_PORT": str(port)},
    )


def _gateway(host: str, port: int, env: dict[str, str], number: int | None = None) -> Service:
    return Service(
        _named("gateway", number),
        [sys.executable, "-m", "bot"],
        env | {"GATEWAY_HOST": host, "GATEWAY_PORT": str(port)},
    )
