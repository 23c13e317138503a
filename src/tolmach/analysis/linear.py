"""A small learned classifier for claims: softmax regression over a clause's multilingual-e5
embedding, the lemmas it contains, and features the caller adds (the keyword scores for a
topic, the rule's stance for a stance). ``learned`` trains and applies one per label kind.

    model = train(["Зарплату не платят", ...], ["ru", ...], extra, ["pay", ...])
    model.predict(["Выплаты опять задерживают"], ["ru"], extra_rows)   # [('pay', 0.91)]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tolmach.analysis import lexicon

EMBED_SCALE = 5.0  # cosines between clauses span a narrow range
Matrix = npt.NDArray[np.float32]


def lemma_set(text: str, language: str) -> set[str]:
    return {t.lemma for t in lexicon.tokens(text, language)}


@dataclass(frozen=True)
class Model:
    labels: list[str]  # the columns of weights
    vocabulary: dict[str, int]  # lemma -> its feature's index among the lemma features
    weights: Matrix  # ([384 +] vocabulary + extra + 1) x labels
    embedding: bool = True  # whether the e5 embedding is a feature (17 ms a clause)

    def features(self, texts: list[str], languages: list[str], extra: Matrix) -> Matrix:
        bag = np.zeros((len(texts), len(self.vocabulary)), np.float32)
        for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
            for lemma in lemma_set(text, language):
                j = self.vocabulary.get(lemma)
                if j is not None:
                    bag[i, j] = 1.0
        vectors = lexicon.embed(texts) * EMBED_SCALE if self.embedding else bag[:, :0]
        return np.hstack(
            [
                vectors,
                bag,
                extra.astype(np.float32),
                np.ones((len(texts), 1), np.float32),
            ]
        )

    def probabilities(self, texts: list[str], languages: list[str], extra: Matrix) -> Matrix:
        return softmax(self.features(texts, languages, extra) @ self.weights)

    def predict(
        self, texts: list[str], languages: list[str], extra: Matrix, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """The likeliest label of each text (among ``allowed``), and its probability."""
        if not texts:
            return []
        p = self.probabilities(texts, languages, extra)
        if allowed is not None:
            p = p * np.array([label in allowed for label in self.labels])
        best = p.argmax(axis=1)
        return [(self.labels[int(b)], float(p[i, b])) for i, b in enumerate(best)]

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            labels=np.array(self.labels),
            vocabulary=np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__)),
            weights=self.weights,
            embedding=np.array(self.embedding),
        )


def softmax(z: Matrix) -> Matrix:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def train(
    texts: list[str],
    languages: list[str],
    extra: Matrix,
    labels: list[str],
    label_set: list[str],
    min_count: int = 2,
    l2: float = 1e-3,
    steps: int = 400,
    embedding: bool = True,
) -> Model:
    """Fit a model: full-batch Adam on the cross-entropy with an L2 penalty. Lemmas seen in
    fewer than ``min_count`` texts are not features."""
    counts: dict[str, int] = {}
    for text, language in zip(texts, languages, strict=True):
        for lemma in lemma_set(text, language):
            counts[lemma] = counts.get(lemma, 0) + 1
    kept = sorted(lemma for lemma, n in counts.items() if n >= min_count)
    vocabulary = {lemma: i for i, lemma in enumerate(kept)}
    empty = Model(label_set, vocabulary, np.zeros((0, 0), np.float32), embedding)
    x = empty.features(texts, languages, extra)
    y = np.eye(len(label_set), dtype=np.float32)[[label_set.index(t) for t in labels]]
    w = np.zeros((x.shape[1], len(label_set)), np.float32)
    m: npt.NDArray[np.float64] = np.zeros(w.shape)
    v: npt.NDArray[np.float64] = np.zeros(w.shape)
    for step in range(1, steps + 1):
        grad = x.T @ (softmax(x @ w) - y) / len(x) + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return Model(label_set, vocabulary, w, embedding)


@functools.cache
def load(path: Path) -> Model | None:
    """The model saved at ``path``, or None when there is none."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        labels = [str(t) for t in data["labels"]]
        vocabulary = {str(lemma): i for i, lemma in enumerate(data["vocabulary"])}
        embedding = bool(data["embedding"]) if "embedding" in data else True
        return Model(labels, vocabulary, data["weights"].astype(np.float32), embedding)
