"""Text items: statements that arrive as text (a post, a translator's typed transcript).

``ingest_text`` stores the UTF-8 text as the item's original, with a capture record, like a
media file; the item's kind is "text" and it has no duration. The ``text`` stage turns it into
transcript.json with one segment per sentence and no timings (every time is 0), so translate
and analyse treat it like speech; probe, transcribe and render do not run on text items.

    ingested = ingest_text(db, blobs, settings, Path("post.txt"), "ru")
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tolmach.analysis import lexicon
from tolmach.config import Settings
from tolmach.errors import InputError, NotFoundError
from tolmach.models import Segment, Transcript
from tolmach.pipeline.context import StageContext, StageResult, json_bytes
from tolmach.pipeline.ingest import CaptureRow, Ingested, capture_record, store_capture
from tolmach.store.blobs import BlobStore

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
    source = {"kind": "text", "path": str(path.resolve()), "name": path.name}
    record = capture_record(settings, sha, size, captured, source, facts)
    row = CaptureRow(source=str(path.resolve()), ext="txt", item_kind="text")
    return store_capture(db, blobs, settings, record, captured, row)


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
