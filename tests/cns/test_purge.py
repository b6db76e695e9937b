"""`cns purge`: the kept words of a question the bot missed go after RETENTION_DAYS, newer
ones and the events stay."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from cns.main import cli
from core.db import session_scope
from core.models import Event, EventType, FallbackText, utcnow
from core.repositories.events import keep_fallback_text, record_event


def _missed(days_ago: int, words: str) -> None:
    with session_scope() as session:
        event = record_event(
            session=session, type=EventType.FALLBACK, channel="zalo", resident_id="r1",
            commune_code="00004", key="service_id_card",
            occurred_at=utcnow() - timedelta(days=days_ago),
        )  # fmt: skip
        keep_fallback_text(session=session, event=event, text=words)


def test_purge_deletes_only_what_is_past_retention(app_database: str) -> None:
    _missed(91, "doi sim chinh chu")
    _missed(89, "app loi ko vao dc")
    result = CliRunner().invoke(cli, ["purge"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Deleted 0 handoff messages and 1 unanswered questions older than 90 days, "
        "and 0 walkthrough or lesson positions of residents without consent.\n"
    )
    with session_scope() as session:
        assert list(session.scalars(select(FallbackText.text))) == ["app loi ko vao dc"]
        assert session.scalar(select(func.count()).select_from(Event)) == 2
