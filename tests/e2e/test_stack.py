"""The whole local stack as separate processes: trained Rasa, action server, gateway.

Uses PostgreSQL / Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set (as in CI), else
SQLite and the in-process Redis stand-in, exactly like `make run` on a laptop.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.orm import Session

from cns.stack import Ports, local_services
from cns.supervisor import Stack
from cns.training import ensure_model
from core.db import make_engine
from core.privacy import pseudonymize
from core.repositories.events import list_events
from core.settings import PROJECT_ROOT
from tests.databases import postgres_base_url, scratch_database
from tests.netutil import free_port

pytestmark = pytest.mark.e2e

PSEUDONYM_KEY = "e2e-pseudonym-key"
STARTUP_TIMEOUT = 300.0


@dataclass(frozen=True)
class RunningStack:
    url: str
    rasa_url: str
    database_url: str

    def chat(self, sender: str, text: str) -> list[dict[str, object]]:
        response = httpx.post(
            f"{self.url}/api/chat", json={"sender": sender, "text": text}, timeout=60
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, object]] = response.json()["messages"]
        return messages

    def events(self, sender: str) -> list[tuple[str, str | None]]:
        resident = pseudonymize("web", sender, key=PSEUDONYM_KEY)
        engine = make_engine(self.database_url)
        with Session(engine) as session:
            rows = [(e.type, e.key) for e in list_events(session=session, resident_id=resident)]
        engine.dispose()
        return rows


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    model = ensure_model()
    backend = "postgresql" if postgres_base_url() else "sqlite"
    with scratch_database(backend, tmp_path_factory.mktemp("e2e")) as database_url:
        env = dict(os.environ, DATABASE_URL=database_url, PSEUDONYM_KEY=PSEUDONYM_KEY)
        env.pop("REDIS_URL", None)
        if os.environ.get("TEST_REDIS_URL"):
            env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
        ports = Ports(rasa=free_port(), actions=free_port(), gateway=free_port())
        output = io.StringIO()
        running = Stack(
            local_services(PROJECT_ROOT, model, ports, env=env), PROJECT_ROOT, out=output
        )
        running.start()
        try:
            url = ports.url(ports.gateway)
            if not running.wait_healthy(f"{url}/healthz", timeout=STARTUP_TIMEOUT):
                pytest.fail(
                    f"stack not healthy; exited={running.exited()}\n{output.getvalue()[-5000:]}"
                )
            yield RunningStack(url=url, rasa_url=ports.url(ports.rasa), database_url=database_url)
        finally:
            running.stop()


def _texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(m["text"]) for m in messages]


def test_healthz_is_green(stack: RunningStack) -> None:
    body = httpx.get(f"{stack.url}/healthz").json()
    assert body == {
        "status": "ok",
        "failing": [],
        "checks": {"rasa": True, "actions": True, "database": True, "redis": True},
    }


def test_greeting_in_vietnamese_with_buttons(stack: RunningStack) -> None:
    messages = stack.chat("e2e-greet", "xin chào")
    texts = _texts(messages)
    assert texts[0].startswith("Dạ, em chào anh/chị")
    titles = [b["title"] for m in messages for b in m["buttons"]]  # type: ignore[attr-defined]
    assert "Kích hoạt VNeID" in titles
    assert ("intent", "greet") in stack.events("e2e-greet")


def test_vneid_activation_returns_the_first_steps_of_the_guide(stack: RunningStack) -> None:
    texts = _texts(stack.chat("e2e-vneid", "tôi muốn kích hoạt tài khoản định danh điện tử"))
    assert texts[0].startswith("Dạ, em hướng dẫn anh/chị")
    assert any(t.startswith("Bước 1/") for t in texts)
    assert any(t.startswith("Bước 2/") for t in texts)
    events = stack.events("e2e-vneid")
    assert events[0] == ("message_in", None)
    assert ("intent", "service_vneid_activation") in events
    assert ("service_started", "vneid_activation") in events
    assert events.count(("message_out", None)) == len(texts)


def test_without_diacritics_and_buttons_as_payloads(stack: RunningStack) -> None:
    texts = _texts(stack.chat("e2e-plain", "kich hoat vneid muc 2 the nao"))
    assert any(t.startswith("Bước 1/") for t in texts)
    human = _texts(stack.chat("e2e-plain", "/request_human"))
    assert human[0].startswith("Dạ, em đã ghi nhận anh/chị muốn gặp người hỗ trợ")


def test_personal_numbers_never_reach_rasa(stack: RunningStack) -> None:
    stack.chat("e2e-pii", "so cccd cua toi la 001203004567")
    resident = pseudonymize("web", "e2e-pii", key=PSEUDONYM_KEY)
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{resident}/tracker").json()
    assert "001203004567" not in str(tracker)
    assert "[số định danh]" in tracker["latest_message"]["text"]
