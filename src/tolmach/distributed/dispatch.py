"""Sending work to the workers: a desk job, and then the next stage of its item.

A job is a row in ``jobs`` (as with the in-process queue) and a ``tolmach.job`` task sent once
the row is committed. When the job's item is known, :func:`advance` queues the item's first
stage that is not done; each stage's task, once its stage is recorded, calls it again. The
job's ``stage`` column says which stage was queued last: a guarded UPDATE moves it on, so of
two deliveries of one stage's task only one queues the next stage.

    job = submit(session, settings, "process", item_id=item_id, by="anna")
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.distributed.app import JOB_TASK, STAGE_TASK, queue_of, sender
from tolmach.pipeline import runner
from tolmach.pipeline.context import ItemInfo
from tolmach.store import queries
from tolmach.store.desk import Job, add_job
from tolmach.store.tables import utcnow

log = logging.getLogger(__name__)
STAGE_NAMES = {stage.name for stage in runner.STAGES}


def submit(
    session: Session,
    settings: Settings,
    kind: str,
    *,
    item_id: str | None = None,
    payload: dict[str, Any] | None = None,
    by: str = "",
) -> Job:
    """Add a job in ``session``; its task is sent when the session commits."""
    job = add_job(session, kind, item_id=item_id, payload=payload, by=by)
    job_id = job.id
    event.listen(session, "after_commit", lambda _s: _send_later(settings, job_id), once=True)
    return job


def _send_later(settings: Settings, job_id: int) -> None:
    """Send a committed job; if the broker can't be reached it stays queued, and the desk
    sends it again when it starts."""
    try:
        send_job(settings, job_id)
    except Exception:  # the job is safe in the database: say so, don't fail the request
        log.exception("job %d queued but not sent to %s", job_id, settings.broker_url)


def send_job(settings: Settings, job_id: int) -> None:
    """Send the task of a queued job (again: a job already taken ignores it)."""
    sender(settings).send_task(JOB_TASK, args=[job_id], queue="cpu")


def send_stage(settings: Settings, job_id: int, item_id: str, stage: str) -> None:
    sender(settings).send_task(STAGE_TASK, args=[job_id, item_id, stage], queue=queue_of(stage))


def next_stage(
    db: sessionmaker[Session], settings: Settings, info: ItemInfo
) -> tuple[runner.Stage | None, dict[str, dict[str, Any]]]:
    """The item's first stage that must run (None: all are done), and the summaries of the
    stages before it."""
    summaries: dict[str, dict[str, Any]] = {}
    with db() as session:
        inputs = queries.current_outputs(session, info.id)  # read once: none of them runs here
        for stage in runner.STAGES:
            if not runner.applies(stage, info, settings):
                continue
            summary = runner.pending(session, settings, info, stage, inputs)[2]
            if summary is None:
                return stage, summaries
            summaries[stage.name] = summary
    return None, summaries


def advance(
    db: sessionmaker[Session], settings: Settings, job_id: int, item_id: str, after: str | None
) -> str | None:
    """Queue the item's next stage for the job, or finish the job when none is left. ``after``
    is the stage that has just run (None: the job's handler, which holds the job): the job
    moves on only if that is still its stage. Returns the stage queued."""
    with db() as session:
        info = runner.item_info(session, item_id)
    stage, summaries = next_stage(db, settings, info)
    guard = [Job.id == job_id, Job.status == "running"]
    if after is not None:
        guard.append(Job.stage == after)
    if stage is None:
        runner.finish(db, item_id, summaries)
        values: dict[str, Any] = {"status": "done", "message": "Done.", "finished_at": utcnow()}
    else:
        values = {"stage": stage.name, "done": 0.0, "total": 1.0, "worker": ""}
        values["message"] = f"{stage.name}: queued"
    with db.begin() as session:
        moved = session.execute(
            update(Job).where(*guard).values(heartbeat_at=utcnow(), **values)
        ).rowcount  # type: ignore[attr-defined]
    if not moved:
        log.info("[%s] job %d has moved on already: nothing queued", item_id, job_id)
        return None
    if stage is None:
        log.info("[%s] job %d done", item_id, job_id)
        return None
    send_stage(settings, job_id, item_id, stage.name)
    return stage.name


def resume(db: sessionmaker[Session], settings: Settings, idle_s: float) -> list[int]:
    """Send again the tasks of jobs that are queued, or running with no claim on their item and
    no sign of life for ``idle_s`` seconds (their task was lost with the broker). A task sent
    twice is harmless: the job's row and the stage claims let one delivery do the work."""
    from tolmach.distributed.claims import StageClaim

    quiet = utcnow() - timedelta(seconds=idle_s)
    claimed = select(StageClaim.item_id).where(StageClaim.item_id == Job.item_id)
    with db() as session:
        jobs = session.scalars(
            select(Job)
            .where(
                (Job.status == "queued")
                | ((Job.status == "running") & (Job.heartbeat_at < quiet) & ~claimed.exists())
            )
            .order_by(Job.id)
        ).all()
    for job in jobs:
        if job.status == "running" and job.item_id and job.stage in STAGE_NAMES:
            send_stage(settings, job.id, job.item_id, job.stage)
        else:
            send_job(settings, job.id)
    return [job.id for job in jobs]
