"""``tolmach narrate``: a story read aloud into an .m4a with chapters, and its error paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from c2pa_certs import make_chain, read_manifest
from conftest import ffprobe
from tolmach.config import Settings
from tolmach.errors import ConfigError, InputError, NotFoundError
from tolmach.voice.narrate import narrate, paragraphs, read_story
from voice_helpers import decode, loudness

STORY = """\
# Water at the front

The **96th** regiment wrote to us on 3 March: they had no water for [nine days](https://t.me/x).

![a photo](photo.jpg)

> The commander said nothing. 🙏

- The SMO, they said, would end soon.
"""


def tolmach(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "tolmach", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def chapters_of(path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: list[dict[str, Any]] = json.loads(proc.stdout)["chapters"]
    return found


def test_markdown_becomes_plain_paragraphs() -> None:
    assert paragraphs(STORY) == [
        "Water at the front",
        "The 96th regiment wrote to us on 3 March: they had no water for nine days.",
        "The commander said nothing. 🙏",
        "The SMO, they said, would end soon.",
    ]


def test_missing_and_empty_stories_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        read_story(tmp_path / "nope.md")
    empty = tmp_path / "empty.md"
    empty.write_text("  \n\n# \n")
    with pytest.raises(InputError, match="no text to read"):
        read_story(empty)
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError, match="not UTF-8"):
        read_story(binary)


def test_cli_errors_name_the_file_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "story.m4a"
    missing = tolmach(tmp_path / "d", "narrate", str(tmp_path / "gone.md"), "--out", str(out))
    assert missing.returncode == 3 and "gone.md does not exist" in missing.stderr
    (tmp_path / "empty.txt").write_text("")
    empty = tolmach(tmp_path / "d", "narrate", str(tmp_path / "empty.txt"), "--out", str(out))
    assert empty.returncode == 2 and "no text to read" in empty.stderr
    assert not out.exists()


@pytest.mark.slow
def test_story_read_aloud_with_a_chapter_per_paragraph(tmp_path: Path) -> None:
    story = tmp_path / "water.md"
    story.write_text(STORY)
    out = tmp_path / "audio" / "water.m4a"
    proc = tolmach(tmp_path / "d", "narrate", str(story), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert made["chapters"] == 4 and made["engine"] == "piper"
    assert "not signed" in made["c2pa"]["warning"] and "not signed" in proc.stderr
    chapters = chapters_of(out)
    titles = [c["tags"]["title"] for c in chapters]
    assert titles[0] == "Water at the front" and titles[3] == "The SMO, they said, would end soon."
    assert float(chapters[0]["start_time"]) == 0.0
    ends = [float(c["end_time"]) for c in chapters]
    assert ends == sorted(ends) and ends[-1] == pytest.approx(made["duration"], abs=0.1)
    assert float(chapters[0]["end_time"]) > 2.0  # the disclosure and the heading
    info = ffprobe(out)
    assert (
        info["format"]["tags"]["comment"] == "AI-generated English voice (Piper en_US-joe-medium)"
    )
    samples = decode(out)
    assert len(samples) / 48_000 == pytest.approx(made["duration"], abs=0.2)
    lufs = loudness(out)
    assert lufs == pytest.approx(-16.0, abs=1.0)


@pytest.mark.slow
def test_signed_narration_and_a_mismatched_key(tmp_path: Path) -> None:
    chain = make_chain(tmp_path / "c2pa")
    story = tmp_path / "s.txt"
    story.write_text("One paragraph.\n\nTwo paragraphs.\n")
    work = tmp_path / "work"
    work.mkdir()
    bad = Settings(data_dir=tmp_path / "d", c2pa_cert=chain.chain, c2pa_key=chain.other_key)
    with pytest.raises(ConfigError, match="does not match"):
        narrate(story, tmp_path / "bad.m4a", bad, work)
    assert not (tmp_path / "bad.m4a").exists() and list(work.iterdir()) == []
    good = Settings(
        data_dir=tmp_path / "d", voice_engine="espeak", c2pa_cert=chain.chain, c2pa_key=chain.key
    )
    made = narrate(story, tmp_path / "s.m4a", good, work)
    assert made.signed.signed and len(made.chapters) == 2
    manifest, state = read_manifest(made.path, "audio/mp4", chain.ca)
    assert state == "Trusted"
    actions = next(a for a in manifest["assertions"] if a["label"] == "c2pa.actions.v2")
    [created] = actions["data"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert created["softwareAgent"]["name"] == "espeak-ng en-us"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c2pa", "s.m4a", "s.txt", "work"]
