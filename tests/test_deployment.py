"""Checks of the production deployment files: docker-compose.yml, the Dockerfiles, the Rasa
endpoints, the proxies' configuration and .dockerignore.

They read the files as data (no Docker engine needed), and every core.settings field is checked
to reach the app containers and to be documented (.env.example, README). `docker compose
config` runs as well: it fails without a Compose v2 client under CI (CI set), and is skipped
only on a machine without one otherwise.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cns.replicas import DEFAULTS, HEALTH_PATHS, proxy_error
from core.logging import COMPOSE_IGNORED_VARIABLE, ignored_by_compose
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENDPOINTS_FILE = ROOT / "endpoints.prod.yml"
LOCAL_ENDPOINTS_FILE = ROOT / "endpoints.yml"
CREDENTIALS_FILE = ROOT / "credentials.yml"
APP_DOCKERFILE = ROOT / "docker" / "app.Dockerfile"
RASA_DOCKERFILE = ROOT / "docker" / "rasa.Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CADDYFILE = ROOT / "docker" / "Caddyfile"
HAPROXY_CONFIG = ROOT / "docker" / "haproxy.cfg"

SERVICES = ("postgres", "redis", "rasa", "actions", "migrate", "gateway", "proxy", "https")
ONE_SHOT_SERVICES = ("migrate",)
SCALABLE_SERVICES = ("rasa", "gateway", "actions")
INTERNAL_PORTS = (5005, 5055)
REQUIRED_SECRETS = (
    "POSTGRES_PASSWORD", "REDIS_PASSWORD", "RASA_TOKEN", "ACTIONS_TOKEN", "PSEUDONYM_KEY",
)  # fmt: skip
# Settings the compose file sets in one service rather than in x-app-environment: the service,
# and why.
SET_PER_SERVICE = {
    "GATEWAY_HOST": ("gateway", "the gateway listens on every interface of its container"),
    "GATEWAY_PORT": ("gateway", "the port the proxy forwards to"),
    "ACTIONS_HOST": ("actions", "the action server listens on every interface of its container"),
    "ACTIONS_PORT": ("actions", "the port of ACTIONS_URL, which Rasa and the gateway call"),
}
APP_SERVICES = ("gateway", "actions")
# The .env of `docker compose config`: the required secrets and one value of each kind the app
# containers must receive from .env (grows with the compose file).
COMPOSE_TEST_ENV = {
    **{secret: f"test-{secret.lower().replace('_', '-')}" for secret in REQUIRED_SECRETS},
    "DESK_EXPIRE_HOURS": "48",
    "LOG_LEVEL": "DEBUG",
    "TELEGRAM_MODE": "webhook",
    "PUBLIC_HOST": "hotro.example.gov.vn",
}
# Settings in that .env which the compose file fixes itself: the containers keep its values and
# are told what .env said (CNS_COMPOSE_IGNORED), to warn about it at start-up.
COMPOSE_IGNORED_TEST_ENV = {"RASA_URL": "http://rasa.elsewhere:5005", "APP_ENV": "development"}
# Compose-side variables that may appear inside the app settings' values (e.g. DATABASE_URL).
COMPOSE_ONLY_VARIABLES = frozenset(
    {
        "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "REDIS_PASSWORD", "RASA_TRACKER_DB",
        "INTERNAL_SUBNET",
    }
)  # fmt: skip
# Environment entries of the app containers that are not core.settings fields.
NON_SETTINGS_ENVIRONMENT = frozenset({"RASA_TELEMETRY_ENABLED", COMPOSE_IGNORED_VARIABLE})

# `${NAME...}` interpolations; `$${...}` is Compose's escape for a literal `$`.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")


def _load_yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name} is not a YAML mapping"
    return loaded


def _compose() -> dict[str, Any]:
    return _load_yaml(COMPOSE_FILE)


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, in either of Compose's two forms, as a mapping."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        pairs = [str(item).partition("=") for item in raw]
        return {key: (value if sep else None) for key, sep, value in pairs}
    assert isinstance(raw, dict)
    return {str(key): (None if value is None else str(value)) for key, value in raw.items()}


def _interpolations(text: str) -> list[tuple[str, str]]:
    """(name, modifier) of every `${name<modifier>}` in `text`."""
    return [(match.group(1), match.group(2)) for match in INTERPOLATION.finditer(text)]


def _strings(node: object) -> list[str]:
    """Every string scalar in a loaded YAML document (comments are not part of it)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in _strings(value)]
    return []


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on", {})
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    assert isinstance(raw, dict)
    return {str(name): str(spec.get("condition", "service_started")) for name, spec in raw.items()}


