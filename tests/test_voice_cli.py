"""``tolmach voice`` end to end on real Russian speech: the real Whisper, translation model,
Piper and ffmpeg; the voice-over heard back by Whisper says that it is AI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MediaFactory
from tolmach.config import Settings
from tolmach.engines.asr import make_recognizer
from voice_helpers import decode


def tolmach(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "tolmach", *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip


@pytest.mark.model
@pytest.mark.slow
def test_voice_command_end_to_end_and_the_disclosure_is_heard(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = MediaFactory(tmp_path / "m").speech_video("солдат.mp4")
    ingested = tolmach(data, "ingest", str(clip), "--json")
    assert ingested.returncode == 0, ingested.stderr
    item_id = json.loads(ingested.stdout)["item_id"]
    out = tmp_path / "voice"
    proc = tolmach(data, "voice", item_id[:8], "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["item_id"] == item_id and summary["segments"] >= 1
    assert summary["engine"] == "piper" and not summary["c2pa_signed"]
    assert "not signed" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "english-voice.mp4",
        "voice.json",
        "voiceover.wav",
    ]
    report = json.loads((out / "voice.json").read_text())
    track = decode(out / "voiceover.wav", 16_000)
    opening = track[: int(report["lead_in_s"] * 16_000)]
    heard = " ".join(
        s.text for s in make_recognizer(Settings(data_dir=data)).transcribe(opening, "en")
    )
    words = heard.lower().replace("-", " ").replace(".", "")
    assert "english voice" in words and "generated" in words, heard
    again = tolmach(data, "voice", item_id, "--json")  # done: nothing runs again
    assert again.returncode == 0 and json.loads(again.stdout)["segments"] == summary["segments"]
