"""Stage claims: a row per (item, stage) that a worker is running, kept alive by a heartbeat.

A worker claims a stage before it runs it, so a stage of an item runs on at most one worker
at a time even when the broker delivers its task twice. A claim whose heartbeat is older than
``claim_stale_s`` belongs to a worker that died: another may take it over (one guarded UPDATE,
so two never both do). Claims are released when the stage ends, well or not.

    taken = claim(db, item_id, "transcribe", worker, job_id, stale_s=60)
    if taken is not None:
        with Heartbeat(db, item_id, "transcribe", worker, every_s=15):
            ...
        release(db, item_id, "transcribe", worker)

Only portable SQL: an INSERT that fails on the primary key, and guarded UPDATEs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import DateTime, ForeignKey, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tolmach.store.tables import Base, utcnow

log = logging.getLogger(__name__)


class StageClaim(Base):
    """A stage of an item that ``worker`` is running now (for job ``job_id``)."""

    __tablename__ = "stage_claims"

    item_id: Mapped[str] = mapped_column(String(16), ForeignKey("items.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    worker: Mapped[str] = mapped_column(String(96))
    job_id: Mapped[int | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime] = mapped_column(DateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime())


@dataclass(frozen=True)
class Taken:
    """A claim this worker holds; ``taken_from`` names the dead worker it replaced, if any."""

    item_id: str
    stage: str
    worker: str
    taken_from: str = ""


def claim(
    db: sessionmaker[Session],
    item_id: str,
    stage: str,
    worker: str,
    job_id: int | None,
    stale_s: float,
) -> Taken | None:
    """Claim ``stage`` of ``item_id`` for ``worker``; None while a live worker holds it."""
    now = utcnow()
    try:
        with db.begin() as session:
            session.add(
                StageClaim(
                    item_id=item_id,
                    stage=stage,
                    worker=worker,
                    job_id=job_id,
                    claimed_at=now,
                    heartbeat_at=now,
                )
            )
        return Taken(item_id, stage, worker)
    except IntegrityError:
        pass  # held: by a live worker, or a dead one whose claim may be taken over
    with db.begin() as session:
        held = session.get(StageClaim, (item_id, stage))
        if held is None:  # released meanwhile: try again from the start
            return claim(db, item_id, stage, worker, job_id, stale_s)
        if held.worker == worker:  # the same delivery again (a retry): still ours
            return Taken(item_id, stage, worker)
        if now - held.heartbeat_at < timedelta(seconds=stale_s):
            return None
        dead, beat = held.worker, held.heartbeat_at
        took = session.execute(
            update(StageClaim)
            .where(StageClaim.item_id == item_id, StageClaim.stage == stage)
            .where(StageClaim.worker == dead, StageClaim.heartbeat_at == beat)
            .values(worker=worker, job_id=job_id, claimed_at=now, heartbeat_at=now)
        ).rowcount  # type: ignore[attr-defined]
    if not took:
        return None
    log.warning("[%s:%s] claim of a lost worker %s taken over", item_id, stage, dead)
    return Taken(item_id, stage, worker, taken_from=dead)


def release(db: sessionmaker[Session], item_id: str, stage: str, worker: str) -> None:
    """Drop the claim, if ``worker`` still holds it."""
    with db.begin() as session:
        session.execute(
            delete(StageClaim).where(
                StageClaim.item_id == item_id,
                StageClaim.stage == stage,
                StageClaim.worker == worker,
            )
        )


def beat(db: sessionmaker[Session], item_id: str, stage: str, worker: str) -> bool:
    """Renew the claim's heartbeat; False when ``worker`` no longer holds it."""
    with db.begin() as session:
        done = session.execute(
            update(StageClaim)
            .where(StageClaim.item_id == item_id, StageClaim.stage == stage)
            .where(StageClaim.worker == worker)
            .values(heartbeat_at=utcnow())
        ).rowcount  # type: ignore[attr-defined]
    return bool(done)


def live(db: sessionmaker[Session]) -> list[StageClaim]:
    """Every claim held now, oldest first."""
    with db() as session:
        return list(session.scalars(select(StageClaim).order_by(StageClaim.claimed_at)).all())


class Heartbeat:
    """A thread renewing a claim every ``every_s`` seconds while a stage runs."""

    def __init__(
        self, db: sessionmaker[Session], item_id: str, stage: str, worker: str, every_s: float
    ) -> None:
        self._args = (db, item_id, stage, worker)
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tolmach-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                if not beat(*self._args):
                    log.error("[%s:%s] claim lost by %s", *self._args[1:])
            except Exception:  # a locked database must not end the heartbeat
                log.exception("heartbeat of %s:%s failed", *self._args[1:3])
