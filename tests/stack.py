"""The whole local stack as separate processes for tests: trained Rasa, action server, gateway.

Uses PostgreSQL / Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set (as in CI), else
SQLite and the in-process Redis stand-in, exactly like `make run` on a laptop. The gateway's
Telegram bot polls a fake Bot API server on 127.0.0.1 (tests/fakes/telegram_api.py), whose
forum group `desk_chat` is the fallback desk (TELEGRAM_DESK_CHAT_ID); the desk is always open.
Its Zalo Official Account talks to a fake Zalo API (tests/fakes/zalo_api.py), which posts its
users' events to the gateway's webhook.

Web residents are named by the tests (`stack.chat("e2e-greet", ...)`); each name's first
message goes without an identity, and the one the server issues is used for that name after.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from bot.channels.web_identity import WebIdentities
from cns.stack import Ports, free_port, local_services
from cns.supervisor import Stack
from cns.training import ensure_model
from core.db import make_engine
from core.models import Event, EventType
from core.privacy import mask_pii, pseudonymize
from core.repositories.events import list_events
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo

PSEUDONYM_KEY = "e2e-pseudonym-key"
STARTUP_TIMEOUT = 300.0


class StackDidNotStart(RuntimeError):
    pass


# Nonsense for `RunningStack.nonsense`, and with a phone number for `missed_message`.
NONSENSE_CANDIDATES = (
    "cai may giat nha toi bi hong",
    "ti vi nha toi mat tieng",
    "qwx zzv plok",
    "con meo nha toi keu suot dem",
    "ua ta noi cai do roi ma",
    "bla bla xyz",
    # Keyboard mashes: DIET is not bit-for-bit repeatable, so which of these a freshly
    # trained model falls back on varies between trainings of the same data.
    "xkcd qwerty zxcv",
    "zxq vbnm wrtp",
    "pfft grr zzkk",
    "mlem blep qrst",
    "hjkl yuio bnm",
    "vvv xxx qqq www",
)
MISSED_PHONE = "0912345678"


@dataclass(frozen=True)
class RunningStack:
    url: str
    rasa_url: str
    rasa_token: str  # made up by local_services: Rasa's HTTP API answers only with it
    database_url: str
    telegram: FakeTelegram
    zalo: FakeZalo
    desk_chat: dict[str, Any]
    output: io.StringIO  # everything the three processes logged, prefixed with their names

    # A test's name for a web resident → the token the server issued on its first message.
    identities: dict[str, str] = field(default_factory=dict)

    def logs(self) -> str:
        return self.output.getvalue()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A committed session on the stack's database."""
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session, session.begin():
                yield session
        finally:
            engine.dispose()

    def _falls_back(self, text: str) -> bool:
        """Whether this model answers `text` (masked, as the gateway hands it on) with a
        fallback, asked at `/model/parse`."""
        answer = httpx.post(
            f"{self.rasa_url}/model/parse",
            json={"text": mask_pii(text)},
            params={"token": self.rasa_token},
            timeout=30,
        ).json()
        return bool(answer["intent"]["name"] == "nlu_fallback")

    def nonsense(self) -> str:
        """A message this model does not understand (a fallback): the first of a few
        nonsense ones it falls back on, so tests do not hang on one model's guess."""
        for text in NONSENSE_CANDIDATES:
            if self._falls_back(text):
                return text
        raise AssertionError("the model understood every nonsense message")

    def missed_message(self) -> str:
        """Like `nonsense`, with a phone number in it (the privacy tests of kept words)."""
        for text in NONSENSE_CANDIDATES:
            if self._falls_back(f"{text} {MISSED_PHONE}"):
                return f"{text} {MISSED_PHONE}"
        raise AssertionError("the model understood every nonsense message")

    def chat(self, name: str, text: str) -> list[dict[str, object]]:
        """The web resident `name` sends `text`; the bot's replies."""
        token = self.identities.get(name)
        body = {"text": text} if token is None else {"sender": token, "text": text}
        response = httpx.post(f"{self.url}/api/chat", json=body, timeout=60)
        assert response.status_code == 200, response.text
        self.identities.setdefault(name, response.json()["sender"])
        messages: list[dict[str, object]] = response.json()["messages"]
        return messages

    def press(self, name: str, message: dict[str, object], title: str) -> list[dict[str, object]]:
        """Press the button called `title` under `message` (its payload is sent as text)."""
        buttons: list[dict[str, str]] = message["buttons"]  # type: ignore[assignment]
        payloads = [b["payload"] for b in buttons if b["title"] == title]
        assert payloads, f"no button {title!r} in {[b['title'] for b in buttons]}"
        return self.chat(name, payloads[0])

    def channel_user_id(self, name: str) -> str:
        """The web channel's id of the resident `name` (who has chatted already)."""
        assert name in self.identities, f"{name!r} has not chatted yet"
        identity = WebIdentities.from_secret(PSEUDONYM_KEY).verify(self.identities[name])
        assert identity is not None
        return identity.user_id

    def resident_id(self, name: str) -> str:
        """The pseudonymous id of the web resident `name`."""
        return pseudonymize("web", self.channel_user_id(name), key=PSEUDONYM_KEY)

    def tracker(self, sender: str) -> dict[str, Any]:
        """Rasa's tracker of a web test resident's conversation (with every event)."""
        response = httpx.get(
            f"{self.rasa_url}/conversations/{self.resident_id(sender)}/tracker",
            params={"token": self.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker

    def event_rows(self, name: str) -> list[tuple[str, str | None, str | None]]:
        """(type, key, commune) of the web resident's events, in order."""
        resident = self.resident_id(name)
        return [(e.type, e.key, e.commune_code) for e in self._events(resident_id=resident)]

    def events_of_type(self, type_: str) -> list[tuple[str, str]]:
        """(resident id, channel) of every event of `type_`, in order."""
        return [(e.resident_id, e.channel) for e in self._events(type=EventType(type_))]

    def events_of_resident(self, resident_id: str) -> list[tuple[str, str | None]]:
        return [(e.type, e.key) for e in self._events(resident_id=resident_id)]

    def _events(self, **where: Any) -> list[Event]:
        engine = make_engine(self.database_url)
        with Session(engine) as session:
            rows = list(list_events(session=session, **where))
        engine.dispose()
        return rows

    def events(self, name: str) -> list[tuple[str, str | None]]:
        return [(type_, key) for type_, key, _ in self.event_rows(name)]


@contextmanager
def running_stack(tmp_dir: Path) -> Iterator[RunningStack]:
    """The stack on free ports; Telegram polls the fake Bot API, the fake Zalo posts to the
    gateway's webhook."""
    model = ensure_model()
    backend = "postgresql" if postgres_base_url() else "sqlite"
    with (
        scratch_database(backend, tmp_dir) as database_url,
        FakeTelegram() as telegram,
        FakeZalo() as zalo,
    ):
        desk_chat = telegram.forum_group("Tổ công nghệ số — bàn hỗ trợ chung")
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            PSEUDONYM_KEY=PSEUDONYM_KEY,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            TELEGRAM_DESK_CHAT_ID=str(desk_chat["id"]),
            DESK_HOURS="00:00-00:00",
            **{name.upper(): value for name, value in zalo.gateway_settings().items()},
            # Every test resident comes from 127.0.0.1: the per-address limits would count
            # the whole test session as one household.
            CHAT_RATE_LIMIT_PER_ADDRESS_PER_MINUTE="100000",
            CHAT_NEW_RESIDENTS_PER_ADDRESS_PER_HOUR="100000",
            CHAT_RATE_LIMIT_PER_MINUTE="1000",  # tests write faster than any resident
        )
        env.pop("REDIS_URL", None)
        if os.environ.get("TEST_REDIS_URL"):
            env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
        env["TELEGRAM_MODE"] = "polling"
        ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
        output = io.StringIO()
        services = local_services(PROJECT_ROOT, model, ports, env=env)
        running = Stack(services, PROJECT_ROOT, out=output)
        running.start()
        try:
            url = ports.url(ports.gateway)
            zalo.webhook_url = f"{url}/webhooks/zalo"
            if not running.wait_healthy(f"{url}/healthz", timeout=STARTUP_TIMEOUT):
                raise StackDidNotStart(
                    f"stack not healthy; exited={running.exited()}\n{output.getvalue()[-5000:]}"
                )
            yield RunningStack(
                url=url,
                rasa_url=ports.url(ports.rasa),
                rasa_token=services[0].env["RASA_TOKEN"],
                database_url=database_url,
                telegram=telegram,
                zalo=zalo,
                desk_chat=desk_chat,
                output=output,
            )
        finally:
            running.stop()
