"""Video fingerprints on real footage: a cut copy matches its original, other footage does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ffmpeg
from tolmach.errors import InputError
from tolmach.fingerprint import HASH_BYTES, frame_hashes, match, unpack


@pytest.fixture(scope="module")
def near_dup(shared_data: Path) -> dict[str, bytes]:
    folder = shared_data / "video" / "perception-0.9.3_near-dup"
    names = {"v1": "v1.m4v", "v2": "v2.m4v", "v2s": "v2s.mov", "flat": "rgb.m4v"}
    return {key: frame_hashes(folder / name) for key, name in names.items()}


def test_cut_copy_matches_its_original(near_dup: dict[str, bytes]) -> None:
    m = match(near_dup["v2s"], near_dup["v2"])
    # Nearly all of the cut copy is in the original; about half of the original is in the copy.
    assert m.share_a >= 0.8
    assert 0.3 <= m.share_b <= 0.6
    assert m.score >= 0.8


def test_unrelated_footage_does_not_match(near_dup: dict[str, bytes]) -> None:
    for a, b in [("v1", "v2"), ("v1", "v2s")]:
        m = match(near_dup[a], near_dup[b])
        assert m.share_a == 0.0 and m.share_b == 0.0, (a, b, m)


def test_flat_colour_frames_give_no_hashes(near_dup: dict[str, bytes]) -> None:
    # rgb.m4v is plain colour fields: any two such frames would "match", so none are kept.
    assert near_dup["flat"] == b""
    assert match(near_dup["flat"], near_dup["v2"]).score == 0.0


def test_still_scenes_cost_one_hash_each(near_dup: dict[str, bytes], tmp_path: Path) -> None:
    hashes = unpack(near_dup["v2"])
    assert len(hashes) > 10 and hashes.shape[1] == HASH_BYTES
    # No two consecutive kept frames are near-identical.
    bits = np.unpackbits(hashes[1:] ^ hashes[:-1], axis=1).sum(axis=1)
    assert bits.min() > 16


def test_reencoded_subtitled_copy_matches(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "video" / "perception-0.9.3_near-dup" / "v2.m4v"
    copy = tmp_path / "subbed.mp4"
    # Shifted by a quarter second, upscaled, a white box where burned-in subtitles would sit.
    ffmpeg("-ss", "0.25", "-i", str(src), "-vf",
           "scale=640:360,drawbox=x=40:y=300:w=560:h=40:color=white:t=fill",
           "-c:v", "libx264", "-crf", "32", str(copy))  # fmt: skip
    assert match(frame_hashes(copy), frame_hashes(src)).score >= 0.7


def test_max_frames_spreads_evenly(shared_data: Path) -> None:
    src = shared_data / "video" / "perception-0.9.3_near-dup" / "v2.m4v"
    full = unpack(frame_hashes(src))
    few = unpack(frame_hashes(src, max_frames=5))
    assert len(few) == 5
    assert (few[0] == full[0]).all() and (few[-1] == full[-1]).all()


def test_undecodable_video_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    with pytest.raises(InputError, match="could not be decoded"):
        frame_hashes(bad)


def test_partial_hash_bytes_are_refused() -> None:
    with pytest.raises(InputError, match="whole number"):
        unpack(b"\x00" * 33)
