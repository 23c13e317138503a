"""Check cues against the subtitle rules and report what breaks them.

    >>> violations = check_file(Path("english.srt"))
    >>> print(format_report(Path("english.srt"), violations))

Rule ids: ``empty-cue``, ``bad-timing`` (end not after start), ``out-of-order``, ``overlap``,
``min-gap`` (under two frames), ``max-line-length``, ``max-lines``, ``reading-speed`` (over 20
characters per second), ``min-duration`` (under 5/6 s), ``max-duration`` (over 7 s).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tolmach.errors import InputError, NotFoundError
from tolmach.models import Cue
from tolmach.subtitles.formats import format_time, parse
from tolmach.subtitles.rules import (
    DEFAULT_FPS,
    MAX_CPS,
    MAX_DURATION,
    MAX_LINE,
    MAX_LINES,
    MIN_DURATION,
    MIN_GAP_FRAMES,
    TOLERANCE,
    cue_chars,
    gap_seconds,
)

__all__ = ["Violation", "check_cues", "check_file", "format_report"]


@dataclass(frozen=True)
class Violation:
    """One broken rule: the cue's number (from 1), its start time, the rule id and the detail."""

    index: int
    start: float
    rule: str
    message: str


def check_cues(cues: Sequence[Cue], fps: float = DEFAULT_FPS) -> list[Violation]:
    """Every rule each cue breaks, in cue order."""
    out: list[Violation] = []
    gap = gap_seconds(fps)
    prev: Cue | None = None
    for number, cue in enumerate(cues, 1):

        def add(rule: str, message: str, number: int = number, cue: Cue = cue) -> None:
            out.append(Violation(number, cue.start, rule, message))

        lines = [line for line in cue.lines if line.strip()]
        duration = cue.end - cue.start
        if not lines:
            add("empty-cue", "the cue has no text")
        if duration <= 0:
            add("bad-timing", f"ends at {format_time(cue.end)}, not after it starts")
        if prev is not None:
            if cue.start < prev.start:
                add("out-of-order", f"starts before cue {number - 1} ({format_time(prev.start)})")
            elif cue.start < prev.end:
                add("overlap", f"starts {prev.end - cue.start:.3f} s before cue {number - 1} ends")
            elif cue.start - prev.end < gap - TOLERANCE:
                add(
                    "min-gap",
                    f"{cue.start - prev.end:.3f} s after cue {number - 1}; "
                    f"at least {MIN_GAP_FRAMES} frames ({gap:.3f} s at {fps:g} fps)",
                )
        for k, line in enumerate(lines, 1):
            if len(line) > MAX_LINE:
                add("max-line-length", f"line {k} has {len(line)} characters (max {MAX_LINE})")
        if len(lines) > MAX_LINES:
            add("max-lines", f"{len(lines)} lines (max {MAX_LINES})")
        if duration > 0:
            cps = cue_chars(lines) / duration
            if cps > MAX_CPS + 1e-6:
                add("reading-speed", f"{cps:.1f} characters per second (max {MAX_CPS:g})")
            if duration < MIN_DURATION - TOLERANCE:
                add("min-duration", f"lasts {duration:.3f} s (min {MIN_DURATION:.3f} s)")
            if duration > MAX_DURATION + TOLERANCE:
                add("max-duration", f"lasts {duration:.3f} s (max {MAX_DURATION:g} s)")
        prev = cue
    return out


def check_file(path: Path, fps: float = DEFAULT_FPS) -> list[Violation]:
    """Read an SRT or WebVTT file and check its cues."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path} does not exist.", "Check the path.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder.", "Give an SRT or WebVTT file.") from None
    return check_cues(parse(data, path.name), fps)


def format_report(path: Path, violations: list[Violation]) -> str:
    """A readable report: one line per violation, then a summary with counts per rule."""
    if not violations:
        return f"{path}: no violations"
    width = len(str(max(v.index for v in violations)))
    rows = [
        f"cue {v.index:>{width}}  {format_time(v.start)}  {v.rule:<15}  {v.message}"
        for v in violations
    ]
    counts = Counter(v.rule for v in violations)
    per_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
    cues = len({v.index for v in violations})
    noun = "violation" if len(violations) == 1 else "violations"
    rows.append(f"{path}: {len(violations)} {noun} in {cues} cue(s) ({per_rule})")
    return "\n".join(rows)