def _settings_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _copy_sources(path: Path) -> list[str]:
    """Sources of the build-context COPY instructions of a Dockerfile."""
    sources: list[str] = []
    for keyword, arguments in _dockerfile_instructions(path):
        if keyword != "COPY":
            continue
        words = arguments.split()
        if any(word.startswith("--from=") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def _dockerignore_patterns() -> list[str]:
    patterns: list[str] = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "!")):
            patterns.append(stripped.strip("/"))
    return patterns


def test_every_service_is_defined() -> None:
    assert set(SERVICES) <= set(_services())


def test_required_secrets_fail_fast_when_unset() -> None:
    uses = [use for text in _strings(_compose()) for use in _interpolations(text)]
    for secret in REQUIRED_SECRETS:
        modifiers = [modifier for name, modifier in uses if name == secret]
        assert modifiers, f"{secret} is never used in docker-compose.yml"
        for modifier in modifiers:
            assert modifier.startswith(":?"), f"${{{secret}{modifier}}} must use :? (required)"


def test_gateway_starts_after_migrations_and_healthy_backends() -> None:
    depends = _depends_on(_services()["gateway"])
    assert depends.get("migrate") == "service_completed_successfully"
    for backend in ("rasa", "actions", "postgres", "redis"):
        assert depends.get(backend) == "service_healthy", backend


def test_actions_start_after_migrations() -> None:
    depends = _depends_on(_services()["actions"])
    assert depends.get("migrate") == "service_completed_successfully"


def test_rasa_waits_for_its_stores() -> None:
    depends = _depends_on(_services()["rasa"])
    assert depends.get("postgres") == "service_healthy"
    assert depends.get("redis") == "service_healthy"


def test_migrate_is_a_one_shot_job() -> None:
    migrate = _services()["migrate"]
    assert migrate["command"] == ["cns", "migrate"]
    assert str(migrate.get("restart", "no")) == "no"


def test_long_running_services_have_healthchecks() -> None:
    for name, service in _services().items():
        if name in ONE_SHOT_SERVICES:
            continue
        healthcheck = service.get("healthcheck")
        assert isinstance(healthcheck, dict), f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), name
        assert healthcheck.get("test"), f"{name} healthcheck has no test"


def test_healthchecks_probe_the_documented_endpoints() -> None:
    services = _services()
    expected = {
        "gateway": "http://127.0.0.1:8000/healthz",
        "actions": "http://127.0.0.1:5055/health",
        "rasa": "http://127.0.0.1:5005/version",
    }
    for name, url in expected.items():
        test = services[name]["healthcheck"]["test"]
        assert url in " ".join(test), f"{name} healthcheck does not probe {url}"


