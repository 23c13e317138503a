"""Example pairs chosen per sentence for the llama engine's prompt (retrieval few-shot).

A small base model translates the words it has seen translated. Besides its fixed examples,
the prompt gets the ``k`` pairs of a shipped bank (data/mt-examples/{ru,uk}-en.tsv.gz,
Tatoeba sentences, see the README there) whose source sentence is most like the segment:

    nearest("ru", "Где моя пуговица?", 2)
    # [("На твоей рубашке не хватает пуговицы.", "Your shirt has a button missing."),
    #  ("У вас не найдётся иголки? Мне нужно пуговицу пришить.", "Do you have a needle ...")]

Similarity is a TF-IDF dot product over character 4-grams of the words (with word
boundaries, so "пуговица" and "пуговицу" share most of theirs) plus the words' first five
letters, a crude stem, divided by the square root of the pair's vector length. The bank is
read and indexed on first use (well under a second); a query well under a millisecond.
"""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

import numpy as np

Pair = tuple[str, str]

_WORD = re.compile(r"\w+(?:'\w+)*")
N = 4
STEM = 5


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def features(text: str) -> set[str]:
    """The index terms of ``text``: padded character 4-grams and 5-letter word prefixes."""
    text = text.lower().replace("ё", "е").replace("’", "'").replace("ʼ", "'")
    out: set[str] = set()
    for word in _WORD.findall(text):
        out.add("#" + word[:STEM])
        padded = f" {word} "
        out.update(padded[i : i + N] for i in range(max(1, len(padded) - N + 1)))
    return out


class Bank:
    """An inverted TF-IDF index over the source side of example pairs."""

    def __init__(self, pairs: Iterable[Pair]) -> None:
        self.pairs: list[Pair] = list(pairs)
        lists: dict[str, list[int]] = {}
        for doc, (src, _) in enumerate(self.pairs):
            for f in features(src):
                lists.setdefault(f, []).append(doc)
        n = len(self.pairs)
        self._idf = {f: math.log((n + 1) / (len(ids) + 1)) + 1.0 for f, ids in lists.items()}
        self._postings = {f: np.array(ids, dtype=np.int32) for f, ids in lists.items()}
        norms = np.zeros(n)
        for f, ids in self._postings.items():
            norms[ids] += self._idf[f] ** 2
        # Dot product over the square root of the pair's vector length: a softer length
        # penalty than cosine, which favoured very short pairs (measured, docs/benchmarks.md).
        self._norms = np.sqrt(np.sqrt(np.maximum(norms, 1e-9)))

    def __len__(self) -> int:
        return len(self.pairs)

    def nearest(self, text: str, k: int) -> list[Pair]:
        """The ``k`` pairs most like ``text``, most similar first (fewer if few match)."""
        query = [f for f in features(text) if f in self._postings]
        if k <= 0 or not query:
            return []
        ids = np.concatenate([self._postings[f] for f in query])
        weights = np.concatenate(
            [np.full(len(self._postings[f]), self._idf[f] ** 2) for f in query]
        )
        scores = np.bincount(ids, weights=weights, minlength=len(self.pairs)) / self._norms
        m = min(4 * k, len(scores))
        top = np.argpartition(-scores, m - 1)[:m]
        top = top[np.argsort(-scores[top], kind="stable")]
        out: list[Pair] = []
        seen: set[str] = set()
        for i in top:
            src, eng = self.pairs[i]
            if scores[i] <= 0 or len(out) == k:
                break
            keys = {_key(src), _key(eng)}
            if keys & seen:
                continue  # Tatoeba has several translations of one sentence: show one
            seen |= keys
            out.append((src, eng))
        return out


def read_bank(language: str) -> list[Pair]:
    """The shipped pairs for ``language`` (empty when there is no bank for it)."""
    path = resources.files("tolmach") / "data" / "mt-examples" / f"{language}-en.tsv.gz"
    if not path.is_file():
        return []
    pairs = []
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        _line, src, eng = line.split("\t")
        pairs.append((src, eng))
    return pairs


_override: dict[str, Bank] = {}


@cache
def _bank(language: str) -> Bank:
    return Bank(read_bank(language))


def bank(language: str) -> Bank:
    """The index for ``language``, built on first use."""
    override = _override.get(language)
    return override if override is not None else _bank(language)


def use_bank(language: str, pairs: Sequence[Pair] | None) -> None:
    """Replace the shipped bank of ``language`` by ``pairs`` (``None``: back to shipped)."""
    if pairs is None:
        _override.pop(language, None)
    else:
        _override[language] = Bank(pairs)


def nearest(language: str, text: str, k: int) -> list[Pair]:
    """The ``k`` example pairs whose source is most like ``text``, most similar first."""
    if k <= 0 or not text.strip():
        return []
    return bank(language).nearest(text, k)
