"""Several Rasa, action-server and gateway processes behind HAProxy (`cns run --replicas`).

Every replica keeps its state in PostgreSQL and Redis: Rasa's conversation trackers in its SQL
tracker store (nlu.tracker_store.ConsentAwareSQLTrackerStore, a database of their own) and its
conversation locks in Redis, the gateway's inbox, outbox, identities, limits and desk sessions
as always. So the mode needs DATABASE_URL on PostgreSQL and REDIS_URL, and refuses without.

HAProxy (Debian's /usr/sbin/haproxy, 2.6) listens on the ports of a single-process run (the
gateway's public port, Rasa's and the action server's) and spreads requests round-robin over
the replicas. It checks each replica every half second (the gateway's /livez, Rasa's /version,
the action server's /health) and takes one out after two failed checks; a request that meets a
dead replica (refused, or cut off without an answer) is sent to another. When no gateway
answers, residents get the gateway's own polite 503 in its JSON shape.
"""

from __future__ import annotations

import csv
import json
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from redis.connection import parse_url
from sqlalchemy import URL, make_url

from bot.app import error_body
from bot.channels.web import RASA_DOWN_REPLY

HAPROXY = "haproxy"
HAPROXY_FALLBACK = Path("/usr/sbin/haproxy")  # Debian's, not on a non-root PATH
NO_GATEWAY = "Không có máy chủ nào của trợ lý trả lời."
# What HAProxy checks on each replica of a service.
HEALTH_PATHS = {"rasa": "/version", "actions": "/health", "gateway": "/livez"}


class ReplicasRefused(Exception):
    """The settings cannot run replicas; the message says what to change."""


@dataclass(frozen=True)
class Replicas:
    """How many processes of each service run behind the proxy."""

    rasa: int = 1
    actions: int = 1
    gateway: int = 1

    @classmethod
    def parse(cls, text: str) -> Replicas:
        """`rasa=2,gateway=3` (services not named keep one process)."""
        names = {f.name for f in fields(cls)}
        counts: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, number = part.partition("=")
            name = name.strip()
            if name not in names or not number.strip().isdigit() or int(number) < 1:
                raise ValueError(
                    f"{part!r}: expected SERVICE=N with N ≥ 1, SERVICE one of {sorted(names)}"
                )
            counts[name] = int(number)
        return cls(**counts)

    def count(self, service: str) -> int:
        number: int = getattr(self, service)
        return number


@dataclass(frozen=True)
class SharedStores:
    """Where the replicas keep their state."""

    database_url: str
    tracker_database_url: str  # Rasa's tracker store: its `events` table would clash with ours
    redis_url: str

    @classmethod
    def of(cls, env: Mapping[str, str], replicas: Replicas) -> SharedStores:
        """Read from the processes' environment, or refuse with what to change."""
        database = env.get("DATABASE_URL") or ""
        if not database or make_url(database).get_backend_name() != "postgresql":
            raise ReplicasRefused(
                "Several replicas share their state in PostgreSQL: set DATABASE_URL to a "
                "PostgreSQL database (postgresql+psycopg://user:pass@host:5432/db); SQLite "
                "serves one process only."
            )
        if not env.get("REDIS_URL"):
            raise ReplicasRefused(
                "Several replicas share their outbox, limits, sessions and conversation "
                "locks in Redis: set REDIS_URL (redis://host:6379/0)."
            )
        telegram_polls = env.get("TELEGRAM_BOT_TOKEN") and env.get("TELEGRAM_MODE") != "webhook"
        if replicas.gateway > 1 and telegram_polls:
            raise ReplicasRefused(
                "Telegram allows one long-polling client per bot: with several gateways set "
                "TELEGRAM_MODE=webhook (and TELEGRAM_WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET)."
            )
        tracker = env.get("RASA_TRACKER_DATABASE_URL") or _tracker_database(database)
        return cls(database, tracker, env["REDIS_URL"])


def _tracker_database(database_url: str) -> str:
    """DATABASE_URL's server, database `<name>_rasa` (Rasa creates it on first start)."""
    url = make_url(database_url)
    return url.set(database=f"{url.database or 'cns'}_rasa").render_as_string(hide_password=False)


def check_replicas(env: Mapping[str, str], replicas: Replicas) -> SharedStores:
    """The stores the replicas would share; ReplicasRefused if they cannot run here."""
    stores = SharedStores.of(env, replicas)
    haproxy_executable()
    return stores


def haproxy_executable() -> str:
    """HAProxy's path, or a polite refusal that says how to install it."""
    found = shutil.which(HAPROXY) or (str(HAPROXY_FALLBACK) if HAPROXY_FALLBACK.exists() else None)
    if found is None:
        raise ReplicasRefused("HAProxy is not installed: sudo apt-get install -y haproxy")
    return found


