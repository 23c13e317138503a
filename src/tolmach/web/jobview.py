"""How a job looks on the desk and in the API: its stages, each waiting, running, done or
failed, worked out from the job row (the stage it reached and how far into it)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tolmach.config import Settings
from tolmach.pipeline.runner import STAGES
from tolmach.store.desk import Job
from tolmach.store.tables import Item

FIRST = {"ingest_file": "ingest", "ingest_url": "capture"}  # before the pipeline's stages
FINISHED = ("done", "failed")


@dataclass(frozen=True)
class StageRow:
    name: str
    state: str  # waiting, running, done, failed
    percent: int | None = None  # of a running stage, when it says how far it is


def item_kind(session: Session, job: Job) -> str:
    """The kind of the job's item (video, audio, text); video until the item exists."""
    if job.item_id is None:
        return "video"
    return session.scalar(select(Item.kind).where(Item.id == job.item_id)) or "video"


def pipeline_stages(kind: str, settings: Settings) -> list[str]:
    """The stages the runner goes through for an item of ``kind`` with these settings."""
    on = [s for s in STAGES if not s.opt_in or getattr(settings, s.opt_in)]
    return [s.name for s in on if kind in s.kinds]


def stage_rows(job: Job, kind: str, settings: Settings) -> list[StageRow]:
    names = [FIRST[job.kind]] if job.kind in FIRST else []
    names += pipeline_stages(kind, settings)
    if job.stage and job.stage not in names:
        names.append(job.stage)
    if job.status == "done":  # a stage named last may have been skipped: all are done
        return [StageRow(name, "done") for name in names]
    at = names.index(job.stage) if job.stage and job.status != "queued" else -1
    rows = []
    for i, name in enumerate(names):
        if i < at:
            rows.append(StageRow(name, "done"))
        elif i > at:
            rows.append(StageRow(name, "waiting"))
        elif job.status == "failed":
            rows.append(StageRow(name, "failed"))
        elif job.total and job.done >= job.total:
            rows.append(StageRow(name, "done"))
        else:
            percent = int(100 * job.done / job.total) if job.total else None
            rows.append(StageRow(name, "running", percent))
    return rows


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() + "Z" if at is not None else None


def job_json(job: Job, kind: str, settings: Settings) -> dict[str, Any]:
    """A job as the API returns it; ``hint`` says what to do about a failed one."""
    failed = job.status == "failed"
    payload = {k: v for k, v in _payload(job).items() if k in ("name", "url")}
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "item_id": job.item_id,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "message": "" if failed else job.message,
        "error": job.error,
        "hint": job.message if failed else "",
        "source": payload,
        "attempts": job.attempts,
        "created_by": job.created_by,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "heartbeat_at": _iso(job.heartbeat_at),
        "stages": [asdict(row) for row in stage_rows(job, kind, settings)],
        "url": f"/jobs/{job.id}",
    }


def _payload(job: Job) -> dict[str, Any]:
    data = json.loads(job.payload_json or "{}")
    return data if isinstance(data, dict) else {}


def source_of(job: Job) -> str:
    """What the job brings in or works on, for people: a file name, a URL or an item id."""
    data = _payload(job)
    return str(data.get("name") or data.get("url") or job.item_id or "")
