"""Transcribe stage: audio.wav -> transcript.json, transcript.txt.

The audio is read in windows (``asr_window_s``) so memory stays bounded on long recordings.
The language is chosen among the candidate languages in settings, and Whisper's choice is not
trusted alone: the first window's text is checked with an offline text identifier, and when the
two disagree the window is transcribed again in the other candidate and the text identifier
decides between the two readings. Everything that went into the decision is kept in
``language_checks``.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tolmach.engines import asr, langid
from tolmach.errors import InputError
from tolmach.models import Segment, Transcript
from tolmach.pipeline.context import StageContext, StageResult, json_bytes

SAMPLE_RATE = 16000
# Below this much text the identifier is too unsure to overrule Whisper.
MIN_TEXT_FOR_CHECK = 12
# Whisper's (renormalised) probability above which its guess needs only the text check.
SURE = 0.8
# Seconds of audio read in each candidate language when the guess is in doubt.
TRIAL_S = 60.0


def windows(path: Path, seconds: float) -> Iterator[tuple[float, asr.Audio]]:
    """(offset seconds, float32 samples) for consecutive windows of a 16 kHz mono s16 WAV."""
    try:
        wav = wave.open(str(path), "rb")  # noqa: SIM115  (closed by the with below)
    except (wave.Error, EOFError) as exc:
        raise InputError(f"The extracted audio is not a readable WAV ({exc}).") from None
    with wav:
        if wav.getframerate() != SAMPLE_RATE or wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise InputError("The extracted audio is not 16 kHz mono 16-bit.", "Re-run probe.")
        frames = max(1, int(seconds * SAMPLE_RATE))
        offset = 0
        while True:
            raw = wav.readframes(frames)
            if not raw:
                return
            samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
            yield offset / SAMPLE_RATE, samples
            offset += len(samples)


def run(ctx: StageContext) -> StageResult:
    candidates = [c.lower() for c in ctx.settings.languages]
    if not ctx.has("audio.wav"):
        return _no_speech(ctx, candidates, "no audio track")
    rec = asr.make_recognizer(ctx.settings)
    total = ctx.item.duration or 1.0
    segments: list[Segment] = []
    language = ""
    checks: dict[str, Any] = {}
    for offset, audio in windows(ctx.path("audio.wav"), ctx.settings.asr_window_s):
        if not language:
            language, first, checks = choose_language(rec, audio, candidates)
            segments.extend(first)
        else:
            segments.extend(rec.transcribe(audio, language, offset))
        ctx.on_progress(min(offset + len(audio) / SAMPLE_RATE, total), total)
    segments = [replace(s, id=i) for i, s in enumerate(s for s in segments if s.text)]
    if not segments:
        return _no_speech(ctx, candidates, "no speech found", rec.model_ref())
    transcript = Transcript(
        language=language,
        language_probability=round(checks["chosen_probability"], 4),
        segments=tuple(segments),
        duration=ctx.item.duration,
        language_checks=checks,
    )
    return StageResult(
        files={
            "transcript.json": json_bytes(transcript.to_dict()),
            "transcript.txt": (transcript.text + "\n").encode(),
        },
        engine=rec.name,
        model=rec.model_ref(),
        summary={
            "language": language,
            "language_probability": transcript.language_probability,
            "segments": len(segments),
            "no_speech": False,
        },
    )


def choose_language(
    rec: asr.SpeechRecognizer, audio: asr.Audio, candidates: list[str]
) -> tuple[str, list[Segment], dict[str, Any]]:
    """Pick the language of ``audio`` among ``candidates``; return it, the window's segments and
    the record of how it was decided.

    Whisper's guess stands when it is sure and the text identifier agrees. Otherwise the first
    ``TRIAL_S`` seconds are read in every candidate language and each reading is scored by
    Whisper's probability times the identifier's confidence that the reading is in that
    language: Ukrainian read as Russian comes out as poor Russian, read as Ukrainian as clean
    Ukrainian.
    """
    probs = rec.detect_language(audio, candidates)
    guess = max(probs, key=lambda c: probs[c])
    segments = rec.transcribe(audio, guess, 0.0)
    text = " ".join(s.text for s in segments)
    votes = langid.identify(text, candidates) if len(text) >= MIN_TEXT_FOR_CHECK else {}
    checks: dict[str, Any] = {
        "candidates": candidates,
        "whisper": {c: round(p, 4) for c, p in probs.items()},
        "whisper_raw": getattr(rec, "last_detection", {}),
        "text_id": votes,
    }
    top = max(votes, key=lambda c: votes[c]) if votes else guess
    if not votes or (top == guess and probs[guess] >= SURE):
        checks["decided_by"] = "whisper and text_id agree" if votes else "whisper (little text)"
        checks["chosen_probability"] = probs[guess]
        return guess, segments, checks
    trial = audio[: int(TRIAL_S * SAMPLE_RATE)]
    scores: dict[str, float] = {}
    readings: dict[str, str] = {}
    trial_segments: dict[str, list[Segment]] = {guess: segments}
    for lang in candidates:
        if lang == guess:
            reading = " ".join(s.text for s in segments if s.end <= TRIAL_S) or text
        else:
            trial_segments[lang] = rec.transcribe(trial, lang, 0.0)
            reading = " ".join(s.text for s in trial_segments[lang])
        readings[lang] = reading
        scores[lang] = probs[lang] * langid.identify(reading, candidates).get(lang, 0.0)
    chosen = max(scores, key=lambda c: scores[c])
    total = sum(scores.values()) or 1.0
    checks["trial"] = {
        "seconds": TRIAL_S,
        "readings": readings,
        "scores": {c: round(v / total, 4) for c, v in scores.items()},
    }
    checks["decided_by"] = "trial readings in each candidate"
    checks["chosen_probability"] = scores[chosen] / total
    if chosen != guess:
        whole = len(audio) <= len(trial)
        segments = trial_segments[chosen] if whole else rec.transcribe(audio, chosen, 0.0)
    return chosen, segments, checks


def _no_speech(
    ctx: StageContext, candidates: list[str], reason: str, model: Any = None
) -> StageResult:
    transcript = Transcript(
        language="",
        language_probability=0.0,
        segments=(),
        duration=ctx.item.duration,
        language_checks={"candidates": candidates, "result": reason},
    )
    return StageResult(
        files={"transcript.json": json_bytes(transcript.to_dict()), "transcript.txt": b""},
        engine="faster-whisper",
        model=model,
        summary={"no_speech": True, "reason": reason, "segments": 0},
    )