def _published_ports(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host part, container part) of each published port, short or long syntax."""
    published: list[tuple[str, str]] = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published.append((str(port.get("published", "")), str(port.get("target", ""))))
        else:
            host, _, container = str(port).rpartition(":")
            published.append((host, container))
    return published


def test_rasa_and_actions_are_not_published_to_the_host() -> None:
    services = _services()
    for name in ("rasa", "actions"):
        assert "ports" not in services[name], f"{name} must stay on the internal network"
    internal = {str(port) for port in INTERNAL_PORTS}
    for name, service in services.items():
        for host, container in _published_ports(service):
            container_port = container.split("/")[0]
            host_port = host.rpartition(":")[2]
            assert container_port not in internal, f"{name} publishes {container}"
            assert host_port not in internal, f"{name} publishes host port {host}"


def test_only_https_publishes_ports_80_and_443() -> None:
    services = _services()
    assert "ports" not in services["gateway"], "the gateways are reached through the proxy"
    assert "ports" not in services["proxy"], "the proxy is reached through https"
    assert _published_ports(services["https"]) == [("80", "80"), ("443", "443"), ("443", "443/udp")]
    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"https"}


def test_https_is_caddy_with_its_caddyfile_certificates_and_data() -> None:
    compose = _compose()
    https = compose["services"]["https"]
    assert re.fullmatch(r"caddy:\d+\.\d+\.\d+-alpine", https["image"]), "pin an exact tag"
    assert set(https["volumes"]) == {
        "./docker/Caddyfile:/etc/caddy/Caddyfile:ro",  # where the image's command reads it
        "./certs:/certs:ro",
        "caddydata:/data",
    }
    assert "caddydata" in (compose.get("volumes") or {})
    assert _depends_on(https) == {"proxy": "service_healthy"}
    environment = _environment(https)
    assert environment["PUBLIC_HOST"] == "${PUBLIC_HOST:?set PUBLIC_HOST in .env}"
    assert environment["TLS_SOURCE"] == "${TLS_SOURCE:-auto}"
    assert environment["ACME_EMAIL"] == "${ACME_EMAIL:-}"
    caddyfile = CADDYFILE.read_text(encoding="utf-8")
    for line in (
        "\thttp_port {$HTTP_PORT:80}\n",
        "\thttps_port {$HTTPS_PORT:443}\n",
        "(tls_auto) {\n",
        "(tls_files) {\n\ttls {$CERTS_DIR:/certs}/fullchain.pem {$CERTS_DIR:/certs}/privkey.pem\n",
        "{$PUBLIC_HOST} {\n",
        "\timport tls_{$TLS_SOURCE:auto}\n",
        '\theader Strict-Transport-Security "max-age=31536000"\n',
        "\treverse_proxy {$UPSTREAM:proxy:8000}\n",
    ):
        assert line in caddyfile, f"docker/Caddyfile lacks {line.strip()!r}"


def test_the_proxy_passes_on_what_https_forwards() -> None:
    # Caddy sets X-Forwarded-For (the client) and X-Forwarded-Proto (https); the gateways
    # believe the proxy (FORWARDED_ALLOW_IPS), so it must neither replace nor drop them.
    config = HAPROXY_CONFIG.read_text(encoding="utf-8")
    for changes_them in ("X-Forwarded-For", "X-Forwarded-Proto", "forwardfor"):
        assert changes_them not in config.split("frontend gateway")[1].split("backend")[0]


def test_telegram_is_given_the_public_webhook_address() -> None:
    environment = _environment(_services()["gateway"])
    default = "${TELEGRAM_WEBHOOK_URL:-https://${PUBLIC_HOST}/webhooks/telegram}"
    assert environment["TELEGRAM_WEBHOOK_URL"] == default


def test_rasa_and_gateway_run_replicas_behind_the_proxy() -> None:
    services = _services()
    assert services["rasa"]["deploy"]["replicas"] == "${RASA_REPLICAS:-2}"
    assert services["gateway"]["deploy"]["replicas"] == "${GATEWAY_REPLICAS:-2}"
    assert re.fullmatch(r"haproxy:2\.6[\w.-]*", services["proxy"]["image"])
    mounts = {volume.split(":")[0] for volume in services["proxy"]["volumes"]}
    assert mounts == {"./docker/haproxy.cfg", "./docker/haproxy-503.http"}
    # The gateway starts once the proxy listens; the proxy waits for nobody (the gateways'
    # health check reaches Rasa through it).
    assert _depends_on(services["gateway"]).get("proxy") == "service_healthy"
    assert "depends_on" not in services["proxy"]
    gateway = _environment(services["gateway"])
    subnet = _compose()["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert gateway["FORWARDED_ALLOW_IPS"] == subnet


def test_the_compose_proxy_keeps_the_policy_of_cns_run_replicas() -> None:
    config = HAPROXY_CONFIG.read_text(encoding="utf-8")
    for line in DEFAULTS:
        assert f"\n{line}\n" in config, f"docker/haproxy.cfg lacks {line.strip()!r}"
    for service, path in HEALTH_PATHS.items():
        if service != "actions":
            assert f"http-check send meth GET uri {path}\n" in config, service
    error = (ROOT / "docker" / "haproxy-503.http").read_bytes().decode()
    assert error == proxy_error(503, "Service Unavailable")


def test_scalable_services_have_no_fixed_names() -> None:
    services = _services()
    for name in SCALABLE_SERVICES:
        assert "container_name" not in services[name], name
        assert "hostname" not in services[name], name


def test_long_running_services_restart() -> None:
    for name, service in _services().items():
        if name not in ONE_SHOT_SERVICES:
            assert service.get("restart") in ("unless-stopped", "always"), name


def test_volumes_are_named_and_declared() -> None:
    compose = _compose()
    declared = set(compose.get("volumes") or {})
    services = _services()
    for name in ("postgres", "redis"):
        volumes = services[name].get("volumes", [])
        assert volumes, f"{name} keeps its data in no volume"
        for volume in volumes:
            source = str(volume).split(":")[0]
            assert source in declared, f"{name}: {source} is not a declared named volume"


def test_builds_reference_existing_dockerfiles_and_images_are_pinned() -> None:
    for name, service in _services().items():
        build = service.get("build")
        if build is not None:
            assert isinstance(build, dict), name
            context = ROOT / str(build.get("context", "."))
            dockerfile = context / str(build.get("dockerfile", "Dockerfile"))
            assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        else:
            image = str(service.get("image", ""))
            assert is_pinned(image), f"{name}: floating image {image!r}"
    services = _services()
    assert services["postgres"]["image"].startswith("postgres:16.")
    assert services["redis"]["image"].startswith("redis:7.")
    assert services["rasa"]["build"]["dockerfile"] == "docker/rasa.Dockerfile"
    for name in ("actions", "migrate", "gateway"):
        assert services[name]["build"]["dockerfile"] == "docker/app.Dockerfile", name


# Images whose full version has two parts, and why; all others need major.minor.patch.
TWO_PART_VERSIONS = {
    "postgres": "PostgreSQL numbers its releases major.minor since 10 (16.6 is one release)",
}


def is_pinned(image: str) -> bool:
    """Whether an image reference names one version: a full version tag (then any suffix such
    as -alpine) or a digest."""
    reference, _, digest = image.partition("@")
    if digest:
        return re.fullmatch(r"sha256:[0-9a-f]{64}", digest) is not None
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        return False
    version = r"\d+\.\d+" if name in TWO_PART_VERSIONS else r"\d+\.\d+\.\d+"
    return re.fullmatch(version + r"(?:-[\w.-]+)?", tag) is not None


def _dockerfile_images(path: Path) -> list[str]:
    """The images a Dockerfile builds from: its `# syntax=` frontend, its FROM and COPY --from
    (build stages it names are not images)."""
    text = path.read_text(encoding="utf-8")
    images = re.findall(r"^# syntax=(\S+)", text, re.MULTILINE)
    stages: set[str] = set()
    for keyword, arguments in _dockerfile_instructions(path):
        words = arguments.split()
        if keyword == "FROM":
            images.append(words[0])
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
        elif keyword == "COPY":
            images += [w.removeprefix("--from=") for w in words if w.startswith("--from=")]
    return [image for image in images if image not in stages]


def test_no_floating_image_tags() -> None:
    images = [str(s["image"]) for s in _services().values() if "build" not in s]
    for dockerfile in (APP_DOCKERFILE, RASA_DOCKERFILE):
        images += _dockerfile_images(dockerfile)
    assert "python:3.11.11-slim-bookworm" in images
    assert "docker/dockerfile:1.10.0" in images
    floating = [image for image in images if not is_pinned(image)]
    assert floating == []


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("postgres:16.6-alpine", True),
        ("haproxy:2.6.12", True),
        (f"redis@sha256:{'a' * 64}", True),
        ("postgres:16-alpine", False),
        ("postgres:16", False),
        ("postgres:16.6", True),
        ("haproxy:2.6", False),
        ("python:3.11-slim", False),
        ("redis:latest", False),
        ("redis", False),
        ("docker/dockerfile:1", False),
    ],
)
def test_what_counts_as_pinned(image: str, pinned: bool) -> None:
    assert is_pinned(image) is pinned


def test_redis_requires_a_password_and_persists() -> None:
    command = " ".join(str(part) for part in _services()["redis"]["command"])
    assert "--requirepass ${REDIS_PASSWORD:?" in command
    assert "--appendonly yes" in command


def test_gateway_and_actions_commands() -> None:
    services = _services()
    # `python -m bot` is the gateway's one entry point (uvicorn with WebSockets off).
    assert services["gateway"]["command"] == ["python", "-m", "bot"]
    assert (ROOT / "bot" / "__main__.py").is_file()
    gateway_env = _environment(services["gateway"])
    assert gateway_env["GATEWAY_HOST"] == "0.0.0.0"
    assert gateway_env["GATEWAY_PORT"] == "8000"
    # Our runner of rasa_sdk's app (token required, no CORS), not `python -m rasa_sdk`.
    assert services["actions"]["command"] == ["python", "-m", "actions.server"]
    assert (ROOT / "actions" / "server.py").is_file()
    actions_env = _environment(services["actions"])
    assert actions_env["ACTIONS_HOST"] == "0.0.0.0"
    assert actions_env["ACTIONS_PORT"] == "5055"


def test_app_containers_run_in_production_mode() -> None:
    # APP_ENV=production: the gateway and the action server refuse default or empty secrets.
    services = _services()
    for name in ("gateway", "actions"):
        environment = _environment(services[name])
        assert environment["APP_ENV"] == "production", name
        for secret in ("RASA_TOKEN", "ACTIONS_TOKEN", "PSEUDONYM_KEY"):
            assert (environment[secret] or "").startswith(f"${{{secret}:?"), (name, secret)
    env = " ".join(a for k, a in _dockerfile_instructions(APP_DOCKERFILE) if k == "ENV")
    assert "APP_ENV=production" in env


def test_gateway_environment_names_are_settings() -> None:
    settings = _settings_names()
    environment = _environment(_services()["gateway"])
    for key, value in environment.items():
        assert key in settings | NON_SETTINGS_ENVIRONMENT, f"{key} is not a core.settings field"
        for name, _modifier in _interpolations(value or ""):
            assert name in settings | COMPOSE_ONLY_VARIABLES, f"{key} uses unknown ${{{name}}}"


def settings_missing_from_compose(compose: dict[str, Any]) -> list[str]:
    """Each core.settings field that an app container of `compose` does not receive: every
    one belongs in x-app-environment, but those of SET_PER_SERVICE in their own service."""
    shared = _environment({"environment": compose.get("x-app-environment", {})})
    services = compose["services"]
    missing = []
    for setting in sorted(_settings_names()):
        if setting in SET_PER_SERVICE:
            service, _why = SET_PER_SERVICE[setting]
            if setting not in _environment(services[service]):
                missing.append(f"{setting} (in service {service})")
            continue
        if setting not in shared:
            missing.append(f"{setting} (in x-app-environment)")
        missing += [
            f"{setting} (in service {name})"
            for name in APP_SERVICES
            if setting not in _environment(services[name])
        ]
    return missing


def _fixed_by_compose(service: dict[str, Any]) -> set[str]:
    """The settings a service's environment sets to a value of the compose file's choosing,
    not to the variable of the same name from .env."""
    fixed = set()
    for key, value in _environment(service).items():
        if key not in _settings_names() or value is None:
            continue
        if not any(name == key for name, _modifier in _interpolations(value)):
            fixed.add(key)
    return fixed


def test_every_setting_compose_fixes_is_reported_to_the_containers() -> None:
    """A setting compose fixes is passed to the app as what .env said, so the gateway and the
    action server warn when the operator's value is ignored (core.logging.ignored_by_compose)."""
    for name in APP_SERVICES:
        service = _services()[name]
        declared = _environment(service)[COMPOSE_IGNORED_VARIABLE] or ""
        lines = set(declared.splitlines())
        for setting in _fixed_by_compose(service):
            assert f"{setting}=${{{setting}:-}}" in lines, (name, setting)


