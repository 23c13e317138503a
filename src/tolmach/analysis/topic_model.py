"""A topic classifier learned from labelled claims (``data/topic-model.npz``), beside the
keyword rules: softmax regression over a clause's multilingual-e5 embedding, its keyword
scores by topic, and the lemmas it contains.

Keywords miss words no one listed ("спальники", "ВВК") and pick the object where a person
would name the grievance ("таскаем снаряды", said of being used as porters, is about command).
The model is trained by ``bench/topic_model.py`` on every labelled set; ``claims.extract``
lets it decide clauses without a keyword and overrule a single keyword topic when it is sure.

    model = load()
    model.predict(["третью неделю спим в мокром"], "ru")   # [('clothing', 0.81)]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files as package_files
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tolmach.analysis import lexicon, topics

DEFAULT = Path(str(package_files("tolmach").joinpath("data", "topic-model.npz")))
# Feature scales: the embedding's cosine range is narrow, keyword scores are capped
EMBED_SCALE = 5.0
KEYWORD_CAP = 6.0
KEYWORD_SCALE = 0.3
Matrix = npt.NDArray[np.float32]


def lemma_set(text: str, language: str) -> set[str]:
    return {t.lemma for t in lexicon.tokens(text, language)}


def keyword_scores(text: str, language: str, tax: topics.Taxonomy, ids: list[str]) -> Matrix:
    out = np.zeros(len(ids), np.float32)
    for h in tax.hits(lexicon.tokens(text, language)):
        if h.topic in ids:
            out[ids.index(h.topic)] += h.weight
    return out


@dataclass(frozen=True)
class Model:
    ids: list[str]  # the topics, the columns of weights
    vocabulary: dict[str, int]  # lemma -> its feature's index among the lemma features
    weights: Matrix  # (384 + topics + vocabulary + 1) x topics

    def features(self, texts: list[str], language: str, tax: topics.Taxonomy) -> Matrix:
        bag = np.zeros((len(texts), len(self.vocabulary)), np.float32)
        for i, text in enumerate(texts):
            for lemma in lemma_set(text, language):
                j = self.vocabulary.get(lemma)
                if j is not None:
                    bag[i, j] = 1.0
        scores = np.stack([keyword_scores(t, language, tax, self.ids) for t in texts])
        return np.hstack(
            [
                lexicon.embed(texts) * EMBED_SCALE,
                np.minimum(scores, KEYWORD_CAP) * KEYWORD_SCALE,
                bag,
                np.ones((len(texts), 1), np.float32),
            ]
        )

    def probabilities(self, texts: list[str], language: str, tax: topics.Taxonomy) -> Matrix:
        return softmax(self.features(texts, language, tax) @ self.weights)

    def predict(
        self, texts: list[str], language: str, tax: topics.Taxonomy | None = None
    ) -> list[tuple[str, float]]:
        """The likeliest topic of each text that ``tax`` has, and its probability."""
        if not texts:
            return []
        tax = tax or topics.load()
        known = np.array([t in tax.topics for t in self.ids])
        p = self.probabilities(texts, language, tax) * known
        best = p.argmax(axis=1)
        return [(self.ids[int(b)], float(p[i, b])) for i, b in enumerate(best)]

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            topics=np.array(self.ids),
            vocabulary=np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__)),
            weights=self.weights,
        )


def softmax(z: Matrix) -> Matrix:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def train(
    examples: list[tuple[str, str, str]],
    tax: topics.Taxonomy,
    min_count: int = 2,
    l2: float = 1e-3,
    steps: int = 400,
) -> Model:
    """Fit a model to (text, language, topic) examples: full-batch Adam on the cross-entropy
    with an L2 penalty. Lemmas seen fewer than ``min_count`` times are not features."""
    ids = list(tax.topics)
    counts: dict[str, int] = {}
    for text, language, _ in examples:
        for lemma in lemma_set(text, language):
            counts[lemma] = counts.get(lemma, 0) + 1
    kept = sorted(lemma for lemma, n in counts.items() if n >= min_count)
    model = Model(ids, {lemma: i for i, lemma in enumerate(kept)}, np.zeros((0, 0), np.float32))
    by_lang: dict[str, list[int]] = {}
    for i, (_, language, _) in enumerate(examples):
        by_lang.setdefault(language, []).append(i)
    x = np.zeros((len(examples), 384 + len(ids) + len(kept) + 1), np.float32)
    for language, rows in by_lang.items():
        x[rows] = model.features([examples[i][0] for i in rows], language, tax)
    y = np.eye(len(ids), dtype=np.float32)[[ids.index(t) for _, _, t in examples]]
    w = np.zeros((x.shape[1], len(ids)), np.float32)
    m: npt.NDArray[np.float64] = np.zeros(w.shape)
    v: npt.NDArray[np.float64] = np.zeros(w.shape)
    for step in range(1, steps + 1):
        grad = x.T @ (softmax(x @ w) - y) / len(x) + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return Model(ids, model.vocabulary, w)


@functools.cache
def load(path: Path | None = None) -> Model | None:
    """The shipped model, or None when there is none (the keyword rules alone then decide)."""
    source = DEFAULT if path is None else path
    if not source.exists():
        return None
    with np.load(source, allow_pickle=False) as data:
        ids = [str(t) for t in data["topics"]]
        vocabulary = {str(lemma): i for i, lemma in enumerate(data["vocabulary"])}
        return Model(ids, vocabulary, data["weights"].astype(np.float32))
