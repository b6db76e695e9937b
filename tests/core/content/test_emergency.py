"""The scam emergency path: validated, cited, and calm steps before anything else."""

from __future__ import annotations

from core.content.emergency import load_emergency


def test_scam_steps_cover_what_to_do_first() -> None:
    guide = load_emergency("scam")
    text = " ".join(guide.steps).lower()
    for must in ("không chuyển thêm tiền", "ngân hàng", "khóa tài khoản", "bằng chứng", "113"):
        assert must in text
    assert "tinnhiemmang.vn" in text or "canhbao.khonggianmang.vn" in text
    assert guide.sources
    assert guide.as_of.year >= 2025
