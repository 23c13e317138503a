"""A 3-hour recording goes through `tolmach run` with bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from conftest import RU_WAV, ffmpeg
from test_cli import TOLMACH

LIMIT = 2.5e9  # bytes: the memory target for an hour of audio holds for three


def _three_hours(path: Path) -> Path:
    """Real speech at 0 s, ~1.5 h and ~2.98 h, digital silence between (flac, ~2 MB)."""
    graph = (
        "[0]aresample=16000,aformat=channel_layouts=mono,asplit=3[a][b][c];"
        "[a]apad=pad_dur=5400[a2];[b]apad=pad_dur=5300[b2];[a2][b2][c]concat=n=3:v=0:a=1"
    )
    ffmpeg("-i", str(RU_WAV), "-filter_complex", graph, "-c:a", "flac", str(path))
    return path


def _run_sampling_rss(args: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Run a command; return its exit code and the peak RSS of it and its children."""
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    assert child.stderr is not None
    if child.returncode:
        print(child.stderr.read().decode(errors="replace"))
    return child.returncode, peak


@pytest.mark.model
@pytest.mark.slow
def test_three_hour_recording_bounded_memory(tmp_path: Path) -> None:
    src = _three_hours(tmp_path / "three hours.flac")
    out = tmp_path / "out"
    env = {**os.environ, "TOLMACH_DATA_DIR": str(tmp_path / "data")}
    code, peak = _run_sampling_rss([*TOLMACH, "run", str(src), "--out", str(out)], env)
    assert code == 0
    assert 0 < peak < LIMIT, f"peak RSS {peak / 1e9:.2f} GB"
    transcript = json.loads((out / "transcript.json").read_text())
    starts = [s["start"] for s in transcript["segments"]]
    assert transcript["language"] == "ru" and len(starts) == 3
    assert starts[0] < 1 and 5400 < starts[1] < 5410 and 10700 < starts[2] < 10712
    assert (out / "english.srt").read_text().count("-->") >= 3
    assert not (out / "clip.en.mp4").exists()  # longer than render_max_s: subtitles only
    manifest = json.loads((out / "manifest.json").read_text())
    assert "clip.en.mp4" not in {f["name"] for f in manifest["files"]}
