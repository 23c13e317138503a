"""The custody log: hashes, both chains, sealing old entries, concurrent appends."""

from __future__ import annotations

import hashlib
import multiprocessing
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from conftest import MediaFactory
from tolmach import custody
from tolmach.config import Settings
from tolmach.pipeline import runner
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.store.db import open_db
from tolmach.store.tables import Event, Item, Output
from tolmach.workspace import Workspace


def _item(session: Session, item_id: str) -> None:
    session.add(
        Item(id=item_id, sha256=item_id * 4 + "0" * 16, size=1, ext="", kind="video", duration=1)
    )


def _entries(db: sessionmaker[Session]) -> list[dict[str, Any]]:
    with db() as session:
        return [custody.entry_dict(e) for e in session.scalars(select(Event).order_by(Event.id))]


def test_append_chains_overall_and_per_item(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        _item(session, "aaaaaaaaaaaa")
        _item(session, "bbbbbbbbbbbb")
    with db.begin() as session:
        a1 = custody.append(session, kind="captured", actor="anna", item_id="aaaaaaaaaaaa")
        b1 = custody.append(session, kind="captured", actor="anna", item_id="bbbbbbbbbbbb")
        a2 = custody.append(
            session, kind="processed", actor="anna", item_id="aaaaaaaaaaaa", detail={"x": 1.5}
        )
    assert (a1.prev_hash, a1.item_prev_hash) == ("", "")
    assert (b1.prev_hash, b1.item_prev_hash) == (a1.hash, "")
    assert (a2.prev_hash, a2.item_prev_hash) == (b1.hash, a1.hash)
    entries = _entries(db)
    assert [e["hash"] for e in entries] == [a1.hash, b1.hash, a2.hash]
    assert custody.check_chain(entries) == []
    item_a = [e for e in entries if e["item_id"] == "aaaaaaaaaaaa"]
    assert custody.check_chain(item_a, whole=False) == []


def test_check_chain_names_changed_and_missing_entries(db: sessionmaker[Session]) -> None:
    for n in range(4):
        with db.begin() as session:
            custody.append(session, kind="note", actor="anna", subject=f"n{n}")
    entries = _entries(db)
    changed = [dict(e) for e in entries]
    changed[1]["detail"] = {"forged": True}
    assert [(p.entry, "changed" in p.what) for p in custody.check_chain(changed)] == [(2, True)]
    gone = entries[:2] + entries[3:]
    problems = custody.check_chain(gone)
    assert [p.entry for p in problems] == [4]
    assert "deleted" in problems[0].what


def test_failed_attempt_is_recorded_without_an_item(db: sessionmaker[Session]) -> None:
    ev = custody.failed_attempt(
        db, kind="capture-failed", actor="anna", subject="https://t.me/x/1", error="HTTP 404"
    )
    (entry,) = _entries(db)
    assert entry["hash"] == ev.hash
    assert (entry["item_id"], entry["subject"]) == (None, "https://t.me/x/1")
    assert entry["detail"] == {"error": "HTTP 404"}


def test_entries_written_before_the_chain_are_sealed_in_order(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        _item(session, "aaaaaaaaaaaa")
        session.flush()
        session.add(Event(item_id="aaaaaaaaaaaa", actor="old", kind="captured"))
        session.add(Event(actor="old", kind="note", detail_json='{"b": 1, "a": [1, 2]}'))
        session.add(Event(item_id="aaaaaaaaaaaa", actor="old", kind="processed"))
    with db.begin() as session:
        new = custody.append(session, kind="exported", actor="anna", item_id="aaaaaaaaaaaa")
    entries = _entries(db)
    assert all(e["hash"] for e in entries)
    assert custody.check_chain(entries) == []
    assert new.prev_hash == entries[2]["hash"]
    assert new.item_prev_hash == entries[2]["hash"]
    assert entries[2]["item_prev_hash"] == entries[0]["hash"]


def test_edit_in_the_database_is_detected(db: sessionmaker[Session]) -> None:
    for n in range(3):
        with db.begin() as session:
            custody.append(session, kind="note", actor="anna", detail={"n": n})
    with db.begin() as session:
        session.execute(text("UPDATE events SET actor = 'mallory' WHERE id = 2"))
    assert [p.entry for p in custody.check_chain(_entries(db))] == [2]


def _appender(url: str, who: str, n: int, go: Any) -> None:
    factory = open_db(url)
    go.wait()
    for i in range(n):
        item = "aaaaaaaaaaaa" if i % 2 else None
        with factory.begin() as session:
            custody.append(session, kind="note", actor=who, item_id=item, detail={"i": i})
    factory.kw["bind"].dispose()


def test_two_processes_appending_at_once_keep_one_chain(settings: Settings) -> None:
    """On SQLite the appends wait for its write lock; on PostgreSQL for an advisory lock."""
    factory = open_db(settings.db_url)
    with factory.begin() as session:
        _item(session, "aaaaaaaaaaaa")
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [
        ctx.Process(target=_appender, args=(settings.db_url, who, 60, go)) for who in ("p1", "p2")
    ]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    entries = _entries(factory)
    factory.kw["bind"].dispose()
    assert len(entries) == 120
    assert {e["actor"] for e in entries} == {"p1", "p2"}
    assert len({e["prev_hash"] for e in entries}) == 120  # nobody chained onto the same entry
    assert custody.check_chain(entries) == []


def _upper(ctx: StageContext) -> StageResult:
    return StageResult(files={"upper.txt": ctx.read_bytes("original")[:8].upper()}, engine="fake")


def test_ingest_process_and_export_are_logged_and_chained(
    settings: Settings, media: MediaFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod = types.ModuleType("tolmach.pipeline._custody_fake")
    mod.run = _upper  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    ws = Workspace.open(settings)
    item_id = ws.ingest(media.silent_video(seconds=1)).item_id
    stage = runner.Stage("upper", "_custody_fake", reads=("original",))
    runner.process(ws.db, ws.blobs, ws.settings, item_id, stages=(stage,))
    ws.export(item_id, tmp_path / "out")
    entries = _entries(ws.db)
    with ws.db() as session:
        upper = session.scalars(select(Output).where(Output.name == "upper.txt")).one()
    ws.close()
    assert [(e["kind"], e["actor"], e["item_id"]) for e in entries] == [
        ("captured", "tester", item_id),
        ("processed", "tester", item_id),
        ("exported", "tester", item_id),
    ]
    assert entries[1]["detail"]["outputs"] == {"upper.txt": upper.sha256}
    manifest = (tmp_path / "out" / "manifest.json").read_bytes()
    assert entries[2]["detail"]["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert custody.check_chain(entries) == []
