"""Full-text search on a real index (SQLite's FTS5, or PostgreSQL's tsvector when the tests run
on PostgreSQL): Russian, Ukrainian and English, hostile queries, filters, highlighting, and the
index following an item's current outputs."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tolmach import search, search_index, search_terms
from tolmach.search import Query
from tolmach.store.blobs import BlobStore
from tolmach.store.desk import EntityRow, Review
from tolmach.store.tables import Capture, Item, Output, StageRun

RU = [
    (
        "Нам так и не выплатили деньги за три месяца.",
        "We still have not been paid for three months.",
    ),
    ("Командир ПРИКАЗАЛ идти на штурм без поддержки.", "The commander ordered an assault."),
    ("Её муж остался на передовой.", "Her husband stayed at the front line."),
]
UK = [
    ("Нам не виплатили бойові за травень.", "We were not paid combat pay for May."),
    ("Їжі немає вже тиждень у Києві.", "There has been no food for a week in Kyiv."),
]
EN = [("<script>alert(1)</script> the convoy left at night", "the convoy left at night")]


def put(
    session: Session,
    blobs: BlobStore,
    item_id: str,
    stage: str,
    name: str,
    data: dict[str, Any],
    summary: dict[str, Any] | None = None,
) -> None:
    sha, size = blobs.put_bytes(json.dumps(data).encode())
    run = StageRun(
        item_id=item_id,
        stage=stage,
        input_key=sha,
        status="done",
        started_at=datetime(2026, 1, 1),
        summary_json=json.dumps(summary or {}),
    )
    session.add(run)
    session.flush()
    session.add(Output(run_id=run.id, name=name, sha256=sha, size=size))


def add_item(
    db: sessionmaker[Session],
    blobs: BlobStore,
    item_id: str,
    language: str,
    pairs: list[tuple[str, str]],
    url: str = "",
    captured: datetime = datetime(2026, 3, 1, 12),
) -> None:
    """An item with a capture, a transcript and a translation as its current outputs, indexed
    the way the subtitles stage indexes it."""
    segs = [{"id": i, "start": i * 4.0, "end": i * 4.0 + 3.5} for i in range(len(pairs))]
    with db.begin() as session:
        sha = hashlib.sha256(item_id.encode()).hexdigest()
        session.add(Item(id=item_id, sha256=sha, size=1, ext="mp4", kind="video", duration=9.0))
        session.add(
            Capture(
                item_id=item_id,
                source=f"{item_id}.mp4",
                url=url,
                captured_at=captured,
                operator="tester",
                tool_version="0",
                record_sha256=sha,
            )
        )
        transcript = {
            "language": language,
            "language_probability": 0.9,
            "segments": [s | {"text": p[0]} for s, p in zip(segs, pairs, strict=True)],
        }
        put(
            session,
            blobs,
            item_id,
            "transcribe",
            "transcript.json",
            transcript,
            {"language": language},
        )
        translation = {
            "source_language": language,
            "engine": "test",
            "model": "test",
            "segments": [s | {"text": p[1]} for s, p in zip(segs, pairs, strict=True)],
        }
        put(session, blobs, item_id, "translate", "translation.json", translation)
        search_index.index_item(session, blobs, item_id)


@pytest.fixture
def store(db: sessionmaker[Session], blobs: BlobStore) -> sessionmaker[Session]:
    add_item(db, blobs, "aaaa0001", "ru", RU, url="https://t.me/chan_one/11")
    add_item(db, blobs, "bbbb0002", "uk", UK, captured=datetime(2026, 4, 2, 9))
    add_item(db, blobs, "cccc0003", "en", EN, url="https://x.com/someone/status/5")
    return db


def find(db: sessionmaker[Session], q: str = "", **filters: Any) -> list[tuple[str, int]]:
    with db() as session:
        found = search.search(session, Query(text=q, **filters))
    return [(h.item_id, h.seg) for h in found.hits]


def test_russian_ukrainian_and_english_words_are_found_case_insensitively(
    store: sessionmaker[Session],
) -> None:
    assert find(store, "приказал") == [("aaaa0001", 1)]
    assert find(store, "КОМАНДИР") == [("aaaa0001", 1)]
    assert find(store, "київі") == []  # і and и are different letters
    assert find(store, "КИЄВІ") == [("bbbb0002", 1)]
    assert find(store, "їжі") == [("bbbb0002", 1)]
    assert find(store, "Commander") == [("aaaa0001", 1)]  # the English column


def test_words_are_not_stemmed_but_a_trailing_star_is_a_prefix(
    store: sessionmaker[Session],
) -> None:
    assert find(store, "выплатить") == []
    assert find(store, "выплат*") == [("aaaa0001", 0)]
    assert sorted(find(store, "paid")) == [("aaaa0001", 0), ("bbbb0002", 0)]


def test_every_word_must_match_and_a_quoted_phrase_keeps_its_order(
    store: sessionmaker[Session],
) -> None:
    assert find(store, "нам выплатили") == [("aaaa0001", 0)]
    assert find(store, '"деньги за три"') == [("aaaa0001", 0)]
    assert find(store, '"три за деньги"') == []
    assert find(store, "месяца we") == [("aaaa0001", 0)]  # words may be in either column
    assert find(store, '"месяца we"') == []  # a phrase may not run from one into the other
    assert find(store, '"three months"') == [("aaaa0001", 0)]


def test_latin_accents_are_dropped_and_words_split_at_punctuation(
    db: sessionmaker[Session], blobs: BlobStore
) -> None:
    add_item(db, blobs, "dddd0004", "en", [("Le CAFÉ d'Anna, rue 5-B.", "Anna's café.")])
    assert find(db, "cafe") == [("dddd0004", 0)]
    assert find(db, "Café") == [("dddd0004", 0)]
    assert find(db, '"rue 5 b"') == [("dddd0004", 0)]
    assert find(db, "5-b anna") == [("dddd0004", 0)]
    assert find(db, "caf") == []


def test_yo_in_the_query_also_finds_the_spelling_with_ye(
    db: sessionmaker[Session], blobs: BlobStore, store: sessionmaker[Session]
) -> None:
    add_item(db, blobs, "dddd0004", "ru", [("Ее сын пропал.", "Her son is missing.")])
    assert sorted(find(db, "её")) == [("aaaa0001", 2), ("dddd0004", 0)]
    assert find(db, "ее") == [("dddd0004", 0)]  # е does not find ё (documented)


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        "*",
        "NEAR(",
        "OR",
        "AND",
        "NOT",
        "-",
        ":",
        "'; DROP TABLE items; --",
        '"""',
        "(",
        "source:деньги",
        "^деньги",
        "деньги OR",
        "a" * 10_000,
        "деньги " * 2_000,
        "\ue000\ue001",
    ],
)
def test_hostile_queries_never_error(store: sessionmaker[Session], hostile: str) -> None:
    find(store, hostile)
    with store() as session:
        assert session.scalar(text("SELECT count(*) FROM items")) == 3


