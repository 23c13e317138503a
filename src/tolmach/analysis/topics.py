"""The claim topic taxonomy (``data/claim-topics.toml``) and keyword matching by lemma.

taxonomy = load()
taxonomy.hits(tokens("Нам не хватает воды и одежды", "ru"))
# [Hit(topic='water', token=3, weight=2), Hit(topic='clothing', token=5, weight=2)]
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib.resources import files as package_files
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tolmach.analysis import lexicon
from tolmach.errors import InputError

DEFAULT = Path(str(package_files("tolmach").joinpath("data", "claim-topics.toml")))
GENERAL = "situation"  # the topic of claims about everything at once ("no complaints")


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    description: str
    keywords: tuple[str, ...]
    weight: int = 1
    covers: tuple[str, ...] = ()
    stance: str = "affirmation"  # of a plain statement with no stance marker
    examples: tuple[str, ...] = ()  # sentences on the topic, for the embedding fallback


@dataclass(frozen=True)
class Hit:
    topic: str
    token: int  # index of the token in the clause
    weight: int


@dataclass(frozen=True)
class Taxonomy:
    topics: dict[str, Topic]

    def label(self, topic: str) -> str:
        return self.topics[topic].label if topic in self.topics else topic

    def answers(self, later: str, earlier: str) -> bool:
        """Whether a statement on topic ``later`` speaks to a claim on topic ``earlier``."""
        return later == earlier or earlier in self.topics.get(later, Topic("", "", "", ())).covers

    @functools.cached_property
    def _index(self) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
        exact: dict[str, list[str]] = {}
        prefixes: list[tuple[str, str]] = []
        for topic in self.topics.values():
            for k in topic.keywords:
                if k.endswith("*"):
                    prefixes.append((k[:-1], topic.id))
                elif topic.id not in exact.setdefault(k, []):
                    exact[k].append(topic.id)
        return exact, prefixes

    def hits(self, toks: list[lexicon.Token]) -> list[Hit]:
        exact, prefixes = self._index
        out: list[Hit] = []
        for i, tok in enumerate(toks):
            found: list[str] = []
            for form in tok.lemmas:
                found.extend(exact.get(form, ()))
                found.extend(t for p, t in prefixes if form.startswith(p))
            for topic in dict.fromkeys(found):
                out.append(Hit(topic, i, self.topics[topic].weight))
        return out

    @functools.cached_property
    def _vectors(self) -> tuple[lexicon.Vectors, npt.NDArray[np.int_]]:
        """The descriptions and examples of every topic, and which topic each row is of."""
        rows = [
            (i, s) for i, t in enumerate(self.topics.values()) for s in (t.description, *t.examples)
        ]
        return lexicon.embed([s for _, s in rows]), np.array([i for i, _ in rows])

    def nearest(self, texts: list[str]) -> list[tuple[str, float, float]]:
        """For each text, the topic with the nearest description or example by embedding, its
        cosine, and how far ahead of the next topic it is."""
        if not texts:
            return []
        vectors, owner = self._vectors
        sims = lexicon.embed(texts) @ vectors.T
        per_topic = np.full((len(texts), len(self.topics)), -1.0)
        for j in range(len(owner)):
            per_topic[:, owner[j]] = np.maximum(per_topic[:, owner[j]], sims[:, j])
        ids = list(self.topics)
        top2 = np.sort(per_topic, axis=1)[:, -2:]
        best = np.argmax(per_topic, axis=1)
        return [
            (ids[int(b)], float(top2[i, 1]), float(top2[i, 1] - top2[i, 0]))
            for i, b in enumerate(best)
        ]


def parse(text: str, origin: str = "claim topics") -> Taxonomy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{origin}: {exc}.", "Fix the TOML syntax.") from None
    topics: dict[str, Topic] = {}
    for key, d in data.items():
        if not isinstance(d, dict) or "keywords" not in d:
            raise InputError(f"{origin}: topic {key!r} has no keywords.", "Add keywords = [...].")
        topics[key] = Topic(
            key,
            str(d.get("label", key)),
            str(d.get("description", d.get("label", key))),
            tuple(str(k).lower().replace("ё", "е") for k in d["keywords"]),
            int(d.get("weight", 1)),
            tuple(str(c) for c in d.get("covers", ())),
            str(d.get("stance", "affirmation")),
            tuple(str(x) for x in d.get("examples", ())),
        )
    return Taxonomy(topics)


@functools.cache
def load(path: Path | None = None) -> Taxonomy:
    source = DEFAULT if path is None else path
    return parse(source.read_text(encoding="utf-8"), str(source))
