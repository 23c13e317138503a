"""What the item pages and the items API show: the list of items with filters, one item's facts,
and its segments in both languages. Plain data read from the store; no HTML here.

    page = list_items(session, language="ru", review="unstarted", page=1)
    facts = item_facts(session, "3f2a9c")
    lines = bilingual(blobs, facts.outputs)
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any, cast

from sqlalchemy import JSON, Select, func, select, type_coerce
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, aliased

from tolmach.errors import InputError
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.desk import REVIEW_STATUSES, Review
from tolmach.store.tables import Capture, Item, StageRun

PAGE_SIZE = 50
TRANSCRIBERS = ("transcribe", "text")  # the stages that write transcript.json (and the language)
FLAG_HINTS = {
    "empty": "the English is empty",
    "numbers": "a number differs from the source",
    "repeated": "the same English as the segment before",
    "looping": "the English repeats itself",
    "length": "far shorter or longer than the source",
    "glossary": "a glossary term is not translated as fixed",
    "names": "a name in the source is missing or changed",
}


@dataclass(frozen=True)
class Row:
    id: str
    kind: str
    language: str
    duration: float
    status: str  # the pipeline's: ingested, processed, failed, no_speech
    review: str  # the desk's review status
    source: str  # the captured URL, or the file's name
    source_deleted: bool
    created_at: datetime


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class Facts:
    row: Row
    sha256: str
    size: int
    ext: str
    source_deleted_at: datetime | None
    outputs: dict[str, str]  # name -> sha256, with "original"
    error: str  # the last failed stage's error, when the item failed

    def as_json(self) -> dict[str, Any]:
        data = asdict(self.row) | {k: v for k, v in asdict(self).items() if k != "row"}
        return _plain(data)

    @staticmethod
    def row_json(row: Row) -> dict[str, Any]:
        return _plain(asdict(row))


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: times as ISO 8601 (UTC)."""
    return {k: v.isoformat() + "Z" if isinstance(v, datetime) else v for k, v in data.items()}


@dataclass(frozen=True)
class Line:
    """One segment in both languages."""

    id: int
    start: float
    end: float
    source: str
    english: str | None  # None before the item is translated
    reviewed: bool
    reviewed_by: str
    flags: tuple[str, ...]


def parse_page(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"Page {raw!r} is not a page number.", "Give a whole number from 1.")
    return int(raw)


def check_filters(language: str, review: str) -> None:
    if language and not re.fullmatch(r"[a-z]{2,3}", language):
        raise InputError(f"Language {language!r} is not a language code.", "Use ru or uk.")
    if review and review not in REVIEW_STATUSES:
        raise InputError(
            f"Review status {review!r} does not exist.", f"Use one of {', '.join(REVIEW_STATUSES)}."
        )


@functools.cache
def _rows(dialect: str) -> Select[Any]:
    """Items with their review status, source language and newest capture. The language and
    the capture are subqueries tied to each item, so only the rows asked for pay for them
    (grouping every run and capture of the store cost each page more than all the rest)."""
    run = aliased(StageRun)
    # PostgreSQL needs the text cast to JSON for its operators; SQLite must not cast it (its
    # CAST AS JSON makes a number) and reads JSON from text as it is.
    summary = (sql_cast if dialect == "postgresql" else type_coerce)(run.summary_json, JSON)
    language = (
        select(summary["language"].as_string())
        .where(run.item_id == Item.id, run.stage.in_(TRANSCRIBERS), run.status == "done")
        .order_by(run.id.desc())
        .limit(1)
        .correlate(Item)
        .scalar_subquery()
    )
    newest_capture = (
        select(func.max(Capture.id))
        .where(Capture.item_id == Item.id)
        .correlate(Item)
        .scalar_subquery()
    )
    rows = (
        select(
            Item,
            func.coalesce(Review.status, "unstarted").label("review"),
            func.coalesce(language, "").label("language"),
            Capture,
        )
        .outerjoin(Review, Review.item_id == Item.id)
        .outerjoin(Capture, Capture.id == newest_capture)
    )
    return cast(Select[Any], rows)


def _row(item: Item, review: str, language: str, capture: Capture | None) -> Row:
    if capture is None:
        source = ""
    elif capture.kind == "url":
        source = capture.url or capture.source
    else:
        source = PurePath(capture.source).name  # never the folder it came from
    return Row(
        id=item.id,
        kind=item.kind,
        language=language,
        duration=item.duration,
        status=item.status,
        review=review,
        source=source,
        source_deleted=item.source_status == "deleted",
        created_at=item.created_at,
    )


def list_items(session: Session, *, language: str = "", review: str = "", page: int = 1) -> Page:
    """Items newest first, ``PAGE_SIZE`` a page, filtered by source language and review status."""
    check_filters(language, review)
    query = _rows(session.get_bind().dialect.name)
    if language:
        query = query.where(query.selected_columns.language == language)
    if review:
        query = query.where(query.selected_columns.review == review)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.execute(
        query.order_by(Item.created_at.desc(), Item.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [_row(*r) for r in found]
    return Page(rows, page, max(1, -(-total // PAGE_SIZE)), total)


def item_facts(session: Session, item_ref: str) -> Facts:
    """One item (by id or prefix) with its current outputs and review status."""
    item = queries.get_item(session, item_ref)
    found = session.execute(_rows(session.get_bind().dialect.name).where(Item.id == item.id)).one()
    failure = queries.last_failure(session, item.id) if item.status == "failed" else None
    return Facts(
        row=_row(*found),
        sha256=item.sha256,
        size=item.size,
        ext=item.ext,
        source_deleted_at=item.source_deleted_at,
        outputs=queries.current_outputs(session, item.id),
        error=failure.error if failure else "",
    )


def bilingual(blobs: BlobStore, outputs: dict[str, str]) -> tuple[str, list[Line]]:
    """The source language and the segments in both languages (none before transcription)."""
    if "transcript.json" not in outputs:
        return "", []
    language, lines = _bilingual(
        blobs, outputs["transcript.json"], outputs.get("translation.json", "")
    )
    return language, list(lines)


@functools.lru_cache(maxsize=64)
def _bilingual(
    blobs: BlobStore, transcript_sha: str, translation_sha: str
) -> tuple[str, tuple[Line, ...]]:
    """Kept per pair of files: blobs are named by their content, so a kept answer stays true
    (an edit makes new files, hence a new key)."""
    transcript = json.loads(blobs.read_bytes(transcript_sha))
    english: dict[int, dict[str, Any]] = {}
    if translation_sha:
        translation = json.loads(blobs.read_bytes(translation_sha))
        english = {s["id"]: s for s in translation["segments"]}
    lines = []
    for seg in transcript["segments"]:
        en = english.get(seg["id"], {})
        lines.append(
            Line(
                id=seg["id"],
                start=seg["start"],
                end=seg["end"],
                source=seg["text"],
                english=en.get("text"),
                reviewed=bool(en.get("reviewed")),
                reviewed_by=str(en.get("reviewed_by", "")),
                flags=tuple(en.get("flags", ())),
            )
        )
    return str(transcript.get("language", "")), tuple(lines)


def line(lines: list[Line], number: int) -> Line:
    for found in lines:
        if found.id == number:
            return found
    raise InputError(f"There is no segment {number}.", "Reload the item's page.")


def clock(seconds: float) -> str:
    """A time as players show it: 75.4 -> "1:15", 3725 -> "1:02:05"."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
