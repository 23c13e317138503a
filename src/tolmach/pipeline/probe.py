"""Probe stage: extract the speech audio of the original as 16 kHz mono WAV for transcription.

Reads the original blob (ffmpeg sniffs its format; the blob has no extension) and writes
``audio.wav``, 16-bit PCM, 16 kHz, mono, from the first audio stream. An item without audio
gets no ``audio.wav`` and ``summary={"audio": False}``; later stages treat it as silent.

Damaged media is refused rather than half-transcribed: ffmpeg keeps going over corrupt or
missing data and exits 0, so any error it reports while decoding, or decoded audio much
shorter than the capture says, raises ``InputError``. A transcript of half a statement that
looks complete is worse than no transcript.
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path

from tolmach.errors import InputError
from tolmach.media import check_container, has_audio, run_ffmpeg_progress, safe_path
from tolmach.pipeline.context import StageContext, StageResult

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# Decoded audio may come out a little shorter than the container says (priming, a last
# partial frame); more than this is missing data.
SHORT_TOLERANCE_S = 1.0
SHORT_TOLERANCE_FRACTION = 0.02


def run(ctx: StageContext) -> StageResult:
    """Write ``audio.wav`` from the first audio stream of the original."""
    prefix = f"[{ctx.item.id}:probe]"
    if not has_audio(ctx.item.media):
        log.info("%s no audio stream; nothing to transcribe", prefix)
        return StageResult(summary={"audio": False})
    original = ctx.path("original")
    check_container(original)
    out = ctx.work_dir / "audio.wav"
    total = float(ctx.item.duration or ctx.item.media.get("duration") or 0.0)
    args = [
        "-i", safe_path(original),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
        "-f", "wav", safe_path(out),
    ]  # fmt: skip
    errors = run_ffmpeg_progress(args, "extracting the audio", total, ctx.on_progress)
    if errors:
        raise InputError(
            f"Item {ctx.item.id}: the audio could not be decoded cleanly ({_first_error(errors)}).",
            "The file is damaged or was cut short: capture it again, or if this copy is all "
            "there is, re-encode what can be read with ffmpeg and ingest that copy.",
        )
    seconds = wav_seconds(out)
    if total > 0 and seconds < total - max(SHORT_TOLERANCE_S, total * SHORT_TOLERANCE_FRACTION):
        raise InputError(
            f"Item {ctx.item.id}: only {seconds:.1f} s of audio could be decoded of the "
            f"{total:.1f} s the file declares.",
            "The file is damaged or was cut short: capture it again.",
        )
    log.info("%s audio.wav: %.1f s", prefix, seconds)
    return StageResult(
        files={"audio.wav": out},
        engine="ffmpeg",
        summary={"audio": True, "audio_seconds": round(seconds, 3)},
    )


def wav_seconds(path: Path) -> float:
    """Duration of a PCM WAV from its header."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (wave.Error, EOFError) as exc:
        raise InputError(
            f"ffmpeg wrote an unreadable WAV ({exc}).", "Check the input file."
        ) from None


def _first_error(errors: list[str]) -> str:
    """The most telling of ffmpeg's error lines: a truncation beats a decoder complaint."""
    for line in errors:
        if "partial file" in line or "truncat" in line.lower():
            return "the file is truncated"
    first = errors[0]
    # "[aac @ 0x55d7...] Reserved bit set." -> "aac: Reserved bit set."
    if first.startswith("[") and "] " in first:
        codec, _, rest = first[1:].partition("] ")
        first = f"{codec.split(' @ ')[0]}: {rest}"
    return f"{first} and more" if len(errors) > 1 else first
