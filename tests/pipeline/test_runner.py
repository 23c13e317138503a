"""The stage runner: order, skip-if-done, re-run on change, crash recovery. Fake stages."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tolmach.config import Settings
from tolmach.errors import EngineError
from tolmach.pipeline import runner
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.store.tables import Output, StageRun
from tolmach.workspace import Workspace

CALLS: list[str] = []
CRASH: dict[str, BaseException] = {}


def _first(ctx: StageContext) -> StageResult:
    CALLS.append("first")
    if "first" in CRASH:
        raise CRASH.pop("first")
    return StageResult(files={"a.txt": ctx.read_bytes("original")[:4]}, engine="fake")


def _second(ctx: StageContext) -> StageResult:
    CALLS.append("second")
    if "second" in CRASH:
        raise CRASH.pop("second")
    return StageResult(files={"b.txt": ctx.read_bytes("a.txt") + b"!"}, summary={"ok": True})


@pytest.fixture
def stages() -> Iterator[tuple[runner.Stage, ...]]:
    mod = types.ModuleType("tolmach.pipeline._fake_stages")
    mod.first = _first  # type: ignore[attr-defined]
    mod.second = _second  # type: ignore[attr-defined]
    sys.modules[mod.__name__] = mod
    CALLS.clear()
    CRASH.clear()
    yield (
        runner.Stage("first", "_fake_stages", reads=("original",), settings=("render_crf",)),
        runner.Stage("second", "_fake_stages", reads=("a.txt",)),
    )
    del sys.modules[mod.__name__]


@pytest.fixture
def item(settings: Settings, media) -> tuple[Workspace, str]:
    ws = Workspace.open(settings)
    return ws, ws.ingest(media.silent_video(seconds=1)).item_id


def _fn(stage: runner.Stage):  # type: ignore[no-untyped-def]
    return getattr(sys.modules["tolmach.pipeline._fake_stages"], stage.name)


def test_runs_in_order_then_skips(item, stages, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.Stage, "fn", _fn)
    ws, item_id = item
    events: list[tuple[str, str]] = []
    runner.process(
        ws.db, ws.blobs, ws.settings, item_id, lambda s, k, d, t: events.append((s, k)), stages
    )
    assert CALLS == ["first", "second"]
    runner.process(
        ws.db, ws.blobs, ws.settings, item_id, lambda s, k, d, t: events.append((s, k)), stages
    )
    assert CALLS == ["first", "second"]
    assert events[-2:] == [("first", "skip"), ("second", "skip")]


def test_changed_setting_reruns_only_that_and_dependents(item, stages, monkeypatch) -> None:
    monkeypatch.setattr(runner.Stage, "fn", _fn)
    ws, item_id = item
    runner.process(ws.db, ws.blobs, ws.settings, item_id, stages=stages)
    changed = Settings(data_dir=ws.settings.data_dir, render_crf=30)
    runner.process(ws.db, ws.blobs, changed, item_id, stages=stages)
    # first re-ran, but wrote the same bytes, so second's inputs are unchanged: skipped
    assert CALLS == ["first", "second", "first"]


@pytest.mark.parametrize("exc", [EngineError("server down"), KeyboardInterrupt()])
def test_crash_mid_stage_records_nothing_and_rerun_finishes(item, stages, monkeypatch, exc) -> None:
    monkeypatch.setattr(runner.Stage, "fn", _fn)
    ws, item_id = item
    CRASH["second"] = exc
    with pytest.raises(type(exc)):
        runner.process(ws.db, ws.blobs, ws.settings, item_id, stages=stages)
    with ws.db() as s:
        done = s.scalars(select(StageRun.stage).where(StageRun.status == "done")).all()
        assert done == ["first"]
        assert [o.name for o in s.scalars(select(Output))] == ["a.txt"]
    summaries = runner.process(ws.db, ws.blobs, ws.settings, item_id, stages=stages)
    assert summaries["second"] == {"ok": True}
    assert CALLS == ["first", "second", "second"]
