"""The workers' tasks: a desk job's handler, and one stage of one item.

``tolmach.job(job_id)`` takes a queued job (one guarded UPDATE), runs its handler (ingest,
re-translate a segment, ...) with a workspace whose ``process`` queues the item's first stage
instead of running the stages here. ``tolmach.stage(job_id, item_id, stage)`` claims the stage
(:mod:`~tolmach.distributed.claims`), runs it with the pipeline's runner, releases the claim
and queues the next stage (:func:`~tolmach.distributed.dispatch.advance`). A task delivered
for a stage the job has moved past is dropped; one whose stage a live worker holds waits and
tries again; one whose claim holder died takes it over, counting a new attempt of the job.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Celery, Task  # type: ignore[import-untyped]
from sqlalchemy import or_, update
from sqlalchemy.exc import OperationalError

from tolmach.config import Settings
from tolmach.distributed import claims, dispatch
from tolmach.errors import TolmachError
from tolmach.pipeline import runner
from tolmach.store.desk import Job
from tolmach.store.tables import utcnow
from tolmach.web.jobrun import JobProgress, as_operator, run_handler
from tolmach.workspace import Workspace

log = logging.getLogger(__name__)

STAGES = {stage.name: stage for stage in runner.STAGES}


def worker_name() -> str:
    """This worker process, as claims and jobs name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


@functools.lru_cache(maxsize=1)
def _workspace(settings_json: str) -> Workspace:
    """The worker's workspace, opened on its first task and kept (its models stay loaded)."""
    return Workspace.open(Settings.model_validate_json(settings_json))


def register(app: Celery, settings: Settings) -> None:
    """Add the tasks to ``app``, run with ``settings`` (the worker's own)."""
    frozen = settings.model_dump_json()
    pause = max(1.0, settings.claim_stale_s / 4)

    @app.task(name="tolmach.job", bind=True)  # type: ignore[untyped-decorator]
    def job_task(self: Task, job_id: int) -> None:
        run_job(_workspace(frozen), job_id, worker_name())

    @app.task(name="tolmach.stage", bind=True, max_retries=None)  # type: ignore[untyped-decorator]
    def stage_task(self: Task, job_id: int, item_id: str, stage: str) -> None:
        try:
            ran = run_stage(_workspace(frozen), job_id, item_id, stage, worker_name())
        except OperationalError as exc:  # the database is away: the job waits, not fails
            log.warning("[%s:%s] database error, tried again later: %s", item_id, stage, exc)
            raise self.retry(countdown=pause) from None
        if not ran:
            raise self.retry(countdown=pause)


@dataclass
class Dispatching(Workspace):
    """A workspace whose ``process`` queues the item's stages on the workers."""

    job_id: int = 0

    def process(
        self, item_id: str, on_event: runner.StageEvent = lambda s, k, d, t: None
    ) -> dict[str, dict[str, Any]]:
        with self.db.begin() as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(item_id=item_id))
        dispatch.advance(self.db, self.settings, self.job_id, item_id, after=None)
        return {}


def run_job(ws: Workspace, job_id: int, worker: str) -> None:
    """Take job ``job_id`` (or the job of a worker that died) and run its handler."""
    stale = utcnow() - timedelta(seconds=ws.settings.claim_stale_s)
    with ws.db.begin() as session:
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id)
            .where(
                or_(Job.status == "queued", (Job.status == "running") & (Job.heartbeat_at < stale))
            )
            .where(Job.stage.not_in(list(STAGES)))  # once its stages run, stage tasks carry it
            .values(
                status="running",
                worker=worker,
                attempts=Job.attempts + 1,
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                error="",
            )
        ).rowcount  # type: ignore[attr-defined]
        job = session.get(Job, job_id)
    if not taken or job is None:
        log.info("job %s is not queued (or taken by a live worker): nothing to do", job_id)
        return
    mine = as_operator(ws, job)
    dispatching = Dispatching(mine.settings, mine.db, mine.blobs, job_id=job_id)
    # the job is done when its last stage is, not when the handler returns
    run_handler(dispatching, job, JobProgress(ws.db, job_id, worker))


def run_stage(ws: Workspace, job_id: int, item_id: str, name: str, worker: str) -> bool:
    """Run stage ``name`` of ``item_id`` for job ``job_id``; False when a live worker holds
    the stage (the task is to be tried again later)."""
    with ws.db() as session:
        job = session.get(Job, job_id)
    if job is None or job.status != "running" or job.stage != name:
        log.info("[%s:%s] job %s has moved on: delivery dropped", item_id, name, job_id)
        return True
    taken = claims.claim(ws.db, item_id, name, worker, job_id, ws.settings.claim_stale_s)
    if taken is None:
        log.info("[%s:%s] held by a live worker: tried again later", item_id, name)
        return False
    try:
        values: dict[str, Any] = {"worker": worker, "heartbeat_at": utcnow()}
        if taken.taken_from:
            _sweep(ws, item_id, name)
            values["attempts"] = Job.attempts + 1
            values["message"] = f"{name}: retried, worker {taken.taken_from} was lost"
        with ws.db.begin() as session:
            mine = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.stage == name)
                .values(**values)
            ).rowcount  # type: ignore[attr-defined]
        if not mine:
            return True
        if not _run(as_operator(ws, job), job_id, item_id, name, worker):
            return True
    finally:
        claims.release(ws.db, item_id, name, worker)
    dispatch.advance(ws.db, ws.settings, job_id, item_id, after=name)
    return True


def _run(ws: Workspace, job_id: int, item_id: str, name: str, worker: str) -> bool:
    """Run the stage under a heartbeat; False when it failed (the job then says why)."""
    progress = JobProgress(ws.db, job_id, worker)
    every = max(0.5, ws.settings.claim_stale_s / 5)
    try:
        with claims.Heartbeat(ws.db, item_id, name, worker, every):
            with ws.db() as session:
                info = runner.item_info(session, item_id)
            runner.run_one(ws.db, ws.blobs, ws.settings, info, STAGES[name], progress)
    except TolmachError as exc:
        log.warning("[%s:%s] job %d failed: %s", item_id, name, job_id, exc)
        progress.finish("failed", exc.message, exc.hint)
        return False
    except Exception as exc:  # a bug: logged in full, kept short on the job
        log.exception("[%s:%s] job %d failed", item_id, name, job_id)
        progress.finish("failed", f"Internal error ({type(exc).__name__}): {exc}"[:300])
        return False
    return True


def _sweep(ws: Workspace, item_id: str, name: str) -> None:
    """Remove the scratch folders a lost run of this stage left on this machine."""
    for stale in ws.settings.work_dir.glob(f"{item_id}-{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
