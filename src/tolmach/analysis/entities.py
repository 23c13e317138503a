"""Entities: people, places, organisations, military units, ranks, dates and glossary terms.

Russian people, places and organisations come from natasha; Ukrainian ones from pymorphy3's
name tags (Name, Surn, Patr) and the place list ``data/places.tsv``, which also gives places
their usual English ("Удмуртская Республика" -> Udmurtia). Units, ranks, dates and durations
come from rules (``units``, and ``dates`` below); glossary terms that stand for something
("СВО" -> special military operation (SMO)) from the glossary. Every name carries its
romanisation (``translit``).

    found = find("Мы, военнослужащие 96-го полка, в зоне СВО с декабря.", "ru")
    [(e.kind, e.english) for e in found]
    # [('unit', '96th Regiment'), ('term', 'special military operation (SMO)'),
    #  ('date', 'since December')]
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from tolmach import glossary as glossary_mod
from tolmach.analysis import lexicon, units
from tolmach.analysis.translit import romanise

PLACES = Path(str(package_files("tolmach").joinpath("data", "places.tsv")))
KINDS = ("person", "place", "organisation", "unit", "rank", "date", "term")


@dataclass(frozen=True)
class Entity:
    kind: str
    start: int
    end: int
    text: str  # as written in the source
    english: str  # one English name for every spelling of the same thing
    romanised: str = ""  # the source text in Latin letters (names only)
    normal: str = ""  # the source name in its dictionary form
    method: str = "rules"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def places() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in PLACES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lemma, english = line.split("\t")
            out[lemma.strip()] = english.strip()
    return out


_MONTHS = (
    ("January", "январ", "січн"),
    ("February", "феврал", "лют"),
    ("March", "март", "березн"),
    ("April", "апрел", "квітн"),
    ("May", r"ма[яей](?!\w)", "травн"),
    ("June", "июн", "червн"),
    ("July", "июл", "липн"),
    ("August", "август", "серпн"),
    ("September", "сентябр", "вересн"),
    ("October", "октябр", "жовтн"),
    ("November", "ноябр", "листопад"),
    ("December", "декабр", "грудн"),
)
_MONTH = "|".join(
    f"{ru}|{uk}\\w*" if ru.endswith(")") else f"{ru}\\w*|{uk}\\w*" for _, ru, uk in _MONTHS
)
_UNITS_OF_TIME = (
    ("day", r"дн(?:я|ей)|день|сутки|суток|дні|днів|доба|доби|діб"),
    ("week", r"недел[ьиюя]\w*|тижн\w*|тиждень"),
    ("month", r"месяц\w*|місяц\w*|місяць"),
    ("year", r"год(?:а)?|лет|рік|роки|років"),
)
_NUMBER_WORDS = {
    "один": 1,
    "одну": 1,
    "одна": 1,
    "два": 2,
    "две": 2,
    "дві": 2,
    "три": 3,
    "четыре": 4,
    "чотири": 4,
    "пять": 5,
    "п'ять": 5,
    "шесть": 6,
    "шість": 6,
    "семь": 7,
    "сім": 7,
    "восемь": 8,
    "вісім": 8,
    "девять": 9,
    "дев'ять": 9,
    "десять": 10,
    "полгода": 6,
}
_DATE = re.compile(
    rf"(?<!\w)(?:(?P<since>с|со|з|із|зі)\s+)?(?:(?P<in>в|во|у)\s+)?(?P<day>\d{{1,2}}\s+)?"
    rf"(?P<month>{_MONTH})(?:\s+(?P<year>\d{{4}}))?(?!\w)"
    rf"|(?<!\w)(?P<since2>с|з)\s+(?P<year2>\d{{4}})\s+(?:года|году|г\.|року|рік)"
    rf"|(?<!\w)(?P<over>больше|более|уже|вже|понад|більше|свыше)?\s*(?P<n>\d{{1,3}}|"
    rf"{'|'.join(_NUMBER_WORDS)})\s+(?P<unit>{'|'.join(p for _, p in _UNITS_OF_TIME)})(?!\w)",
    re.IGNORECASE,
)


def find_dates(text: str) -> list[units.Found]:
    """Dates and durations: "с декабря" -> since December, "три месяца" -> 3 months."""
    out: list[units.Found] = []
    for m in _DATE.finditer(text):
        if m.group("month"):
            word = m.group("month").lower()
            month = next(
                (en for en, ru, uk in _MONTHS if re.match(ru, word) or word.startswith(uk)), ""
            )
            bare = not (m.group("since") or m.group("in") or m.group("day") or m.group("year"))
            if not month or bare:  # a month name alone is too often another word ("маю")
                continue
            body = " ".join(
                p for p in (m.group("day") and m.group("day").strip(), month, m.group("year")) if p
            )
            prefix = "since " if m.group("since") else "in " if m.group("in") else ""
            out.append(units.Found(m.start(), m.end(), m.group(), prefix + body))
        elif m.group("year2"):
            out.append(units.Found(m.start(), m.end(), m.group(), f"since {m.group('year2')}"))
        else:
            raw = m.group("n").lower()
            n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
            unit = next(u for u, p in _UNITS_OF_TIME if re.fullmatch(p, m.group("unit"), re.I))
            over = (
                "over "
                if (m.group("over") or "").lower()
                in {"больше", "более", "понад", "більше", "свыше"}
                else ""
            )
            text_ = m.group().strip()
            start = m.start() + m.group().index(text_)
            english = f"{over}{n} {unit}{'s' if n != 1 else ''}"
            out.append(units.Found(start, m.end(), text_, english))
    return out


def _place_english(normal: str, language: str) -> str:
    table = places()
    for word in normal.split():
        for form in lexicon.lemmas(word, language):
            if form in table:
                return table[form]
    return romanise(normal, language)


def _names_uk(text: str) -> list[Entity]:
    """Ukrainian people (runs of capitalised words tagged Name/Surn/Patr) and known places."""
    out: list[Entity] = []
    run: list[lexicon.Token] = []
    toks = lexicon.tokens(text, "uk")

    def flush() -> None:
        if run:
            span = text[run[0].start : run[-1].end]
            normal = " ".join(t.lemma.capitalize() for t in run)
            out.append(
                Entity(
                    "person",
                    run[0].start,
                    run[-1].end,
                    span,
                    romanise(normal, "uk"),
                    romanise(span, "uk"),
                    normal,
                    "pymorphy3",
                )
            )
        run.clear()

    for tok in toks:
        tags = {str(p.tag) for p in lexicon.morph("uk").parse(tok.text)[:3]}
        is_name = tok.text[:1].isupper() and any(
            t in tag for tag in tags for t in ("Name", "Surn", "Patr")
        )
        if is_name:
            run.append(tok)
            continue
        flush()
        place = next((places()[f] for f in tok.lemmas if f in places()), None)
        if place and tok.text[:1].isupper():
            out.append(
                Entity(
                    "place",
                    tok.start,
                    tok.end,
                    tok.text,
                    place,
                    romanise(tok.text, "uk"),
                    tok.lemma,
                    "places",
                )
            )
    flush()
    return out


def _names_ru(text: str) -> list[Entity]:
    kinds = {"PER": "person", "LOC": "place", "ORG": "organisation"}
    out: list[Entity] = []
    for kind, start, end, normal in lexicon.natasha_spans(text):
        span = text[start:end]
        place = kinds[kind] == "place"
        english = _place_english(normal, "ru") if place else romanise(normal, "ru")
        out.append(
            Entity(kinds[kind], start, end, span, english, romanise(span, "ru"), normal, "natasha")
        )
    return out


def _terms(text: str, glossary: glossary_mod.Glossary) -> list[Entity]:
    """Glossary terms that stand for something: acronyms, or English with an abbreviation."""
    out: list[Entity] = []
    for start, end, english in glossary.spans(text):
        span = text[start:end]
        if (len(span) > 1 and span.isupper()) or re.search(r"\([A-Z]{2,}\)", english):
            out.append(Entity("term", start, end, span, english, "", span, "glossary"))
    return out


def find(text: str, language: str, glossary: glossary_mod.Glossary | None = None) -> list[Entity]:
    """Every entity in ``text``, in order; overlapping rule matches keep the longer."""
    if language not in lexicon.LANGUAGES or not text.strip():
        return []
    gl = glossary if glossary is not None else glossary_mod.load(None)
    found = _names_ru(text) if language == "ru" else _names_uk(text)
    for kind, matches in (
        ("unit", units.find_units(text)),
        ("rank", units.find_ranks(text)),
        ("date", find_dates(text)),
    ):
        for f in matches:
            roman = romanise(f.text, language) if kind == "unit" else ""
            found.append(Entity(kind, f.start, f.end, f.text, f.english, roman, f.text))
    found.extend(_terms(text, gl))
    found.sort(key=lambda e: (e.start, -(e.end - e.start)))
    kept: list[Entity] = []
    for e in found:
        if kept and e.start < kept[-1].end and e.kind == kept[-1].kind:
            continue
        kept.append(e)
    return kept


def named(entities: list[Entity]) -> list[dict[str, Any]]:
    """One row per distinct (kind, English name) with every spelling seen and a count."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entities:
        row = rows.setdefault(
            (e.kind, e.english),
            {
                "kind": e.kind,
                "english": e.english,
                "romanised": e.romanised,
                "spellings": [],
                "count": 0,
            },
        )
        row["count"] += 1
        if e.text not in row["spellings"]:
            row["spellings"].append(e.text)
    return list(rows.values())
