"""The desk's durable job queue (being built): jobs are rows in ``jobs``; a worker thread runs
them one by one and a job left ``running`` by a stopped server is queued again at start."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from tolmach.config import Settings
from tolmach.store.desk import Job
from tolmach.workspace import Workspace


class JobQueue:
    def __init__(self, ws: Workspace, settings: Settings) -> None:
        self.ws = ws
        self.settings = settings

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def submit(
        self,
        session: Session,
        kind: str,
        *,
        item_id: str | None = None,
        payload: dict[str, Any] | None = None,
        by: str = "",
    ) -> Job:
        job = Job(kind=kind, item_id=item_id, payload_json=json.dumps(payload or {}), created_by=by)
        session.add(job)
        session.flush()
        return job
