"""End-to-end (issue 18, item 1): a web resident subscribes to their commune's announcements
by typing, through the real trained model, action server, gateway and database — the privacy
question first, then the commune, one per turn — and stops by typing and by the button under
each announcement; the subscription holds the chat id only the gateway knows. Once consent and
commune are known, the bot offers them itself, once."""

from __future__ import annotations

import pytest

from actions.announcements import ASK_COMMUNE_TEXT, OFFER_TEXT, STOPPED_TEXT, subscribed_text
from actions.consent import AGREED_TEXT
from actions.privacy_notice import QUESTIONS, Moment
from bot.announcements import STOP
from core.models import Subscription
from tests.conversation_rules import assert_follows_rules
from tests.stack import RunningStack

pytestmark = pytest.mark.e2e

SENDER = "e2e-subscriber"
BA_DINH = "Phường Ba Đình"


def _texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(m["text"]) for m in messages]


def _chat_id(stack: RunningStack) -> str | None:
    """The chat id the resident's web subscription sends to, or None."""
    with stack.session() as session:
        found = session.get(Subscription, (stack.resident_id(SENDER), "web"))
        return found.channel_user_id if found else None


def _subscription_events(stack: RunningStack) -> list[tuple[str, str | None]]:
    return [e for e in stack.events(SENDER) if e[0] in {"subscribed", "unsubscribed"}]


def test_subscribe_by_typing_and_stop_by_typing_and_by_the_button(stack: RunningStack) -> None:
    (question,) = stack.chat(SENDER, "dang ky nhan thong bao")
    assert question["text"] == QUESTIONS[Moment.SUBSCRIBE]
    assert _chat_id(stack) is None

    agreed = stack.press(SENDER, question, "Đồng ý")
    assert _texts(agreed) == [AGREED_TEXT, ASK_COMMUNE_TEXT]
    assert _chat_id(stack) is None

    noted = stack.chat(SENDER, "phuong ba dinh ha noi")
    assert _texts(noted) == [
        f"Dạ, em đã ghi nhận anh/chị ở {BA_DINH}, Hà Nội ạ.",
        subscribed_text(BA_DINH),
    ]
    assert _chat_id(stack) == stack.channel_user_id(SENDER)

    assert _texts(stack.chat(SENDER, "hủy nhận thông báo")) == [STOPPED_TEXT]
    assert _chat_id(stack) is None

    # Consent and commune known: a teencode request subscribes at once.
    assert _texts(stack.chat(SENDER, "cho mk nhận tin phường vs ad")) == [subscribed_text(BA_DINH)]
    assert _chat_id(stack) == stack.channel_user_id(SENDER)

    # The button under each announcement.
    assert _texts(stack.chat(SENDER, STOP.payload)) == [STOPPED_TEXT]
    assert _chat_id(stack) is None
    assert _subscription_events(stack) == [
        ("subscribed", "web"),
        ("unsubscribed", "resident"),
        ("subscribed", "web"),
        ("unsubscribed", "resident"),
    ]


def test_the_bot_offers_them_once_after_the_commune(stack: RunningStack) -> None:
    """Consent given, then the commune named: "Nhận thông báo của xã/phường" is offered (one
    question) and subscribes; never offered again in the conversation (the slot holds)."""
    sender = "e2e-offered"
    stack.chat(sender, '/consent{"choice":"yes"}')
    noted = stack.chat(sender, "tôi ở phường Ba Đình, Hà Nội")
    assert _texts(noted) == [f"Dạ, em đã ghi nhận anh/chị ở {BA_DINH}, Hà Nội ạ.", OFFER_TEXT]
    assert_follows_rules(noted, "the commune")
    subscribed = stack.press(sender, noted[-1], "Nhận thông báo của xã/phường")
    assert _texts(subscribed) == [subscribed_text(BA_DINH)]
    with stack.session() as session:
        assert session.get(Subscription, (stack.resident_id(sender), "web")) is not None
    assert _texts(stack.chat(sender, STOP.payload)) == [STOPPED_TEXT]
    again = stack.chat(sender, "tôi ở phường Ba Đình, Hà Nội")
    assert OFFER_TEXT not in _texts(again)
