"""Helpers for the voice tests: decoding what was made, and measuring its loudness."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 48_000


def decode(path: Path, rate: int = RATE) -> npt.NDArray[np.float32]:
    """The first audio stream of ``path`` as mono float32 at ``rate``."""
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
         "-ar", str(rate), "-f", "f32le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def loudness(path: Path) -> float:
    """Integrated loudness (LUFS) by ffmpeg's ebur128 filter."""
    proc = subprocess.run(
        ["ffmpeg", "-nostdin", "-i", str(path), "-map", "0:a", "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = proc.stderr[proc.stderr.rindex("Summary:") :]
    return float(summary.split("I:")[1].split("LUFS")[0])
