"""The whole local stack as separate processes for tests: trained Rasa, action server, gateway.

Uses PostgreSQL / Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set (as in CI), else
SQLite and the in-process Redis stand-in, exactly like `make run` on a laptop. The gateway's
Telegram bot polls a fake Bot API server on 127.0.0.1 (tests/fakes/telegram_api.py), whose
forum group `desk_chat` is the fallback desk (TELEGRAM_DESK_CHAT_ID); the desk is always open.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from cns.stack import Ports, free_port, local_services
from cns.supervisor import Stack
from cns.training import ensure_model
from core.db import make_engine
from core.models import Event, EventType
from core.privacy import pseudonymize
from core.repositories.events import list_events
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.fakes.telegram_api import FakeTelegram

PSEUDONYM_KEY = "e2e-pseudonym-key"
STARTUP_TIMEOUT = 300.0


class StackDidNotStart(RuntimeError):
    pass


@dataclass(frozen=True)
class RunningStack:
    url: str
    rasa_url: str
    rasa_token: str  # made up by local_services: Rasa's HTTP API answers only with it
    database_url: str
    telegram: FakeTelegram
    desk_chat: dict[str, Any]
    output: io.StringIO  # everything the three processes logged, prefixed with their names

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

    def chat(self, sender: str, text: str) -> list[dict[str, object]]:
        response = httpx.post(
            f"{self.url}/api/chat", json={"sender": sender, "text": text}, timeout=60
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, object]] = response.json()["messages"]
        return messages

    def press(self, sender: str, message: dict[str, object], title: str) -> list[dict[str, object]]:
        """Press the button called `title` under `message` (its payload is sent as text)."""
        buttons: list[dict[str, str]] = message["buttons"]  # type: ignore[assignment]
        payloads = [b["payload"] for b in buttons if b["title"] == title]
        assert payloads, f"no button {title!r} in {[b['title'] for b in buttons]}"
        return self.chat(sender, payloads[0])

    def resident_id(self, sender: str) -> str:
        """The pseudonymous id of a web test resident (Rasa's sender id, the events' id)."""
        return pseudonymize("web", sender, key=PSEUDONYM_KEY)

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

    def event_rows(self, sender: str) -> list[tuple[str, str | None, str | None]]:
        """(type, key, commune) of the web sender's events, in order."""
        resident = self.resident_id(sender)
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

    def events(self, sender: str) -> list[tuple[str, str | None]]:
        return [(type_, key) for type_, key, _ in self.event_rows(sender)]


@contextmanager
def running_stack(tmp_dir: Path) -> Iterator[RunningStack]:
    model = ensure_model()
    backend = "postgresql" if postgres_base_url() else "sqlite"
    with scratch_database(backend, tmp_dir) as database_url, FakeTelegram() as telegram:
        desk_chat = telegram.forum_group("Tổ công nghệ số — bàn hỗ trợ chung")
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            PSEUDONYM_KEY=PSEUDONYM_KEY,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            TELEGRAM_MODE="polling",
            TELEGRAM_DESK_CHAT_ID=str(desk_chat["id"]),
            DESK_HOURS="00:00-00:00",
            CHAT_RATE_LIMIT_PER_MINUTE="1000",  # tests write faster than any resident
        )
        env.pop("REDIS_URL", None)
        if os.environ.get("TEST_REDIS_URL"):
            env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
        ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
        output = io.StringIO()
        services = local_services(PROJECT_ROOT, model, ports, env=env)
        running = Stack(services, PROJECT_ROOT, out=output)
        running.start()
        try:
            url = ports.url(ports.gateway)
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
                desk_chat=desk_chat,
                output=output,
            )
        finally:
            running.stop()
