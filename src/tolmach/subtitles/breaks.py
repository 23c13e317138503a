"""Where a subtitle may break: between cues and between the two lines of a cue.

``break_cost(left, right)`` scores a break between two words: 0 after a sentence end, 1 after a
comma or before a dash, 2 before a conjunction or preposition, 4 elsewhere, and ``FORBIDDEN``
where the style guide says never: after an article, inside a name (two capitalised words),
between a negation and its verb, between a number and what it counts, or after a short
Russian or Ukrainian preposition or conjunction left hanging at the end of a line.

``layout(words)`` lays a cue's words out on one line or two, at the best break, preferring a
bottom-heavy pyramid when two breaks are otherwise equal.
"""

from __future__ import annotations

from collections.abc import Sequence

from tolmach.subtitles.rules import MAX_LINE

FORBIDDEN = 50.0

ARTICLES = frozenset({"a", "an", "the"})
NEGATIONS = frozenset(
    {
        "not", "never", "no", "don't", "doesn't", "didn't", "won't", "can't", "cannot",
        "isn't", "aren't", "wasn't", "weren't", "haven't", "hasn't", "hadn't", "wouldn't",
        "shouldn't", "couldn't", "mustn't", "не", "ни",
    }
)  # fmt: skip
CONNECTIVES = frozenset(
    {
        # English conjunctions and prepositions
        "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while",
        "when", "where", "which", "who", "whom", "whose", "that", "if", "unless", "until",
        "since", "after", "before", "of", "in", "on", "at", "to", "for", "with", "from", "by",
        "about", "into", "onto", "over", "under", "between", "through", "during", "against",
        "without", "near", "towards", "toward", "across", "along", "around", "behind",
        # Russian
        "и", "а", "но", "или", "что", "чтобы", "как", "когда", "если", "потому", "хотя",
        "в", "во", "на", "с", "со", "к", "ко", "по", "за", "из", "о", "об", "обо", "у", "от",
        "до", "для", "без", "под", "над", "при", "про", "через", "между", "перед",
        # Ukrainian
        "і", "й", "та", "але", "або", "що", "щоб", "як", "коли", "якщо", "бо", "з", "із",
        "зі", "під", "від", "між", "біля",
    }
)  # fmt: skip
_TITLES = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "gen.", "col.", "lt.", "sgt.", "capt."})
_SENTENCE_END = ".!?…"
_CLAUSE_END = ",;:"
_DASHES = ("—", "–", "-")
_TRAILING = "\"'»”’)]"


def _bare(word: str) -> str:
    return word.strip(_TRAILING + "\"'«“‘([").lower()


def _capitalised(word: str) -> bool:
    bare = word.lstrip("\"'«“‘([")
    return bool(bare) and bare[0].isupper()


def break_cost(left: str, right: str) -> float:
    """How bad a break between ``left`` and ``right`` is (0 best, FORBIDDEN never)."""
    tail = left.rstrip(_TRAILING)
    low = _bare(left)
    if low in _TITLES:
        return FORBIDDEN
    if tail.endswith(tuple(_SENTENCE_END)):
        return 0.0
    if tail.endswith(tuple(_CLAUSE_END)) or right.startswith(_DASHES):
        return 1.0
    if low in ARTICLES or low in NEGATIONS:
        return FORBIDDEN
    if _capitalised(left) and _capitalised(right):
        return FORBIDDEN  # a name: "Vladimir Putin", "Zaporizhzhia Oblast"
    if low[:1].isdigit() and _bare(right) not in CONNECTIVES | ARTICLES:
        return FORBIDDEN  # a number stays with what it counts: "96th Regiment", "20 km"
    if low in CONNECTIVES and len(low) <= 2 and not low.isascii():
        return FORBIDDEN / 2  # a one- or two-letter Cyrillic preposition left hanging
    if _bare(right) in CONNECTIVES:
        return 2.0
    if low in CONNECTIVES:
        return 6.0  # a preposition or conjunction at the end of a line reads badly
    return 4.0


def join(words: Sequence[str]) -> str:
    return " ".join(words)


def _sentence_inside(words: Sequence[str]) -> float:
    """Cost of sentences that end inside a line: one sentence ending and the next starting."""
    return sum(3.0 for w in words[:-1] if w.rstrip(_TRAILING).endswith(tuple(_SENTENCE_END)))


def layout(words: Sequence[str]) -> tuple[tuple[str, ...], float] | None:
    """The best one- or two-line layout of ``words`` and its cost; None when it cannot fit."""
    text = join(words)
    if len(text) <= MAX_LINE:
        return (text,), _sentence_inside(words)
    best: tuple[tuple[str, ...], float] | None = None
    for k in range(1, len(words)):
        top, bottom = join(words[:k]), join(words[k:])
        if len(top) > MAX_LINE or len(bottom) > MAX_LINE:
            continue
        # Break quality first; then balance; a bottom-heavy pyramid wins a tie.
        cost = break_cost(words[k - 1], words[k]) + abs(len(top) - len(bottom)) / 12
        cost += _sentence_inside(words[:k]) + _sentence_inside(words[k:])
        if len(top) > len(bottom):
            cost += 0.05
        if best is None or cost < best[1]:
            best = (top, bottom), cost
    return best
