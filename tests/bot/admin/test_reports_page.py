"""The staff report page /admin/reports and its API: hashed, rate-limited sign-in with a Secure
HttpOnly SameSite cookie; CSRF on sign-out; commune staff read only their commune, province
staff their province's communes and roll-up; every format served with the right headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from core.db import session_scope
from core.models import EventType, utcnow
from core.repositories.events import record_event
from core.repositories.staff import add_staff, remove_staff
from reports import labels
from reports.model import Period
from tests.factories import offline_settings

PASSWORD = "mat-khau-rat-dai-1"
LAST_MONTH = Period.containing(utcnow()).previous()
NOT_FOUND = "Không tìm thấy xã, phường hoặc tỉnh này."
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(app_database: str) -> Iterator[TestClient]:
    """Lan reads Phường Ba Đình (00004); Hùng reads Hà Nội (01). Residents wrote last month
    in Ba Đình, in Ngọc Hà (00008, Hà Nội) and in Xã Tân Lập (25489, Tây Ninh)."""
    with session_scope() as session:
        add_staff(
            session=session, username="Lan", display_name="Chị Lan", password=PASSWORD,
            commune_code="00004",
        )  # fmt: skip
        add_staff(
            session=session, username="hung", display_name="Anh Hùng", password=PASSWORD,
            province_code="01",
        )  # fmt: skip
        when = LAST_MONTH.start + timedelta(days=9, hours=3)
        for commune, residents in (("00004", 7), ("00008", 2), ("25489", 3)):
            for n in range(residents):
                record_event(
                    session=session, type=EventType.MESSAGE_IN, channel="web",
                    resident_id=f"{commune}-{n}", commune_code=commune, occurred_at=when,
                )  # fmt: skip
    with TestClient(create_app(offline_settings(app_database)), base_url="https://testserver") as c:
        yield c


def sign_in(client: TestClient, username: str) -> str:
    response = client.post("/admin/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf"]
    return csrf


def report(client: TestClient, fmt: str = "html", **place: str) -> tuple[int, str, bytes]:
    response = client.get(
        "/admin/api/report", params={**place, "month": LAST_MONTH.label, "format": fmt}
    )
    return response.status_code, response.headers.get("content-type", ""), response.content


def test_the_page_is_static_html_under_a_strict_content_policy(client: TestClient) -> None:
    response = client.get("/admin/reports")
    assert response.status_code == 200
    assert 'lang="vi"' in response.text
    assert '<script type="module" src="/static/js/admin/main.js"></script>' in response.text
    assert "<script>" not in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    for name in ("js/admin/main.js", "admin.css", "base.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_sign_in_sets_a_secure_cookie_and_wrong_passwords_are_refused(client: TestClient) -> None:
    assert client.get("/admin/api/me").status_code == 401
    wrong = client.post("/admin/api/login", json={"username": "lan", "password": "sai-mat-khau"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Tên đăng nhập hoặc mật khẩu không đúng."
    unknown = client.post("/admin/api/login", json={"username": "ai", "password": PASSWORD})
    assert unknown.status_code == 401
    assert unknown.json() == wrong.json()
    response = client.post("/admin/api/login", json={"username": "LAN", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    for flag in ("cns_admin=", "httponly", "secure", "samesite=strict", "path=/admin"):
        assert flag in cookie
    me = client.get("/admin/api/me").json()
    assert me["name"] == "Chị Lan"
    assert me["scope"] == {"kind": "commune", "code": "00004", "name": "Phường Ba Đình, Hà Nội"}
    assert me["communes"] == [{"code": "00004", "name": "Phường Ba Đình"}]
    assert me["default_month"] == LAST_MONTH.label
    assert me["months"][1] == {"value": LAST_MONTH.label, "label": labels.month(LAST_MONTH)}
    assert len(me["months"]) == 24


def test_a_desk_session_is_no_admin_session(client: TestClient) -> None:
    sign_in(client, "lan")
    assert client.get("/desk/api/me").status_code == 401


def test_sign_in_is_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        client.post("/admin/api/login", json={"username": "hung", "password": "sai-mat-khau"})
    blocked = client.post("/admin/api/login", json={"username": "hung", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["detail"].startswith("Anh/chị đã thử sai nhiều lần")


def test_reports_need_a_session(client: TestClient) -> None:
    response = client.get("/admin/api/report", params={"commune": "00004"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Anh/chị cần đăng nhập lại."


def test_sign_out_needs_the_csrf_token(client: TestClient) -> None:
    csrf = sign_in(client, "lan")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        assert client.post("/admin/api/logout", headers=headers).status_code == 403
    assert client.get("/admin/api/me").status_code == 200
    assert client.post("/admin/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/admin/api/me").status_code == 401


def test_commune_staff_get_their_commune_in_every_format(client: TestClient) -> None:
    sign_in(client, "lan")
    stem = f"bao-cao-xa-00004-{LAST_MONTH.label}"

    html = client.get("/admin/api/report", params={"commune": "00004", "month": LAST_MONTH.label})
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["content-disposition"] == f'inline; filename="{stem}.html"'
    policy = html.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "frame-ancestors 'self'" in policy
    assert "script-src" not in policy  # default-src 'none': no script at all
    assert "Phường Ba Đình" in html.text
    assert html.headers["cache-control"] == "no-store"

    status, media, body = report(client, "xlsx", commune="00004")
    assert (status, media) == (200, XLSX)
    assert body[:2] == b"PK"
    xlsx = client.get(
        "/admin/api/report",
        params={"commune": "00004", "month": LAST_MONTH.label, "format": "xlsx"},
    )
    assert xlsx.headers["content-disposition"] == f'attachment; filename="{stem}.xlsx"'

    csv = client.get(
        "/admin/api/report", params={"commune": "00004", "month": LAST_MONTH.label, "format": "csv"}
    )
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == f'attachment; filename="{stem}.csv"'
    assert "00004" in csv.content.decode("utf-8-sig")


def test_commune_staff_get_404_for_other_places(client: TestClient) -> None:
    sign_in(client, "lan")
    for place in ({"commune": "00008"}, {"province": "01"}, {"commune": "99999"}):
        status, _, body = report(client, **place)
        assert status == 404, place
        assert NOT_FOUND in body.decode()


def test_province_staff_get_the_roll_up_and_their_communes_only(client: TestClient) -> None:
    sign_in(client, "hung")
    me = client.get("/admin/api/me").json()
    assert me["scope"] == {"kind": "province", "code": "01", "name": "Thành phố Hà Nội"}
    assert {"code": "00008", "name": "Phường Ngọc Hà"} in me["communes"]
    assert len(me["communes"]) > 100

    status, media, body = report(client, province="01")
    assert (status, media) == (200, "text/html; charset=utf-8")
    assert "Thành phố Hà Nội" in body.decode()
    assert "Phường Ngọc Hà" in body.decode()
    status, media, body = report(client, "xlsx", province="01")
    assert (status, media, body[:2]) == (200, XLSX, b"PK")
    status, _, body = report(client, commune="00008")
    assert status == 200
    assert "Phường Ngọc Hà" in body.decode()

    for place in ({"commune": "25489"}, {"province": "80"}, {"province": "77"}):
        status, _, body = report(client, **place)
        assert status == 404, place
        assert NOT_FOUND in body.decode()


def test_bad_requests_get_a_polite_422(client: TestClient) -> None:
    sign_in(client, "lan")
    this_month = Period.containing(utcnow())
    for params in (
        {"commune": "00004", "month": "2026-13"},
        {"commune": "00004", "month": "thang 10"},
        {"commune": "00004", "month": this_month.next().label},
        {"commune": "00004", "format": "pdf"},
        {},
        {"commune": "00004", "province": "01"},
    ):
        response = client.get("/admin/api/report", params=params)
        assert response.status_code == 422, params
        assert "Anh/chị" in response.json()["detail"]
    bad = client.get("/admin/api/report", params={"commune": "00004", "month": "2026-13"})
    assert bad.json()["detail"].startswith("Tháng chưa đúng.")


def test_months_no_report_can_have_get_a_polite_422(client: TestClient) -> None:
    sign_in(client, "lan")
    for month in ("0001-01", "0000-01", "1999-12", "9999-12", "10000-01", "٢٠٢٦-١٠", "2026-1"):
        response = client.get("/admin/api/report", params={"commune": "00004", "month": month})
        assert response.status_code == 422, month
        assert response.json()["detail"].startswith("Tháng chưa đúng."), month


def test_the_month_defaults_to_last_month(client: TestClient) -> None:
    sign_in(client, "lan")
    response = client.get("/admin/api/report", params={"commune": "00004", "format": "csv"})
    assert response.status_code == 200
    assert f"-{LAST_MONTH.label}.csv" in response.headers["content-disposition"]


def test_a_removed_staff_member_is_signed_out(client: TestClient) -> None:
    sign_in(client, "lan")
    with session_scope() as session:
        remove_staff(session=session, username="lan")
    assert client.get("/admin/api/me").status_code == 401
    assert report(client, commune="00004")[0] == 401


def test_an_unreadable_session_means_signing_in_again(client: TestClient) -> None:
    assert client.portal is not None
    redis = client.app.state.redis  # type: ignore[attr-defined]
    old = '{"volunteer": 1, "csrf": "x"}'  # as the desk stored sessions before
    client.portal.call(redis.set, "admin:session:old", old)
    client.cookies.set("cns_admin", "old")
    response = client.get("/admin/api/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Anh/chị cần đăng nhập lại."
