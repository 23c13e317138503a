"""Where the stance phrases of ``stance`` say nothing: stance words, and stance examples.

Stance words by lemma (``data/stance-words.toml``), turned round by a negation before them,
catch what the phrases would need every inflection for: "оскорбляли", "ображає",
"задерживают" (complaints), "не задерживают" (an affirmation), "нас не били" (a denial),
"не хватает", "не новые" (complaints). A clause with a topic that neither decides is compared
by multilingual-e5 with the labelled sentences of ``data/stance-examples.tsv``.

    words("Зарплату не задерживают", "ru")   # [Word('affirmation', 'не задерживают', True)]
    example_margins(["Техника вся поломана."])   # [0.03...]: nearer the complaints
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib.resources import files as package_files
from pathlib import Path

import numpy as np

from tolmach.analysis import lexicon

DEFAULT = Path(str(package_files("tolmach").joinpath("data", "stance-words.toml")))
NEGATION = {"не", "ни", "ні"}
NOBODY = {"никто", "ніхто", "никого", "нікого", "никогда", "ніколи"}
# what a negated word of each kind says instead
NEGATED = {"complaint": "affirmation", "mistreatment": "denial", "affirmation": "complaint"}
# a negation up to this many words before the word turns it round: "нас не бросили", "не
# нас бросили", "не было нормальной еды", "не бывает задержек"
REACH = 2


@dataclass(frozen=True)
class Word:
    stance: str  # complaint, affirmation or denial
    evidence: str
    negated: bool


@functools.cache
def _lexicon(path: Path = DEFAULT) -> dict[str, str]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for kind in NEGATED:
        for word in data.get(kind, ()):
            out.setdefault(str(word).lower().replace("ё", "е"), kind)
    return out


def words(text: str, language: str) -> list[Word]:
    """The stance words of ``text`` in order, each with the stance it gives there."""
    lex = _lexicon()
    toks = lexicon.tokens(text, language)
    out: list[Word] = []
    for i, tok in enumerate(toks):
        kind = next((lex[f] for f in tok.lemmas if f in lex), "")
        if not kind:
            continue
        neg = next(
            (j for j in range(max(0, i - REACH), i) if toks[j].text.lower() in NEGATION), None
        )
        if neg is not None and "impr" in str(
            lexicon.morph(language).parse(tok.text.lower())[0].tag
        ):
            neg = None  # "не бросайте нас" is an appeal, not an affirmation
        if neg is None:
            stance = "complaint" if kind == "mistreatment" else kind
            out.append(Word(stance, tok.text, False))
        else:
            # "никто не скрывает": nobody does the bad thing, a denial
            nobody = any(t.text.lower() in NOBODY for t in toks[:i])
            stance = "denial" if nobody and kind == "complaint" else NEGATED[kind]
            out.append(Word(stance, text[toks[neg].start : tok.end], True))
    return out


EXAMPLES = Path(str(package_files("tolmach").joinpath("data", "stance-examples.tsv")))


@functools.cache
def _examples() -> tuple[lexicon.Vectors, tuple[str, ...]]:
    rows = [
        line.split("\t", 1)
        for line in EXAMPLES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return lexicon.embed([r[1] for r in rows]), tuple(r[0] for r in rows)


def example_margins(texts: list[str], k: int = 5) -> list[float]:
    """For each text: mean cosine to its k nearest complaint examples minus the same for
    affirmation examples (multilingual-e5); positive leans complaint."""
    vectors, labels = _examples()
    sims = lexicon.embed(texts) @ vectors.T
    is_complaint = np.array([label == "complaint" for label in labels])
    out: list[float] = []
    for row in sims:
        c = np.sort(row[is_complaint])[-k:].mean()
        a = np.sort(row[~is_complaint])[-k:].mean()
        out.append(float(c - a))
    return out
