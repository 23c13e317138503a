"""Time words that have no timings of their own: by characters, or along the source speech.

English segments come from the translator without word timings. Timing their words by where
their characters fall in the segment would run the English straight through a pause in the
speech, so ``along`` maps the English text onto the source segment's own word timings: each
pause in the source is pinned to the English word boundary that sits at the same place in the
text (preferring one after punctuation), and between pauses the English follows the source's
speaking rate. The English shows while the speaker speaks the matching words, near enough.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from tolmach.models import Segment
from tolmach.subtitles.rules import MAX_LINE

PAUSE_MS = 400  # a silence between two words this long is a pause worth keeping
_PUNCT_BONUS = 0.08  # share of the text a pause may move to land after punctuation


@dataclass(frozen=True)
class Token:
    """A word (or a line-sized piece of a very long one) with its time in milliseconds."""

    text: str
    start: int
    end: int


def ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def pieces(words: Sequence[str]) -> list[str]:
    """Words, with any word longer than a line (a URL, a hashtag chain) cut to fit."""
    out: list[str] = []
    for word in words:
        out += [word[i : i + MAX_LINE] for i in range(0, len(word), MAX_LINE)]
    return out


def spread(words: Sequence[str], start: int, end: int) -> list[Token]:
    """Time words by where their characters fall between ``start`` and ``end``."""
    parts = pieces(words)
    shares = _shares(parts)
    return [
        Token(p, start + round((end - start) * a), start + round((end - start) * b))
        for p, (a, b) in zip(parts, shares, strict=True)
    ]


def along(words: Sequence[str], src: Segment, start: int, end: int) -> list[Token]:
    """Time words of a translation along the speech of ``src``, kept within start and end."""
    timed = [(w.word.strip(), ms(w.start), ms(w.end)) for w in src.words if w.word.strip()]
    parts = pieces(words)
    if not timed or not parts:
        return spread(words, start, end)
    src_shares = _shares([text for text, _, _ in timed])
    # Source text share -> time, through every word's start and end.
    xs, ts = [0.0], [start]
    for (a, b), (_, w_start, w_end) in zip(src_shares, timed, strict=True):
        for x, t in ((a, w_start), (b, w_end)):
            xs.append(x)
            ts.append(min(end, max(ts[-1], t)))
    xs.append(1.0)
    ts.append(max(end, ts[-1]))
    # English text share -> source text share, pinned at the pauses.
    en_shares = _shares(parts)
    ex, sx = [0.0], [0.0]
    last = -1
    for i in range(len(timed) - 1):
        if timed[i + 1][1] - timed[i][2] < PAUSE_MS:
            continue
        left, right = src_shares[i][1], src_shares[i + 1][0]
        k = _boundary(parts, en_shares, (left + right) / 2, last)
        if k is None:
            continue
        ex += [en_shares[k][1], en_shares[k + 1][0]]
        sx += [left, right]
        last = k
    ex.append(1.0)
    sx.append(1.0)
    tokens = []
    for p, (a, b) in zip(parts, en_shares, strict=True):
        t0 = round(_interp(xs, ts, _interp(ex, sx, a)))
        t1 = round(_interp(xs, ts, _interp(ex, sx, b)))
        tokens.append(Token(p, t0, max(t0, t1)))
    return tokens


def _shares(parts: Sequence[str]) -> list[tuple[float, float]]:
    """Where each part starts and ends, as a share of the text joined with spaces."""
    total = max(1, sum(len(p) + 1 for p in parts) - 1)
    out, done = [], 0
    for p in parts:
        out.append((done / total, (done + len(p)) / total))
        done += len(p) + 1
    return out


def _boundary(
    parts: Sequence[str], shares: Sequence[tuple[float, float]], at: float, after: int
) -> int | None:
    """The word boundary (after word k) nearest ``at``, preferring one after punctuation."""
    best: tuple[float, int] | None = None
    for k in range(after + 1, len(parts) - 1):
        mid = (shares[k][1] + shares[k + 1][0]) / 2
        cost = abs(mid - at) - (_PUNCT_BONUS if parts[k][-1] in ",.;:!?…—" else 0.0)
        if best is None or cost < best[0]:
            best = cost, k
    return None if best is None else best[1]


def _interp(xs: Sequence[float], ys: Sequence[float], x: float) -> float:
    k = bisect.bisect_right(xs, x) - 1
    k = max(0, min(k, len(xs) - 2))
    x0, x1 = xs[k], xs[k + 1]
    if x1 <= x0:
        return ys[k + 1]
    return ys[k] + (ys[k + 1] - ys[k]) * (min(max(x, x0), x1) - x0) / (x1 - x0)
