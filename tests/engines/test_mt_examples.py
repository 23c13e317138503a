"""Retrieved few-shot examples: the bundled bank, its index, and where they go in the prompt."""

from __future__ import annotations

import gzip
import importlib.util
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tolmach.engines import mt_examples, mt_prompt
from tolmach.engines.mt_base import TranslationRequest
from tolmach.engines.mt_llama import LlamaTranslator

REPO = Path(__file__).resolve().parents[2]
TATOEBA = REPO.parent / "shared" / "data" / "mt" / "tatoeba"
FILES = {"ru": ("eng-rus", "rus"), "uk": ("eng-ukr", "ukr")}
# Lines the benchmark and the prompt development score on (bench/translate.py, docs).
EVAL = {
    "ru": ((0, 500), (5000, 5150), (10000, 10150)),
    "uk": ((0, 200), (5000, 5150), (10000, 10150)),
}


def _rows(lang: str) -> list[tuple[int, str, str]]:
    path = resources.files("tolmach") / "data" / "mt-examples" / f"{lang}-en.tsv.gz"
    rows = []
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        number, src, eng = line.split("\t")
        rows.append((int(number), src, eng))
    return rows


def _tatoeba(lang: str) -> tuple[list[str], list[str]]:
    folder, ext = FILES[lang]
    if not (TATOEBA / folder).is_dir():
        pytest.fail("the Tatoeba test files are not in ../shared/data/mt/tatoeba")
    src = (TATOEBA / folder / f"tatoeba-test-v2021-08-07.{ext}").read_text().splitlines()
    eng = (TATOEBA / folder / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()
    return src, eng


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


@pytest.fixture
def small_bank() -> Iterator[None]:
    mt_examples.use_bank(
        "ru",
        [
            ("Я потерял пуговицу.", "I lost a button."),
            ("На рубашке не хватает пуговицы.", "The shirt is missing a button."),
            ("Кошка спит.", "The cat is sleeping."),
            ("Мы пьём чай.", "We are drinking tea."),
        ],
    )
    yield
    mt_examples.use_bank("ru", None)


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_bank_is_shipped_and_well_formed(lang: str) -> None:
    rows = _rows(lang)
    assert len(rows) > 10_000
    assert all(src and eng and "\t" not in src + eng for _, src, eng in rows)
    assert len(mt_examples.bank(lang)) == len(rows)
    assert mt_examples.read_bank("de") == []


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_bank_is_disjoint_from_the_evaluation_slices(lang: str) -> None:
    rows = _rows(lang)
    assert not [n for n, _, _ in rows for a, b in EVAL[lang] if a <= n < b]
    src, eng = _tatoeba(lang)
    held = [i for a, b in EVAL[lang] for i in range(a, min(b, len(src)))]
    eval_src = {_key(src[i]) for i in held}
    eval_eng = {_key(eng[i]) for i in held}
    assert not [s for _, s, _ in rows if _key(s) in eval_src]
    assert not [e for _, _, e in rows if _key(e) in eval_eng]
    # Every pair is the Tatoeba pair at its line (whitespace aside).
    assert all(" ".join(src[n].split()) == s for n, s, _ in rows)


def _make_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_mt_examples", REPO / "bench" / "make_mt_examples.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_bank_regenerates_identically(lang: str) -> None:
    _tatoeba(lang)
    script = _make_script()
    assert script.bank(script.read(TATOEBA, lang)) == _rows(lang)


def test_nearest_shares_words_with_the_query() -> None:
    for lang, text, stem in (
        ("ru", "Где моя пуговица?", "пуговиц"),
        ("ru", "Том купил новый велосипед.", "велосипед"),
        ("uk", "Я люблю читати книжки.", "книж"),
    ):
        found = mt_examples.nearest(lang, text, 5)
        assert len(found) == 5
        assert stem in found[0][0].lower()
        assert all(isinstance(e, str) and e for _, e in found)


def test_nearest_edge_cases(small_bank: None) -> None:
    assert mt_examples.nearest("ru", "Пуговица оторвалась.", 0) == []
    assert mt_examples.nearest("ru", "   ", 3) == []
    assert mt_examples.nearest("ru", "xyz qqq", 3) == []  # nothing in common
    found = mt_examples.nearest("ru", "Где пуговица?", 10)
    assert {e for _, e in found} == {"The shirt is missing a button.", "I lost a button."}
    assert all("button" in e for _, e in found)  # only pairs with something in common
    assert mt_examples.nearest("ru", "Я потерял пуговицу", 2)[0][1] == "I lost a button."
    assert mt_examples.nearest("xx", "Где пуговица?", 3) == []  # no bank for the language


def test_features_see_inflected_forms() -> None:
    a, b = mt_examples.features("пуговица"), mt_examples.features("пуговицу")
    assert len(a & b) >= 3
    assert mt_examples.features("Ёлка") == mt_examples.features("елка")


def test_prompt_puts_retrieved_examples_after_the_fixed_prefix() -> None:
    req = TranslationRequest("Где пуговица?", "ru", before=("Ну.",), glossary={"полк": "regiment"})
    examples = [
        ("На рубашке нет пуговицы.", "The shirt has no button."),
        ("Я  устал.", "I'm tired."),
    ]
    prompt = mt_prompt.completion_prompt(req, examples)
    fixed = mt_prompt.prefix("ru")
    assert prompt.startswith(fixed)  # the cached part is still first
    assert prompt[len(fixed) :] == (
        "<ru> Я устал.\n<en> I'm tired.\n\n"
        "<ru> На рубашке нет пуговицы.\n<en> The shirt has no button.\n\n"  # most similar last
        "<context> Ну.\n<terms> полк = regiment\n<ru> Где пуговица?\n<en>"
    )
    assert mt_prompt.completion_prompt(req) == mt_prompt.completion_prompt(req, [])
    retry = mt_prompt.labelled_prompt(req, examples)
    assert retry.endswith(
        "Russian: На рубашке нет пуговицы.\nEnglish: The shirt has no button.\n\n"
        "Russian: Где пуговица?\nEnglish:"
    )


class _FakeLlama:
    def __init__(self) -> None:
        self.prompts: list[str] = []

    def tokenize(self, data: bytes, add_bos: bool = True) -> list[int]:
        return list(range(len(data) // 4))

    def create_completion(self, prompt: str, **kw: Any) -> dict[str, Any]:
        self.prompts.append(prompt)
        return {"choices": [{"text": " Where is the button?"}]}


def _engine(k: int) -> tuple[LlamaTranslator, _FakeLlama]:
    engine = object.__new__(LlamaTranslator)
    fake = _FakeLlama()
    engine._llm, engine._k, engine._n_ctx, engine._known = fake, k, 2048, set()
    return engine, fake


def test_engine_sends_retrieved_examples(small_bank: None) -> None:
    engine, fake = _engine(2)
    assert engine.translate(TranslationRequest("Где пуговица?", "ru")) == "Where is the button?"
    tail = fake.prompts[0][len(mt_prompt.prefix("ru")) :]
    assert tail.count("<ru>") == 3 and "I lost a button." in tail and "cat" not in tail
    engine, fake = _engine(0)
    engine.translate(TranslationRequest("Где пуговица?", "ru"))
    assert fake.prompts[0] == mt_prompt.completion_prompt(TranslationRequest("Где пуговица?", "ru"))
