"""`cns announce`: commune staff draft for their commune, a second staff member approves (or the
author, with ANNOUNCEMENT_APPROVAL=false), province staff choose communes by name without
diacritics, `show` prints each channel's messages and the reach, cancel; refusals are clear
errors, never tracebacks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from cns.main import cli
from core.db import session_scope
from core.models import Announcement, AnnouncementStatus, DeliveryStatus, utcnow
from core.repositories.announcements import Target
from core.repositories.staff import add_staff
from tests.databases import forget_database_caches
from tests.factories import claim_deliveries

PASSWORD = "mat-khau-rat-dai-1"
TEXT = "Sáng thứ Bảy, nhà văn hóa tổ 3 hướng dẫn cài VNeID."


@pytest.fixture
def staff(app_database: str) -> None:
    """Lan and Hoa write for Ba Đình (00004), Minh for Thủ Dầu Một, Hùng for Hà Nội."""
    with session_scope() as session:
        for username, name, scope in (
            ("lan", "Chị Lan", {"commune_code": "00004"}),
            ("hoa", "Chị Hoa", {"commune_code": "00004"}),
            ("minh", "Anh Minh", {"commune_code": "25747"}),
            ("hung", "Anh Hùng", {"province_code": "01"}),
        ):
            add_staff(
                session=session, username=username, display_name=name, password=PASSWORD, **scope
            )


def _invoke(*args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["announce", *args], input=answer)


def _run(*args: str) -> str:
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def _refused(*args: str) -> str:
    result = _invoke(*args)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def _only_id() -> int:
    with session_scope() as session:
        return int(session.scalars(select(Announcement.id)).one())


@pytest.mark.usefixtures("staff")
def test_a_commune_draft_approved_by_a_second_person_then_cancelled() -> None:
    out = _run(
        "create", "--as", "lan", "--title", "Ngày hỗ trợ số", "--text", TEXT,
        "--category", "event", "--send-at", "2030-05-01T08:00",
    )  # fmt: skip
    made = _only_id()
    assert out == (
        f"Announcement {made} saved as a draft for Phường Ba Đình, Hà Nội, to go at "
        f"08:00 01/05/2030 (Vietnam time). Another staff member approves it: "
        f"`cns announce approve {made} --as …`.\n"
    )
    assert _run("list", "--as", "hoa") == (
        f"{made}\tChờ duyệt\t📅 Sự kiện\tPhường Ba Đình, Hà Nội\t08:00 01/05/2030\t"
        "Ngày hỗ trợ số\tsent 0/0\n"
    )
    assert _run("list", "--as", "minh") == "No announcements yet.\n"
    assert "Cần một cán bộ khác duyệt thông báo này." in _refused(
        "approve", str(made), "--as", "lan"
    )
    assert "Không tìm thấy thông báo này." in _refused("approve", str(made), "--as", "minh")
    assert _run("approve", str(made), "--as", "hoa") == (
        f"Announcement {made} approved; it goes at 08:00 01/05/2030 (Vietnam time).\n"
    )
    shown = _run("show", str(made), "--as", "lan")
    assert shown.startswith(
        f"#{made} Ngày hỗ trợ số\n"
        "Đã duyệt, chờ giờ gửi · 📅 Sự kiện · Phường Ba Đình, Hà Nội\n"
        "Send at 08:00 01/05/2030, expires 08:00 08/05/2030 (Vietnam time)\n"
        "Written by Chị Lan; approved by Chị Hoa\n"
    )
    assert "  Sent: 0\n" in shown
    for channel in ("Telegram", "Zalo", "Trang web"):
        assert (
            f"--- {channel}, message 1 of 1 ---\n"
            f"📅 Sự kiện · Thông báo của xã/phường\nNgày hỗ trợ số\n\n{TEXT}\n"
            "[Hỏi thêm]\n[Hủy nhận thông báo]"
        ) in shown
    assert _run("cancel", str(made), "--as", "lan") == (
        f"Announcement {made} cancelled (0 deliveries made before).\n"
    )
    assert "đã gửi xong hoặc đã hủy" in _refused("cancel", str(made), "--as", "lan")


@pytest.mark.usefixtures("staff")
def test_province_staff_choose_communes_by_name(tmp_path: Path) -> None:
    text = tmp_path / "thong-bao.txt"
    text.write_text("Lịch tiêm chủng tháng 12 ở trạm y tế.\n", encoding="utf-8")
    _run(
        "create", "--as", "hung", "--title", "Tiêm chủng", "--text-file", str(text),
        "--category", "policy", "--province", "ha noi", "--communes", "phuong ngoc ha, 00004",
    )  # fmt: skip
    made = _only_id()
    listed = _run("list", "--as", "hung")
    assert "\tThành phố Hà Nội: Phường Ba Đình, Phường Ngọc Hà\t" in listed
    assert "Lịch tiêm chủng tháng 12 ở trạm y tế.\n" in _run("show", str(made), "--as", "hung")
    assert "Không tìm thấy thông báo này." in _refused("show", str(made), "--as", "lan")
    refused = _refused(
        "create", "--as", "hung", "--title", "T", "--text", TEXT, "--category", "event",
        "--communes", "25747",
    )  # fmt: skip
    assert "Xã/phường mã 25747 không thuộc tỉnh này." in refused


@pytest.mark.usefixtures("staff")
def test_the_reach_is_shown_by_reason() -> None:
    _run("create", "--as", "lan", "--title", "Mất điện", "--text", TEXT, "--category", "warning")
    made = _only_id()
    with session_scope() as session:
        announcement = session.get(Announcement, made)
        assert announcement is not None
        announcement.status = AnnouncementStatus.SENDING
        announcement.started_at = utcnow() - timedelta(minutes=5)
        claim_deliveries(
            session=session,
            announcement_id=made,
            targets=[
                (Target("a", "zalo", "a", "00004"), DeliveryStatus.UNREACHABLE, "zalo_48h"),
                (Target("b", "telegram", "b", "00004"), DeliveryStatus.FAILED, "blocked"),
                (Target("c", "web", "c", "00004"), DeliveryStatus.SENT, None),
            ],
        )
    shown = _run("show", str(made), "--as", "hoa")
    assert (
        "Reach:\n"
        "  Deliveries (one per resident and channel): 3\n"
        "  Sent: 1\n"
        "  Waiting for the platform's answer: 0\n"
        "  Failed: 1\n"
        "    chặn bot (blocked): 1\n"
        "  Not reachable now: 1\n"
        "    Zalo quá 48 giờ từ tin cuối của người dân (zalo_48h): 1\n"
    ) in shown
    assert _run("cancel", str(made), "--as", "hoa") == (
        f"Announcement {made} cancelled (3 deliveries made before).\n"
    )


@pytest.mark.usefixtures("staff")
def test_with_approval_off_the_author_approves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOUNCEMENT_APPROVAL", "false")
    forget_database_caches()
    out = _run("create", "--as", "lan", "--title", "T", "--text", TEXT, "--category", "event")
    made = _only_id()
    assert out.endswith(f"It goes once approved: `cns announce approve {made} --as …`.\n")
    assert _run("approve", str(made), "--as", "lan").startswith(f"Announcement {made} approved")


@pytest.mark.usefixtures("staff")
def test_mistakes_are_clear_errors(tmp_path: Path) -> None:
    base = ("create", "--as", "lan", "--title", "T", "--category", "event")
    assert "no staff member ai" in _refused("list", "--as", "ai")
    assert "exactly one of --text or --text-file" in _refused(*base)
    both = (*base, "--text", TEXT, "--text-file", __file__)
    assert "exactly one of --text or --text-file" in _refused(*both)
    assert "Nội dung cần có, dài tối đa 1000 ký tự." in _refused(*base, "--text", "x" * 1001)
    assert "Thời điểm gửi chưa đúng" in _refused(*base, "--text", TEXT, "--send-at", "sang mai")
    assert "Anh/chị không phụ trách xã/phường này." in _refused(
        *base, "--text", TEXT, "--commune", "phuong ngoc ha"
    )
    assert "Invalid value for '--category'" in _refused(
        "create", "--as", "lan", "--title", "T", "--text", TEXT, "--category", "ads"
    )
    assert "Không tìm thấy thông báo này." in _refused("show", "424242", "--as", "lan")
    assert "Invalid value for 'ANNOUNCEMENT_ID'" in _refused("show", "0", "--as", "lan")
    assert "--commune goes alone" in _refused(
        *base, "--text", TEXT, "--commune", "00004", "--province", "01"
    )
    with session_scope() as session:
        assert session.scalars(select(Announcement.id)).all() == []
