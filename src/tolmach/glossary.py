"""Glossaries: fixed English for military and institutional terms, matched in any inflection.

A glossary is a TSV file: ``source term<TAB>English``, ``#`` starts a comment. The shipped
default (``data/glossary.tsv``) covers Russian and Ukrainian terms that recur in soldiers'
statements (СВО, ВСУ, ЗСУ, полк, мобилизованный, ...).

    glossary = load(None)                        # the shipped default
    glossary.matches("Мы, мобилизованные 96-го полка")
    # {'мобилизованный': 'mobilised', 'полк': 'regiment'}

Matching is case-insensitive on word boundaries. Each word of a term is reduced to a stem (its
final vowels, й or ь removed) and matches that stem followed by up to four letters, so
"мобилизованный" matches "мобилизованных" and "Верховный главнокомандующий" matches
"Верховному главнокомандующему". Stems shorter than four letters must be followed by a vowel
("рота" matches "роты" but not "рот"). Acronyms written in capitals ("СВО", "ЗСУ") match only
as whole words in capitals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files as package_files
from pathlib import Path

from tolmach.errors import InputError, NotFoundError

DEFAULT = Path(str(package_files("tolmach").joinpath("data", "glossary.tsv")))

_ENDINGS = "аеёиоуыэюяйьіїє"
_VOWELS = "аеёиоуыэюяіїє"
_LETTER = r"[^\W\d_]"


def _word_pattern(word: str) -> str:
    if len(word) > 1 and word.isupper():
        return re.escape(word)
    lower = word.lower()
    stem = lower.rstrip(_ENDINGS) if len(lower) > 3 else lower
    if len(lower) - len(stem) > 2:
        stem = lower[: len(lower) - 2]
    if len(stem) < 4 and stem != lower:
        return f"(?i:{re.escape(stem)}[{_VOWELS}]{_LETTER}{{0,2}})"
    return f"(?i:{re.escape(stem)}{_LETTER}{{0,4}})"


def term_pattern(term: str) -> re.Pattern[str]:
    """The regular expression that finds ``term`` in any inflected form."""
    words = term.split()
    body = r"[\s-]+".join(_word_pattern(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)")


@dataclass(frozen=True)
class Entry:
    term: str
    english: str
    pattern: re.Pattern[str] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Glossary:
    """Source terms and their fixed English, in file order."""

    entries: tuple[Entry, ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    def matches(self, text: str) -> dict[str, str]:
        """The entries whose term occurs in ``text`` (in any inflected form): term -> English."""
        return {e.term: e.english for e in self.entries if e.pattern.search(text)}

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, English) of every term occurrence, longest terms first."""
        found: list[tuple[int, int, str]] = []
        for e in sorted(self.entries, key=lambda e: -len(e.term)):
            for m in e.pattern.finditer(text):
                if all(m.end() <= s or m.start() >= t for s, t, _ in found):
                    found.append((m.start(), m.end(), e.english))
        return sorted(found)


def parse(text: str, origin: str = "glossary") -> Glossary:
    """Parse glossary TSV text; a malformed line raises ``InputError`` naming its number."""
    entries: list[Entry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in raw.split("\t")]
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise InputError(
                f"{origin}, line {number}: expected 'term<TAB>English', got {raw!r}.",
                "Fix the line or start it with # to comment it out.",
            )
        entries.append(Entry(parts[0], parts[1], term_pattern(parts[0])))
    return Glossary(tuple(entries))


def load(path: Path | None) -> Glossary:
    """Read a glossary TSV; ``None`` gives the shipped default glossary."""
    source = DEFAULT if path is None else path
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"Glossary {source} does not exist.", "Check --glossary.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"Glossary {source} is not UTF-8 text.", "Save it as UTF-8.") from None
    return parse(text, str(source))


def english_present(english_term: str, text: str) -> bool:
    """Whether ``text`` contains the glossary English (its main phrase or its abbreviation).

    Tolerant of plural/singular and -ise/-ize: each word is compared by its first letters.
    """
    hay = _norm(text)
    core, _, rest = english_term.partition(" (")
    alternatives = [core]
    if rest.endswith(")"):
        alternatives.append(rest[:-1])
    for alt in alternatives:
        words = _norm(alt).split()
        if words and all(w[: max(4, len(w) - 2)] in hay for w in words):
            return True
    return False


def _norm(text: str) -> str:
    return text.lower().replace("iz", "is").replace("yz", "ys")