def endpoints_yaml(stores: SharedStores) -> tuple[str, dict[str, str]]:
    """Rasa's endpoints for replicas, and the environment they read their passwords from
    (Rasa expands ${VAR} in plain scalars only, so the file never holds a password)."""
    tracker: URL = make_url(stores.tracker_database_url)
    app: URL = make_url(stores.database_url)
    redis = parse_url(stores.redis_url)  # type: ignore[no-untyped-call]
    env: dict[str, str] = {}
    lines = [
        "# Generated by `cns run --replicas` (cns/replicas.py): Rasa replicas share the SQL",
        "# tracker store (PostgreSQL) and the Redis lock store. Do not edit: rewritten each run.",
        "action_endpoint:",
        "  url: ${ACTIONS_URL}/webhook",
        "  token: ${ACTIONS_TOKEN}",
        "  enable_selective_domain: true",  # no action reads the domain
        "tracker_store:",
        "  type: nlu.tracker_store.ConsentAwareSQLTrackerStore",
        "  dialect: postgresql",
        f"  url: {json.dumps(tracker.host or '127.0.0.1')}",
        f"  port: {tracker.port or 5432}",
        f"  db: {json.dumps(tracker.database)}",
        f"  login_db: {json.dumps(app.database)}",  # where Rasa connects to create `db`
        f"  username: {json.dumps(tracker.username or 'postgres')}",
    ]
    if tracker.password:
        lines.append("  password: ${RASA_TRACKER_PASSWORD}")
        env["RASA_TRACKER_PASSWORD"] = str(tracker.password)
    options = tracker.query.get("options")
    if options:  # e.g. a search_path (the tests' scratch schemas)
        value = options if isinstance(options, str) else options[0]
        lines += ["  query:", f"    options: {json.dumps(value)}"]
    lines += [
        "lock_store:",
        "  type: redis",
        f"  url: {json.dumps(redis.get('host', '127.0.0.1'))}",
        f"  port: {redis.get('port', 6379)}",
        f"  db: {redis.get('db', 0)}",
        "  key_prefix: cns",
    ]
    if redis.get("password"):
        lines.append("  password: ${RASA_LOCK_STORE_PASSWORD}")
        env["RASA_LOCK_STORE_PASSWORD"] = str(redis["password"])
    return "\n".join(lines) + "\n", env


def proxy_error(status: int, reason: str) -> str:
    """A raw HTTP response for HAProxy's `errorfile`: the gateway's polite JSON."""
    body = json.dumps(error_body(NO_GATEWAY, RASA_DOWN_REPLY), ensure_ascii=False).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        "cache-control: no-store\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head + body.decode()


# The proxy's policy, shared with docker/haproxy.cfg (a test keeps the two alike).
DEFAULTS = (
    "    mode http",
    "    log global",
    "    option httplog",
    "    option dontlog-normal",  # log only failed requests
    "    timeout connect 2s",
    "    timeout client 75s",
    "    timeout server 70s",  # a slow turn (Rasa waits up to 60 s for its actions)
    "    timeout http-request 10s",
    "    timeout http-keep-alive 10s",
    "    timeout check 1s",
    # A request that meets a dead replica (refused, or cut off before any answer) goes to
    # another: a chat turn is safe to repeat (buttons name what they do), a Telegram or Zalo
    # update is recognised by its id.
    "    retries 3",
    "    option redispatch 1",
    "    retry-on conn-failure empty-response",
    "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2",
)


def haproxy_config(
    host: str,
    frontends: Mapping[str, int],
    backends: Mapping[str, list[int]],
    var_dir: Path,
) -> str:
    """HAProxy's configuration: for each service a frontend on host:`frontends[service]`
    balancing over the replicas on host:`backends[service]`."""
    error = var_dir / "haproxy-503.http"
    lines = [
        "# Generated by `cns run --replicas` (cns/replicas.py). Do not edit: rewritten each run.",
        "global",
        "    log stdout format raw local0 notice",  # replicas going down and up, abnormal
        f"    stats socket {var_dir / 'haproxy.sock'} mode 600 level admin",
        "    maxconn 4096",
        "",
        "defaults",
        *DEFAULTS,
        f"    errorfile 502 {error}",
        f"    errorfile 503 {error}",
        f"    errorfile 504 {error}",
    ]
    for service, port in frontends.items():
        lines += [
            "",
            f"frontend {service}",
            f"    bind {host}:{port}",
        ]
        if service == "gateway":  # the edge: the client's address is the connection's
            lines += [
                "    http-request set-header X-Forwarded-For %[src]",
                "    http-request del-header X-Forwarded-Proto",
            ]
        lines += [
            f"    default_backend {service}",
            "",
            f"backend {service}",
            "    balance roundrobin",
            "    option httpchk",
            f"    http-check send meth GET uri {HEALTH_PATHS[service]}",
            "    http-check expect status 200",
        ]
        lines += [
            f"    server {service}-{n} {host}:{p} check"
            for n, p in enumerate(backends[service], start=1)
        ]
    return "\n".join(lines) + "\n"


def write_proxy_files(
    var_dir: Path, host: str, frontends: Mapping[str, int], backends: Mapping[str, list[int]]
) -> Path:
    """The HAProxy configuration and its error page in `var_dir`; the configuration's path."""
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "haproxy-503.http").write_text(
        proxy_error(503, "Service Unavailable"), encoding="utf-8"
    )
    config = var_dir / "haproxy.cfg"
    config.write_text(haproxy_config(host, frontends, backends, var_dir), encoding="utf-8")
    return config


def server_states(var_dir: Path) -> dict[str, str]:
    """Each replica's state in the running HAProxy ("UP", "DOWN", …), by server name
    (`gateway-1`), read from its stats socket in `var_dir`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(2.0)
        conn.connect(str(var_dir / "haproxy.sock"))
        conn.sendall(b"show stat\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    rows = csv.DictReader(data.decode().lstrip("# ").splitlines())
    return {
        row["svname"]: row["status"]
        for row in rows
        if row.get("svname") not in (None, "", "FRONTEND", "BACKEND")
    }
