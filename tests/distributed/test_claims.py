"""Stage claims on the real store (several engines, as several processes have), and a person's
edit made while a stage runs: kept, not replaced by the stage's result."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.distributed import claims
from tolmach.pipeline import runner
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.store import queries
from tolmach.store.db import open_db
from tolmach.store.tables import Output, StageRun, utcnow
from tolmach.workspace import Workspace


@pytest.fixture
def item(settings: Settings, media) -> Iterator[tuple[Workspace, str]]:  # type: ignore[no-untyped-def]
    ws = Workspace.open(settings)
    yield ws, ws.ingest(media.silent_video(seconds=1)).item_id
    ws.close()


def test_one_claimer_of_many_wins_and_a_live_claim_is_not_taken(item) -> None:  # type: ignore[no-untyped-def]
    ws, item_id = item
    engines = [open_db(ws.settings.db_url) for _ in range(4)]
    start = threading.Barrier(len(engines), timeout=30)
    won: list[str] = []

    def claimer(n: int, db: sessionmaker[Session]) -> None:
        start.wait()
        if claims.claim(db, item_id, "transcribe", f"w{n}", None, stale_s=60) is not None:
            won.append(f"w{n}")

    threads = [threading.Thread(target=claimer, args=pair) for pair in enumerate(engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in engines:
        db.kw["bind"].dispose()
    assert len(won) == 1
    assert claims.claim(ws.db, item_id, "transcribe", "late", None, stale_s=60) is None
    assert claims.claim(ws.db, item_id, "translate", "late", None, stale_s=60) is not None
    assert [(c.stage, c.worker) for c in claims.live(ws.db)] == [
        ("transcribe", won[0]),
        ("translate", "late"),
    ]


def test_a_stale_claim_is_taken_over_once_and_released_by_its_holder_only(item) -> None:  # type: ignore[no-untyped-def]
    ws, item_id = item
    assert claims.claim(ws.db, item_id, "render", "dead", 7, stale_s=5) is not None
    assert claims.beat(ws.db, item_id, "render", "dead")
    with ws.db.begin() as session:  # the holder stops beating: its heartbeat grows old
        session.execute(
            update(claims.StageClaim).values(heartbeat_at=utcnow() - timedelta(seconds=30))
        )
    taken = claims.claim(ws.db, item_id, "render", "alive", 8, stale_s=5)
    assert taken is not None and taken.taken_from == "dead"
    assert claims.claim(ws.db, item_id, "render", "third", 9, stale_s=5) is None
    assert not claims.beat(ws.db, item_id, "render", "dead")  # the lost worker has lost it
    claims.release(ws.db, item_id, "render", "dead")  # a late release of the old holder
    assert [c.worker for c in claims.live(ws.db)] == ["alive"]
    claims.release(ws.db, item_id, "render", "alive")
    assert claims.live(ws.db) == []


def test_a_heartbeat_keeps_the_claim_fresh(item) -> None:  # type: ignore[no-untyped-def]
    ws, item_id = item
    claims.claim(ws.db, item_id, "probe", "me", None, stale_s=60)
    first = claims.live(ws.db)[0].heartbeat_at
    with claims.Heartbeat(ws.db, item_id, "probe", "me", every_s=0.05):
        deadline = utcnow() + timedelta(seconds=20)
        while claims.live(ws.db)[0].heartbeat_at == first:
            assert utcnow() < deadline
    assert claims.live(ws.db)[0].heartbeat_at > first


EDITED = b"a person's English\n"
DURING: list[Callable[[], None]] = []  # what happens while the slow stage runs


def _slow_stage(ctx: StageContext) -> StageResult:
    """A stage during which a person records their own version of its file."""
    for hook in DURING:
        hook()
    return StageResult(files={"note.txt": b"the machine's English\n"}, engine="fake")


def test_an_edit_made_while_a_stage_runs_is_kept(item, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    ws, item_id = item
    mod = types.ModuleType("tolmach.pipeline._slow_stage")
    mod.run = _slow_stage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    stage = runner.Stage("note", "_slow_stage", reads=("original",))
    calls: list[int] = []

    def person_edits() -> None:  # as edits.py records an edit: a done run keyed over now
        calls.append(1)
        if len(calls) > 1:
            return
        with ws.db.begin() as session:
            inputs = queries.current_outputs(session, item_id)
            run = StageRun(
                item_id=item_id,
                stage="note",
                input_key=runner._input_key(stage, inputs, ws.settings),
                status="done",
                started_at=utcnow(),
                engine="person",
                summary_json="{}",
            )
            session.add(run)
            session.flush()
            sha, size = ws.blobs.put_bytes(EDITED)
            session.add(Output(run_id=run.id, name="note.txt", sha256=sha, size=size))

    monkeypatch.setattr(sys.modules[__name__], "DURING", [person_edits])
    with ws.db() as session:
        info = runner.item_info(session, item_id)
    events: list[str] = []
    runner.run_one(ws.db, ws.blobs, ws.settings, info, stage, lambda s, k, d, t: events.append(k))
    assert calls == [1]  # the stage ran once; its result was dropped, the edit taken as done
    assert events == ["start", "skip"]
    with ws.db() as session:
        now = queries.current_outputs(session, item_id)
        engines = session.scalars(select(StageRun.engine).where(StageRun.stage == "note")).all()
    assert ws.blobs.read_bytes(now["note.txt"]) == EDITED
    assert engines == ["person"]
