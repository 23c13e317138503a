"""The words of a search: reading a query, the FTS5 expression or PostgreSQL tsquery it
becomes, ranking the matches (BM25 over both columns) and marking what matched, escaped for HTML.

    words = terms('выплат* "на передовой"')   # [("выплат", True), ("на передовой", False)]
    fts_expression(words)                     # '("выплат"*) AND ("на передовой")'
    tsquery(words)              # "('выплат':*) & ('на':A <-> 'передовой':A | ... :B)"

On PostgreSQL the segments' words are split and folded here, as FTS5's unicode61 tokenizer does
(letters and digits, lower case, Latin accents dropped), and stored as a ready tsvector: the
server's text-search parser and locale play no part, so both databases find the same segments.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

MAX_TERMS = 16
MAX_TERM = 64
K1, B = 1.2, 0.75  # BM25's usual constants, as FTS5 uses them

_TERM = re.compile(r'"([^"]*)(?:"|$)|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")  # unicode61: runs of letters and digits
MAX_LEXEME = 500  # characters: PostgreSQL refuses a lexeme over 2047 bytes
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


def tokens(text: str) -> list[str]:
    """``text``'s words as the index holds them: runs of letters and digits, lower case, with
    the accents of Latin letters dropped (й, ё and ї stay as they are, as in unicode61)."""
    return [_fold(t)[:MAX_LEXEME] for t in _TOKEN.findall(unicodedata.normalize("NFC", text))]


def tsvector(source: str, english: str) -> str:
    """A segment's words as a PostgreSQL tsvector literal: the source's weighted A and the
    English's B, at successive positions, so a phrase can be held to one column."""
    found: dict[str, list[str]] = {}
    at = 0
    for weight, text in (("A", source), ("B", english)):
        for token in tokens(text):
            at = min(at + 1, 16383)  # PostgreSQL's highest position
            found.setdefault(token, []).append(f"{at}{weight}")
    return " ".join(f"{_quote(t)}:{','.join(places)}" for t, places in found.items())


def tsquery(words: list[tuple[str, bool]]) -> str | None:
    """A PostgreSQL tsquery literal asking what :func:`fts_expression` asks of FTS5: every
    word, a phrase's words in order within one column, ``ё`` also as ``е``. None when a word
    has no letter or digit to look for (FTS5 then finds nothing either)."""
    groups = []
    for word, prefix in words:
        alternatives = []
        for spelling in _spellings(word):
            found = tokens(spelling)
            if not found:
                return None
            star = ":*" if prefix else ""
            if len(found) == 1:
                alternatives.append(_quote(found[0]) + star)
                continue
            for weight in "AB":
                marks = [":" + weight] * (len(found) - 1) + [(star or ":") + weight]
                phrase = [_quote(t) + m for t, m in zip(found, marks, strict=True)]
                alternatives.append("(" + " <-> ".join(phrase) + ")")
        groups.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(groups)


def _fold(token: str) -> str:
    out = []
    for ch in token.lower():
        parts = unicodedata.normalize("NFD", ch)
        out.append(parts[0] if len(parts) > 1 and parts[0].isascii() else ch)
    return "".join(out)


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


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