def test_gateway_and_actions_get_every_setting() -> None:
    assert settings_missing_from_compose(_compose()) == []
    for name in APP_SERVICES:
        assert _environment(_services()[name])["RASA_TELEMETRY_ENABLED"] == "false", name


def test_a_setting_missing_from_compose_is_found() -> None:
    compose = _compose()
    del compose["x-app-environment"]["DESK_EXPIRE_HOURS"]
    for name in APP_SERVICES:
        del compose["services"][name]["environment"]["DESK_EXPIRE_HOURS"]
    del compose["services"]["gateway"]["environment"]["GATEWAY_PORT"]
    assert settings_missing_from_compose(compose) == [
        "DESK_EXPIRE_HOURS (in x-app-environment)",
        "DESK_EXPIRE_HOURS (in service gateway)",
        "DESK_EXPIRE_HOURS (in service actions)",
        "GATEWAY_PORT (in service gateway)",
    ]


def test_per_service_settings_are_settings() -> None:
    assert set(SET_PER_SERVICE) <= _settings_names()


def documented_in_env_example(text: str) -> set[str]:
    """Variables `.env.example` assigns (`NAME=value` lines)."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def documented_in_readme(text: str) -> set[str]:
    """Variables with a row in the README's "Configuration" table."""
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.MULTILINE))


