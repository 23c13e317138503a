"""The child process that runs one job of the desk's queue (see :mod:`tolmach.web.jobs`):

    python -m tolmach.web.jobrun JOB_ID WORKER      # the desk's settings: one JSON line on stdin

It lowers its priority (``web_job_nice``), runs the job's handler, writes progress to the job
row and records the outcome. Every write is guarded by ``WORKER``, the claim it was started
for, so a child a restart has given up on can't overwrite a newer run. It ends on SIGTERM
without recording anything (the job is queued again at the next start), and kills itself and
its subprocesses when stdin closes, that is when the server died without stopping it.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import FrameType
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tolmach import log as tolmach_log
from tolmach.config import Settings
from tolmach.errors import TolmachError
from tolmach.store.desk import Job
from tolmach.store.tables import utcnow
from tolmach.workspace import Workspace

log = logging.getLogger(__name__)

WRITE_EVERY_S = 0.5  # progress within a stage is written at most this often
Handler = Callable[[Workspace, int, "str | None", dict[str, Any], "JobProgress"], None]


class Interrupted(BaseException):
    """SIGTERM: the server is stopping. Not an Exception, so no handler takes it for a failure."""


class JobProgress:
    """Writes a job's progress to its row; called like the runner's ``on_event``."""

    def __init__(self, db: sessionmaker[Session], job_id: int, worker: str) -> None:
        self.db = db
        self.job_id = job_id
        self.worker = worker
        self._stage = ""
        self._written = 0.0

    def __call__(self, stage: str, kind: str, done: float, total: float) -> None:
        now = time.monotonic()
        if kind == "progress" and stage == self._stage and now - self._written < WRITE_EVERY_S:
            return
        self._stage, self._written = stage, now
        values: dict[str, Any] = {"stage": stage, "done": done, "total": total}
        words = {"start": "started", "skip": "done earlier", "done": "done"}
        if kind in words:
            values["message"] = f"{stage}: {words[kind]}"
        self._write(values)

    def bytes(self, stage: str) -> Callable[[int, int], None]:
        """A blob store ``on_progress`` reporting as ``stage``."""
        return lambda done, total: self(stage, "progress", done, total)

    def item(self, item_id: str) -> None:
        """Record the item this job made (or works on), as soon as it exists."""
        self._write({"item_id": item_id})

    def finish(self, status: str, error: str = "", message: str = "") -> None:
        self._write({"status": status, "error": error, "message": message, "finished_at": utcnow()})

    def _write(self, values: dict[str, Any]) -> None:
        with self.db.begin() as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.worker == self.worker, Job.status == "running")
                .values(heartbeat_at=utcnow(), **values)
            )


def handler(kind: str) -> Handler:
    from tolmach.web.jobs import HANDLERS

    module, name = HANDLERS[kind].split(":")
    found: Handler = getattr(importlib.import_module(module), name)
    return found


def run(ws: Workspace, job_id: int, worker: str) -> None:
    """Run job ``job_id`` claimed as ``worker``; record done or failed on its row."""
    with ws.db() as session:
        job = session.get(Job, job_id)
    if job is None or job.worker != worker or job.status != "running":
        log.warning("job %s is not running as %s: nothing to do", job_id, worker)
        return
    progress = JobProgress(ws.db, job_id, worker)
    if run_handler(as_operator(ws, job), job, progress):
        progress.finish("done", message="Done.")


def as_operator(ws: Workspace, job: Job) -> Workspace:
    """Who asked for the job is the operator of all it does (the custody log says so)."""
    if not job.created_by:
        return ws
    return replace(ws, settings=ws.settings.model_copy(update={"operator": job.created_by}))


def run_handler(ws: Workspace, job: Job, progress: JobProgress) -> bool:
    """Run ``job``'s handler in ``ws``: True when it returned; a failure is recorded on the
    job's row (with the user's message, or kept short for a bug), not raised."""
    try:
        handler(job.kind)(ws, job.id, job.item_id, json.loads(job.payload_json), progress)
    except TolmachError as exc:
        log.warning("job %d (%s) failed: %s", job.id, job.kind, exc)
        progress.finish("failed", exc.message, exc.hint)
    except Exception as exc:  # a bug: logged in full, kept short on the job
        log.exception("job %d (%s) failed", job.id, job.kind)
        short = f"Internal error ({type(exc).__name__}): {exc}"[:300]
        progress.finish("failed", short, "This is a bug in tolmach; the server's log has details.")
    else:
        return True
    return False


def _interrupt(_sig: int, _frame: FrameType | None) -> None:
    raise Interrupted()


def _end_with_parent() -> None:
    sys.stdin.buffer.read()  # returns at end of file: the server is gone
    if os.getpgrp() == os.getpid():  # started as a group of its own: end ffmpeg and all
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(137)


def main(argv: list[str]) -> int:
    job_id, worker = int(argv[0]), argv[1]
    settings = Settings.model_validate_json(sys.stdin.buffer.readline())
    os.nice(settings.web_job_nice)
    signal.signal(signal.SIGTERM, _interrupt)
    threading.Thread(target=_end_with_parent, daemon=True).start()
    tolmach_log.setup()
    ws = Workspace.open(settings)
    try:
        run(ws, job_id, worker)
    except Interrupted:
        log.warning("job %d stopped with the server; it runs again at the next start", job_id)
        return 143
    finally:
        ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