def test_operators_are_plain_words(store: sessionmaker[Session]) -> None:
    assert find(store, "source:деньги") == []  # no column syntax: the phrase "source деньги"
    assert find(store, "деньги:за") == [("aaaa0001", 0)]  # punctuation inside a word: a phrase
    assert find(store, "деньги OR конвой") == []  # OR is a word that must occur too


def test_filters_each_narrow(store: sessionmaker[Session]) -> None:
    assert sorted(find(store, "paid")) == [("aaaa0001", 0), ("bbbb0002", 0)]
    assert find(store, "paid", language="uk") == [("bbbb0002", 0)]
    assert find(store, "paid", source="chan_one") == [("aaaa0001", 0)]
    assert find(store, "paid", source="CHAN_%") == []  # a substring, not a pattern
    assert find(store, "paid", since=date(2026, 4, 1)) == [("bbbb0002", 0)]
    assert find(store, "paid", until=date(2026, 3, 1)) == [("aaaa0001", 0)]
    assert find(store, "paid", until=date(2026, 2, 28)) == []
    with store.begin() as session:
        session.add(Review(item_id="bbbb0002", status="verified"))
        session.add(EntityRow(item_id="aaaa0001", kind="person", name="Ivan Petrov"))
    assert find(store, "paid", status="verified") == [("bbbb0002", 0)]
    assert find(store, "paid", status="unstarted") == [("aaaa0001", 0)]
    assert find(store, "paid", entity="ivan petrov") == [("aaaa0001", 0)]
    assert find(store, "paid", entity="Ivan Petrov", entity_kind="place") == []


def test_highlight_escapes_segment_text_and_marks_the_hit(store: sessionmaker[Session]) -> None:
    with store() as session:
        [hit] = search.search(session, Query(text="alert")).hits
    assert str(hit.source) == (
        "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; the convoy left at night"
    )
    assert hit.origin == "https://x.com/someone/status/5" and hit.t_start == 0.0


