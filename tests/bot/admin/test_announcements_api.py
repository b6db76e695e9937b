"""The announcements API of the admin pages (/admin/api/announcements): signed-in staff with
the CSRF token; commune staff write to their commune, province staff to the province or chosen
communes; a second staff member approves (or the author, with ANNOUNCEMENT_APPROVAL off);
cancel while sending stops it; the preview is each channel's messages; the reach counts the
delivery rows the real worker made."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.announcements import AnnouncementWorker
from bot.app import create_app
from bot.channels.web_mailbox import WebMailbox
from bot.outbox import Outbox
from bot.tasks import Tasks
from core.db import session_scope
from core.kv import make_redis
from core.models import Delivery, EventType, Ticket
from core.repositories.events import record_events
from core.repositories.residents import set_commune, set_consent
from core.repositories.staff import add_staff
from core.repositories.subscriptions import subscribe, unsubscribe
from tests.factories import offline_settings

PASSWORD = "mat-khau-rat-dai-1"
BA_DINH, NGOC_HA, HOAN_KIEM, THU_DAU_MOT = "00004", "00008", "00070", "25747"
NOT_FOUND = "Không tìm thấy thông báo này."
PLACE_NOT_FOUND = "Không tìm thấy xã, phường hoặc tỉnh này."
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).isoformat()
# The last 10:00 in Vietnam (inside sending hours) before now: the worker's clock.
MORNING = datetime.now(UTC).replace(hour=3, minute=0, second=0, microsecond=0)
MORNING -= timedelta(days=1) if datetime.now(UTC) < MORNING else timedelta(0)


def _client(database: str, **settings: Any) -> Iterator[TestClient]:
    """Lan and Hoa write for Ba Đình, Minh for Thủ Dầu Một, Hùng for Hà Nội (01)."""
    with session_scope() as session:
        for username, name, scope in (
            ("lan", "Chị Lan", {"commune_code": BA_DINH}),
            ("hoa", "Chị Hoa", {"commune_code": BA_DINH}),
            ("minh", "Anh Minh", {"commune_code": THU_DAU_MOT}),
            ("hung", "Anh Hùng", {"province_code": "01"}),
        ):
            add_staff(
                session=session, username=username, display_name=name, password=PASSWORD, **scope
            )
    app = create_app(offline_settings(database, **settings))
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def client(app_database: str) -> Iterator[TestClient]:
    yield from _client(app_database)


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    """Signs in (replacing the previous session); the CSRF header for changes."""
    response = client.post("/admin/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf"]}


def draft(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "Ngày hỗ trợ số",
        "text": "Sáng thứ Bảy, nhà văn hóa tổ 3 hướng dẫn cài VNeID.",
        "category": "event",
        "send_at": TOMORROW,
    }
    return body | changes


def create(client: TestClient, csrf: dict[str, str], **changes: object) -> dict[str, Any]:
    response = client.post("/admin/api/announcements", json=draft(**changes), headers=csrf)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def test_the_page_is_static_html_under_a_strict_content_policy(client: TestClient) -> None:
    response = client.get("/admin/announcements")
    assert response.status_code == 200
    assert 'lang="vi"' in response.text
    assert "<script>" not in response.text
    assert "style=" not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_staff_need_a_session_and_changes_the_csrf_token(client: TestClient) -> None:
    assert client.get("/admin/api/announcements").status_code == 401
    assert client.post("/admin/api/announcements", json=draft()).status_code == 401
    csrf = sign_in(client, "lan")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        refused = client.post("/admin/api/announcements", json=draft(), headers=headers)
        assert refused.status_code == 403
        preview = client.post("/admin/api/announcements/preview", json=draft(), headers=headers)
        assert preview.status_code == 403
    assert client.get("/admin/api/announcements").json()["announcements"] == []
    create(client, csrf)
    assert len(client.get("/admin/api/announcements").json()["announcements"]) == 1


def test_a_commune_draft_waits_for_a_second_person(client: TestClient) -> None:
    lan = sign_in(client, "lan")
    made = create(client, lan)
    assert made["status"] == "draft"
    assert made["status_label"] == "Chờ duyệt"
    assert made["place"] == {
        "kind": "commune",
        "code": BA_DINH,
        "name": "Phường Ba Đình, Hà Nội",
        "communes": [],
    }
    assert (made["author"], made["approver"], made["mine"]) == ("Chị Lan", None, True)
    assert made["waiting"] == "Chờ một cán bộ khác duyệt (người soạn không tự duyệt được)."
    assert (made["may_approve"], made["may_cancel"]) == (False, True)
    assert made["category_label"] == "📅 Sự kiện"
    alone = client.post(f"/admin/api/announcements/{made['id']}/approve", headers=lan)
    assert alone.status_code == 409
    assert alone.json()["detail"] == "Cần một cán bộ khác duyệt thông báo này."

    hoa = sign_in(client, "hoa")
    listed = client.get("/admin/api/announcements").json()
    assert listed["approval"] is True
    [seen] = listed["announcements"]
    assert (seen["id"], seen["may_approve"], seen["waiting"], seen["mine"]) == (
        made["id"],
        True,
        None,
        False,
    )
    approved = client.post(f"/admin/api/announcements/{made['id']}/approve", headers=hoa)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approver"] == "Chị Hoa"
    again = client.post(f"/admin/api/announcements/{made['id']}/approve", headers=hoa)
    assert (again.status_code, again.json()["detail"]) == (409, "Chỉ duyệt được bản nháp.")
    [after] = client.get("/admin/api/announcements").json()["announcements"]
    assert (after["status"], after["status_label"]) == ("approved", "Đã duyệt, chờ giờ gửi")


def test_another_communes_announcement_is_404_like_a_missing_one(client: TestClient) -> None:
    made = create(client, sign_in(client, "lan"))
    minh = sign_in(client, "minh")
    assert client.get("/admin/api/announcements").json()["announcements"] == []
    for path in (f"{made['id']}", "987654"):
        read = client.get(f"/admin/api/announcements/{path}")
        assert (read.status_code, read.json()["detail"]) == (404, NOT_FOUND)
        for action in ("approve", "cancel"):
            done = client.post(f"/admin/api/announcements/{path}/{action}", headers=minh)
            assert (done.status_code, done.json()["detail"]) == (404, NOT_FOUND)
    for place in ({"commune": BA_DINH}, {"province": "01"}, {"commune": "99999"}):
        response = client.post("/admin/api/announcements", json=draft(**place), headers=minh)
        assert (response.status_code, response.json()["detail"]) == (404, PLACE_NOT_FOUND)
    for path in ("0", "x", str(2**70)):  # never a database error
        assert client.get(f"/admin/api/announcements/{path}").status_code == 422


def test_a_bad_draft_gets_a_polite_422(client: TestClient) -> None:
    lan = sign_in(client, "lan")
    for changes, reason in (
        ({"text": "x" * 1001}, "Nội dung cần có, dài tối đa 1000 ký tự."),
        ({"title": "  "}, "Tiêu đề cần có, dài tối đa 120 ký tự."),
        ({"category": "ads"}, "Loại thông báo không hợp lệ."),
        ({"link": "http://example.vn"}, "Đường dẫn phải bắt đầu bằng https:// (tối đa 500 ký tự)."),
        ({"send_at": "sáng mai"}, "Thời điểm gửi chưa đúng."),
        ({"expires_at": "2026-02-30T08:00"}, "Thời điểm hết hạn chưa đúng."),
        ({"expires_at": "2020-01-01T08:00"}, "Thời điểm hết hạn phải sau thời điểm gửi."),
        ({"communes": [BA_DINH]}, "Chỉ thông báo của tỉnh mới chọn được các xã/phường."),
    ):
        response = client.post("/admin/api/announcements", json=draft(**changes), headers=lan)
        assert response.status_code == 422, changes
        assert response.json()["detail"].startswith(reason), response.json()
    assert client.get("/admin/api/announcements").json()["announcements"] == []
    made = create(client, lan, text="x" * 1000, send_at="2030-05-01T08:00", expires_at="")
    assert made["send_at"] == "2030-05-01T01:00:00+00:00"  # typed in Vietnam time
    assert made["expires_at"] == "2030-05-08T01:00:00+00:00"  # a week later


def test_province_staff_choose_communes_and_commune_staff_do_not_see_it(
    client: TestClient,
) -> None:
    hung = sign_in(client, "hung")
    chosen = create(client, hung, province="01", communes=[NGOC_HA, BA_DINH])
    assert chosen["place"] == {
        "kind": "province",
        "code": "01",
        "name": "Thành phố Hà Nội",
        "communes": [
            {"code": BA_DINH, "name": "Phường Ba Đình"},
            {"code": NGOC_HA, "name": "Phường Ngọc Hà"},
        ],
    }
    whole = create(client, hung)  # no place: the writer's own province
    assert (whole["place"]["kind"], whole["place"]["communes"]) == ("province", [])
    outside = client.post(
        "/admin/api/announcements", json=draft(province="01", communes=[THU_DAU_MOT]), headers=hung
    )
    assert outside.status_code == 422
    assert outside.json()["detail"] == f"Xã/phường mã {THU_DAU_MOT} không thuộc tỉnh này."
    lan = sign_in(client, "lan")
    commune = create(client, lan)
    assert [a["id"] for a in client.get("/admin/api/announcements").json()["announcements"]] == [
        commune["id"]
    ]
    assert client.get(f"/admin/api/announcements/{chosen['id']}").status_code == 404
    sign_in(client, "hung")  # province staff see and may approve their communes' ones
    listed = client.get("/admin/api/announcements").json()["announcements"]
    assert [a["id"] for a in listed] == [commune["id"], whole["id"], chosen["id"]]
    assert listed[0]["may_approve"] is True


@pytest.fixture
def client_without_approval(app_database: str) -> Iterator[TestClient]:
    yield from _client(app_database, announcement_approval=False)


def test_with_approval_off_the_author_approves_alone(client_without_approval: TestClient) -> None:
    client = client_without_approval
    lan = sign_in(client, "lan")
    made = create(client, lan)
    assert (made["may_approve"], made["waiting"]) == (True, None)
    assert client.get("/admin/api/announcements").json()["approval"] is False
    approved = client.post(f"/admin/api/announcements/{made['id']}/approve", headers=lan)
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approver"]) == ("approved", "Chị Lan")


def test_the_preview_is_what_each_channel_sends(client: TestClient) -> None:
    lan = sign_in(client, "lan")
    body = {
        "title": "Mất điện chiều nay",
        "text": "Từ 14:00 đến 17:00 tổ 1–5 mất điện để sửa đường dây.",
        "link": "https://evn.vn/lich",
        "category": "warning",
    }
    response = client.post("/admin/api/announcements/preview", json=body, headers=lan)
    assert response.status_code == 200, response.text
    channels = response.json()["channels"]
    assert [(c["channel"], c["name"]) for c in channels] == [
        ("telegram", "Telegram"),
        ("zalo", "Zalo"),
        ("web", "Trang web"),
    ]
    expected = {
        "text": "⚠️ Cảnh báo · Thông báo của xã/phường\nMất điện chiều nay\n\n"
        "Từ 14:00 đến 17:00 tổ 1–5 mất điện để sửa đường dây.\n\n"
        "Xem thêm: https://evn.vn/lich",
        "buttons": [
            {"title": "Hỏi thêm", "payload": "/request_human"},
            {"title": "Hủy nhận thông báo", "payload": "/unsubscribe_announcements"},
        ],
    }
    for channel in channels:
        assert channel["messages"] == [expected], channel["channel"]
    longest = client.post(
        "/admin/api/announcements/preview",
        json=body
        | {"title": "T" * 120, "text": "Dạ " * 333 + "x", "link": "https://a.vn/" + "b" * 487},
        headers=lan,
    )
    assert [len(c["messages"]) for c in longest.json()["channels"]] == [1, 1, 1]
    nothing_saved = client.get("/admin/api/announcements").json()["announcements"]
    assert nothing_saved == []
    for bad in ({"category": "ads"}, {"text": "x" * 1001}, {"title": ""}):
        refused = client.post("/admin/api/announcements/preview", json=body | bad, headers=lan)
        assert refused.status_code == 422, bad
        assert isinstance(refused.json()["detail"], str)


def _resident(name: str, commune: str, channel: str) -> None:
    with session_scope() as session:
        set_consent(session=session, resident_id=name, consent=True)
        set_commune(session=session, resident_id=name, commune_code=commune)
        subscribe(session=session, resident_id=name, channel=channel, channel_user_id=name)


def _own_worker(client: TestClient, batch: int) -> AnnouncementWorker:
    """The gateway's own announcement worker stopped; one the test drives round by round at
    MORNING instead, running the Zalo sender only (Telegram deliveries fail: channel off)."""
    assert client.portal is not None
    tasks: Tasks = client.app.state.tasks  # type: ignore[attr-defined]
    client.portal.call(tasks.cancel)
    redis = make_redis(None)
    return AnnouncementWorker(
        Outbox(redis),
        WebMailbox(redis),
        redis,
        senders=frozenset({"zalo"}),
        clock=lambda: MORNING,
        batch=batch,
    )


def _deliveries(announcement_id: int) -> dict[str, tuple[str, str | None]]:
    with session_scope() as session:
        rows = session.scalars(select(Delivery).where(Delivery.announcement_id == announcement_id))
        return {d.resident_id: (d.status, d.reason) for d in rows}


def _due(client: TestClient) -> int:
    """A Ba Đình announcement written by Lan and approved by Hoa, due since before MORNING."""
    made = create(
        client,
        sign_in(client, "lan"),
        send_at=(MORNING - timedelta(minutes=1)).isoformat(),
        expires_at=(MORNING + timedelta(days=3)).isoformat(),
    )
    hoa = sign_in(client, "hoa")
    assert client.post(f"/admin/api/announcements/{made['id']}/approve", headers=hoa).is_success
    return int(made["id"])


def test_cancel_while_sending_stops_the_rest(client: TestClient) -> None:
    """Five web residents, two handed over a round: cancelled after the first round, the
    other three never get it."""
    worker = _own_worker(client, batch=2)
    for name in "abcde":
        _resident(name, BA_DINH, "web")
    announcement = _due(client)
    asyncio.run(worker.step())  # every row claimed at once, the first two handed over
    assert (
        sorted(_deliveries(announcement).values()) == [("claimed", None)] * 3 + [("sent", None)] * 2
    )
    lan = sign_in(client, "lan")
    sending = client.get(f"/admin/api/announcements/{announcement}").json()
    assert (sending["status"], sending["status_label"], sending["may_cancel"]) == (
        "sending",
        "Đang gửi",
        True,
    )
    cancelled = client.post(f"/admin/api/announcements/{announcement}/cancel", headers=lan)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["may_cancel"]) == ("cancelled", False)
    for _ in range(3):
        asyncio.run(worker.step())
    stopped = [("failed", "cancelled")] * 3 + [("sent", None)] * 2
    assert sorted(_deliveries(announcement).values()) == stopped  # nothing more
    again = client.post(f"/admin/api/announcements/{announcement}/cancel", headers=lan)
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "Thông báo này đã gửi xong hoặc đã hủy.",
    )
    reach = client.get(f"/admin/api/announcements/{announcement}").json()["reach"]
    assert (reach["targeted"], reach["sent"], reach["failed"], reach["pending"]) == (5, 2, 3, 0)
    assert reach["failed_reasons"] == [
        {"reason": "cancelled", "label": "thông báo bị hủy trước khi gửi", "count": 3}
    ]


def test_the_detail_counts_its_reach(client: TestClient) -> None:
    worker = _own_worker(client, batch=100)
    for name, channel in (("a", "web"), ("b", "zalo"), ("c", "telegram"), ("d", "web")):
        _resident(name, BA_DINH, channel)
    _resident("e", NGOC_HA, "web")  # another commune
    announcement = _due(client)
    for _ in range(3):  # fan-out, hand-over, finish
        asyncio.run(worker.step())
    with session_scope() as session:
        unsubscribe(session=session, resident_id="a", channel="web")
        record_events(
            session=session,
            channel="web",
            resident_id="d",
            commune_code=BA_DINH,
            rows=[(EventType.ANNOUNCEMENT_REPLY, str(announcement), None)],
        )
        session.add(
            Ticket(
                resident_id="d",
                channel="web",
                channel_user_id="d",
                commune_code=BA_DINH,
                reason="announcement",
                announcement_id=announcement,
            )
        )
    sign_in(client, "lan")
    shown = client.get(f"/admin/api/announcements/{announcement}").json()
    assert shown["status"] == "sent"
    reach = shown["reach"]
    assert {k: reach[k] for k in ("targeted", "sent", "failed", "unreachable", "pending")} == {
        "targeted": 4,
        "sent": 2,
        "failed": 1,
        "unreachable": 1,
        "pending": 0,
    }
    assert reach["failed_reasons"] == [
        {"reason": "channel_off", "label": "kênh chưa bật", "count": 1}
    ]
    assert reach["unreachable_reasons"] == [
        {
            "reason": "zalo_48h",
            "label": "Zalo quá 48 giờ từ tin cuối của người dân",
            "count": 1,
        }
    ]
    assert (reach["unsubscribed"], reach["replies"], reach["handoffs"]) == (1, 1, 1)
    assert [c["channel"] for c in shown["preview"]] == ["telegram", "zalo", "web"]
    [listed] = client.get("/admin/api/announcements").json()["announcements"]
    assert listed["reach"] == reach
