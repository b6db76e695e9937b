"""The local stack's three processes and how each is started."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from cns.supervisor import Service
from cns.training import rasa_environment, rasa_executable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Ports:
    rasa: int = 5005
    actions: int = 5055
    gateway: int = 8000
    host: str = "127.0.0.1"

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"


def local_services(
    root: Path,
    model: Path,
    ports: Ports,
    *,
    env: dict[str, str] | None = None,
    rasa_token: str | None = None,
) -> list[Service]:
    """rasa, actions and gateway wired to each other on `ports`.

    `env` is the base environment of every process (default: this process's); the URLs
    that connect the three are always set from `ports`.
    """
    base = dict(os.environ if env is None else env)
    base.update(
        RASA_URL=ports.url(ports.rasa),
        ACTIONS_URL=ports.url(ports.actions),
        RASA_TELEMETRY_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    rasa_argv = [
        str(rasa_executable(root)),
        "run",
        "--enable-api",
        "--model",
        str(model),
        "--endpoints",
        "endpoints.yml",
        "--interface",
        ports.host,
        "--port",
        str(ports.rasa),
    ]
    if rasa_token:
        rasa_argv += ["--auth-token", rasa_token]
    rasa_env = rasa_environment(root, base)
    return [
        Service("rasa", rasa_argv, rasa_env),
        Service(
            "actions",
            [
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(ports.actions),
            ],
            base,
        ),
        Service(
            "gateway",
            [sys.executable, "-m", "bot"],
            base | {"GATEWAY_HOST": ports.host, "GATEWAY_PORT": str(ports.gateway)},
        ),
    ]
