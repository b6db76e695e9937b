"""Progress through walkthroughs and lessons, per resident, so they can leave and come back
(after their session only with their consent: `purge_unconsented`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db import rowcount
from core.models import FlowKind, Progress, Resident, utcnow


def get_progress(
    *, session: Session, resident_id: str, kind: FlowKind, key: str
) -> Progress | None:
    return session.scalars(
        select(Progress).where(
            Progress.resident_id == resident_id, Progress.kind == kind, Progress.key == key
        )
    ).one_or_none()


def start_flow(*, session: Session, resident_id: str, kind: FlowKind, key: str) -> Progress:
    """Begin (or begin again) a walkthrough or lesson at its first position."""
    progress = get_progress(session=session, resident_id=resident_id, kind=kind, key=key)
    now = utcnow()
    if progress is None:
        progress = Progress(resident_id=resident_id, kind=kind, key=key, times_completed=0)
        session.add(progress)
    progress.position = 0
    progress.correct = 0
    progress.started_at = now
    progress.updated_at = now
    progress.completed_at = None
    session.flush()
    return progress


def move_to(*, session: Session, progress: Progress, position: int) -> None:
    """Put the resident at `position` of the flow `progress` tracks."""
    progress.position = position
    progress.updated_at = utcnow()
    session.flush()


def complete_flow(*, session: Session, progress: Progress) -> None:
    progress.completed_at = progress.updated_at = utcnow()
    progress.times_completed += 1
    session.flush()


def latest_unfinished(*, session: Session, resident_id: str) -> Progress | None:
    """The walkthrough or lesson the resident touched last and has not finished."""
    return session.scalars(
        select(Progress)
        .where(Progress.resident_id == resident_id, Progress.completed_at.is_(None))
        .order_by(Progress.updated_at.desc(), Progress.id.desc())
        .limit(1)
    ).first()


def completed_keys(*, session: Session, resident_id: str, kind: FlowKind) -> set[str]:
    """Keys the resident has finished at least once (starting again keeps the mark)."""
    return set(
        session.scalars(
            select(Progress.key).where(
                Progress.resident_id == resident_id,
                Progress.kind == kind,
                Progress.times_completed > 0,
            )
        )
    )


def purge_unconsented(*, session: Session, touched_before: datetime) -> int:
    """Delete the progress, untouched since `touched_before`, of residents who have not agreed
    to the privacy notice; how many rows went."""
    consented = select(Resident.id).where(Resident.consent.is_(True))
    return rowcount(
        session,
        delete(Progress).where(
            Progress.updated_at < touched_before, Progress.resident_id.not_in(consented)
        ),
    )
