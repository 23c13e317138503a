"""Ingest stage: a local file -> the original bytes in the blob store and a capture record.

URL captures (:mod:`tolmach.capture.url`) share the record and row code here
(``check_media``, ``capture_record``, ``store_capture``).

The file is checked first (ffprobe, container sanity, duration cap), so bad input stores
nothing. The bytes are hashed while they are copied, in one pass. The same bytes ingested twice
are one item with two capture records.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tolmach import __version__, custody, media, timestamp
from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.store.blobs import BlobStore, Progress
from tolmach.store.tables import Capture, Item

ITEM_ID_LEN = 12


@dataclass(frozen=True)
class Ingested:
    item_id: str
    capture_id: int
    new_item: bool
    record: dict[str, Any]
    warnings: tuple[str, ...] = ()


def safe_ext(name: str) -> str:
    """A short, harmless extension taken from a file name ("" when there is none)."""
    ext = Path(name).suffix.lower().lstrip(".")
    return ext if re.fullmatch(r"[a-z0-9]{1,8}", ext) else ""


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class CaptureRow:
    """What a capture's row says about its source beyond the media: file or URL, page, files."""

    source: str  # a file's resolved path, or the URL asked for
    ext: str  # the media's extension, for the item
    kind: str = "file"  # file, url
    url: str = ""
    page_json: str = "{}"
    files_json: str = "[]"
    item_kind: str = ""  # "text" for a text item; else video or audio from the media facts


def check_media(path: Path, settings: Settings) -> dict[str, Any]:
    """ffprobe facts of ``path``; InputError when it is not media or is over the duration cap."""
    facts = media.probe(path)
    if facts["duration"] > settings.max_duration_s:
        hours = facts["duration"] / 3600
        raise InputError(
            f"{path.name} is {hours:.1f} hours long, over the limit of "
            f"{settings.max_duration_s / 3600:.1f} hours.",
            "Cut it into parts, or raise max_duration_s in tolmach.toml.",
        )
    return facts


def capture_record(
    settings: Settings,
    sha: str,
    size: int,
    captured: datetime,
    source: dict[str, Any],
    facts: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """The capture record (schema tolmach.capture/1); ``extra`` keys follow ``captured_at``."""
    return {
        "schema": "tolmach.capture/1",
        "item_id": sha[:ITEM_ID_LEN],
        "source": source,
        "sha256": sha,
        "size": size,
        "captured_at": _iso(captured),
        **extra,
        "operator": settings.operator,
        "tool": {"name": "tolmach", "version": __version__},
        "media": facts,
    }


def ingest_file(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    path: Path,
    on_progress: Progress | None = None,
) -> Ingested:
    path = path.expanduser()
    facts = check_media(path, settings)
    stat = path.stat()
    sha, size = blobs.put_file(path, on_progress)
    captured = datetime.now(UTC)
    source = {"kind": "file", "path": str(path.resolve()), "name": path.name}
    modified = _iso(datetime.fromtimestamp(stat.st_mtime, UTC))
    record = capture_record(settings, sha, size, captured, source, facts, file_modified_at=modified)
    row = CaptureRow(source=str(path.resolve()), ext=safe_ext(path.name))
    return store_capture(db, blobs, settings, record, captured, row)


def store_capture(
    db: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    record: dict[str, Any],
    captured: datetime,
    row: CaptureRow,
) -> Ingested:
    """Store ``record`` and write the item (if new) and capture rows; the media is stored."""
    rec_sha, _ = blobs.put_bytes(json.dumps(record, ensure_ascii=False, indent=2).encode())
    args = (db, settings, record, captured, rec_sha, row)
    try:
        done = _record(*args)
    except IntegrityError:  # the same bytes ingested at the same moment elsewhere: now exists
        done = _record(*args)
    if settings.tsa_url:  # a failed timestamp is logged and retried later; the capture stays
        warning = timestamp.stamp_or_warn(db, blobs, settings, done.capture_id)
        done = replace(done, warnings=(warning,) if warning else ())
    return done


def _record(
    db: sessionmaker[Session],
    settings: Settings,
    record: dict[str, Any],
    captured: datetime,
    rec_sha: str,
    row: CaptureRow,
) -> Ingested:
    sha, facts = record["sha256"], record["media"]
    with db.begin() as session:
        item = session.get(Item, sha[:ITEM_ID_LEN])
        new = item is None
        if item is None:
            item = Item(
                id=sha[:ITEM_ID_LEN],
                sha256=sha,
                size=record["size"],
                ext=row.ext,
                kind=row.item_kind or ("video" if media.has_video(facts) else "audio"),
                duration=facts.get("duration", 0.0),
                media_json=json.dumps(facts),
            )
            session.add(item)
            session.flush()
        cap = Capture(
            item_id=item.id,
            source=row.source,
            captured_at=captured.replace(tzinfo=None),
            operator=settings.operator,
            tool_version=__version__,
            record_sha256=rec_sha,
            kind=row.kind,
            url=row.url,
            page_json=row.page_json,
            files_json=row.files_json,
        )
        session.add(cap)
        session.flush()
        custody.append(
            session,
            kind="captured",
            actor=settings.operator,
            item_id=item.id,
            subject=cap.source,
            detail={"capture": cap.id, "source": cap.source, "record_sha256": rec_sha},
        )
        return Ingested(item.id, cap.id, new, record)
