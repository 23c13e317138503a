"""What the voice stage does to be fast must not change what it makes.

Speech in parallel keeps every sentence in its place; a pass metered as it writes gives the
loudness of what it wrote; the background picture encode reports a failure and stops when
the voice fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ffmpeg
from tolmach.config import Settings
from tolmach.engines.tts import load_tts, speak_all, workers
from tolmach.errors import ToolError
from tolmach.voice import audio, picture
from tolmach.voice.track import utterances

TEXTS = ["One.", "Two soldiers came back.", "Three.", "The water ran out on Tuesday.", "Five."]


def test_speech_in_parallel_keeps_every_sentence_in_its_place(tmp_path: Path) -> None:
    engine = load_tts(Settings(data_dir=tmp_path, voice_engine="espeak"))  # the same every time
    one_by_one = [engine.speak(text) for text in TEXTS]
    seen: list[tuple[int, int]] = []
    together = speak_all(engine, TEXTS, on_done=lambda done, total: seen.append((done, total)))
    assert len(together) == len(TEXTS)
    for alone, parallel in zip(one_by_one, together, strict=True):
        assert np.array_equal(alone, parallel)
    assert seen == [(n, len(TEXTS)) for n in range(1, len(TEXTS) + 1)]
    said = utterances(engine, ["One. Two soldiers came back.", "", "Three."])
    assert [text for text, _ in said] == ["One. Two soldiers came back.", "", "Three."]
    pause = int(0.15 * engine.sample_rate)
    assert len(said[0][1]) == len(one_by_one[0]) + pause + len(one_by_one[1])
    assert len(said[1][1]) == 0 and np.array_equal(said[2][1], one_by_one[2])


def test_piper_speaks_from_several_threads_at_once(tmp_path: Path) -> None:
    engine = load_tts(Settings(data_dir=tmp_path))
    spoken = speak_all(engine, TEXTS, steady=True)
    alone = engine.speak(TEXTS[3], steady=True)  # steady: no noise, the same sound every time
    assert np.allclose(spoken[3], alone, atol=1e-4)
    assert all(len(s) > 0.3 * engine.sample_rate for s in spoken)
    assert workers() >= 1


def test_a_pass_metered_as_it_writes_gives_the_loudness_of_what_it_wrote(
    tmp_path: Path,
) -> None:
    source = tmp_path / "speech.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:r=22050:d=4,volume=0.8", str(source))
    even = tmp_path / "even.wav"
    assert audio.compress(source, even) == pytest.approx(audio.integrated(even), abs=0.1)
    loud = tmp_path / "loud.wav"
    reached = audio.normalise(even, loud, -16.0, 1, audio.integrated(even))
    assert reached == pytest.approx(-16.0, abs=audio.TOLERANCE)
    assert audio.integrated(loud) == pytest.approx(reached, abs=0.1)


def test_a_failing_picture_encode_is_a_clear_error(tmp_path: Path) -> None:
    options = picture.x264_options(Settings(data_dir=tmp_path))
    broken = picture.Picture([], "nosuchfilter[v]", options, tmp_path / "p.mp4")
    with broken, pytest.raises(ToolError, match="drawing the voice-over's picture"):
        broken.wait(60)


def test_leaving_before_the_picture_is_done_stops_its_encode(tmp_path: Path) -> None:
    options = picture.x264_options(Settings(data_dir=tmp_path))
    endless = "testsrc2=s=1280x720:r=25,format=yuv420p[v]"  # no end: only a stop ends it
    drawing = picture.Picture([], endless, options, tmp_path / "p.mp4")
    with pytest.raises(RuntimeError), drawing:
        raise RuntimeError("the voice failed")
    assert drawing._proc.poll() is not None  # killed, not waited for: it had no end


def test_voiced_picture_is_encoded_faster_than_render_unless_render_is_fastest(
    tmp_path: Path,
) -> None:
    slow = picture.x264_options(Settings(data_dir=tmp_path, render_preset="medium", render_crf=20))
    assert slow[slow.index("-preset") + 1] == "superfast" and "subme=0" in " ".join(slow)
    assert slow[slow.index("-crf") + 1] == "20"
    fastest = picture.x264_options(Settings(data_dir=tmp_path, render_preset="ultrafast"))
    assert fastest[fastest.index("-preset") + 1] == "ultrafast"
