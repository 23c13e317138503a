"""Topic and stance by models learned from labelled claims (``data/topic-model.npz``,
``data/stance-model.npz``; ``linear`` is the classifier), applied after the rules.

Keywords miss words no one listed ("спальники", "ВВК") and pick the object where a person
names the grievance ("таскаем снаряды", said of being used as porters, is about command); a
negation rule reads "никого не возвращают недолеченным" as a complaint. The topic model sees
the clause and the keywords' scores; the stance model the clause, the rule's stance and how
much of the statement the rules call complaints (a grievance or a recantation). Both are
trained by ``bench/claim_models.py`` on every labelled set.

    found = apply(claims_found, "ru", taxonomy, load())
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from importlib.resources import files as package_files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tolmach.analysis import lexicon, linear, topics

if TYPE_CHECKING:
    from tolmach.analysis.claims import Claim

DATA = Path(str(package_files("tolmach").joinpath("data")))
STANCES = ["complaint", "denial", "affirmation", "explanation", "retraction"]
# The topic model names the topic of a clause that neither keywords nor the embedding
# fallback could place, and overrules their single topic when at least this sure. Leaving
# each labelled set out of the training in turn, 0.7 did best on the independently written
# sets (0.5 and 0.9 were each a point lower). The stance model overrules the rules' stance
# when at least STANCE_OVERRULE sure. It is also trained to keep the rules' stance on clauses
# no annotator labelled (addresses, greetings), and at 0.5 then did as well as its best guess
# alone, which made complaints of "Ми, бійці 47-ї бригади, звертаємося до командування" and
# of "Мы откликнулись на призыв и готовы выполнять свой долг" in a grievance.
TOPIC_OVERRULE = 0.7
STANCE_OVERRULE = 0.5
KEYWORD_CAP = 6.0
KEYWORD_SCALE = 0.3
RULE_WEIGHT = 2.0


@dataclass(frozen=True)
class Models:
    topic: linear.Model | None
    stance: linear.Model | None


def load(folder: Path = DATA) -> Models:
    return Models(linear.load(folder / "topic-model.npz"), linear.load(folder / "stance-model.npz"))


NONE = Models(None, None)


@functools.cache
def fingerprint(folder: Path = DATA) -> str:
    """Which models label claims: the first 12 hex digits of the sha256 of both model files,
    "" when there are none. Recorded as the analyse stage's engine."""
    digest = hashlib.sha256()
    found = False
    for name in ("topic-model.npz", "stance-model.npz"):
        if (folder / name).exists():
            digest.update(name.encode() + (folder / name).read_bytes())
            found = True
    return digest.hexdigest()[:12] if found else ""


def topic_extra(texts: list[str], language: str, tax: topics.Taxonomy) -> linear.Matrix:
    """Each text's keyword score per topic, capped (the taxonomy's topics in order)."""
    ids = list(tax.topics)
    out = np.zeros((len(texts), len(ids)), np.float32)
    for i, text in enumerate(texts):
        for h in tax.hits(lexicon.tokens(text, language)):
            out[i, ids.index(h.topic)] += h.weight
    return (np.minimum(out, KEYWORD_CAP) * KEYWORD_SCALE).astype(np.float32)


def stance_extra(rule_stances: list[str], lean: float) -> linear.Matrix:
    """The rule's stance (one-hot), the same scaled by the statement's share of complaints,
    and that share."""
    onehot = np.zeros((len(rule_stances), len(STANCES)), np.float32)
    for i, s in enumerate(rule_stances):
        onehot[i, STANCES.index(s)] = RULE_WEIGHT
    share = np.full((len(rule_stances), 1), lean, np.float32)
    return np.hstack([onehot, onehot * share, share * 2])


def complaint_share(found: list[Claim]) -> float:
    return sum(c.stance == "complaint" for c in found) / max(1, len(found))


def apply(found: list[Claim], language: str, tax: topics.Taxonomy, models: Models) -> list[Claim]:
    """The claims with topics and stances by the models. A clause that lists several topics
    keeps them, and a blanket denial keeps its group and stance (they decide what a
    follow-up covers)."""
    spans: dict[tuple[int, int], int] = {}
    for c in found:
        spans[c.start, c.end] = spans.get((c.start, c.end), 0) + 1
    todo = [i for i, c in enumerate(found) if not c.blanket]
    out = list(found)
    texts = [found[i].text for i in todo]
    langs = [language] * len(todo)
    if models.topic and todo:
        guesses = models.topic.predict(
            texts, langs, topic_extra(texts, language, tax), set(tax.topics)
        )
        for i, (topic, p) in zip(todo, guesses, strict=True):
            c = out[i]
            single = spans[c.start, c.end] == 1
            if not single or topic == c.topic or (c.method != "none" and p < TOPIC_OVERRULE):
                continue
            also = tuple(t for t in (c.topic, *c.also) if t != topic and c.method == "keywords")
            extra = c.extra | {"topic_p": round(p, 3)}
            out[i] = replace(c, topic=topic, method="model", also=also, extra=extra)
    if models.stance and todo:
        rules = [found[i].stance for i in todo]
        guesses = models.stance.predict(texts, langs, stance_extra(rules, complaint_share(found)))
        for i, (kind, p) in zip(todo, guesses, strict=True):
            c = out[i]
            if kind != c.stance and p >= STANCE_OVERRULE:
                extra = c.extra | {"stance_p": round(p, 3), "rule_stance": c.stance}
                out[i] = replace(c, stance=kind, evidence="(learned model)", extra=extra)
    return out
