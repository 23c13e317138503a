"""The words of a search: reading a query, the FTS5 expression it becomes, ranking the
matches (BM25 over both columns) and marking what matched, escaped for HTML.

    words = terms('выплат* "на передовой"')   # [("выплат", True), ("на передовой", False)]
    fts_expression(words)                     # '("выплат"*) AND ("на передовой")'
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

MAX_TERMS = 16
MAX_TERM = 64
K1, B = 1.2, 0.75  # BM25's usual constants, as FTS5 uses them

_TERM = re.compile(r'"([^"]*)(?:"|$)|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")  # unicode61: runs of letters and digits
Span = list[tuple[int, int]]


def terms(text: str) -> list[tuple[str, bool]]:
    """The query's words and quoted phrases, each with whether it ends in ``*`` (a prefix).

    Punctuation is left to the tokenizer; anything with no letter or digit is dropped."""
    found: list[tuple[str, bool]] = []
    for m in _TERM.finditer(text):
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        prefix = m.group(2) is not None and raw.endswith("*")
        word = raw.strip("* ")[:MAX_TERM]
        if re.search(r"\w", word):
            found.append((word, prefix))
        if len(found) == MAX_TERMS:
            break
    return found


def fts_expression(words: list[tuple[str, bool]]) -> str:
    """An FTS5 query that can't be a syntax error: every word a quoted string, ANDed; a word
    with ``ё`` also matches its spelling with ``е`` (the tokenizer keeps them apart)."""
    groups = []
    for word, prefix in words:
        quoted = [
            '"' + w.replace('"', '""') + '"' + ("*" if prefix else "") for w in _spellings(word)
        ]
        groups.append("(" + " OR ".join(quoted) + ")")
    return " AND ".join(groups)


def rank(words: list[tuple[str, bool]], rows: list[tuple[str, str]]) -> list[int]:
    """Indexes of ``rows`` (source, English) by BM25 score over both columns, best first (ties
    keep their order)."""
    needles = [_needle(word, prefix) for word, prefix in words]
    lengths = [(len(source.split()), len(english.split())) for source, english in rows]
    avg = [max(1.0, sum(n[c] for n in lengths) / max(1, len(rows))) for c in (0, 1)]
    scores = []
    for row, length in zip(rows, lengths, strict=True):
        score = 0.0
        for c in (0, 1):
            norm = K1 * (1 - B + B * length[c] / avg[c])
            for needle in needles:
                tf = len(needle.findall(row[c]))
                score += tf * (K1 + 1) / (tf + norm)
        scores.append(score)
    return sorted(range(len(rows)), key=lambda i: (-scores[i], i))


def highlight(words: list[tuple[str, bool]], text: str) -> Markup:
    """``text`` escaped for HTML with ``<mark>`` around what the words match."""
    needles = [_needle(word, prefix) for word, prefix in words]
    return marked(text, [m.span() for needle in needles for m in needle.finditer(text)])


def _spellings(word: str) -> list[str]:
    return list(dict.fromkeys([word, word.replace("ё", "е").replace("Ё", "Е")]))


def _needle(word: str, prefix: bool) -> re.Pattern[str]:
    """A word or phrase as the index matches it: whole tokens (runs of letters and digits),
    any case, anything else between them; the last one a prefix if asked."""
    spellings = []
    for spelling in _spellings(word):
        tokens = [re.escape(t) for t in _TOKEN.findall(spelling)]
        spellings.append(r"[\W_]+".join(tokens) + (r"[^\W_]*" if prefix else r"(?![^\W_])"))
    return re.compile(r"(?<![^\W_])(?:" + "|".join(spellings) + ")", re.IGNORECASE)


def marked(text: str, spans: Span) -> Markup:
    """``text`` escaped for HTML, with ``<mark>`` around the spans (overlapping ones merged)."""
    merged: Span = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out: list[str] = []
    at = 0
    for start, end in merged:
        out += [str(escape(text[at:start])), "<mark>", str(escape(text[start:end])), "</mark>"]
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))