def test_marked_escapes_everything_and_merges_overlapping_spans() -> None:
    assert str(search_terms.marked("<b>x</b> & y", [(3, 4), (3, 4), (3, 4), (11, 12)])) == (
        "&lt;b&gt;<mark>x</mark>&lt;/b&gt; &amp; <mark>y</mark>"
    )
    assert str(search_terms.marked("деньги за", [(0, 6), (0, 9)])) == "<mark>деньги за</mark>"


def test_ranking_prefers_more_hits_in_shorter_segments_and_highlights_what_the_index_matched() -> (
    None
):
    rows = [
        ("Очень длинный сегмент про что-то совсем другое и деньги тоже", ""),
        ("Деньги, деньги!", "Money"),
        ("Café остался", ""),
    ]
    assert search_terms.rank(search_terms.terms("деньги"), rows) == [1, 0, 2]
    found = search_terms.highlight(
        search_terms.terms('"деньги за" выплат*'), "Деньги, за ВЫПЛАТИЛИ"
    )
    assert found == "<mark>Деньги, за</mark> <mark>ВЫПЛАТИЛИ</mark>"  # a phrase, a prefix, any case


def test_results_are_paginated(db: sessionmaker[Session], blobs: BlobStore) -> None:
    pairs = [(f"Колонна номер {i} ушла", f"Convoy {i} left") for i in range(45)]
    add_item(db, blobs, "eeee0005", "ru", pairs)
    with db() as session:
        pages = [search.search(session, Query(text="колонна", page=p)) for p in (1, 2, 3)]
    assert [len(p.hits) for p in pages] == [20, 20, 5]
    assert [p.more for p in pages] == [True, True, False] and pages[0].matches == 45
    segs = {h.seg for p in pages for h in p.hits}
    assert segs == set(range(45))


def test_reindexing_replaces_rows_and_ensure_indexed_fills_older_stores(
    store: sessionmaker[Session], blobs: BlobStore
) -> None:
    with store.begin() as session:
        session.execute(text("DELETE FROM segment_search WHERE item_id = 'aaaa0001'"))
        session.add(
            StageRun(
                item_id="aaaa0001",
                stage="subtitles",
                input_key="k",
                status="done",
                started_at=datetime(2026, 1, 1),
            )
        )
    assert find(store, "приказал") == []
    assert search_index.ensure_indexed(store, blobs) == 1
    assert search_index.ensure_indexed(store, blobs) == 0  # once per process
    assert find(store, "приказал") == [("aaaa0001", 1)]
    with store.begin() as session:  # indexing again replaces, never duplicates
        assert search_index.index_item(session, blobs, "aaaa0001") == 3
    assert find(store, "приказал") == [("aaaa0001", 1)]


def test_without_fts5_a_like_search_gives_the_same_hits(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        rows = session.execute(
            text("SELECT source, english, item_id, seg, t_start, t_end FROM segment_search")
        ).all()
        session.execute(text("DROP TABLE segment_search"))
        session.execute(
            text(
                "CREATE TABLE segment_search (source TEXT, english TEXT, "
                "item_id VARCHAR(16), seg INTEGER, t_start REAL, t_end REAL)"
            )
        )
        for r in rows:
            session.execute(
                text("INSERT INTO segment_search VALUES (:a, :b, :c, :d, :e, :f)"),
                dict(zip("abcdef", r, strict=True)),
            )
    assert sorted(find(store, "paid")) == [("aaaa0001", 0), ("bbbb0002", 0)]
    assert find(store, "paid", language="uk") == [("bbbb0002", 0)]
    assert find(store, "100%") == []
    with store() as session:
        [hit] = search.search(session, Query(text="alert")).hits
    assert "&lt;script&gt;<mark>alert</mark>(1)" in hit.source


def test_filters_follow_reindexing(store: sessionmaker[Session], blobs: BlobStore) -> None:
    assert find(store, "paid", source="chan_one") == [("aaaa0001", 0)]  # ranges now cached
    with store.begin() as session:  # aaaa0001's rows move after the others'
        search_index.index_item(session, blobs, "aaaa0001")
    add_item(store, blobs, "ffff0006", "ru", [("Зарплату не выплатили.", "We were not paid.")])
    assert find(store, "paid", source="chan_one") == [("aaaa0001", 0)]
    assert find(store, "paid", language="uk") == [("bbbb0002", 0)]
    assert sorted(find(store, "paid", language="ru")) == [("aaaa0001", 0), ("ffff0006", 0)]
    with store() as session:
        if not search_index.is_fts(session):
            return  # the rowid ranges that filters use are FTS5's alone
        spans = search_index.rowid_spans(session)
    assert len(spans["aaaa0001"]) == 2 and len(spans["ffff0006"]) == 1
