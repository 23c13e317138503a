"""Benchmark text translation on Tatoeba: a plain few-shot baseline against tolmach's engine.

    python bench/translate.py --n 500 --uk-n 200 [--context 0] [--data ../shared/data/mt/tatoeba]

For every engine that runs offline here (the llama engine with the catalog GGUF), it
translates the first N sentences of eng-rus (and eng-ukr) twice in the same run: (a) a plain
few-shot prompt, one sentence at a time, three generic examples, no glossary or context;
(b) tolmach's engine (its prompt, the default glossary, --context neighbours). It prints BLEU,
chrF (sacrebleu), sentences per second and the chrF ratio (b)/(a).
Tatoeba sentences are short everyday sentences, not news and not soldiers' statements.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sacrebleu

from tolmach.config import Settings
from tolmach.engines.mt import make_translator
from tolmach.engines.mt_base import TranslationRequest
from tolmach.engines.mt_llama import LlamaTranslator, complete
from tolmach.glossary import load

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "mt" / "tatoeba"
PAIRS = {"ru": ("eng-rus", "rus", "Russian"), "uk": ("eng-ukr", "ukr", "Ukrainian")}

BASELINE_EXAMPLES = {
    "ru": (
        ("Я живу в Москве.", "I live in Moscow."),
        ("Сегодня холодно.", "It is cold today."),
        ("Где находится вокзал?", "Where is the railway station?"),
    ),
    "uk": (
        ("Я живу в Києві.", "I live in Kyiv."),
        ("Сьогодні холодно.", "It is cold today."),
        ("Де знаходиться вокзал?", "Where is the railway station?"),
    ),
}


def read(data: Path, lang: str, n: int) -> tuple[list[str], list[str]]:
    folder, ext, _ = PAIRS[lang]
    src = (data / folder / f"tatoeba-test-v2021-08-07.{ext}").read_text().splitlines()[:n]
    ref = (data / folder / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()[:n]
    return src, ref


def baseline(engine: LlamaTranslator, lang: str) -> Callable[[str], str]:
    name = PAIRS[lang][2]
    head = "".join(f"{name}: {s}\nEnglish: {e}\n\n" for s, e in BASELINE_EXAMPLES[lang])

    def run(text: str) -> str:
        prompt = f"{head}{name}: {text}\nEnglish:"
        return complete(engine._llm, prompt, 8 + 3 * len(text) // 2, ("\n",)).strip()

    return run


def tolmach(engine: LlamaTranslator, lang: str, src: list[str], ctx: int) -> Callable[[str], str]:
    glossary = load(None)
    index = {id(s): i for i, s in enumerate(src)}

    def run(text: str) -> str:
        i = index[id(text)]
        req = TranslationRequest(
            text,
            lang,
            before=tuple(src[max(0, i - ctx) : i]),
            after=tuple(src[i + 1 : i + 1 + ctx]),
            glossary=glossary.matches(text),
        )
        return engine.translate(req)

    return run


def score(name: str, fn: Callable[[str], str], src: list[str], ref: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    hyp = [fn(s) for s in src]
    seconds = time.perf_counter() - start
    return {
        "bleu": sacrebleu.corpus_bleu(hyp, [ref]).score,
        "chrf": sacrebleu.corpus_chrf(hyp, [ref]).score,
        "sps": len(src) / seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--uk-n", type=int, default=200)
    ap.add_argument("--context", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--models-dir", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), operator="bench")
        if args.models_dir:
            settings = Settings(data_dir=args.models_dir.parent, operator="bench")
        engine = make_translator(settings)
        assert isinstance(engine, LlamaTranslator)
        rows = []
        for lang, n in (("ru", args.n), ("uk", args.uk_n)):
            if n <= 0:
                continue
            src, ref = read(args.data, lang, n)
            base = score("baseline", baseline(engine, lang), src, ref)
            ours = score("tolmach", tolmach(engine, lang, src, args.context), src, ref)
            rows.append((lang, n, base, ours))
    print(f"engine llama, model {engine.model_ref().name}, context {args.context}")
    print("| lang | n | config | BLEU | chrF | sentences/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for lang, n, base, ours in rows:
        for label, r in (("plain few-shot", base), ("tolmach", ours)):
            print(
                f"| {lang} | {n} | {label} | {r['bleu']:.1f} | {r['chrf']:.1f} | {r['sps']:.2f} |"
            )
    for lang, _n, base, ours in rows:
        print(f"chrF ratio {lang}: {ours['chrf'] / base['chrf']:.3f}")


if __name__ == "__main__":
    main()
