"""Ingest: real ffprobe on real files; bad input stores nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.store.tables import Capture, Item
from tolmach.workspace import Workspace


@pytest.fixture
def ws(settings: Settings) -> Workspace:
    return Workspace.open(settings)


def _counts(ws: Workspace) -> tuple[int, int, int]:
    with ws.db() as s:
        items = s.scalar(select(func.count()).select_from(Item)) or 0
        caps = s.scalar(select(func.count()).select_from(Capture)) or 0
    return items, caps, len(list(ws.blobs.iter_shas()))


def test_same_bytes_twice_is_one_item_two_captures(ws: Workspace, media, tmp_path: Path) -> None:
    clip = media.speech_video()
    copy = tmp_path / "другое имя.mp4"
    shutil.copy(clip, copy)
    first = ws.ingest(clip)
    second = ws.ingest(copy)
    assert first.item_id == second.item_id and first.new_item and not second.new_item
    assert first.capture_id != second.capture_id
    assert _counts(ws)[:2] == (1, 2)
    rec = second.record
    assert rec["source"]["name"] == "другое имя.mp4"
    assert rec["sha256"].startswith(first.item_id) and rec["size"] == clip.stat().st_size
    assert rec["captured_at"].endswith("Z") and rec["operator"] == "tester"
    assert rec["media"]["duration"] == pytest.approx(5.7, abs=0.2)
    assert ws.blobs.path(rec["sha256"]).read_bytes() == clip.read_bytes()


@pytest.mark.parametrize(
    "name",
    ['it\'s "quoted" & spaced.mp4', "../../escape.mp4", "-rf.mp4", "видео солдат.mp4", "x\n.mp4"],
)
def test_hostile_names_are_handled(ws: Workspace, media, tmp_path: Path, name: str) -> None:
    clip = media.speech_video()
    target = tmp_path / "in" / "sub" / "sub2" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target = target.resolve() if ".." in name else target
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip, target)
    ing = ws.ingest(target)
    with ws.db() as s:
        item = s.get(Item, ing.item_id)
        assert item is not None and item.ext in ("mp4", "")
    assert not any(p.name == "escape.mp4" for p in ws.settings.data_dir.rglob("*"))


def _bad_inputs(tmp_path: Path, clip: Path) -> dict[str, Path]:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("This is a text file, not a video.\n" * 50)
    data = clip.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    return {
        "empty": empty,
        "not media": text,
        "truncated": truncated,
        "missing": tmp_path / "nope.mp4",
    }


@pytest.mark.parametrize("case", ["empty", "not media", "truncated", "missing"])
def test_bad_input_is_refused_and_stores_nothing(
    ws: Workspace, media, tmp_path: Path, case: str
) -> None:
    path = _bad_inputs(tmp_path, media.speech_video())[case]
    with pytest.raises(InputError) as exc:
        ws.ingest(path)
    assert path.name in exc.value.message
    assert exc.value.hint
    assert _counts(ws) == (0, 0, 0)


def test_too_long_is_refused(media, tmp_path: Path) -> None:
    ws = Workspace.open(Settings(data_dir=tmp_path / "d", max_duration_s=2.0))
    with pytest.raises(InputError, match="hours long"):
        ws.ingest(media.speech_video())
    assert _counts(ws) == (0, 0, 0)


def test_audio_only_and_no_audio_are_not_errors(ws: Workspace, media) -> None:
    voice = ws.ingest(media.audio())
    mute = ws.ingest(media.silent_video(audio=False))
    with ws.db() as s:
        assert s.get(Item, voice.item_id).kind == "audio"  # type: ignore[union-attr]
        item = s.get(Item, mute.item_id)
        assert item is not None and item.kind == "video"
        assert not any(st["codec_type"] == "audio" for st in json.loads(item.media_json)["streams"])
