"""Near-duplicate index and links: exact against brute force, and through the real stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from conftest import MediaFactory
from tolmach.config import Settings
from tolmach.fingerprint import match
from tolmach.pipeline import runner
from tolmach.similar import SimilarIndex, links_of
from tolmach.store.tables import Fingerprint, Link, StageRun
from tolmach.workspace import Workspace

RNG = np.random.default_rng(7)


def _flip(hashes: np.ndarray, bits: int) -> np.ndarray:
    """``hashes`` with ``bits`` random bits flipped in each."""
    unpacked = np.unpackbits(hashes, axis=1)
    for row in unpacked:
        row[RNG.choice(256, bits, replace=False)] ^= 1
    return np.packbits(unpacked, axis=1)


def _spread(hashes: np.ndarray, bits: int) -> np.ndarray:
    """``hashes`` with ``bits`` bits flipped spread over all 16 16-bit chunks, so no chunk
    agrees exactly (what the index's one-bit neighbour search is for)."""
    unpacked = np.unpackbits(hashes, axis=1)
    for row in unpacked:
        for k in range(bits):
            chunk, nth = k % 16, k // 16
            row[chunk * 16 + int(RNG.integers(0, 8)) * 2 + nth] ^= 1
    return np.packbits(unpacked, axis=1)


def test_index_agrees_with_brute_force() -> None:
    items = {f"r{i}": RNG.integers(0, 256, (12, 32), dtype=np.uint8) for i in range(300)}
    base = items["r5"]
    # Near copies at the edge of the distance: 31 bits differ in every frame (found), 33 (not).
    items["near"] = _flip(base, 31)
    items["far"] = _flip(base, 33)
    items["part"] = np.concatenate([_flip(base[:6], 10), items["r9"][:6]])
    items["spread"] = _spread(base, 31)  # every chunk differs: found only through neighbours
    items["spread_far"] = _spread(base, 32)
    index = SimilarIndex([(k, v.tobytes()) for k, v in items.items()] + [("empty", b"")])
    assert len(index) == len(items)
    query = base.tobytes()
    hits = {h.item_id: h for h in index.query(query, min_share=0.0)}
    for item_id, hashes in items.items():
        m = match(query, hashes.tobytes())
        if m.score == 0:
            assert item_id not in hits
        else:
            assert hits[item_id].share_query == pytest.approx(m.share_a), item_id
            assert hits[item_id].share_item == pytest.approx(m.share_b), item_id
    assert hits["r5"].score == 1.0 and hits["near"].score == 1.0
    assert "far" not in hits and "spread_far" not in hits
    assert hits["spread"].score == 1.0
    assert hits["part"].share_query == 0.5 and hits["part"].share_item == 0.5
    assert [h.item_id for h in index.query(query, exclude="r5")][:1] == ["near"]


def test_empty_index_and_empty_query() -> None:
    assert SimilarIndex([]).query(RNG.integers(0, 256, 64, dtype=np.uint8).tobytes()) == []
    assert SimilarIndex([("a", b"\x01" * 32)]).query(b"") == []
    with pytest.raises(ValueError):
        SimilarIndex([], max_distance=32)


FINGERPRINT = tuple(s for s in runner.STAGES if s.name == "fingerprint")


@pytest.fixture
def ws(settings: Settings) -> Workspace:
    return Workspace.open(settings)


def _add(ws: Workspace, path: Path) -> str:
    item_id = ws.ingest(path).item_id
    runner.process(ws.db, ws.blobs, ws.settings, item_id, stages=FINGERPRINT)
    return item_id


def test_stage_links_cut_copy_not_other_footage(
    ws: Workspace, shared_data: Path, media: MediaFactory
) -> None:
    folder = shared_data / "video" / "perception-0.9.3_near-dup"
    v2 = _add(ws, folder / "v2.m4v")
    v1 = _add(ws, folder / "v1.m4v")
    audio = _add(ws, media.audio())
    v2s = _add(ws, folder / "v2s.mov")
    with ws.db() as session:
        prints = {f.item_id: f for f in session.scalars(select(Fingerprint))}
        assert set(prints) == {v1, v2, v2s}  # the audio-only item has none
        assert prints[v2].count == len(prints[v2].data) // 32 > 10
        links = list(session.scalars(select(Link)))
        assert [(lk.item_id, lk.other_id, lk.kind) for lk in links] == [(v2s, v2, "near-duplicate")]
        assert links[0].score >= 0.8
        detail = json.loads(links[0].detail_json)
        assert detail["share_new"] >= 0.8 and detail["share_other"] < 0.7
        # Both sides see the link; the unrelated item and the audio item see none.
        assert [d["item_id"] for d in links_of(session, v2)] == [v2s]
        assert [d["item_id"] for d in links_of(session, v2s)] == [v2]
        assert links_of(session, v1) == [] and links_of(session, audio) == []
        run = session.scalars(
            select(StageRun).where(StageRun.item_id == v2s, StageRun.stage == "fingerprint")
        ).one()
        assert json.loads(run.summary_json)["near_duplicates"] == [v2]
        audio_run = session.scalars(
            select(StageRun).where(StageRun.item_id == audio, StageRun.stage == "fingerprint")
        ).one()
        assert json.loads(audio_run.summary_json) == {"frames": 0, "video": False}
        assert audio_run.outputs == []


def test_rerun_with_new_settings_updates_not_duplicates(
    settings: Settings, shared_data: Path
) -> None:
    folder = shared_data / "video" / "perception-0.9.3_near-dup"
    ws = Workspace.open(settings)
    v2, v2s = _add(ws, folder / "v2.m4v"), _add(ws, folder / "v2s.mov")
    ws2 = Workspace.open(settings.model_copy(update={"fingerprint_fps": 4.0}))
    runner.process(ws2.db, ws2.blobs, ws2.settings, v2s, stages=FINGERPRINT)
    with ws2.db() as session:
        assert len(list(session.scalars(select(Fingerprint)))) == 2
        assert [(lk.item_id, lk.other_id) for lk in session.scalars(select(Link))] == [(v2s, v2)]


def test_cli_similar(settings: Settings, shared_data: Path) -> None:
    from typer.testing import CliRunner

    from tolmach.cli import app

    folder = shared_data / "video" / "perception-0.9.3_near-dup"
    ws = Workspace.open(settings)
    v2, v1, v2s = (_add(ws, folder / n) for n in ("v2.m4v", "v1.m4v", "v2s.mov"))
    data = ["--data-dir", str(settings.data_dir)]
    result = CliRunner().invoke(app, [*data, "similar", v2[:8], "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["item_id"] == v2
    [hit] = found["near_duplicates"]
    # From v2's side: about half of v2 is in the cut copy, nearly all of the copy is in v2.
    assert hit["item_id"] == v2s and hit["share_this"] < 0.7 <= hit["share_other"]
    text = CliRunner().invoke(app, [*data, "similar", v2s])
    assert v2 in text.output and "%" in text.output
    none = CliRunner().invoke(app, [*data, "similar", v1])
    assert "no near-duplicates" in none.output
    missing = CliRunner().invoke(app, [*data, "similar", "ffffffffffff"])
    assert missing.exit_code == 3
