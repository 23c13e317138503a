"""The full-text index of segments: one row per transcript segment, with its English.

The ``segment_search`` table (migration 0004) is FTS5 on SQLite (``unicode61 remove_diacritics
2``: case folded for Cyrillic and Latin, Latin accents dropped, but й, ё and ї kept as letters of
their own). On PostgreSQL it has a ``terms`` tsvector with a GIN index, which this module fills
with the words split and folded the same way (:func:`tolmach.search_terms.tsvector`); on other
databases it is a plain table. The subtitles stage keeps it current: its
``record`` hook calls ``index_item`` in the run's transaction, and edits re-run subtitles, so
the index follows them. Stores processed before the index existed are filled in by
``ensure_indexed``, which the search routes call before their first search in each process.

    with ws.db.begin() as session:
        index_item(session, ws.blobs, item_id)       # replaces the item's rows
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

from sqlalchemy import bindparam, cast, delete, func, insert, select, text
from sqlalchemy import column as col
from sqlalchemy import table as tbl
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session, sessionmaker

from tolmach.models import Transcript, Translation
from tolmach.search_terms import tsvector
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import StageRun

SEGMENTS = tbl(
    "segment_search",
    col("rowid"),
    col("source"),
    col("english"),
    col("item_id"),
    col("seg"),
    col("t_start"),
    col("t_end"),
    col("terms"),  # PostgreSQL only
)
Kind = Literal["fts5", "tsvector", "plain"]


def index_item(session: Session, blobs: BlobStore, item_id: str) -> int:
    """Replace the item's rows in the index with its current transcript and translation;
    return how many segments it has now."""
    outputs = queries.current_outputs(session, item_id)
    session.execute(delete(SEGMENTS).where(SEGMENTS.c.item_id == item_id))
    if "transcript.json" not in outputs:
        return 0
    transcript = Transcript.from_dict(json.loads(blobs.read_bytes(outputs["transcript.json"])))
    english: dict[int, str] = {}
    if "translation.json" in outputs:
        translation = json.loads(blobs.read_bytes(outputs["translation.json"]))
        english = {s.id: s.text for s in Translation.from_dict(translation).segments}
    rows = [
        {
            "source": s.text.strip(),
            "english": english.get(s.id, "").strip(),
            "item_id": item_id,
            "seg": s.id,
            "t_start": s.start,
            "t_end": s.end,
        }
        for s in transcript.segments
    ]
    add_rows(session, rows)
    return len(rows)


def add_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert index rows (source, english, item_id, seg, t_start, t_end), with their words
    on PostgreSQL, where the index does not work them out itself."""
    if rows and index_kind(session) == "tsvector":
        words = [r | {"words": tsvector(str(r["source"]), str(r["english"]))} for r in rows]
        stmt = insert(SEGMENTS).values(terms=cast(bindparam("words"), TSVECTOR))
        session.execute(stmt, words)
    elif rows:
        session.execute(insert(SEGMENTS), rows)


def index_kind(session: Session) -> Kind:
    """What the index is: FTS5 (SQLite), a table with a tsvector (PostgreSQL) or plain."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        ddl = session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'segment_search'"))
        return "fts5" if str(ddl or "").upper().startswith("CREATE VIRTUAL TABLE") else "plain"
    if dialect == "postgresql":
        found = session.scalar(
            text(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'segment_search' AND column_name = 'terms'"
            )
        )
        return "tsvector" if found == "tsvector" else "plain"
    return "plain"


def is_fts(session: Session) -> bool:
    """Whether the index is an FTS5 table (SQLite) rather than another kind."""
    return index_kind(session) == "fts5"


_index_lock = threading.Lock()
_indexed: set[str] = set()  # databases whose older items were checked in this process


def ensure_indexed(db: sessionmaker[Session], blobs: BlobStore) -> int:
    """Index every item that has subtitles (so had a transcript and translation) but no rows,
    as in a store processed before the index existed. Runs once per database and process;
    returns how many items it indexed."""
    key = str(db.kw["bind"].url)
    with _index_lock:
        if key in _indexed:
            return 0
        with db.begin() as session:
            if is_fts(session):
                have = set(rowid_spans(session))
            else:
                have = set(session.scalars(select(SEGMENTS.c.item_id).distinct()))
            done = select(StageRun.item_id).where(
                StageRun.stage == "subtitles", StageRun.status == "done"
            )
            missing = set(session.scalars(done.distinct())) - have
            for item_id in sorted(missing):
                index_item(session, blobs, item_id)
        _indexed.add(key)
        return len(missing)


_span_lock = threading.Lock()
_spans: dict[str, tuple[int, dict[str, list[tuple[int, int]]]]] = {}


def rowid_spans(session: Session) -> dict[str, list[tuple[int, int]]]:
    """Item id -> the rowid ranges of its rows (each ``index_item`` writes one contiguous run).

    ``item_id`` is not indexed, so a filter on items would have to read every match's stored
    row; these ranges let it test rowids instead. Built by one scan the first time, then
    extended with the rows added since; a range may outlive its rows (deleted on re-indexing),
    so callers check the item ids of what they keep."""
    newest = select(SEGMENTS.c.rowid).order_by(SEGMENTS.c.rowid.desc()).limit(1)
    top = session.scalar(newest) or 0
    key = str(session.get_bind().engine.url)
    with _span_lock:
        seen, spans = _spans.get(key, (0, {}))
        if top < seen:  # the newest rows were deleted, so their rowids may be reused
            seen, spans = 0, {}
        if top > seen:
            spans = {k: list(v) for k, v in spans.items()}
            added = (
                select(SEGMENTS.c.item_id, func.min(SEGMENTS.c.rowid), func.max(SEGMENTS.c.rowid))
                .where(SEGMENTS.c.rowid > seen)
                .group_by(SEGMENTS.c.item_id)
            )
            for item_id, low, high in session.execute(added):
                spans.setdefault(item_id, []).append((low, high))
            _spans[key] = (top, spans)
        return spans
