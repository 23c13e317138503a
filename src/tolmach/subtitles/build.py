"""Build subtitle cues from timed segments, following the rules in ``rules``.

Each segment's words are cut into cues by a small dynamic programme: a cue must fit on two lines
of 42 characters and last at most 7 s of speech; among the cuts that fit, the cheapest wins,
where sentence ends are free, commas cheap, breaks before conjunctions fair and the breaks the
style guide forbids (inside a name, after an article or a negation) dear. Then one forward pass
over all cues sets the times: at least 5/6 s and 20 characters per second, 17 cps where the
pause before the next cue allows, a two-frame gap, never an overlap. When speech runs faster
than the hard limits allow, a cue starts a little early or ends a little late rather than break
a rule; the drift is bounded by how fast people can talk.

English segments carry no word timings. Their words are timed by where they fall in the
segment's text, mapped through the source segment's own word timings, so a pause in the
speech is a pause in the English cues too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tolmach.models import Cue, EnglishSegment, Segment
from tolmach.subtitles import breaks
from tolmach.subtitles.align import Token, along, ms, spread
from tolmach.subtitles.rules import (
    DEFAULT_FPS,
    MAX_DURATION_MS,
    MAX_LINE,
    cue_chars,
    gap_ms,
    hard_ms,
    target_ms,
)

__all__ = ["english_cues", "source_cues"]

_CUE_COST = 3.0  # each extra cue: prefer fewer, fuller cues
_SHORT_COST = 4.0  # per second a cue's speech falls short of what reading it needs
_LEAD_MS = 500  # how far a cue may start before its first word
_LINGER_MS = 700  # how long a cue may stay after its segment for comfortable reading


@dataclass(frozen=True)
class _Chunk:
    lines: tuple[str, ...]
    start: int
    end: int
    limit: int  # the latest a comfortable reading time may stretch the cue to


def source_cues(segments: Sequence[Segment], fps: float = DEFAULT_FPS) -> list[Cue]:
    """Cues in the source language, cut and timed at the words Whisper timed."""
    chunks: list[_Chunk] = []
    for seg in segments:
        if seg.words:
            tokens = _word_tokens(seg)
        else:
            tokens = spread(seg.text.split(), ms(seg.start), ms(seg.end))
        chunks += _cut(tokens, ms(seg.end))
    return _timed(chunks, fps)


def english_cues(
    segments: Sequence[EnglishSegment], source: Sequence[Segment], fps: float = DEFAULT_FPS
) -> list[Cue]:
    """English cues: each segment's text cut into cues timed along its source segment."""
    by_id = {seg.id: seg for seg in source}
    chunks: list[_Chunk] = []
    for seg in segments:
        words = seg.text.split()
        start, end = ms(seg.start), max(ms(seg.start), ms(seg.end))
        src = by_id.get(seg.id)
        tokens = along(words, src, start, end) if src is not None else spread(words, start, end)
        chunks += _cut(tokens, end)
    return _timed(chunks, fps)


def _word_tokens(seg: Segment) -> list[Token]:
    tokens: list[Token] = []
    for w in seg.words:
        text = w.word.strip()
        if not text:
            continue
        start = ms(w.start)
        end = max(start, ms(w.end))
        tokens += spread([text], start, end)
    return tokens


def _cut(tokens: Sequence[Token], seg_end: int) -> list[_Chunk]:
    """The cheapest way to cut one segment's tokens into cues."""
    n = len(tokens)
    if n == 0:
        return []
    best = [math.inf] * (n + 1)
    back: list[tuple[int, tuple[str, ...]]] = [(0, ())] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] == math.inf:
            continue
        for j in range(i + 1, n + 1):
            words = [t.text for t in tokens[i:j]]
            if len(breaks.join(words)) > 2 * MAX_LINE + 1:
                break
            span = tokens[j - 1].end - tokens[i].start
            if span > MAX_DURATION_MS and j > i + 1:
                break
            fitted = breaks.layout(words)
            if fitted is None:
                continue
            lines, cost = fitted
            if j < n:
                cost += breaks.break_cost(tokens[j - 1].text, tokens[j].text)
            short = hard_ms(cue_chars(lines)) - span
            cost += _CUE_COST + max(0, short) / 1000 * _SHORT_COST
            if best[i] + cost < best[j]:
                best[j] = best[i] + cost
                back[j] = (i, lines)
    chunks: list[_Chunk] = []
    j = n
    while j > 0:
        i, lines = back[j]
        limit = max(seg_end, tokens[j - 1].end) + _LINGER_MS
        chunks.append(_Chunk(lines, tokens[i].start, tokens[j - 1].end, limit))
        j = i
    return chunks[::-1]


def _timed(chunks: Sequence[_Chunk], fps: float) -> list[Cue]:
    """Set every cue's times so that together they keep the timing rules."""
    gap = gap_ms(fps)
    cues: list[Cue] = []
    prev_end = -gap
    for k, chunk in enumerate(chunks):
        chars = cue_chars(chunk.lines)
        hard, soft = hard_ms(chars), target_ms(chars)
        floor = max(0, prev_end + gap)
        start = max(chunk.start, floor)
        if chunk.end - start < hard:
            # Too short to read: start a little early if the previous cue leaves room.
            start = max(floor, min(start, chunk.end - hard), chunk.start - _LEAD_MS)
        end = max(chunk.end, start + hard)
        following = chunks[k + 1].start if k + 1 < len(chunks) else math.inf
        roomy = min(start + soft, following - gap, chunk.limit)
        end = int(min(max(end, roomy), start + MAX_DURATION_MS))
        cues.append(Cue(start / 1000, end / 1000, chunk.lines, len(cues) + 1))
        prev_end = end
    return cues
