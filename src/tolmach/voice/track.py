"""The voice track: the spoken disclosure, then one utterance per segment placed in its slot.

The track opens with the disclosure ("This English voice is AI-generated."), spoken over a
*lead-in*: the clip holds its first frame for that long before the original starts, so the
disclosure never talks over the speaker and every segment keeps its own timing, shifted by
the lead-in. Each segment is read for speech (``speech_text``), spoken sentence by sentence
with a short pause between, fitted to its slot by the rule in ``fit`` and placed there. The
sentences of all segments are spoken at once, one per core (``tts.speak_all``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tolmach.engines.tts import Samples, TtsEngine, speak_all
from tolmach.voice import audio
from tolmach.voice.fit import Fit, fit, rooms
from tolmach.voice.speech_text import sentences

SPOKEN_DISCLOSURE = "This English voice is AI-generated."
SENTENCE_PAUSE_S = 0.15
LEAD_IN_PAD_S = 0.5  # silence after the disclosure, before the original starts
FADE_S = 0.03


@dataclass(frozen=True)
class Line:
    """One segment to be spoken: times in the media's own seconds."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Placed:
    """One segment as spoken."""

    index: int
    text: str
    spoken: str  # the text as read for speech
    fit: Fit | None  # None: nothing to say (an empty segment)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "text": self.text, "spoken": self.spoken}
        if self.fit is None:
            return {**data, "outcome": "silent", "flagged": False}
        return {**data, **self.fit.to_dict(), "flagged": not self.fit.in_slot}


@dataclass(frozen=True)
class Track:
    samples: Samples
    sample_rate: int
    lead_in: float  # seconds of hold before the original starts
    placed: tuple[Placed, ...]


class Clock:
    """Wall seconds of each phase, for the reports (where the time goes)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 2)
        self._last = now


def utterance(engine: TtsEngine, text: str, steady: bool = False) -> tuple[str, Samples]:
    """``text`` read for speech and spoken, sentence by sentence."""
    return utterances(engine, [text], steady)[0]


def utterances(
    engine: TtsEngine,
    texts: Sequence[str],
    steady: bool = False,
    on_progress: Callable[[float, float], None] = lambda done, total: None,
) -> list[tuple[str, Samples]]:
    """Each text read for speech and spoken, sentence by sentence with a short pause between;
    the sentences of all of them are spoken at once (``speak_all``)."""
    split = [sentences(text) for text in texts]
    said = iter(speak_all(engine, [p for parts in split for p in parts], steady, on_progress))
    pause = np.zeros(int(SENTENCE_PAUSE_S * engine.sample_rate), dtype=np.float32)
    out = []
    for parts in split:
        pieces: list[Samples] = []
        for _ in parts:
            pieces += [next(said), pause]
        spoken = np.concatenate(pieces[:-1]) if pieces else np.zeros(0, dtype=np.float32)
        out.append((" ".join(parts), spoken))
    return out


def opening(engine: TtsEngine) -> tuple[Samples, float]:
    """The disclosure, spoken steadily, and the lead-in it needs (seconds of held picture)."""
    _, speech = utterance(engine, SPOKEN_DISCLOSURE, steady=True)
    return speech, round(len(speech) / engine.sample_rate + LEAD_IN_PAD_S, 2)


def build(
    engine: TtsEngine,
    lines: Sequence[Line],
    media_end: float,
    max_tempo: float,
    on_progress: Callable[[float, float], None] = lambda done, total: None,
    opened: tuple[Samples, float] | None = None,
) -> Track:
    """Speak the disclosure (unless ``opened`` already has it) and every line; place each in
    the media's time after the lead-in. ``on_progress`` counts sentences spoken."""
    rate = engine.sample_rate
    speech_open, lead_in = opened if opened is not None else opening(engine)
    room_ends = rooms([(line.start, line.end) for line in lines], media_end)
    total = lead_in + max(media_end, max((line.end for line in lines), default=0.0))
    track = np.zeros(int(total * rate) + 1, dtype=np.float32)
    _put(track, speech_open, 0)
    said = utterances(engine, [line.text for line in lines], on_progress=on_progress)
    placed = []
    for n, (line, (spoken_text, speech)) in enumerate(zip(lines, said, strict=True)):
        if not len(speech):
            placed.append(Placed(n, line.text, spoken_text, None))
            continue
        f = fit(line.start, line.end, room_ends[n], len(speech) / rate, max_tempo)
        speech = audio.stretch(speech, rate, f.tempo)[: int(f.length * rate)]
        if f.outcome == "truncated":
            speech = _fade_out(speech, rate)
        _put(track, speech, int((lead_in + line.start) * rate))
        placed.append(Placed(n, line.text, spoken_text, f))
    return Track(np.clip(track, -1.0, 1.0), rate, lead_in, tuple(placed))


def voiced_spans(track: Track) -> list[tuple[float, float]]:
    """Where the voice speaks, in the clip's time (lead-in included)."""
    spans = [(0.0, track.lead_in)]
    for p in track.placed:
        if p.fit is not None:
            spans.append((track.lead_in + p.fit.start, track.lead_in + p.fit.start + p.fit.length))
    return spans


def _put(track: Samples, speech: Samples, at: int) -> None:
    end = min(len(track), at + len(speech))
    if end > at:
        track[at:end] += speech[: end - at]


def _fade_out(speech: Samples, rate: int) -> Samples:
    n = min(len(speech), int(FADE_S * rate))
    out = speech.copy()
    if n:
        out[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return out
