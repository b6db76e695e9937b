"""The router's turn against a fake Rasa turn channel (nlu/channel.py's contract) and a real
database: one request to Rasa per turn, with the token and whether the resident's words may be
kept; the message stored before Rasa is asked; two transactions; the outcome recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.messages import InboundMessage
from bot.rasa_client import TURN_WEBHOOK, RasaClient
from bot.router import Router
from bot.typed_buttons import TypedButtons
from core.db import in_db, session_scope
from core.kv import make_redis
from core.models import EventType, Subscription
from core.privacy import pseudonymize
from core.repositories.events import list_events
from core.repositories.residents import set_commune, set_consent
from nlu.controls import ERASE_CONVERSATION, ERASED_AS, STORE_TEXT, SUBSCRIBE
from tests.bot.desk.memory import Clock, MemoryDesk, MemorySender, make_handoff
from tests.fakes.server import FakeService, ServerThread

TOKEN = "rasa-token"
KEY = "k"


def _message(text: str, **extra: Any) -> dict[str, Any]:
    return {"recipient_id": "x", "text": text, "buttons": None, **extra}


@dataclass
class FakeRasa(FakeService):
    """Rasa's turn channel and the tracker API's forget, answering `answer`."""

    answer: dict[str, Any] = field(default_factory=dict)
    turns: list[dict[str, Any]] = field(default_factory=list)
    stored_before: list[list[str]] = field(default_factory=list)  # event types seen
    forgotten: list[str] = field(default_factory=list)
    during_turn: Callable[[], None] = lambda: None  # the action server's work in the turn

    def __post_init__(self) -> None:
        app = Starlette(
            routes=[
                Route(TURN_WEBHOOK, self._turn, methods=["POST"]),
                Route("/conversations/{sender}/tracker/events", self._forget, methods=["PUT"]),
            ]
        )
        self._server = ServerThread(app, "fake-rasa")

    async def _turn(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({}, status_code=401)
        body = await request.json()
        self.turns.append(body)
        with session_scope() as session:
            events = list_events(session=session, resident_id=body["sender"])
            self.stored_before.append([e.type for e in events])
        self.during_turn()
        return JSONResponse(self.answer)

    async def _forget(self, request: Request) -> Response:
        self.forgotten.append(request.path_params["sender"])
        return JSONResponse({})


@pytest.fixture
def rasa(app_database: str) -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture
async def router(rasa: FakeRasa) -> Router:
    handoff = make_handoff(MemorySender(), MemoryDesk(), Clock())
    return Router(
        rasa=RasaClient(rasa.base_url, token=TOKEN),
        pseudonym_key=KEY,
        typed_buttons=TypedButtons(make_redis(None)),
        handoff=handoff,
    )


RESIDENT = pseudonymize("web", "u1", key=KEY)


def _said(text: str) -> InboundMessage:
    return InboundMessage(channel="web", channel_user_id="u1", text=text)


def _consent(agreed: bool) -> None:
    with session_scope() as session:
        set_consent(session=session, resident_id=RESIDENT, consent=agreed)


def _events(resident: str = RESIDENT) -> list[tuple[str, str | None]]:
    with session_scope() as session:
        return [(e.type, e.key) for e in list_events(session=session, resident_id=resident)]


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The router's database calls (core.db.in_db), counted."""
    calls: list[object] = []

    async def counted(work: Any, *args: Any) -> Any:
        calls.append(work)
        return await in_db(work, *args)

    monkeypatch.setattr("bot.router.in_db", counted)
    return calls


async def test_a_turn_is_one_request_and_two_transactions(
    router: Router, rasa: FakeRasa, transactions: list[object]
) -> None:
    rasa.answer = {
        "messages": [_message("Dạ, em chào bác."), _message("Bác cần gì ạ?")],
        "intent": {"name": "greet", "confidence": 0.97},
        "intent_ranking": [{"name": "greet", "confidence": 0.97}],
    }
    replies = await router.handle(_said("chao, sdt 0912345678"))

    # No privacy notice of the gateway's own: the actions ask when it is needed.
    assert [r.text for r in replies] == ["Dạ, em chào bác.", "Bác cần gì ạ?"]
    (turn,) = rasa.turns
    assert set(turn) == {"sender", "message", "metadata"}
    assert turn["sender"] == RESIDENT
    assert "0912345678" not in turn["message"]
    assert turn["metadata"] == {"channel": "web", STORE_TEXT: False}
    assert rasa.stored_before == [[EventType.MESSAGE_IN.value]]
    assert len(transactions) == 2
    assert _events() == [
        ("message_in", None),
        ("intent", "greet"),
        ("message_out", None),
        ("message_out", None),
    ]


