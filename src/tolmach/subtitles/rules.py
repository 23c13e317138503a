"""The subtitle rules both the builder and the checker follow (Netflix English timed text style).

Times inside the builder are whole milliseconds, so the limits are given in both forms; the
checker allows half a millisecond for the rounding every SRT or WebVTT timestamp goes through.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_LINE = 42  # characters per line
MAX_LINES = 2
TARGET_CPS = 17.0  # what the builder aims at
MAX_CPS = 20.0  # above this a cue is reported
MIN_DURATION = 5 / 6  # seconds
MAX_DURATION = 7.0
MIN_GAP_FRAMES = 2
DEFAULT_FPS = 25.0
TOLERANCE = 0.0005  # seconds: timestamps carry milliseconds

MIN_DURATION_MS = math.ceil(MIN_DURATION * 1000)
MAX_DURATION_MS = int(MAX_DURATION * 1000)


def gap_seconds(fps: float) -> float:
    """The smallest allowed gap between two cues at this frame rate."""
    return MIN_GAP_FRAMES / (fps if fps > 0 else DEFAULT_FPS)


def gap_ms(fps: float) -> int:
    return math.ceil(gap_seconds(fps) * 1000 - 1e-9)


def cue_chars(lines: Sequence[str]) -> int:
    """Characters a viewer reads: spaces and punctuation count, the line break does not."""
    return sum(len(line.strip()) for line in lines)


def hard_ms(chars: int) -> int:
    """The shortest a cue with this many characters may last (minimum duration, 20 cps)."""
    return max(MIN_DURATION_MS, math.ceil(chars * 1000 / MAX_CPS))


def target_ms(chars: int) -> int:
    """How long a cue should last to be read at the target speed of 17 cps."""
    return max(MIN_DURATION_MS, math.ceil(chars * 1000 / TARGET_CPS))
