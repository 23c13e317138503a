"""The claim topic taxonomy (``data/claim-topics.toml``), keyword matching by lemma, and the
topics of a clause: the heaviest keywords win, what is lacking weighs more, where a thing
comes from less, and topics joined by "и" or a comma are all kept.

taxonomy = load()
taxonomy.hits(tokens("Нам не хватает воды и одежды", "ru"))
# [Hit(topic='water', token=3, weight=2), Hit(topic='clothing', token=5, weight=2)]
clause_topics("Нам не хватает воды и одежды", "ru", taxonomy)   # (['water', 'clothing'], [])
"""

from __future__ import annotations

import functools
import itertools
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
_LACK = {"без", "нет", "немає", "нема", "хватает", "вистачає", "бракує", "нехватка", "нестача"}
# A keyword of the topic after one of these words is not what the claim is about: "за свои
# деньги" says who paid, "на связь не выходит" that someone cannot be reached
_NOT_ABOUT = {"pay": {"свой", "свій", "власний", "собственный"}, "mail": {"на"}}
_FROM = {"с", "со", "из", "з", "із", "зі"}
# A phrase keyword (words by lemma, any order, within PHRASE_SPAN tokens) outweighs the
# single keywords it is made of: "требуют с нас деньги" is extortion, not pay
PHRASE_SPAN = 8
PHRASE_BONUS = 3
_CONJ = {"и", "или", "либо", "та", "і", "й", "або", "чи", "а", "также", "також", "ни", "ні"}


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
                if " " in k:
                    continue  # a phrase: see _phrases
                if k.endswith("*"):
                    prefixes.append((k[:-1], topic.id))
                elif topic.id not in exact.setdefault(k, []):
                    exact[k].append(topic.id)
        return exact, prefixes

    @functools.cached_property
    def _phrases(self) -> list[tuple[tuple[str, ...], str]]:
        return [
            (tuple(k.split()), t.id) for t in self.topics.values() for k in t.keywords if " " in k
        ]

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
        for words, topic in self._phrases:
            at = _phrase_at(words, toks)
            if at:  # the phrase decides: its words count for no other topic
                out = [h for h in out if h.token not in at]
                out.append(Hit(topic, max(at), self.topics[topic].weight + PHRASE_BONUS))
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


def _phrase_at(words: tuple[str, ...], toks: list[lexicon.Token]) -> set[int]:
    """The tokens of a phrase keyword ("требовать деньга": every word by lemma, in any order,
    within PHRASE_SPAN tokens: "требуют с нас деньги", "денег не требовал"), or none."""
    for start in range(len(toks)):
        window = range(start, min(start + PHRASE_SPAN, len(toks)))
        at: set[int] = set()
        for w in words:
            pos = next((i for i in window if i not in at and _lemma_is(w, toks[i].lemmas)), None)
            if pos is None:
                break
            at.add(pos)
        else:
            if start in at:
                return at
    return set()


def _lemma_is(word: str, lemmas: tuple[str, ...]) -> bool:
    if word.endswith("*"):
        return any(f.startswith(word[:-1]) for f in lemmas)
    return word in lemmas


def _coordinated(hits: list[Hit], toks: list[lexicon.Token], text: str) -> list[str]:
    """Topics of keywords joined only by conjunctions or commas, in order."""
    ordered = sorted(hits, key=lambda h: h.token)
    groups: list[list[Hit]] = [[ordered[0]]] if ordered else []
    for prev, cur in itertools.pairwise(ordered):
        between = toks[prev.token + 1 : cur.token]
        joined = between and all(t.text.lower() in _CONJ for t in between)
        if cur.topic != prev.topic and (joined or _comma(text, toks, prev.token, cur.token)):
            groups[-1].append(cur)
        else:
            groups.append([cur])
    best = max(groups, key=lambda g: (len({h.topic for h in g}), sum(h.weight for h in g)))
    seen: list[str] = []
    for h in best:
        if h.topic not in seen:
            seen.append(h.topic)
    return seen


def _comma(text: str, toks: list[lexicon.Token], a: int, b: int) -> bool:
    """Whether only a comma (and conjunctions) separate tokens a and b ("воды, еды и одежды")."""
    if b != a + 1:
        return False
    return text[toks[a].end : toks[b].start].strip() == ","


def clause_topics(clause: str, language: str, tax: Taxonomy) -> tuple[list[str], list[str]]:
    """(main topics, other topics) of a clause by keywords, weighed; by the other
    language's dictionary when its own finds none (a Russian word in Ukrainian speech, or
    text marked with the wrong language)."""
    for lang in (language, "uk" if language == "ru" else "ru"):
        toks = lexicon.tokens(clause, lang)
        hits = [
            h
            for h in tax.hits(toks)
            if not (h.token and toks[h.token - 1].lemma in _NOT_ABOUT.get(h.topic, ()))
        ]
        if hits:
            break
    else:
        return [], []
    score: dict[str, int] = {}
    for h in hits:
        before = toks[h.token - 1].text.lower() if h.token else ""
        # what is said to be lacking ("без зброї", "нет воды") is what the claim is about;
        # where it comes from ("скидають з дронів") is not
        weight = h.weight + 2 if before in _LACK else h.weight
        if before in _FROM and _genitive(toks[h.token].text, lang):
            weight = 1
        score[h.topic] = score.get(h.topic, 0) + weight
    best = max(score.values())
    top = [t for t in score if score[t] == best]
    group = _coordinated(hits, toks, clause)
    if len(group) > 1 and any(t in group for t in top):
        main = group
    else:
        main = [sorted(top, key=lambda t: min(h.token for h in hits if h.topic == t))[0]]
    if GENERAL in main and len(score) > 1:  # "претензий к командованию": command
        main = [t for t in main if t != GENERAL] or [
            max((t for t in score if t != GENERAL), key=lambda t: score[t])
        ]
    others = [t for t in score if t not in main]
    return main, others


def _genitive(word: str, language: str) -> bool:
    return "gent" in str(lexicon.morph(language).parse(word.lower())[0].tag)


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
