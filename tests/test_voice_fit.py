"""The slot-fitting rule, the ducking envelope and the tempo change (real ffmpeg atempo)."""

from __future__ import annotations

import numpy as np
import pytest

from tolmach.voice import audio
from tolmach.voice.fit import fit, rooms


def test_an_utterance_that_fits_is_spoken_at_normal_speed() -> None:
    f = fit(1.0, 4.0, 6.0, 2.5, 1.4)
    assert (f.outcome, f.tempo, f.length, f.overflow, f.in_slot) == ("fits", 1.0, 2.5, 0.0, True)


def test_a_little_too_long_is_sped_up_just_enough() -> None:
    f = fit(1.0, 3.0, 6.0, 2.6, 1.4)
    assert f.outcome == "sped" and f.in_slot
    assert f.tempo == pytest.approx(1.3) and f.length == pytest.approx(2.0)


def test_too_long_at_the_cap_runs_into_the_following_silence() -> None:
    f = fit(1.0, 2.0, 5.0, 2.8, 1.4)
    assert f.outcome == "overran" and not f.in_slot
    assert f.tempo == 1.4 and f.length == pytest.approx(2.0) and f.overflow == pytest.approx(1.0)


def test_longer_than_its_room_is_cut_at_the_next_segment() -> None:
    f = fit(1.0, 2.0, 2.5, 2.8, 1.4)
    assert f.outcome == "truncated" and f.length == pytest.approx(1.5)
    assert f.overflow == pytest.approx(0.5)


def test_a_zero_length_segment_still_gets_a_moment() -> None:
    assert fit(1.0, 1.0, 1.0, 0.1, 1.4).outcome == "fits"
    assert fit(1.0, 1.0, 1.0, 0.5, 1.4).length == pytest.approx(0.2)


def test_rooms_reach_the_next_start_or_the_media_end() -> None:
    assert rooms([(0.0, 1.0), (2.0, 3.0), (2.5, 4.0)], 10.0) == [2.0, 3.0, 10.0]


def test_ducking_lowers_only_the_voiced_spans_with_ramps() -> None:
    original = np.ones((10 * audio.RATE, 2), dtype=np.float32)
    ducked = audio.duck(original, [(2.0, 4.0)])
    low = 10 ** (audio.DUCK_DB / 20)
    at = lambda s: float(ducked[int(s * audio.RATE), 0])  # noqa: E731
    assert at(3.0) == pytest.approx(low, rel=1e-3)
    assert at(1.0) == 1.0 and at(5.0) == 1.0
    assert low < at(2.0 - audio.RAMP_S / 2) < 1.0  # half way down the ramp


def test_tempo_change_keeps_the_pitch_and_shortens() -> None:
    rate = 22050
    t = np.arange(2 * rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    faster = audio.stretch(tone, rate, 1.25)
    assert len(faster) / rate == pytest.approx(1.6, abs=0.03)
    spectrum = np.abs(np.fft.rfft(faster[rate // 4 : rate]))
    peak = np.argmax(spectrum) * rate / len(faster[rate // 4 : rate])
    assert peak == pytest.approx(440, abs=5)
    assert audio.stretch(tone, rate, 1.0) is tone
