"""Schema fuzzing of every HTTP route of the gateway with Schemathesis: whatever a stranger, a
signed-in volunteer or a signed-in staff member sends, no answer is a server error (5xx), every
error outside the webhooks has the polite JSON shape (`detail` and `messages`), and documented
JSON answers match their schema.

The gateway runs as in production, served by uvicorn on 127.0.0.1 with its lifespan, on
PostgreSQL (SQLite without TEST_DATABASE_URL) and a redis-server of its own; Telegram (webhook
mode) and Zalo are the fakes of tests/fakes, Rasa is a port where nothing listens (chat turns
answer 503, a documented outage answer, accepted here for that route only). Webhook calls
carry the right secret or a valid signature of the body sent, so the fuzzer reaches past the
doors. Examples are derandomized and bounded (EXAMPLES per route and mode) to keep CI short.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import pytest
import redis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case as AnyCase
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import response_schema_conformance

from bot.app import create_app
from cns.stack import free_port
from core.db import session_scope
from core.models import TicketReason
from core.repositories.tickets import open_ticket
from core.settings import Settings
from tests.databases import forget_database_caches, postgres_base_url, scratch_database
from tests.factories import add_desk_and_report_logins, offline_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import (
    DEFAULT_APP_ID,
    DEFAULT_OA_SECRET_KEY,
    FakeZalo,
    webhook_mac,
)
from tests.serving import served

Operation = APIOperation[Any, Any, Any, Any]
Case = AnyCase[Operation]

EXAMPLES = 50  # per route, per generation mode and per visitor
PASSWORD = "mat-khau-rat-dai-1"
TELEGRAM_SECRET = "fuzz-webhook-secret"
# The documented 5xx while Rasa is unreachable: the web chat's polite answer, the health check.
OUTAGE_ANSWERS = {("POST", "/api/chat"): 503, ("GET", "/healthz"): 503}
# Routes answering machines (Telegram, Zalo, monitoring) rather than people.
MACHINE_ROUTES = ("/webhooks/", "/healthz")

SCHEMA = create_app(Settings(_env_file=None)).openapi()
OPERATIONS = [(method.upper(), path) for path, item in SCHEMA["paths"].items() for method in item]
# Operations with something to get wrong (parameters or a body) are also fuzzed with invalid data.
WITH_INPUT = {
    (method.upper(), path)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if operation.get("parameters") or operation.get("requestBody")
}


def _behind_sign_in(path: str) -> bool:
    return path.startswith(("/desk/", "/admin/")) and not path.endswith("/login")


# Each route by a stranger, and also by a signed-in volunteer and staff member where a session
# opens more; with valid data, and with invalid data where there is any to send.
RUNS = [
    (method, path, visitor, mode)
    for method, path in OPERATIONS
    for visitor in ("stranger", "signed-in")
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if (visitor == "stranger" or _behind_sign_in(path))
    and (mode == GenerationMode.POSITIVE or (method, path) in WITH_INPUT)
]


@dataclass
class Gateway:
    url: str
    http: requests.Session  # kept-alive connections to the gateway
    redis: redis.Redis | None  # the test's own, when there is a redis-server
    schema: Any
    signed_in: dict[str, str]  # Cookie and X-CSRF-Token headers of a volunteer and a staff member
    signing_out: dict[str, str]  # other sessions of theirs, for fuzzing the sign-outs

    def forget_rate_limits(self) -> None:
        """Clear the rate limits in the test's own Redis, so that every example reaches past
        them (the fuzzer would otherwise meet only 429s after the first few sign-ins)."""
        if self.redis is not None:
            for key in self.redis.scan_iter("ratelimit:*"):
                self.redis.delete(key)

    def operation(self, method: str, path: str) -> Operation:
        found: Operation = self.schema[path][method]
        return found

    def sign_in(self) -> dict[str, str]:
        """Fresh sessions of the desk and the report page, as headers."""
        cookies, csrf = [], ""
        for area, username in (("desk", "lan"), ("admin", "hung")):
            response = self.http.post(
                f"{self.url}/{area}/api/login",
                json={"username": username, "password": PASSWORD},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            cookies.append(f"cns_{area}={response.cookies[f'cns_{area}']}")
            csrf = response.json()["csrf"] if area == "desk" else csrf
        return {"Cookie": "; ".join(cookies), "X-CSRF-Token": csrf}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of the test's own (nothing shared); the in-process stand-in without one."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield ""
        return
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir]
    server = subprocess.Popen([str(part) for part in command], stdout=subprocess.DEVNULL)
    try:
        _wait_for_redis(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_redis(port: int) -> None:
    deadline = time.monotonic() + 10
    with redis.Redis(port=port) as client:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Gateway]:
    backend = "postgresql" if postgres_base_url() else "sqlite"
    tmp_path = tmp_path_factory.mktemp("fuzz")
    with (
        scratch_database(backend, tmp_path) as database_url,
        pytest.MonkeyPatch.context() as env,
        FakeTelegram(auto_webhook=False) as telegram,
        FakeZalo() as zalo,
    ):
        env.setenv("DATABASE_URL", database_url)
        forget_database_caches()
        _seed()
        settings = offline_settings(
            database_url,
            redis_url=redis_url or None,
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            telegram_mode="webhook",
            telegram_webhook_url="https://cns.example.vn/webhooks/telegram",
            telegram_webhook_secret=TELEGRAM_SECRET,
            **zalo.gateway_settings(),
        )
        app = create_app(settings)
        with served(app) as url:
            schema = schemathesis.openapi.from_dict(app.openapi())
            client = redis.Redis.from_url(redis_url) if redis_url else None
            http = requests.Session()
            http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keeps none
            gateway = Gateway(url, http, client, schema, {}, {})
            gateway.signed_in, gateway.signing_out = gateway.sign_in(), gateway.sign_in()
            yield gateway
        forget_database_caches()


def _seed() -> None:
    """A volunteer and a staff member who sign in, and tickets the fuzzer may find (ids 1–3)."""
    with session_scope() as session:
        add_desk_and_report_logins(session=session, commune="00004", password=PASSWORD)
        for n in range(3):
            open_ticket(
                session=session, resident_id=f"r{n}", channel="web", channel_user_id=f"u{n}",
                commune_code="00004", reason=TicketReason.REQUEST_HUMAN,
            )  # fmt: skip


def polite_errors(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every error answered to people is JSON: a `detail` for the desk and admin pages and API
    clients, and/or Vietnamese `messages` for the chat page."""
    if response.status_code < 400 or case.operation.path.startswith(MACHINE_ROUTES):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} is no JSON: {response.content!r}") from None
    assert "detail" in body or "messages" in body, f"{response.status_code}: {body}"
    for message in body.get("messages", []):
        assert message["text"].startswith("Dạ,"), body
    return None


