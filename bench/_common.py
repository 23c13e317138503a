"""Helpers shared by the benchmark scripts: paths, text normalisation, WER, medians, tables."""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
CORPUS = BENCH / "corpus"
# Models are installed once here (git-ignored) so each benchmark does not re-assemble them.
MODELS = CORPUS / "models"

WAV_10MIN = CORPUS / "ru-10min.wav"
REF_10MIN = CORPUS / "ru-10min.txt"
WAV_1H = CORPUS / "ru-1h.wav"
CLIP_60S = CORPUS / "clip-60s.mp4"
MANIFEST = CORPUS / "manifest.json"

T = TypeVar("T")


def need_corpus(*paths: Path) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(str(p.relative_to(REPO)) for p in missing)
        sys.exit(f"missing {names}: run `.venv/bin/python bench/make_corpus.py` first")


_PUNCT = re.compile(r"[^\w\s]|_")


def normalise(text: str) -> str:
    """Lower-case, ё -> е, punctuation (hyphens and dashes too) to spaces, spaces collapsed.

    The same normalisation is applied to the reference and to every hypothesis.
    """
    text = text.lower().replace("ё", "е")
    return " ".join(_PUNCT.sub(" ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def load_whisper() -> Any:
    """tolmach's catalog whisper-base as a plain faster-whisper model (int8, all cores)."""
    from faster_whisper import WhisperModel

    from tolmach import catalog

    path, _ref = catalog.load(MODELS, "whisper-base")
    return WhisperModel(
        str(path), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into docs)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "| " + " | ".join("-" * w for w in widths) + " |",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def machine() -> str:
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def stage_context(wav: Path, tmp: Path, **settings: Any) -> Any:
    """A StageContext for tolmach's transcribe stage on ``wav`` (16 kHz mono s16), built the way
    tests/pipeline/test_transcribe.py builds one; models come from bench/corpus/models."""
    import wave

    from tolmach.config import Settings
    from tolmach.pipeline.context import ItemInfo, StageContext
    from tolmach.store.blobs import BlobStore

    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    MODELS.mkdir(parents=True, exist_ok=True)
    if not (data / "models").exists():
        (data / "models").symlink_to(MODELS, target_is_directory=True)
    s = Settings(data_dir=data, operator="bench", **settings)
    blobs = BlobStore(s.blob_dir)
    sha, _size = blobs.put_file(wav)
    with wave.open(str(wav), "rb") as w:
        duration = w.getnframes() / w.getframerate()
    item = ItemInfo("bench", "0" * 64, "wav", "audio", duration, {})
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    return StageContext(item, s, blobs, {"original": "0" * 64, "audio.wav": sha}, work)


def read_wav(path: Path) -> Any:
    """The whole WAV as float32 in [-1, 1], read the way the transcribe stage reads windows."""
    import wave

    import numpy as np

    with wave.open(str(path), "rb") as w:
        raw = w.readframes(w.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
