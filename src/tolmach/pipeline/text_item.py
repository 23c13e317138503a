"""Text items: statements that arrive as text (a post, a translator's typed transcript).

``ingest_text`` stores the UTF-8 text as the item's original, with a capture record, like a
media file; the item's kind is "text" and it has no duration. The ``text`` stage turns it into
transcript.json with one segment per sentence and no timings (every time is 0), so translate
and analyse treat it like speech; probe, transcribe and render do not run on text items.

    ingested = ingest_text(db, blobs, settings, Path("post.txt"), "ru")
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tolmach import __version__, custody
from tolmach.analysis import lexicon
from tolmach.config import Settings
from tolmach.errors import InputError, NotFoundError
from tolmach.models import Segment, Transcript
from tolmach.pipeline.context import StageContext, StageResult, json_bytes
from tolmach.pipeline.ingest import ITEM_ID_LEN, Ingested
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Capture, Item

MAX_BYTES = 50 * 1024 * 1024


def read_text(path: Path) -> str:
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path} does not exist.", "Check the path.") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{path.name} is over 50 MB of text.", "Split it into statements.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text.", "Save it as UTF-8.") from None
    if not text.strip():
        raise InputError(f"{path.name} is empty.", "Give a file with the statement's text.")
    return text


def ingest_text(
    db: sessionmaker[Session], blobs: BlobStore, settings: Settings, path: Path, language: str
) -> Ingested:
    """Store a statement's text as a "text" item in ``language`` (ru or uk)."""
    if language not in lexicon.LANGUAGES:
        raise InputError(
            f"Language {language!r} is not supported for text items.", "Use --lang ru or --lang uk."
        )
    text = read_text(path)
    data = text.encode("utf-8")
    sha, size = blobs.put_bytes(data)
    captured = datetime.now(UTC)
    facts: dict[str, Any] = {"text": {"language": language, "chars": len(text)}}
    record: dict[str, Any] = {
        "schema": "tolmach.capture/1",
        "item_id": sha[:ITEM_ID_LEN],
        "source": {"kind": "text", "path": str(path.resolve()), "name": path.name},
        "sha256": sha,
        "size": size,
        "captured_at": captured.isoformat().replace("+00:00", "Z"),
        "operator": settings.operator,
        "tool": {"name": "tolmach", "version": __version__},
        "media": facts,
    }
    rec_sha, _ = blobs.put_bytes(json.dumps(record, ensure_ascii=False, indent=2).encode())
    with db.begin() as session:
        item = session.get(Item, sha[:ITEM_ID_LEN])
        new = item is None
        if item is None:
            item = Item(
                id=sha[:ITEM_ID_LEN],
                sha256=sha,
                size=size,
                ext="txt",
                kind="text",
                duration=0.0,
                media_json=json.dumps(facts),
            )
            session.add(item)
            session.flush()
        cap = Capture(
            item_id=item.id,
            source=str(path.resolve()),
            captured_at=captured.replace(tzinfo=None),
            operator=settings.operator,
            tool_version=__version__,
            record_sha256=rec_sha,
            kind="file",
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


def transcript_of(text: str, language: str) -> Transcript:
    """One untimed segment per sentence (razdel)."""
    segments = tuple(
        Segment(i, 0.0, 0.0, text[s:e].strip())
        for i, (s, e) in enumerate(lexicon.sentences(text))
        if text[s:e].strip()
    )
    checks = {"source": "text", "timed": False}
    return Transcript(language, 1.0, segments, 0.0, checks)


def run(ctx: StageContext) -> StageResult:
    text = ctx.read_bytes("original").decode("utf-8-sig")
    language = str(ctx.item.media.get("text", {}).get("language", "ru"))
    transcript = transcript_of(text, language)
    return StageResult(
        files={"transcript.json": json_bytes(transcript.to_dict())},
        engine="text",
        summary={"segments": len(transcript.segments), "language": language, "timed": False},
    )