def outage_answers(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The 5xx a route may give while a dependency is down: documented and polite; none else."""
    allowed = OUTAGE_ANSWERS.get((case.operation.method.upper(), case.operation.path))
    if response.status_code == allowed:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [outage_answers, polite_errors, response_schema_conformance]


def _send(gateway: Gateway, case: Case, headers: dict[str, str]) -> requests.Response | Response:
    """Send a case, Telegram's secret and a valid Zalo signature added."""
    path = case.operation.path
    if path == "/webhooks/telegram":
        return case.call(
            base_url=gateway.url,
            session=gateway.http,
            headers=headers | {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        )
    if path == "/webhooks/zalo":
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        timestamp = case.body.get("timestamp") if isinstance(case.body, dict) else None
        signed_with = str(timestamp) if str(timestamp).isdigit() else "0"
        mac = webhook_mac(DEFAULT_APP_ID, raw, signed_with, DEFAULT_OA_SECRET_KEY)
        signed = headers | {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}
        return gateway.http.post(f"{gateway.url}{path}", data=raw, headers=signed, timeout=30)
    return case.call(base_url=gateway.url, session=gateway.http, headers=headers)


@pytest.mark.parametrize(("method", "path", "visitor", "mode"), RUNS)
def test_no_input_gives_a_server_error(
    gateway: Gateway, method: str, path: str, visitor: str, mode: GenerationMode
) -> None:
    operation = gateway.operation(method, path)
    if visitor == "stranger":
        headers: dict[str, str] = {}
    elif path.endswith("/logout"):
        headers = gateway.signing_out
    else:
        headers = gateway.signed_in

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Case) -> None:
        gateway.forget_rate_limits()
        response = _send(gateway, case, headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()


# What residents, strangers and broken clients were seen to send (issue 13, finding 14), put in
# every field of every route in turn: NUL, half an emoji, numbers no column holds, months no
# calendar has, payloads nested deeper than a parser goes.
HOSTILE_TEXT = [
    "\x00",
    "chào\x00bác",
    "99999999999999999999",
    "-1",
    "0001-01",
    "9999-12",
    "/csat{" + "[" * 1500 + "]" * 1500 + "}",
    '/csat{"ticket": 99999999999999999999, "score": 3}',
]
HOSTILE_NUMBERS = [10**20, 2**63, -1, 0, 1.5]
HALF_AN_EMOJI = "\ud800"  # a lone surrogate: JSON carries it, a URL cannot


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _plain(schema: dict[str, Any]) -> Any:
    """A valid value of `schema` (its first enum value, "1", 1, or an object of required
    fields), for the fields not under test."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        return _plain(schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        fields = schema.get("properties", {})
        return {name: _plain(fields[name]) for name in schema.get("required", [])}
    return {"integer": 1, "number": 1, "array": [], "boolean": True}.get(str(kind), "1")


def _fields(schema: dict[str, Any], at: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every field of a JSON body, nested ones included, as key paths."""
    for name, field in _resolve(schema).get("properties", {}).items():
        yield (*at, name)
        yield from _fields(field, (*at, name))


def _with(body: Any, at: tuple[str, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(body))
    holder = copy
    for key in at[:-1]:
        holder = holder.setdefault(key, {})
    holder[at[-1]] = value
    return copy


def hostile_cases(operation: Operation, method: str, path: str) -> Iterator[Case]:
    definition = SCHEMA["paths"][path][method.lower()]
    parameters = definition.get("parameters", [])
    plain = {p["name"]: _plain(p["schema"]) for p in parameters if p.get("required")}
    body_schema = definition.get("requestBody", {}).get("content", {}).get("application/json")
    body = _plain(body_schema["schema"]) if body_schema else None
    media = "application/json" if body_schema else None

    def case(values: dict[str, Any], body: Any) -> Case:
        where = {p["name"]: p["in"] for p in parameters}
        path_values = {k: v for k, v in values.items() if where[k] == "path"}
        query = {k: v for k, v in values.items() if where[k] == "query"}
        if body is None:
            return operation.Case(path_parameters=path_values, query=query)
        return operation.Case(path_parameters=path_values, query=query, body=body, media_type=media)

    for parameter in parameters:
        for value in [*HOSTILE_TEXT, *HOSTILE_NUMBERS]:
            yield case(plain | {parameter["name"]: value}, body)
    for at in _fields(body_schema["schema"]) if body_schema else ():
        for value in [*HOSTILE_TEXT, HALF_AN_EMOJI, *HOSTILE_NUMBERS]:
            yield case(plain, _with(body, at, value))


@pytest.mark.parametrize(("method", "path"), sorted(WITH_INPUT))
def test_hostile_values_in_any_field_give_no_server_error(
    gateway: Gateway, method: str, path: str
) -> None:
    operation = gateway.operation(method, path)
    headers = gateway.signing_out if path.endswith("/logout") else gateway.signed_in
    for case in hostile_cases(operation, method, path):
        gateway.forget_rate_limits()
        response = _send(gateway, case, headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
