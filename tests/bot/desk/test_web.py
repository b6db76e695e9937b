"""The web desk API: hashed, rate-limited sign-in with a Secure HttpOnly SameSite cookie; CSRF
on every change; a volunteer sees and acts on tickets of their own communes only; the web
resident receives the volunteer's messages and the rating through /api/chat/updates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.web import TOKEN_HEADER
from bot.channels.web_identity import WebIdentities
from core.db import session_scope
from core.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatus,
    Ticket,
    TicketReason,
    VolunteerRole,
    utcnow,
)
from core.privacy import pseudonymize
from core.repositories.ticket_messages import messages_of
from core.repositories.tickets import open_ticket
from core.repositories.volunteers import add_volunteer, set_web_login
from tests.factories import offline_settings

PASSWORD = "mat-khau-rat-dai-1"
PSEUDONYM_KEY = "desk-test-key"
RESIDENT = WebIdentities.from_secret(PSEUDONYM_KEY).issue()  # a web chat resident


@dataclass
class Desk:
    client: TestClient
    mine: int  # a ticket of Ba Dinh
    theirs: int  # a ticket of another commune


@pytest.fixture
def desk(app_database: str) -> Iterator[Desk]:
    with session_scope() as session:
        lan = add_volunteer(session=session, display_name="Chị Lan", communes=["00004"])
        set_web_login(session=session, volunteer_id=lan.id, username="Lan", password=PASSWORD)
        hoa = add_volunteer(session=session, display_name="Chị Hoa", communes=["00008"])
        set_web_login(session=session, volunteer_id=hoa.id, username="hoa", password=PASSWORD)
        mine, _ = open_ticket(
            session=session,
            resident_id=pseudonymize("web", RESIDENT.user_id, key=PSEUDONYM_KEY),
            channel="web",
            channel_user_id=RESIDENT.user_id,
            commune_code="00004",
            reason=TicketReason.SCAM,
            summary="Người dân nhắn gần đây",
        )
        theirs, _ = open_ticket(
            session=session,
            resident_id="r2",
            channel="web",
            channel_user_id="u2",
            commune_code="00008",
            reason=TicketReason.REQUEST_HUMAN,
        )
        ids = mine.id, theirs.id
    settings = offline_settings(app_database, pseudonym_key=PSEUDONYM_KEY)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Desk(client, *ids)


def sign_in(client: TestClient, username: str = "lan") -> str:
    response = client.post("/desk/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf"]
    return csrf


def test_the_page_is_served_with_a_strict_content_policy(desk: Desk) -> None:
    response = desk.client.get("/desk")
    assert response.status_code == 200
    assert 'lang="vi"' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_sign_in_sets_a_secure_cookie_and_wrong_passwords_are_refused(desk: Desk) -> None:
    assert desk.client.get("/desk/api/me").status_code == 401
    wrong = desk.client.post("/desk/api/login", json={"username": "lan", "password": "sai"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Tên đăng nhập hoặc mật khẩu không đúng."
    unknown = desk.client.post("/desk/api/login", json={"username": "ai", "password": PASSWORD})
    assert unknown.status_code == 401
    response = desk.client.post("/desk/api/login", json={"username": "LAN", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    for flag in ("httponly", "secure", "samesite=strict", "path=/desk"):
        assert flag in cookie
    me = desk.client.get("/desk/api/me").json()
    assert me["name"] == "Chị Lan"
    assert me["communes"] == [{"code": "00004", "name": "Phường Ba Đình, Hà Nội"}]


def test_a_name_with_a_nul_character_is_refused_politely(desk: Desk) -> None:
    response = desk.client.post("/desk/api/login", json={"username": "lan\x00", "password": "x"})
    assert response.status_code == 422
    assert response.json()["messages"][0]["text"].startswith("Dạ,")


def test_sign_in_is_rate_limited(desk: Desk) -> None:
    for _ in range(5):
        desk.client.post("/desk/api/login", json={"username": "hoa", "password": "sai"})
    blocked = desk.client.post("/desk/api/login", json={"username": "hoa", "password": PASSWORD})
    assert blocked.status_code == 429


def test_a_volunteer_sees_only_their_communes_tickets(desk: Desk) -> None:
    sign_in(desk.client)
    listed = desk.client.get("/desk/api/tickets").json()["tickets"]
    assert [t["id"] for t in listed] == [desk.mine]
    assert listed[0]["reason_label"] == "Khẩn: nghi bị lừa đảo"
    assert listed[0]["urgent"] is True
    assert desk.client.get(f"/desk/api/tickets/{desk.theirs}").status_code == 404
    csrf = desk.client.get("/desk/api/me").json()["csrf"]
    claim = desk.client.post(
        f"/desk/api/tickets/{desk.theirs}/claim", headers={"X-CSRF-Token": csrf}
    )
    assert claim.status_code == 404


def test_changes_need_the_csrf_token(desk: Desk) -> None:
    sign_in(desk.client)
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = desk.client.post(f"/desk/api/tickets/{desk.mine}/claim", headers=headers)
        assert response.status_code == 403
    with session_scope() as session:
        ticket = session.get(Ticket, desk.mine)
        assert ticket is not None
        assert ticket.state == "open"


def test_claim_reply_note_close(desk: Desk) -> None:
    csrf = sign_in(desk.client)
    headers = {"X-CSRF-Token": csrf}
    early = desk.client.post(
        f"/desk/api/tickets/{desk.mine}/messages", json={"text": "chào bác"}, headers=headers
    )
    assert early.status_code == 409
    claimed = desk.client.post(f"/desk/api/tickets/{desk.mine}/claim", headers=headers)
    assert claimed.json()["ticket"]["mine"] is True
    again = desk.client.post(f"/desk/api/tickets/{desk.mine}/claim", headers=headers)
    assert again.status_code == 409
    assert again.json()["detail"] == "Yêu cầu này đã có Chị Lan nhận."
    for text in ("Dạ, bác gọi 0912345678 giúp em", "// đã hướng dẫn qua điện thoại"):
        sent = desk.client.post(
            f"/desk/api/tickets/{desk.mine}/messages", json={"text": text}, headers=headers
        )
        assert sent.status_code == 201
    conversation = desk.client.get(f"/desk/api/tickets/{desk.mine}/messages?after=0").json()
    assert [(m["author"], m["text"]) for m in conversation["messages"]] == [
        ("volunteer", "Dạ, bác gọi [số điện thoại] giúp em"),
        ("note", "// đã hướng dẫn qua điện thoại"),
    ]
    first = conversation["messages"][0]["id"]
    newer = desk.client.get(f"/desk/api/tickets/{desk.mine}/messages?after={first}").json()
    assert len(newer["messages"]) == 1
    closed = desk.client.post(
        f"/desk/api/tickets/{desk.mine}/close", json={"outcome": "resolved"}, headers=headers
    )
    assert closed.json()["ticket"]["state"] == "resolved"
    assert desk.client.get("/desk/api/tickets").json()["tickets"] == []
    as_resident = {TOKEN_HEADER: RESIDENT.token}
    updates = desk.client.get("/api/chat/updates", headers=as_resident).json()
    texts = [m["text"] for m in updates["messages"]]
    assert texts[0].startswith("Dạ, Chị Lan ở Tổ công nghệ số đã nhận")
    assert texts[1] == "Dạ, bác gọi [số điện thoại] giúp em"
    assert texts[-1] == "Dạ, bác còn cần hỗ trợ gì nữa không ạ?"
    assert [b["title"] for b in updates["messages"][-2]["buttons"]] == ["1", "2", "3", "4", "5"]
    after = {"after": updates["last"]}
    later = desk.client.get("/api/chat/updates", params=after, headers=as_resident)
    assert later.json()["messages"] == []
    with session_scope() as session:  # no consent to keep words: they went with the ticket
        assert len(messages_of(session=session, ticket_id=desk.mine)) == 0
    # Typing the rating's title presses it (no Rasa needed: the desk answers ratings).
    rated = desk.client.post("/api/chat", json={"sender": RESIDENT.token, "text": "5"})
    assert rated.json()["messages"][0]["text"] == "Dạ, em cảm ơn bác đã chấm điểm ạ."
    with session_scope() as session:
        ticket = session.get(Ticket, desk.mine)
        assert ticket is not None
        assert ticket.rating == 5


def test_sign_out_ends_the_session(desk: Desk) -> None:
    csrf = sign_in(desk.client)
    assert desk.client.post("/desk/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert desk.client.get("/desk/api/me").status_code == 401


def test_team_leads_see_and_claim_tickets_without_a_commune(desk: Desk) -> None:
    """Finding 8: a ticket without a commune (a scam reported before the resident named
    theirs) belongs to the fallback desk: team leads see and claim it, volunteers do not."""
    with session_scope() as session:
        lead = add_volunteer(
            session=session, display_name="Anh Tuấn", communes=["00008"], role=VolunteerRole.LEAD
        )
        set_web_login(session=session, volunteer_id=lead.id, username="tuan", password=PASSWORD)
        unplaced, _ = open_ticket(
            session=session,
            resident_id="r3",
            channel="web",
            channel_user_id="u3",
            commune_code=None,
            reason=TicketReason.SCAM,
        )
        unplaced_id = unplaced.id
    sign_in(desk.client)
    assert desk.client.get(f"/desk/api/tickets/{unplaced_id}").status_code == 404
    desk.client.post("/desk/api/logout", headers={"X-CSRF-Token": sign_in(desk.client)})
    csrf = sign_in(desk.client, "tuan")
    listed = desk.client.get("/desk/api/tickets").json()["tickets"]
    assert [t["id"] for t in listed] == [unplaced_id, desk.theirs]  # urgent first
    assert listed[0]["commune_name"] == "Chưa rõ xã"
    claimed = desk.client.post(
        f"/desk/api/tickets/{unplaced_id}/claim", headers={"X-CSRF-Token": csrf}
    )
    assert claimed.status_code == 200
    assert claimed.json()["ticket"]["mine"] is True


def test_numbers_no_ticket_can_have_are_refused_politely(desk: Desk) -> None:
    csrf = sign_in(desk.client)
    headers = {"X-CSRF-Token": csrf}
    for number in ("99999999999999999999", "9223372036854775808", "-1", "0"):
        tickets = f"/desk/api/tickets/{number}"
        for response in (
            desk.client.get(tickets),
            desk.client.get(f"{tickets}/messages"),
            desk.client.post(f"{tickets}/claim", headers=headers),
            desk.client.post(f"{tickets}/messages", json={"text": "chào"}, headers=headers),
            desk.client.post(f"{tickets}/close", json={"outcome": "bot"}, headers=headers),
        ):
            assert response.status_code == 422, (number, response.request.url)
            assert response.json()["messages"][0]["text"].startswith("Dạ,")
    for after in ("99999999999999999999", "-1"):
        response = desk.client.get(f"/desk/api/tickets/{desk.mine}/messages?after={after}")
        assert response.status_code == 422


def test_a_reply_with_a_nul_character_is_refused_and_nothing_is_stored(desk: Desk) -> None:
    headers = {"X-CSRF-Token": sign_in(desk.client)}
    desk.client.post(f"/desk/api/tickets/{desk.mine}/claim", headers=headers)
    sent = desk.client.post(
        f"/desk/api/tickets/{desk.mine}/messages", json={"text": "chào\x00bác"}, headers=headers
    )
    assert sent.status_code == 422
    with session_scope() as session:
        assert messages_of(session=session, ticket_id=desk.mine) == []


def test_a_ticket_about_an_announcement_shows_it(desk: Desk) -> None:
    with session_scope() as session:
        about = Announcement(
            commune_code="00004",
            title="Làm căn cước lưu động",
            text="Thứ bảy, 8 giờ, nhà văn hóa tổ 5.",
            category=AnnouncementCategory.EVENT,
            send_at=utcnow(),
            expires_at=utcnow() + timedelta(days=2),
            status=AnnouncementStatus.SENT,
        )
        session.add(about)
        session.flush()
        asked, _ = open_ticket(
            session=session,
            resident_id="r3",
            channel="web",
            channel_user_id="u3",
            commune_code="00004",
            reason=TicketReason.ANNOUNCEMENT,
            announcement_id=about.id,
        )
        ids = about.id, asked.id
    sign_in(desk.client)
    shown = desk.client.get(f"/desk/api/tickets/{ids[1]}").json()["ticket"]
    assert shown["reason_label"] == "Hỏi thêm về thông báo"
    assert shown["announcement"] == {
        "id": ids[0],
        "title": "Làm căn cước lưu động",
        "text": "Thứ bảy, 8 giờ, nhà văn hóa tổ 5.",
    }
    other = desk.client.get(f"/desk/api/tickets/{desk.mine}").json()["ticket"]
    assert other["announcement"] is None
