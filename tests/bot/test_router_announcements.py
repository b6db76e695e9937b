"""The router with announcements (issue 18): a message soon after an announcement reached the
resident carries it to Rasa as context and counts once as a reply to it; a handoff request
naming an announcement opens a ticket about it only when it reached this resident (a typed
payload naming another commune's, an unknown or a nonsense id is a plain request, never a
500). Against the fake Rasa turn channel of tests/bot/test_router.py and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.announcements import STOP, ask_more
from bot.desk.handoff import active_view
from bot.rasa_client import RasaClient
from bot.router import Router
from bot.typed_buttons import TypedButtons
from core.db import session_scope
from core.kv import make_redis
from core.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatus,
    Delivery,
    DeliveryStatus,
    Ticket,
    TicketReason,
    utcnow,
)
from core.privacy import pseudonymize
from core.repositories.residents import set_commune, set_consent
from nlu.controls import ANNOUNCEMENT, HANDOFF, STORE_TEXT
from tests.bot.desk.memory import Clock, MemoryDesk, MemorySender, make_handoff
from tests.bot.test_router import KEY, RESIDENT, TOKEN, FakeRasa, _events, _message, _said

BA_DINH, OTHER = "00004", "00008"


@pytest.fixture
def rasa(app_database: str) -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture
def router(rasa: FakeRasa) -> Router:
    return Router(
        rasa=RasaClient(rasa.base_url, token=TOKEN),
        pseudonym_key=KEY,
        typed_buttons=TypedButtons(make_redis(None)),
        handoff=make_handoff(MemorySender(), MemoryDesk(), Clock()),
    )


def _announcement(commune: str, title: str) -> int:
    now = utcnow()
    with session_scope() as session:
        row = Announcement(
            commune_code=commune,
            title=title,
            text=f"{title}: mang căn cước đến nhà văn hóa.",
            category=AnnouncementCategory.EVENT,
            send_at=now - timedelta(days=3),
            expires_at=now + timedelta(days=3),
            status=AnnouncementStatus.SENDING,
        )
        session.add(row)
        session.flush()
        return row.id


def _delivered(announcement: int, resident: str, *, ago: timedelta, status: str) -> None:
    with session_scope() as session:
        session.add(
            Delivery(
                announcement_id=announcement,
                resident_id=resident,
                channel="web",
                status=status,
                updated_at=utcnow() - ago,
            )
        )


@pytest.fixture
def news(app_database: str) -> tuple[int, int]:
    """(an announcement sent to the resident an hour ago, another commune's sent to another
    resident); the resident consented and lives in Ba Đình."""
    with session_scope() as session:
        set_consent(session=session, resident_id=RESIDENT, consent=True)
        set_commune(session=session, resident_id=RESIDENT, commune_code=BA_DINH)
    ours = _announcement(BA_DINH, "Làm căn cước lưu động")
    theirs = _announcement(OTHER, "Tiêm chủng xã khác")
    _delivered(ours, RESIDENT, ago=timedelta(hours=1), status=DeliveryStatus.SENT)
    other = pseudonymize("web", "u2", key=KEY)
    _delivered(theirs, other, ago=timedelta(hours=1), status=DeliveryStatus.SENT)
    return ours, theirs


def _handoff_answer(
    announcement: object, reason: str = "request_human", summary: str = ""
) -> dict[str, object]:
    request = {
        HANDOFF: True,
        "reason": reason,
        "service": None,
        "step": None,
        "summary": summary,
        ANNOUNCEMENT: announcement,
    }
    return {
        "messages": [{"recipient_id": "x", "custom": request}],
        "intent": {"name": "request_human", "confidence": 1.0},
    }


def _ticket() -> Ticket:
    with session_scope() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.resident_id == RESIDENT)).one()
        session.expunge(ticket)
        return ticket


async def test_ask_more_opens_a_ticket_about_the_announcement(
    router: Router, rasa: FakeRasa, news: tuple[int, int]
) -> None:
    ours, _ = news
    rasa.answer = _handoff_answer(ours)
    replies = await router.handle(_said(ask_more(ours).payload))
    assert replies  # the resident's place in the queue
    (turn,) = rasa.turns
    assert turn["message"] == f'/request_human{{"announcement":"{ours}"}}'
    assert turn["metadata"] == {"channel": "web", STORE_TEXT: True, ANNOUNCEMENT: ours}
    ticket = _ticket()
    assert (ticket.announcement_id, ticket.reason) == (ours, TicketReason.ANNOUNCEMENT)
    with session_scope() as session:
        view = active_view(session, RESIDENT)
    assert view is not None
    assert view.announcement is not None
    assert view.announcement.title == "Làm căn cước lưu động"
    assert view.reason_label == "Hỏi thêm về thông báo"
    card = view.card()  # what volunteers read first in the Telegram forum topic
    assert "Thông báo đã gửi: Làm căn cước lưu động" in card
    assert "Làm căn cước lưu động: mang căn cước đến nhà văn hóa." in card
    assert ("handoff_requested", "announcement") in _events()
    assert [e for e in _events() if e[0] == "announcement_reply"] == [
        ("announcement_reply", str(ours))
    ]


@pytest.mark.parametrize(
    "named",
    ["theirs", "999999", "9" * 30, "-1", "0", "abc", True, ["1"], None],
    ids=["another-communes", "unknown", "huge", "negative", "zero", "word", "bool", "list", "none"],
)
async def test_an_announcement_not_sent_to_the_resident_is_a_plain_request(
    router: Router, rasa: FakeRasa, news: tuple[int, int], named: object
) -> None:
    _, theirs = news
    rasa.answer = _handoff_answer(str(theirs) if named == "theirs" else named)
    replies = await router.handle(_said("/request_human"))
    assert replies
    ticket = _ticket()
    assert (ticket.announcement_id, ticket.reason) == (None, TicketReason.REQUEST_HUMAN)
    with session_scope() as session:
        view = active_view(session, RESIDENT)
    assert view is not None
    assert view.announcement is None
    assert "Tiêm chủng" not in view.card()


async def test_a_scam_about_an_announcement_stays_urgent_and_carries_it(
    router: Router, rasa: FakeRasa, news: tuple[int, int]
) -> None:
    ours, _ = news
    rasa.answer = _handoff_answer(ours, reason="scam")
    await router.handle(_said("co nguoi goi bao toi chuyen tien"))
    ticket = _ticket()
    assert (ticket.announcement_id, ticket.reason, ticket.urgent) == (ours, "scam", True)


async def test_the_card_shows_the_announcement_and_fits_one_telegram_message(
    router: Router, rasa: FakeRasa, news: tuple[int, int]
) -> None:
    ours, _ = news
    rasa.answer = _handoff_answer(ours, summary="Người dân nhắn gần đây:\n• " + "a" * 5000)
    await router.handle(_said(ask_more(ours).payload))
    with session_scope() as session:
        view = active_view(session, RESIDENT)
    assert view is not None
    card = view.card()
    assert len(card) == 4096
    assert card.endswith("a…")
    assert "Làm căn cước lưu động: mang căn cước đến nhà văn hóa." in card


async def test_a_message_soon_after_counts_once_as_a_reply(
    router: Router, rasa: FakeRasa, news: tuple[int, int]
) -> None:
    ours, _ = news
    rasa.answer = {
        "messages": [_message("Dạ, anh/chị mang căn cước nhé.")],
        "intent": {"name": "service_id_card", "confidence": 0.9},
    }
    await router.handle(_said("lam can cuoc o dau"))
    await router.handle(_said("may gio"))
    assert [turn["metadata"].get(ANNOUNCEMENT) for turn in rasa.turns] == [ours, ours]
    assert [e for e in _events() if e[0] == "announcement_reply"] == [
        ("announcement_reply", str(ours))
    ]


async def test_stopping_the_announcements_is_no_reply(
    router: Router, rasa: FakeRasa, news: tuple[int, int]
) -> None:
    rasa.answer = {
        "messages": [_message("Dạ, em đã dừng gửi thông báo.")],
        "intent": {"name": "unsubscribe_announcements", "confidence": 1.0},
    }
    await router.handle(_said(STOP.payload))
    assert [e for e in _events() if e[0] == "announcement_reply"] == []


async def test_an_old_or_undelivered_announcement_gives_no_context(
    router: Router, rasa: FakeRasa, app_database: str
) -> None:
    old = _announcement(BA_DINH, "Cũ")
    failed = _announcement(BA_DINH, "Không tới")
    _delivered(old, RESIDENT, ago=timedelta(hours=49), status=DeliveryStatus.SENT)
    _delivered(failed, RESIDENT, ago=timedelta(hours=1), status=DeliveryStatus.FAILED)
    rasa.answer = {"messages": [_message("Dạ.")], "intent": {"name": "greet", "confidence": 1.0}}
    await router.handle(_said("chao"))
    assert ANNOUNCEMENT not in rasa.turns[0]["metadata"]
    assert [e for e in _events() if e[0] == "announcement_reply"] == []
