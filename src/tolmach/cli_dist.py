"""Distributed commands: ``worker`` runs a Celery worker, ``jobs`` lists the jobs and who runs
them, and :func:`submit_item` is ``tolmach run --submit``."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from tolmach.cli_base import JsonOpt, app, emit, err, handled, load_settings, out, workspace
from tolmach.errors import ConfigError, InputError, TolmachError
from tolmach.store.desk import Job
from tolmach.store.tables import utcnow
from tolmach.workspace import Workspace

STATUSES = ("queued", "running", "done", "failed")


@app.command()
@handled
def worker(
    queues: Annotated[str, typer.Option(help="Queues to take tasks from: asr, cpu or both.")] = (
        "asr,cpu"
    ),
    name: Annotated[str | None, typer.Option(help="Worker name (default: host and pid).")] = None,
) -> None:
    """Run a Celery worker: it takes one task at a time from QUEUES (job_runner=celery)."""
    from tolmach.distributed.app import QUEUES, make_app
    from tolmach.distributed.tasks import worker_name

    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    if not chosen or any(q not in QUEUES for q in chosen):
        raise InputError(f"Unknown queues {queues!r}.", f"Name some of: {', '.join(QUEUES)}.")
    settings = load_settings()
    ws = Workspace.open(settings)  # the schema is brought up to date before any task runs
    ws.close()
    err.print(f"tolmach worker on {settings.broker_url}, queues {','.join(chosen)}")
    make_app(settings, worker=True).worker_main(
        [
            "worker",
            "--queues",
            ",".join(chosen),
            "--pool",
            "solo",  # one task at a time, in this process: a kill ends the stage with it
            "--hostname",
            f"{name or worker_name()}@%h".replace(":", "-"),
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
    )


@app.command()
@handled
def jobs(
    status: Annotated[str | None, typer.Option(help="Only queued, running, done or failed.")] = (
        None
    ),
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    resume: Annotated[
        float | None,
        typer.Option(
            help="First send again the tasks of jobs queued, or running with no worker on them "
            "and no progress for this many seconds (a broker that lost them).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List jobs: queued, running (stage and worker), failed, retried (attempts > 1)."""
    if status is not None and status not in STATUSES:
        raise InputError(f"Unknown status {status!r}.", f"Use one of: {', '.join(STATUSES)}.")
    ws = workspace()
    if resume is not None:
        from tolmach.distributed.dispatch import resume as resume_jobs

        sent = resume_jobs(ws.db, ws.settings, resume)
        err.print(f"sent again: {len(sent)} jobs {sent}", highlight=False)
    rows = list_jobs(ws, status, limit)
    if as_json:
        emit(rows)
        return
    table = Table("job", "kind", "item", "status", "stage", "tries", "worker", "age", "message")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["kind"],
            r["item_id"] or "-",
            r["status"] + (" (retried)" if r["attempts"] > 1 else ""),
            r["stage"],
            str(r["attempts"]),
            r["worker"],
            f"{r['age_s']:.0f} s",
            r["error"] or r["message"],
        )
    out.print(table)


def list_jobs(ws: Workspace, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest jobs as dicts; a running job's worker is the one that claims its stage."""
    from tolmach.distributed.claims import live

    held = {(c.item_id, c.stage): c for c in live(ws.db)}
    now = utcnow()
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    with ws.db() as session:
        found = session.scalars(query).all()
    rows = []
    for job in found:
        claim = held.get((job.item_id or "", job.stage))
        beat = claim.heartbeat_at if claim else job.heartbeat_at
        rows.append(
            {
                "id": job.id,
                "kind": job.kind,
                "item_id": job.item_id,
                "status": job.status,
                "stage": job.stage,
                "attempts": job.attempts,
                "worker": claim.worker if claim else job.worker,
                "heartbeat_s": (now - beat).total_seconds() if beat else None,
                "age_s": (now - job.created_at).total_seconds(),
                "message": job.message,
                "error": job.error,
            }
        )
    return rows


def submit_item(ws: Workspace, item_id: str, out_dir: Path | None) -> dict[str, Any]:
    """``tolmach run --submit``: queue a process job for the workers; with ``out_dir``, wait
    for it and export the item there."""
    from tolmach.distributed.dispatch import submit

    if ws.settings.job_runner != "celery":
        raise ConfigError(
            "--submit sends the item to Celery workers, but job_runner is 'inprocess'.",
            'Set job_runner = "celery" and broker_url (docs/deploy.md), or leave out --submit.',
        )
    with ws.db.begin() as session:
        job_id = submit(
            session, ws.settings, "process", item_id=item_id, by=ws.settings.operator
        ).id
    err.print(f"job {job_id} queued for item {item_id}", highlight=False)
    if out_dir is None:
        return {"item_id": item_id, "job": job_id}
    job = wait_for(ws, job_id)
    if job.status == "failed":
        raise TolmachError(f"Job {job_id} failed: {job.error}", job.message)
    ws.export(item_id, out_dir)
    return {"item_id": item_id, "job": job_id, "out": str(out_dir)}


def wait_for(ws: Workspace, job_id: int, poll_s: float = 0.5) -> Job:
    """Wait until job ``job_id`` is done or failed."""
    since = utcnow()
    while True:
        with ws.db() as session:
            job = session.get(Job, job_id)
        if job is None:
            raise InputError(f"No job {job_id}.")
        if job.status in ("done", "failed"):
            return job
        if job.status == "queued" and utcnow() - since > timedelta(minutes=1):
            err.print(f"job {job_id} still queued: is a `tolmach worker` running?", highlight=False)
            since = utcnow()
        time.sleep(poll_s)
