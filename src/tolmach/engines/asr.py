"""Speech recognition: the ``SpeechRecognizer`` interface and the faster-whisper engine.

    rec = make_recognizer(settings)
    probs = rec.detect_language(audio, ["ru", "uk"])      # {"ru": 0.81, "uk": 0.19}
    segments = rec.transcribe(audio, "ru", offset=0.0)    # list[Segment] with word timings

Audio is 16 kHz mono float32 in [-1, 1]. The engine uses faster-whisper's batched pipeline with
voice-activity filtering and word timestamps.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tolmach import catalog
from tolmach.config import Settings
from tolmach.errors import ConfigError, ModelError
from tolmach.models import ModelRef, Segment, Word

Audio = npt.NDArray[np.float32]
SAMPLE_RATE = 16_000


class SpeechRecognizer(Protocol):
    name: str

    def model_ref(self) -> ModelRef: ...

    def detect_language(self, audio: Audio, candidates: Sequence[str]) -> dict[str, float]:
        """Probabilities of each candidate language, renormalised to sum to 1."""
        ...

    def transcribe(self, audio: Audio, language: str, offset: float = 0.0) -> list[Segment]:
        """Segments of ``audio`` in ``language``; times shifted by ``offset`` seconds."""
        ...


class WhisperRecognizer:
    """faster-whisper (CTranslate2) with the batched pipeline, VAD and word timestamps."""

    name = "faster-whisper"

    def __init__(self, settings: Settings) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        path, self._ref = catalog.load(settings.models_dir, settings.asr_model)
        threads = settings.asr_threads or os.cpu_count() or 1
        try:
            self._model = WhisperModel(
                str(path),
                device=settings.asr_device,
                compute_type=settings.asr_compute_type,
                cpu_threads=threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(
                f"Whisper could not load {settings.asr_model}: {exc}",
                f"Run `tolmach models verify`, or reinstall with "
                f"`tolmach models install {settings.asr_model}`.",
            ) from None
        self._batched = BatchedInferencePipeline(self._model)
        self._beam = settings.asr_beam_size
        self._batch = settings.asr_batch_size
        # Raw whisper probabilities of the last detection, kept for the record.
        self.last_detection: dict[str, float] = {}

    def model_ref(self) -> ModelRef:
        return self._ref

    def detect_language(self, audio: Audio, candidates: Sequence[str]) -> dict[str, float]:
        _lang, _p, all_probs = self._model.detect_language(
            first_speech(audio), language_detection_segments=2
        )
        probs = {code: float(p) for code, p in all_probs}
        self.last_detection = {code: round(p, 4) for code, p in all_probs[:5]}
        return _renormalise({c: probs.get(c, 0.0) for c in candidates})

    def transcribe(self, audio: Audio, language: str, offset: float = 0.0) -> list[Segment]:
        segments, _info = self._batched.transcribe(
            audio,
            language=language,
            beam_size=self._beam,
            batch_size=self._batch,
            word_timestamps=True,
            vad_filter=True,
        )
        return [_segment(i, s, offset) for i, s in enumerate(segments)]


def first_speech(audio: Audio, wanted_s: float = 60.0, step_s: float = 180.0) -> Audio:
    """The first ``wanted_s`` seconds of speech, found by running VAD a ``step_s`` at a time.

    faster-whisper's own ``detect_language(vad_filter=True)`` runs VAD over all it is given
    (up to a whole 900 s window, about 2 s) and then listens to only the first 60 s of speech.
    """
    from faster_whisper.vad import collect_chunks, get_speech_timestamps

    step, wanted = int(step_s * SAMPLE_RATE), int(wanted_s * SAMPLE_RATE)
    speech: list[Audio] = []
    found = 0
    for start in range(0, len(audio), step):
        part = audio[start : start + step]
        chunks, _meta = collect_chunks(part, get_speech_timestamps(part))
        speech += chunks
        found += sum(len(c) for c in chunks)
        if found >= wanted:
            break
    return np.concatenate(speech) if found else audio[:wanted]


def _segment(i: int, s: Any, offset: float) -> Segment:
    words = tuple(
        Word(
            start=round(w.start + offset, 3),
            end=round(w.end + offset, 3),
            word=w.word,
            probability=round(float(w.probability), 4),
        )
        for w in (s.words or ())
    )
    return Segment(
        id=i,
        start=round(s.start + offset, 3),
        end=round(s.end + offset, 3),
        text=s.text.strip(),
        words=words,
    )


def _renormalise(probs: dict[str, float]) -> dict[str, float]:
    total = sum(probs.values())
    if total <= 0:
        return {c: 1.0 / len(probs) for c in probs}
    return {c: p / total for c, p in probs.items()}


RECOGNIZERS: dict[str, type[WhisperRecognizer]] = {"faster-whisper": WhisperRecognizer}


def make_recognizer(settings: Settings, name: str = "faster-whisper") -> SpeechRecognizer:
    try:
        return RECOGNIZERS[name](settings)
    except KeyError:
        raise ConfigError(f"Unknown speech engine {name!r}.") from None
