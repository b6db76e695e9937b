"""Attempts at a walkthrough or lesson: the one under way, or a new one with its started event."""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions.tracking import record_for_tracker
from core.models import EventType, FlowKind, Progress
from core.repositories.progress import get_progress, start_flow

STARTED = {FlowKind.SERVICE: EventType.SERVICE_STARTED, FlowKind.LESSON: EventType.LESSON_STARTED}


def begin_attempt(session: Session, tracker: Tracker, kind: FlowKind, key: str) -> Progress:
    """Start (or start over) at the first position, and record it."""
    progress = start_flow(session=session, resident_id=tracker.sender_id, kind=kind, key=key)
    record_for_tracker(session, tracker, STARTED[kind], key=key)
    return progress


def ongoing_attempt(session: Session, tracker: Tracker, kind: FlowKind, key: str) -> Progress:
    """The unfinished attempt, or a new one (an old button of a finished flow starts over)."""
    progress = get_progress(session=session, resident_id=tracker.sender_id, kind=kind, key=key)
    if progress is None or progress.completed_at is not None:
        return begin_attempt(session, tracker, kind, key)
    return progress


def left_part_way(session: Session, tracker: Tracker, kind: FlowKind, key: str) -> Progress | None:
    """The unfinished attempt, if the resident got past its first position."""
    progress = get_progress(session=session, resident_id=tracker.sender_id, kind=kind, key=key)
    if progress is not None and progress.completed_at is None and progress.position > 0:
        return progress
    return None
