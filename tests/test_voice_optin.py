"""The runner's opt-in stages: the voice stage runs and is recorded only when asked for."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from conftest import MediaFactory
from tolmach.config import Settings
from tolmach.pipeline import runner
from tolmach.pipeline.context import StageContext, StageResult
from tolmach.store.tables import StageRun
from tolmach.workspace import Workspace

CALLS: list[str] = []


def _speak(ctx: StageContext) -> StageResult:
    CALLS.append("speak")
    return StageResult(files={"spoken.txt": b"hi"})


@pytest.fixture
def optin() -> Iterator[runner.Stage]:
    mod = types.ModuleType("tolmach.pipeline._fake_voice")
    mod.run = _speak  # type: ignore[attr-defined]
    sys.modules[mod.__name__] = mod
    CALLS.clear()
    yield runner.Stage("speak", "_fake_voice", reads=("original",), opt_in="voice_in_run")
    del sys.modules[mod.__name__]


def test_voice_stage_is_opt_in_by_voice_in_run() -> None:
    stage = next(s for s in runner.STAGES if s.name == "voice")
    assert stage.opt_in == "voice_in_run" and stage.kinds == ("video", "audio")
    assert {"original", "translation.json"} <= set(stage.reads)
    assert Settings.model_fields["voice_in_run"].default is False


def test_opt_in_stage_runs_only_when_its_setting_is_on(
    tmp_path, media: MediaFactory, optin: runner.Stage
) -> None:
    off = Workspace.open(Settings(data_dir=tmp_path / "d"))
    item_id = off.ingest(media.silent_video(seconds=1)).item_id
    events: list[tuple[str, str]] = []
    summaries = runner.process(
        off.db, off.blobs, off.settings, item_id, lambda s, k, d, t: events.append((s, k)), (optin,)
    )
    assert CALLS == [] and events == [] and summaries == {}
    with off.db() as session:
        assert session.scalars(select(StageRun).where(StageRun.stage == "speak")).all() == []
    on = Settings(data_dir=tmp_path / "d", voice_in_run=True)
    runner.process(off.db, off.blobs, on, item_id, stages=(optin,))
    runner.process(off.db, off.blobs, on, item_id, stages=(optin,))  # done: skipped
    assert CALLS == ["speak"]
