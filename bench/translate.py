"""Benchmark text translation on Tatoeba: a plain few-shot baseline against tolmach's engine.

    python bench/translate.py --n 500 --uk-n 200 [--context 0] [--data ../shared/data/mt/tatoeba]
    python bench/translate.py --start 5000 --n 150 --uk-n 150 --examples 0,4,8   # dev slice

For every engine that runs offline here (the llama engine with the catalog GGUF), it
translates the first N sentences of eng-rus (and eng-ukr) twice in the same run: (a) a plain
few-shot prompt, one sentence at a time, three generic examples, no glossary or context;
(b) tolmach's engine (its prompt, the default glossary, --context neighbours, and the
``mt_examples`` pairs retrieved from the bundled example bank; ``--examples`` tries other
counts). It prints BLEU, chrF (sacrebleu), sentences per second and the chrF ratio (b)/(a).
Tatoeba sentences are short everyday sentences, not news and not soldiers' statements. The
example bank is made from other lines of the same files (bench/make_mt_examples.py keeps
lines [0, 500), 5000–5150 and 10000–10150 out); ``--bank-lines A:B`` keeps only the pairs
from Tatoeba lines A to B-1 (to see how much nearby lines help).
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sacrebleu

from tolmach.config import Settings
from tolmach.engines import mt_examples
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


def read(data: Path, lang: str, n: int, start: int = 0) -> tuple[list[str], list[str]]:
    folder, ext, _ = PAIRS[lang]
    src = (data / folder / f"tatoeba-test-v2021-08-07.{ext}").read_text().splitlines()
    ref = (data / folder / "tatoeba-test-v2021-08-07.eng").read_text().splitlines()
    return src[start : start + n], ref[start : start + n]


def restrict_bank(lang: str, lines: str) -> int:
    """Use only the bank pairs from Tatoeba lines ``A:B`` (B may be empty); the number kept."""
    first, _, end = lines.partition(":")
    last = int(end) if end else 1 << 30
    path = REPO / "src" / "tolmach" / "data" / "mt-examples" / f"{lang}-en.tsv.gz"
    rows = [r.split("\t") for r in gzip.decompress(path.read_bytes()).decode().splitlines()]
    pairs = [(src, eng) for line, src, eng in rows if int(first) <= int(line) < last]
    mt_examples.use_bank(lang, pairs)
    return len(pairs)


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


def score(fn: Callable[[str], str], src: list[str], ref: list[str]) -> dict[str, float]:
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
    ap.add_argument("--start", type=int, default=0, help="first line (0: the test slice)")
    ap.add_argument("--context", type=int, default=0)
    ap.add_argument(
        "--examples",
        default="",
        help="retrieved examples per sentence, e.g. 0,6 (default: the setting)",
    )
    ap.add_argument("--bank-lines", default="", help="use bank pairs from lines A:B only")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--models-dir", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), operator="bench")
        if args.models_dir:
            settings = Settings(data_dir=args.models_dir.parent, operator="bench")
        engine = make_translator(settings)
        assert isinstance(engine, LlamaTranslator)
        counts = [int(k) for k in args.examples.split(",") if k] or [settings.mt_examples]
        rows = []
        for lang, n in (("ru", args.n), ("uk", args.uk_n)):
            if n <= 0:
                continue
            if args.bank_lines:
                print(f"{lang}: bank restricted to {restrict_bank(lang, args.bank_lines)} pairs")
            src, ref = read(args.data, lang, n, args.start)
            results = [("plain few-shot", score(baseline(engine, lang), src, ref))]
            for k in counts:
                engine._k = k
                label = "tolmach" if len(counts) == 1 else f"tolmach, {k} retrieved"
                results.append((label, score(tolmach(engine, lang, src, args.context), src, ref)))
            rows.append((lang, len(src), results))
    print(
        f"engine llama, model {engine.model_ref().name}, context {args.context}, "
        f"lines {args.start}+, bank lines {args.bank_lines or 'all'}"
    )
    print("| lang | n | config | BLEU | chrF | sentences/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for lang, n, results in rows:
        for label, r in results:
            print(
                f"| {lang} | {n} | {label} | {r['bleu']:.1f} | {r['chrf']:.1f} | {r['sps']:.2f} |"
            )
    for lang, _n, results in rows:
        base = results[0][1]
        for label, r in results[1:]:
            print(
                f"{label} / plain, {lang}: chrF {r['chrf'] / base['chrf']:.3f}, "
                f"BLEU {r['bleu'] / base['bleu']:.3f}"
            )


if __name__ == "__main__":
    main()