def test_every_setting_is_in_env_example_and_the_readme() -> None:
    settings = _settings_names()
    env_example = documented_in_env_example((ROOT / ".env.example").read_text(encoding="utf-8"))
    readme = documented_in_readme((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(settings - env_example) == [], ".env.example lacks these"
    assert sorted(settings - readme) == [], "README's Configuration table lacks these"
    assert documented_in_env_example("A_B=1\n# C_D=2\n") == {"A_B"}
    table = "x\n## Configuration\n| `A_B` | 1 | m |\n## Next\n| `C_D` | 2 | m |\n"
    assert documented_in_readme(table) == {"A_B"}


def test_app_containers_use_the_internal_service_addresses() -> None:
    environment = _environment(_services()["gateway"])
    assert environment["RASA_URL"] == "http://proxy:5005"
    assert environment["ACTIONS_URL"] == "http://actions:5055"
    assert (environment["DATABASE_URL"] or "").startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in (environment["DATABASE_URL"] or "")
    assert (environment["REDIS_URL"] or "").startswith("redis://:${REDIS_PASSWORD:?")
    assert (environment["REDIS_URL"] or "").endswith("@redis:6379/0")


def test_rasa_gets_every_variable_its_endpoints_file_uses() -> None:
    used = {name for text in _strings(_load_yaml(ENDPOINTS_FILE)) for name, _ in
            _interpolations(text)}  # fmt: skip
    assert used, "endpoints.prod.yml takes nothing from the environment"
    environment = _environment(_services()["rasa"])
    missing = used - set(environment)
    assert not missing, f"endpoints.prod.yml needs {sorted(missing)} in the rasa service"
    for name in used:
        assert environment[name], f"rasa service passes {name} without a value"
    assert environment["RASA_TELEMETRY_ENABLED"] == "false"
    assert (environment["RASA_TOKEN"] or "").startswith("${RASA_TOKEN:?")
    assert (environment["ACTIONS_TOKEN"] or "").startswith("${ACTIONS_TOKEN:?")


@pytest.mark.parametrize("path", [ENDPOINTS_FILE, LOCAL_ENDPOINTS_FILE], ids=lambda p: p.name)
def test_rasa_calls_the_action_server_with_its_token(path: Path) -> None:
    # Rasa sends `token` as `?token=` on every call; actions/server.py checks it.
    action_endpoint = _load_yaml(path)["action_endpoint"]
    assert action_endpoint["token"] == "${ACTIONS_TOKEN}"
    assert action_endpoint.get("token_name", "token") == "token"
    assert str(action_endpoint["url"]).endswith("/webhook")


def test_endpoints_sql_tracker_store_on_postgresql() -> None:
    tracker = _load_yaml(ENDPOINTS_FILE)["tracker_store"]
    assert tracker["type"] == "nlu.tracker_store.ConsentAwareSQLTrackerStore"
    assert tracker["dialect"] == "postgresql"
    assert tracker["url"] == "postgres"
    assert tracker["port"] == 5432
    for key in ("db", "username", "password"):
        assert INTERPOLATION.fullmatch(str(tracker[key])), f"tracker_store.{key} not from env"


def test_endpoints_redis_lock_store() -> None:
    endpoints = _load_yaml(ENDPOINTS_FILE)
    lock = endpoints["lock_store"]
    assert lock["type"] == "redis"
    assert lock["url"] == "redis"
    assert lock["port"] == 6379
    assert lock["password"] == "${REDIS_PASSWORD}"
    assert lock["db"] == 1
    assert str(lock["key_prefix"]).isalnum()
    assert endpoints["action_endpoint"]["url"] == "http://actions:5055/webhook"


def test_rasa_serves_only_the_turn_channel_with_its_token() -> None:
    # Rasa's open REST webhook is not served: credentials.yml names only our channel.
    assert _load_yaml(CREDENTIALS_FILE) == {"nlu.channel.TurnInput": {"token": "${RASA_TOKEN}"}}


@pytest.mark.parametrize(
    "path", [ENDPOINTS_FILE, LOCAL_ENDPOINTS_FILE, CREDENTIALS_FILE], ids=lambda p: p.name
)
def test_endpoints_env_references_are_plain_scalars(path: Path) -> None:
    # Rasa substitutes ${VAR} only in unquoted scalars: a quoted "${VAR}" stays literal.
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        assert not re.search(r"[\"']\$\{", line), f"{path.name}:{number} quotes ${{...}}"


def test_rasa_dockerfile() -> None:
    instructions = _dockerfile_instructions(RASA_DOCKERFILE)
    froms = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert froms, "no FROM"
    assert all(f.split()[0] == "rasa/rasa:3.6.21" for f in froms), froms
    assert froms[-1] == "rasa/rasa:3.6.21", "the final stage is the official image"
    train = next(arguments for keyword, arguments in instructions
                 if keyword == "RUN" and "rasa train" in arguments)  # fmt: skip
    for expected in (
        "--config config.yml",
        "--domain data/domain.yml",
        "--out models",
        "--fixed-model-name current",
        "data/nlu",
        "data/rules",
        "data/stories",
    ):
        assert expected in train, f"rasa train lacks {expected}"
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "no USER"
    assert users[-1] == "1001", "must run as the image's non-root user"
    env = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    assert "PYTHONPATH=/app" in env
    assert "RASA_TELEMETRY_ENABLED=false" in env
    entrypoint = json.loads(dict(instructions)["ENTRYPOINT"])
    cmd = json.loads(dict(instructions)["CMD"])
    assert "RASA_TOKEN" in " ".join(entrypoint)
    assert cmd[:2] == ["run", "--enable-api"]
    assert cmd[cmd.index("--endpoints") + 1] == "endpoints.prod.yml"
    assert cmd[cmd.index("--credentials") + 1] == "credentials.yml"
    assert "credentials.yml" in _copy_sources(RASA_DOCKERFILE)


def test_rasa_entrypoint_adds_the_token_to_run(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', encoding="utf-8")
    fake_rasa.chmod(0o755)
    instructions = dict(_dockerfile_instructions(RASA_DOCKERFILE))
    entrypoint = json.loads(instructions["ENTRYPOINT"])
    cmd = json.loads(instructions["CMD"])
    assert entrypoint[0] in ("/bin/bash", "/bin/sh")
    env = {"PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}", "RASA_TOKEN": "t 0k$n"}
    result = subprocess.run(
        [bash, *entrypoint[1:], *cmd], env=env, capture_output=True, text=True, check=True
    )
    argv = result.stdout.splitlines()
    assert argv[:3] == ["run", "--auth-token", "t 0k$n"]
    assert argv[3:] == cmd[1:]
    other = subprocess.run(
        [bash, *entrypoint[1:], "data", "validate"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert other.stdout.splitlines() == ["data", "validate"]
    del env["RASA_TOKEN"]
    missing = subprocess.run(
        [bash, *entrypoint[1:], *cmd], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0
    assert "RASA_TOKEN" in missing.stderr


def test_app_dockerfile() -> None:
    instructions = _dockerfile_instructions(APP_DOCKERFILE)
    text = APP_DOCKERFILE.read_text(encoding="utf-8")
    assert instructions[0][0] == "FROM"
    assert instructions[0][1].startswith("python:3.11.")
    assert re.search(r"COPY --from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", text), "pin uv"
    assert "uv sync --frozen --no-dev" in text
    assert "--mount=type=cache,target=/root/.cache/uv" in text
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "no USER"
    assert users[-1] not in ("root", "0"), "must run as a non-root user"
    env = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    assert "RASA_TELEMETRY_ENABLED=false" in env
    assert 'PATH="/app/.venv/bin:' in env
    sources = set(_copy_sources(APP_DOCKERFILE))
    needed = {"core", "bot", "actions", "reports", "cns", "data", "alembic.ini",
              "pyproject.toml", "uv.lock", "README.md"}  # fmt: skip
    assert needed <= sources, f"missing from the image: {sorted(needed - sources)}"


def _first_party_imports(package: str) -> set[str]:
    """Top-level folders of this repository that modules of `package` import."""
    top_level = {path.name for path in ROOT.iterdir() if path.is_dir()}
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for match in re.finditer(r"^\s*(?:from|import) (\w+)", path.read_text(), re.MULTILINE):
            if match.group(1) in top_level:
                found.add(match.group(1))
    return found


def test_app_image_has_every_package_its_code_imports() -> None:
    sources = set(_copy_sources(APP_DOCKERFILE))
    for package in ("core", "bot", "actions", "reports", "cns"):
        missing = _first_party_imports(package) - sources - {"tests", "bench"}
        assert not missing, f"{package}/ imports {sorted(missing)}, not copied into the image"


def test_app_image_sources_exist() -> None:
    for source in _copy_sources(APP_DOCKERFILE):
        assert (ROOT / source).exists(), f"docker/app.Dockerfile copies missing {source}"


def test_rasa_image_sources_exist() -> None:
    for source in _copy_sources(RASA_DOCKERFILE):
        assert (ROOT / source).exists(), f"docker/rasa.Dockerfile copies missing {source}"
    # What `rasa train` in the image reads: without a domain it would silently train on none.
    assert (ROOT / "data" / "domain.yml").is_file()
    assert (ROOT / "config.yml").is_file()


def test_dockerignore_keeps_what_the_images_copy() -> None:
    patterns = _dockerignore_patterns()
    for must_exclude in (".venv", ".venv-rasa", "models", "var", ".git", ".env", "certs"):
        assert must_exclude in patterns, f".dockerignore does not exclude {must_exclude}"
    for dockerfile in (APP_DOCKERFILE, RASA_DOCKERFILE):
        for source in _copy_sources(dockerfile):
            parts = Path(source).parts
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            for prefix in prefixes:
                hits = [p for p in patterns if fnmatch.fnmatchcase(prefix, p)]
                assert not hits, f"{dockerfile.name} copies {source}, excluded by {hits}"


def _compose_v2_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def test_docker_compose_config_is_valid(tmp_path: Path) -> None:
    if not _compose_v2_available():
        if os.environ.get("CI"):
            pytest.fail("`docker compose` (Compose v2) is missing: .ci/run installs it")
        pytest.skip("`docker compose` (Compose v2) is not available on this machine")
    env_file = tmp_path / ".env"
    written = COMPOSE_TEST_ENV | COMPOSE_IGNORED_TEST_ENV
    env_file.write_text("".join(f"{k}={v}\n" for k, v in written.items()), "utf-8")
    # Only what Compose needs from this process: the settings come from the .env file alone.
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE),
         "config", "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    settings = _settings_names()
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        for key, value in COMPOSE_TEST_ENV.items():
            if key in settings:
                assert environment.get(key) == value, (name, key, environment.get(key))
        assert environment["APP_ENV"] == "production", name
        assert environment["RASA_URL"] == "http://proxy:5005", name
        warning = ignored_by_compose(
            Settings(_env_file=None, rasa_url=environment["RASA_URL"], app_env="production"),
            environment[COMPOSE_IGNORED_VARIABLE],
        )
        assert warning is not None
        assert "RASA_URL=http://rasa.elsewhere:5005 (using http://proxy:5005)" in warning
        assert "APP_ENV=development (using production)" in warning
        assert environment["DATABASE_URL"] == (
            "postgresql+psycopg://cns:test-postgres-password@postgres:5432/cns"
        )
