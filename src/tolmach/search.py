"""Full-text search over every item's segments, in the source language and in English.

The index (:mod:`tolmach.search_index`) is FTS5 on SQLite and a tsvector with a GIN index on
PostgreSQL, both giving the same matches; on any other database a plain table that this module
searches with LIKE.

    hits = search(session, Query(text='выплат* "на передовой"', language="ru"))

Words are matched whole and unstemmed: ``выплатить`` does not find ``выплатили``; a trailing
``*`` asks for a prefix (``выплат*`` finds both). Every word must occur in the segment or its
English; ``"quoted words"`` must occur in that order. Case does not matter, Cyrillic included.
The tokenizer's ``remove_diacritics 2`` drops Latin accents only: й, ё and ї stay letters of
their own (checked), so a query word with ё also asks for its spelling with е (not the other way
round). FTS5 operators (OR, NOT, NEAR, ``col:``, ``^``) are plain words here: each word is sent
quoted, so no input can be a syntax error.

Only the newest ``CANDIDATES`` matches are ranked, by a BM25 score over both columns computed
here, so a word found in a million segments costs no more than one found in five hundred
(FTS5's own bm25() reads every match of every word first: seconds for common words).
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Row, Select, func, or_, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from tolmach import search_index
from tolmach.search_index import SEGMENTS
from tolmach.search_terms import fts_expression, highlight, rank, terms, tsquery
from tolmach.store.desk import EntityRow, Review
from tolmach.store.tables import Capture, StageRun

PAGE = 20
CANDIDATES = 500  # the newest matches are ranked by relevance; more: "narrow the search"


@dataclass(frozen=True)
class Query:
    """What to look for; empty fields do not filter."""

    text: str = ""
    language: str = ""  # the transcript's language code
    status: str = ""  # review status; "unstarted" includes items never reviewed
    entity: str = ""  # an entity's English name, as in item_entities
    entity_kind: str = ""
    since: date | None = None  # capture date, inclusive
    until: date | None = None
    source: str = ""  # part of the capture's URL or file name
    page: int = 1


@dataclass(frozen=True)
class Hit:
    item_id: str
    seg: int
    t_start: float
    t_end: float
    source: Markup  # escaped text with <mark> around the matched words
    english: Markup
    origin: str  # the item's capture URL or file name


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    page: int
    matches: int  # matches ranked (at most CANDIDATES)
    capped: bool  # there were more matches than were ranked

    @property
    def more(self) -> bool:
        return self.matches > self.page * PAGE


def search(session: Session, query: Query) -> Results:
    words = terms(query.text)
    if not words:
        return Results([], query.page, 0, False)
    allowed = _allowed(session, query)
    cols = (SEGMENTS.c.item_id, SEGMENTS.c.seg, SEGMENTS.c.t_start, SEGMENTS.c.t_end)
    stmt = select(*cols, SEGMENTS.c.source, SEGMENTS.c.english)
    found: list[Row[Any]]
    kind = search_index.index_kind(session)
    if kind == "fts5":
        match = sql("segment_search MATCH :q").bindparams(q=fts_expression(words))
        if allowed is None:
            stmt = stmt.where(match).order_by(SEGMENTS.c.rowid.desc())
            found = list(session.execute(stmt.limit(CANDIDATES + 1)))
        else:
            found = _filtered(session, match, allowed, stmt)
    elif kind == "tsvector":
        found = _tsvector(session, stmt, words, allowed)
    else:
        if allowed is not None:
            stmt = stmt.where(SEGMENTS.c.item_id.in_(allowed))
        stmt = _like(stmt, words).order_by(SEGMENTS.c.item_id.desc(), SEGMENTS.c.seg)
        found = list(session.execute(stmt.limit(CANDIDATES + 1)))
    capped = len(found) > CANDIDATES
    rows = [(r.source or "", r.english or "") for r in found[:CANDIDATES]]
    chosen = [found[i] for i in rank(words, rows)[(query.page - 1) * PAGE : query.page * PAGE]]
    origins = _origins(session, {r.item_id for r in chosen})
    hits = [
        Hit(
            r.item_id,
            int(r.seg),
            float(r.t_start),
            float(r.t_end),
            highlight(words, r.source or ""),
            highlight(words, r.english or ""),
            origins.get(r.item_id, ""),
        )
        for r in chosen
    ]
    return Results(hits, query.page, len(rows), capped)


def _filtered(
    session: Session, match: TextClause, allowed: set[str], stmt: Select[Any]
) -> list[Row[Any]]:
    """The newest matches in the allowed items: rowids are tested against the items' rowid
    ranges while FTS5 walks the matches (reading no stored rows), then the kept rows are
    read and their item ids checked."""
    ranges = search_index.rowid_spans(session)
    spans = sorted(s for i in allowed for s in ranges.get(i, ()))
    if not spans:
        return []
    lows = [low for low, _ in spans]
    walk = (
        select(SEGMENTS.c.rowid)
        .where(match, SEGMENTS.c.rowid.between(spans[0][0], max(h for _, h in spans)))
        .order_by(SEGMENTS.c.rowid.desc())
    )
    kept: list[int] = []
    result = session.connection().execute(walk)  # streamed: the walk stops early
    for batch in result.partitions(1024):
        for (rowid,) in batch:
            k = bisect.bisect_right(lows, rowid) - 1
            if k >= 0 and rowid <= spans[k][1]:
                kept.append(rowid)
        if len(kept) > CANDIDATES:
            break
    result.close()
    chosen = stmt.where(SEGMENTS.c.rowid.in_(kept[: CANDIDATES + 1]))
    rows = session.execute(chosen.order_by(SEGMENTS.c.rowid.desc()))
    return [r for r in rows if r.item_id in allowed]


def _tsvector(
    session: Session, stmt: Select[Any], words: list[tuple[str, bool]], allowed: set[str] | None
) -> list[Row[Any]]:
    """The newest matches on PostgreSQL: the GIN index finds the segments, the newest first."""
    query = tsquery(words)
    if query is None or (allowed is not None and not allowed):
        return []
    stmt = stmt.where(sql("segment_search.terms @@ CAST(:q AS tsquery)").bindparams(q=query))
    if allowed is not None:  # one array, however many items: no limit on bound parameters
        stmt = stmt.where(sql("segment_search.item_id = ANY(:items)").bindparams(items=[*allowed]))
    stmt = stmt.order_by(SEGMENTS.c.rowid.desc()).limit(CANDIDATES + 1)
    return list(session.execute(stmt))


def _like(stmt: Select[Any], words: list[tuple[str, bool]]) -> Select[Any]:
    """The same search without a text index: every word a case-insensitive substring."""
    for word, _ in words:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", word) + "%"
        stmt = stmt.where(
            or_(
                SEGMENTS.c.source.ilike(pattern, escape="\\"),
                SEGMENTS.c.english.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def _allowed(session: Session, query: Query) -> set[str] | None:
    """The ids of the items the filters let through (None: no filter)."""
    conds: list[ColumnElement[bool]] = []
    if query.status == "unstarted":
        reviewed = select(Review.item_id).where(Review.status != "unstarted")
        conds.append(Capture.item_id.not_in(reviewed))
    elif query.status:
        conds.append(
            Capture.item_id.in_(select(Review.item_id).where(Review.status == query.status))
        )
    if query.entity:
        named = select(EntityRow.item_id).where(
            func.lower(EntityRow.name) == query.entity.strip().lower()
        )
        if query.entity_kind:
            named = named.where(EntityRow.kind == query.entity_kind)
        conds.append(Capture.item_id.in_(named))
    if query.since:
        conds.append(Capture.captured_at >= datetime.combine(query.since, time()))
    if query.until:
        conds.append(Capture.captured_at < datetime.combine(query.until + timedelta(1), time()))
    if query.source:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.source.strip()) + "%"
        conds.append(
            or_(Capture.url.ilike(pattern, escape="\\"), Capture.source.ilike(pattern, escape="\\"))
        )
    allowed = set(session.scalars(select(Capture.item_id).where(*conds))) if conds else None
    if query.language:
        spoken = {i for i, lang in languages(session).items() if lang == query.language}
        allowed = spoken if allowed is None else allowed & spoken
    return allowed


_lang_lock = threading.Lock()
_lang_cache: dict[str, tuple[int, dict[str, str]]] = {}


def languages(session: Session) -> dict[str, str]:
    """Item id -> the language its latest transcript is in (from the stage runs' summaries),
    cached until another stage run is recorded."""
    newest = session.scalar(select(func.max(StageRun.id))) or 0
    key = str(session.get_bind().engine.url)
    with _lang_lock:
        cached = _lang_cache.get(key)
        if cached and cached[0] == newest:
            return cached[1]
    found: dict[str, str] = {}
    runs = select(StageRun.item_id, StageRun.summary_json).where(
        StageRun.stage.in_(("transcribe", "text")), StageRun.status == "done"
    )
    for item_id, summary in session.execute(runs.order_by(StageRun.id)):
        found[item_id] = str(json.loads(summary).get("language") or "")
    with _lang_lock:
        _lang_cache[key] = (newest, found)
    return found


def _origins(session: Session, item_ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    rows = select(Capture.item_id, Capture.url, Capture.source).where(Capture.item_id.in_(item_ids))
    for item_id, url, source in session.execute(rows.order_by(Capture.id)):
        found.setdefault(item_id, url or source)
    return found
