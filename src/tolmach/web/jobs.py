"""The desk's durable job queue: jobs are rows in ``jobs``, worked by threads of the server,
each job run in a child process so a crash or a slow model never takes the pages down.

    queue = JobQueue(ws, settings)
    queue.start()                                   # the app's lifespan does this
    job = queue.submit(session, "process", item_id=item.id, by=who.name)

A worker thread claims the oldest queued job with one guarded UPDATE (``WHERE status =
'queued'``), so two claimers never take the same job, and runs ``python -m
tolmach.web.jobrun JOB_ID WORKER`` under ``os.nice(settings.web_job_nice)``; the child writes
progress (stage, done, total, message, heartbeat_at) to the row and records the outcome.
``attempts`` counts the starts. At start, a job left ``running`` by a stopped or killed server
is queued again, or failed after ``MAX_ATTEMPTS`` starts; the pipeline skips the stages that
are done already, so running a job again is safe. ``stop()`` takes no more jobs and ends the
running children (their jobs are queued again at the next start). ``web_job_workers`` threads
run at once (0: this server only queues). One server works a data folder's queue.

Kinds of job map to a handler, named ``"module:function"`` in ``HANDLERS`` (a new kind is one
line there), with the signature

    def handler(ws: Workspace, job_id: int, item_id: str | None, payload: dict[str, Any],
                progress: tolmach.web.jobrun.JobProgress) -> None

It runs in the child with a workspace of its own. ``progress`` is the runner's
``on_event(stage, kind, done, total)`` (pass it to ``ws.process``); ``progress.bytes(stage)``
is a blob store ``on_progress``; ``progress.item(item_id)`` records the item a job made as
soon as it exists. A handler raises ``TolmachError`` for a failure the user can act on: the
job keeps its message in ``error`` and its hint in ``message``. Anything else is logged and
kept as a short error.

With ``job_runner = "celery"`` the queue runs nothing itself: ``submit`` adds the row and sends
it to the Celery workers when the session commits, which run the handler and then each stage
of the item as a task of its own (:mod:`tolmach.distributed`); ``start`` sends again the jobs
still queued, and those whose task was lost (:func:`tolmach.distributed.dispatch.resume`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.store.desk import Job, add_job
from tolmach.store.tables import utcnow
from tolmach.web.incoming import sweep_partial, upload_dir
from tolmach.workspace import Workspace

log = logging.getLogger(__name__)

HANDLERS: dict[str, str] = {
    "ingest_file": "tolmach.web.jobkinds:ingest_file",
    "ingest_url": "tolmach.web.jobkinds:ingest_url",
    "process": "tolmach.web.jobkinds:process",
    "edit": "tolmach.edits:run_job",  # re-translate an edited segment, then process
}
MAX_ATTEMPTS = 3
POLL_S = 1.0  # how often an idle worker looks for queued jobs
STOP_GRACE_S = 10.0  # how long a child may take to end after SIGTERM


def claim(db: sessionmaker[Session], worker: str) -> Job | None:
    """Take the oldest queued job for ``worker``; None when there is none."""
    while True:
        with db.begin() as session:
            job_id = session.scalar(
                select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
            )
            if job_id is None:
                return None
            now = utcnow()
            taken = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(
                    status="running",
                    worker=worker,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    error="",
                )
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return session.get(Job, job_id)
        # another claimer took it between the SELECT and the UPDATE: look again


def recover(db: sessionmaker[Session], settings: Settings) -> tuple[int, int]:
    """Queue again the jobs a stopped server left ``running``; fail those started
    ``MAX_ATTEMPTS`` times (and drop their uploads). Returns (queued, failed)."""
    with db.begin() as session:
        queued = session.execute(
            update(Job)
            .where(Job.status == "running", Job.attempts < MAX_ATTEMPTS)
            .values(status="queued", worker="", message="Queued again after a restart.")
        ).rowcount  # type: ignore[attr-defined]
        given_up = session.scalars(select(Job).where(Job.status == "running")).all()
        for job in given_up:
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"The job was interrupted {MAX_ATTEMPTS} times and is not tried again."
            job.message = "Look at the server's log for what stopped it, then submit it again."
            drop_upload(settings, job)
    return queued, len(given_up)


def drop_upload(settings: Settings, job: Job) -> None:
    """Remove the uploaded file of a job that will not run again."""
    name = json.loads(job.payload_json or "{}").get("upload")
    if name:
        (upload_dir(settings) / Path(str(name)).name).unlink(missing_ok=True)


def child_command(job_id: int, worker: str) -> list[str]:
    return [sys.executable, "-m", "tolmach.web.jobrun", str(job_id), worker]


class JobQueue:
    """Threads that run queued jobs in child processes; ``submit`` adds a job."""

    def __init__(self, ws: Workspace, settings: Settings) -> None:
        self.ws = ws
        self.settings = settings
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._name = f"{os.uname().nodename}:{os.getpid()}"
        self._celery = settings.job_runner == "celery"

    def start(self) -> None:
        if self._celery:
            self._resend()
            return
        queued, failed = recover(self.ws.db, self.settings)
        if queued or failed:
            log.warning("jobs left running: %d queued again, %d given up", queued, failed)
        sweep_partial(self.settings)
        self._stopping.clear()
        for n in range(self.settings.web_job_workers):  # 0: this server only queues jobs
            thread = threading.Thread(target=self._work, name=f"tolmach-job-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def running(self) -> bool:
        """Whether this process runs jobs (else it only queues them); Celery workers do."""
        return self._celery or bool(self._threads)

    def _resend(self) -> None:
        from tolmach.distributed.dispatch import resume

        try:
            sent = resume(self.ws.db, self.settings, self.settings.broker_visibility_s)
        except Exception:  # the broker is away: the desk still serves, the jobs wait
            log.exception("could not send the waiting jobs to %s", self.settings.broker_url)
            return
        if sent:
            log.info("%d waiting jobs sent to the workers again", len(sent))

    def stop(self) -> None:
        """Take no more jobs; end the running children (queued again at the next start)."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(STOP_GRACE_S + 5)
        self._threads.clear()

    def submit(
        self,
        session: Session,
        kind: str,
        *,
        item_id: str | None = None,
        payload: dict[str, Any] | None = None,
        by: str = "",
    ) -> Job:
        """Add a job in ``session``; a worker takes it once the session commits."""
        if kind not in HANDLERS:
            raise InputError(f"Unknown kind of job {kind!r}.", f"Known: {', '.join(HANDLERS)}.")
        if self._celery:
            from tolmach.distributed.dispatch import submit

            return submit(session, self.settings, kind, item_id=item_id, payload=payload, by=by)
        job = add_job(session, kind, item_id=item_id, payload=payload, by=by)
        event.listen(session, "after_commit", lambda _s: self._wake.set(), once=True)
        return job

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                job = claim(self.ws.db, f"{self._name}:{uuid.uuid4().hex[:12]}")
            except Exception:  # a locked or vanished database must not kill the worker
                log.exception("could not claim a job")
                job = None
            if job is None:
                self._wake.wait(POLL_S)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except Exception as exc:  # e.g. no child could be started: fail the job, keep working
                log.exception("job %d could not be run", job.id)
                self._fail_if_still_running(job, f"could not be run ({exc})")

    def _run(self, job: Job) -> None:
        child = subprocess.Popen(
            child_command(job.id, job.worker),
            stdin=subprocess.PIPE,
            start_new_session=True,  # its own process group: ffmpeg and all end with it
        )
        try:
            stdin = cast(IO[bytes], child.stdin)
            # The settings go on stdin, which stays open: the child ends itself when it closes,
            # that is when this server dies without a chance to stop it.
            stdin.write(self.settings.model_dump_json().encode() + b"\n")
            stdin.flush()
            code = self._wait(child)
        finally:
            _signal_group(child, signal.SIGKILL)  # whatever it left behind
            if child.stdin is not None:
                child.stdin.close()
        if not self._stopping.is_set():
            self._fail_if_still_running(job, f"ended unexpectedly (exit code {code})")

    def _wait(self, child: subprocess.Popen[bytes]) -> int:
        while True:
            try:
                return child.wait(POLL_S)
            except subprocess.TimeoutExpired:
                if self._stopping.is_set():
                    child.terminate()  # it ends its own subprocesses; _run kills the rest
                    try:
                        return child.wait(STOP_GRACE_S)
                    except subprocess.TimeoutExpired:
                        _signal_group(child, signal.SIGKILL)
                        return child.wait()

    def _fail_if_still_running(self, job: Job, why: str) -> None:
        """A child that ended without recording how the job went died: say so on the job."""
        with self.ws.db.begin() as session:
            ended = session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.worker == job.worker)
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    error=f"The job's process {why}.",
                    message="Look at the server's log; the file may be too large for memory.",
                )
            ).rowcount  # type: ignore[attr-defined]
        if ended:
            log.error("job %d: its process %s", job.id, why)
            drop_upload(self.settings, job)


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)