async def test_words_are_marked_to_keep_after_the_resident_agreed(
    router: Router, rasa: FakeRasa
) -> None:
    _consent(True)
    rasa.answer = {"messages": [_message("Dạ.")], "intent": None}
    await router.handle(_said("cam on"))
    assert rasa.turns[0]["metadata"][STORE_TEXT] is True


async def test_a_fallback_keeps_the_best_candidate(router: Router, rasa: FakeRasa) -> None:
    rasa.answer = {
        "messages": [_message("Dạ, em chưa hiểu.")],
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "service_birth_registration", "confidence": 0.2},
        ],
    }
    await router.handle(_said("zxq"))
    assert ("fallback", "service_birth_registration") in _events()


async def test_an_erased_turn_is_counted_apart_and_rasa_forgets(
    router: Router, rasa: FakeRasa
) -> None:
    done = {ERASE_CONVERSATION: True, ERASED_AS: "anon-1"}
    rasa.answer = {
        "messages": [_message("Dạ, em đã xóa xong."), {"recipient_id": "x", "custom": done}],
        "intent": {"name": "delete_my_data", "confidence": 1.0},
    }
    replies = await router.handle(_said("xoa"))
    assert [r.text for r in replies] == ["Dạ, em đã xóa xong."]
    assert _events("anon-1") == [("intent", "delete_my_data"), ("message_out", None)]
    assert rasa.forgotten == [RESIDENT]


async def test_consent_withdrawn_in_the_turn_drops_rasas_copy(
    router: Router, rasa: FakeRasa
) -> None:
    _consent(True)
    rasa.answer = {"messages": [_message("Dạ, em sẽ không lưu.")]}
    rasa.during_turn = lambda: _consent(False)  # what action_consent does for "no"
    await router.handle(_said('/consent{"choice": "no"}'))
    assert rasa.turns[0]["metadata"][STORE_TEXT] is True
    assert rasa.forgotten == [RESIDENT]


def _subscription(resident: str = RESIDENT) -> str | None:
    """The chat id the resident's web subscription sends to, or None."""
    with session_scope() as session:
        found = session.get(Subscription, (resident, "web"))
        return found.channel_user_id if found else None


async def test_the_subscribe_control_subscribes_with_the_chat_id(
    router: Router, rasa: FakeRasa
) -> None:
    _consent(True)
    with session_scope() as session:
        set_commune(session=session, resident_id=RESIDENT, commune_code="00004")
    rasa.answer = {
        "messages": [
            {"recipient_id": "x", "custom": {SUBSCRIBE: True}},
            _message("Dạ, em sẽ gửi thông báo của Phường Ba Đình cho anh/chị."),
        ],
        "intent": {"name": "subscribe_announcements", "confidence": 0.9},
    }
    replies = await router.handle(_said("dang ky nhan thong bao"))
    assert [r.text for r in replies] == ["Dạ, em sẽ gửi thông báo của Phường Ba Đình cho anh/chị."]
    assert _subscription() == "u1"  # the chat id only the gateway knows
    assert ("subscribed", "web") in _events()
    await router.handle(_said("dang ky nhan thong bao"))  # again: still one, one event
    assert [e for e in _events() if e[0] == "subscribed"] == [("subscribed", "web")]


async def test_without_consent_the_control_stores_nothing(router: Router, rasa: FakeRasa) -> None:
    rasa.answer = {"messages": [{"recipient_id": "x", "custom": {SUBSCRIBE: True}}]}
    await router.handle(_said("dang ky nhan thong bao"))
    assert _subscription() is None
    assert [e for e in _events() if e[0] == "subscribed"] == []
