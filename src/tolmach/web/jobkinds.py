"""The desk's own kinds of job: bring in an uploaded file or a URL, and process an item.

Handlers as :mod:`tolmach.web.jobs` describes them. The person who submitted a capture is its
operator (the job runner makes them the workspace's operator: the capture record, its row and
every custody entry of the job say who). An ingest handler records
its item on the job as soon as it exists, so a run interrupted after the capture goes
straight to processing when it runs again instead of capturing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tolmach.config import Settings
from tolmach.errors import InputError, TolmachError
from tolmach.pipeline.ingest import (
    CaptureRow,
    Ingested,
    capture_record,
    check_media,
    safe_ext,
    store_capture,
)
from tolmach.store.blobs import Progress
from tolmach.web.incoming import upload_dir
from tolmach.web.jobrun import JobProgress
from tolmach.workspace import Workspace


def ingest_upload(
    ws: Workspace, path: Path, name: str, settings: Settings, on_progress: Progress | None = None
) -> Ingested:
    """Store an uploaded file as an item; ``name`` (the browser's file name) is kept as data."""
    facts = check_media(path, settings)
    sha, size = ws.blobs.put_file(path, on_progress)
    captured = datetime.now(UTC)
    source = {"kind": "upload", "name": name}
    record = capture_record(settings, sha, size, captured, source, facts)
    row = CaptureRow(source=name, ext=safe_ext(name))
    return store_capture(ws.db, ws.blobs, settings, record, captured, row)


def ingest_file(
    ws: Workspace,
    job_id: int,
    item_id: str | None,
    payload: dict[str, Any],
    progress: JobProgress,
) -> None:
    """payload: ``upload`` (a file name in the uploads folder), ``name``, ``by``."""
    path = upload_dir(ws.settings) / Path(str(payload["upload"])).name
    if item_id is None:
        try:
            progress("ingest", "start", 0, 1)
            got = ingest_upload(
                ws, path, str(payload["name"]), ws.settings, progress.bytes("ingest")
            )
        except TolmachError:
            path.unlink(missing_ok=True)
            raise
        item_id = got.item_id
        progress.item(item_id)
        progress("ingest", "done", 1, 1)
    path.unlink(missing_ok=True)
    ws.process(item_id, progress)


def ingest_url(
    ws: Workspace,
    job_id: int,
    item_id: str | None,
    payload: dict[str, Any],
    progress: JobProgress,
) -> None:
    """payload: ``url``, ``by``."""
    from tolmach.capture.url import capture_url  # the capture stack loads only for URLs

    if item_id is None:
        progress("capture", "start", 0, 1)
        got = capture_url(
            ws.db, ws.blobs, ws.settings, str(payload["url"]), progress.bytes("capture")
        )
        item_id = got.item_id
        progress.item(item_id)
        progress("capture", "done", 1, 1)
    ws.process(item_id, progress)


def process(
    ws: Workspace,
    job_id: int,
    item_id: str | None,
    payload: dict[str, Any],
    progress: JobProgress,
) -> None:
    """Run the stages of ``item_id`` that are not done yet."""
    if item_id is None:
        raise InputError("A process job needs an item.", "Submit it with item_id.")
    ws.process(item_id, progress)
