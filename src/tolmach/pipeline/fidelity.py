"""Fidelity flags: cheap checks that mark an English segment a reviewer should look at first.

Each flag is a plain string stored with the segment (``EnglishSegment.flags``):

- ``empty``: the source has words but the English is blank.
- ``numbers``: a number written in digits in the source (``96``, ``96-го``, ``96-й``,
  ``10 000``, ``1,5``) is missing from the English, which must carry it in digits (``96``,
  ``96th``, ``10,000``, ``1.5``) or, up to twenty, as an English word (``two``, ``second``).
  A wrong number ("10th regiment" for "96-го полка") shows up as the source number missing;
  a number in digits in the English that the source lacks (in digits or as a small number
  word, "два", "третий") is flagged too: small models copy numbers from their examples.
- ``repeated``: the English is the same as the previous segment's while the sources differ
  (a model that got stuck on its context).
- ``looping``: the output repeats itself: a run of words repeated three or more times in a row
  (one word four times), or one four-word sequence three or more times anywhere.
- ``length``: the English is far shorter or longer than the source, measured in characters:
  outside 0.45–2.2 times (1.8 for sources of 40 characters or more). Sources under 10
  characters are not judged. Tuned on the Tatoeba test pairs (ru–en and uk–en), where about
  two human translations in a thousand fall outside these bounds.
- ``glossary``: a glossary term occurs in the source but its fixed English (or its
  abbreviation) is absent from the English.
- ``names``: a person, place or unit the source names (``analysis.entities``) is missing or
  changed in the English: a person's surname, a place's English name or romanisation, a
  unit's type ("Regiment") must appear, compared by their first letters ("Putin's" counts).

    flags("Нам не хватает воды с 96-го дня.", "We lack water.", [])   # ("numbers",)
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

from tolmach.glossary import english_present

FLAGS = ("empty", "numbers", "repeated", "looping", "length", "glossary", "names")

MIN_CHARS = 10
LOW, HIGH, HIGH_LONG, LONG = 0.45, 2.2, 1.8, 40

_SOURCE_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,]\d+)?")
_ENGLISH_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

_CARDINAL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_ORDINAL = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]


# Stems of small Russian and Ukrainian number words, so "два" may come out as "2".
_SOURCE_WORDS = tuple(
    (n, stem)
    for n, stems in enumerate(
        (
            "нул нол",
            "один одн перв",
            "два две двух втор дві двох",
            "три трех трёх трет",
            "четыр четвер чотир",
            "пят пят' п'ят",
            "шест шіст",
            "сем сім",
            "восем восьм вісім",
            "девят дев'ят",
            "десят",
        )
    )
    for stem in stems.split()
)


def _canonical(number: str) -> str:
    digits = re.sub(r"[ \u00a0\u202f]", "", number).replace(",", ".")
    if "." in digits:
        whole, _, frac = digits.partition(".")
        return f"{int(whole)}.{frac}"
    return str(int(digits))


def source_numbers(text: str) -> list[str]:
    """Numbers written in digits in Russian/Ukrainian text, canonical ("10 000" -> "10000")."""
    return [_canonical(m.group()) for m in _SOURCE_NUMBER.finditer(text)]


def english_numbers(text: str) -> set[str]:
    """Numbers in English text: digits ("10,000" -> "10000", "96th" -> "96") and words to 20."""
    found = {_canonical(m.group().replace(",", "")) for m in _ENGLISH_NUMBER.finditer(text)}
    for word in _WORD.findall(text.lower()):
        for table in (_CARDINAL, _ORDINAL):
            if word in table:
                found.add(str(table.index(word)))
    return found


def numbers_missing(source: str, english: str) -> list[str]:
    have = english_numbers(english)
    return [n for n in source_numbers(source) if n not in have]


def numbers_added(source: str, english: str) -> list[str]:
    """Numbers in digits in the English that the source has neither in digits nor in words."""
    have = set(source_numbers(source))
    lowered = source.lower()
    have |= {str(n) for n, stem in _SOURCE_WORDS if re.search(rf"(?<!\w){stem}", lowered)}
    digits = {_canonical(m.group().replace(",", "")) for m in _ENGLISH_NUMBER.finditer(english)}
    return sorted(d for d in digits if d not in have)


def looping(english: str) -> bool:
    words = [w.lower() for w in _WORD.findall(english)]
    for n in range(1, 9):
        need = 4 if n == 1 else 3
        for i in range(len(words) - n * need + 1):
            unit = words[i : i + n]
            if all(words[i + k * n : i + (k + 1) * n] == unit for k in range(1, need)):
                return True
    grams = Counter(tuple(words[i : i + 4]) for i in range(len(words) - 3))
    return bool(grams) and max(grams.values()) >= 3


def length_off(source: str, english: str) -> bool:
    src = len(source.strip())
    if src < MIN_CHARS:
        return False
    ratio = len(english.strip()) / src
    return ratio < LOW or ratio > (HIGH_LONG if src >= LONG else HIGH)


def flags(
    source: str,
    english: str,
    previous_english: Sequence[str],
    glossary: Mapping[str, str] | None = None,
    previous_source: str | None = None,
) -> tuple[str, ...]:
    """The fidelity flags of one segment, in the order of ``FLAGS``.

    ``previous_english`` holds the English of the segments before this one (the last is the
    neighbour); ``glossary`` the entries that matched the source (term -> English);
    ``previous_source`` the neighbour's source, so that a repeated sentence is not flagged.
    """
    out: list[str] = []
    if not source.strip():
        return ()
    if not english.strip():
        return ("empty",)
    if numbers_missing(source, english) or numbers_added(source, english):
        out.append("numbers")
    if previous_english:
        same = previous_english[-1].strip().casefold() == english.strip().casefold()
        if same and (previous_source is None or previous_source.strip() != source.strip()):
            out.append("repeated")
    if looping(english):
        out.append("looping")
    if length_off(source, english):
        out.append("length")
    if glossary and any(not english_present(en, english) for en in glossary.values()):
        out.append("glossary")
    if names_missing(source, english):
        out.append("names")
    return tuple(out)


def names_missing(source: str, english: str) -> list[str]:
    """Names of people, places and units in ``source`` that ``english`` lacks or changed.

    Cheap enough for every segment: names are the capitalised words pymorphy3 tags as a first
    name, surname, patronymic or place (no tagger model), units come from the unit rules. A
    name counts as present when an English word starts with the same consonants as its
    romanisation or usual English ("Meri"/"Mary", "Zelenskyi"/"Zelensky", "Kyiv"/"Kiev").
    """
    from tolmach.analysis import lexicon, units  # the language tools load on first use
    from tolmach.analysis.entities import places
    from tolmach.analysis.translit import romanise

    words = [_skeleton(w) for w in _WORD.findall(english)]
    lowered = english.lower()
    missing: list[str] = []
    if not re.search(r"[А-ЯЁІЇЄҐ]", source[1:]) and not re.match(r"[А-ЯЁІЇЄҐ]", source):
        return [u.english for u in units.find_units(source) if u.english.split()[-1].lower()
                not in lowered]  # fmt: skip
    language = "uk" if re.search(r"[іїєґІЇЄҐ]", source) else "ru"
    toks = lexicon.tokens(source, language)
    names = {"Name", "Surn", "Patr", "Geox"}
    for i, tok in enumerate(toks):
        if not tok.text[:1].isupper() or tok.text.isupper():
            continue
        parses = lexicon.morph(language).parse(tok.text)[:3]
        known = next((places()[f] for f in tok.lemmas if f in places()), None)
        initial = i == 0 or bool(re.search(r"[.!?:—–\"«]\s*$", source[: tok.start]))
        if initial:  # a capital at a sentence start: only a word that is nothing but a name
            is_name = all(p.tag.grammemes & names for p in parses)
        else:
            is_name = bool(parses[0].tag.grammemes & names)
        if not (known or is_name):
            continue
        name = known or romanise(tok.lemma, language)
        skel = _skeleton(name)
        if len(skel) >= 2 and not any(w.startswith(skel[:3]) for w in words):
            missing.append(name.capitalize())
    for u in units.find_units(source):
        if u.english.split()[-1].lower() not in lowered:
            missing.append(u.english)
    return missing


_SPELLINGS = (
    ("shch", "w"), ("dzh", "j"), ("zh", "j"), ("kh", "x"), ("ch", "q"), ("sh", "w"), ("ks", "x"),
    ("ts", "c"), ("c", "k"), ("z", "s"), ("g", "h"),
)  # fmt: skip


def _skeleton(word: str) -> str:
    """A name's consonants in a rough common spelling, so that romanisations and English
    spellings compare: "Zelenskyi" and "Zelensky" -> "zlnsk", "Dzhon" and "John" -> "jn"."""
    low = unicodedata.normalize("NFKD", word.lower())
    low = re.sub(r"^y", "j", low)
    for a, b in _SPELLINGS:
        low = low.replace(a, b)
    out = re.sub(r"[aeiouyh'\W\d_]", "", low)
    return re.sub(r"(.)\1+", r"\1", out)


def count(all_flags: Sequence[Sequence[str]]) -> dict[str, int]:
    """How often each flag fired, in the order of ``FLAGS`` (flags that never fired left out)."""
    seen = Counter(f for fs in all_flags for f in fs)
    return {f: seen[f] for f in FLAGS if seen[f]}
