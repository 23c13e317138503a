"""Regenerate the llama engine's example bank from the Tatoeba test sets.

    python bench/make_mt_examples.py [--data ../shared/data/mt/tatoeba]

Writes src/tolmach/data/mt-examples/{ru,uk}-en.tsv.gz: one pair per line, ``line<TAB>source
<TAB>english``, where ``line`` is the pair's 0-based line number in the Tatoeba file. The
output is deterministic (sorted by line, gzip without a timestamp).

The bank must never contain what the benchmark or the prompt development measured on, so it
leaves out every line in ``HELD_OUT`` (bench/translate.py evaluates lines [0, 500) of ru and
[0, 200) of uk; lines 5000–5150 and 10000–10150 are the development slices) and, to keep
paraphrases of a test sentence out too, every pair whose source *or* English equals (case and
punctuation aside) the source or English of any held-out line.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "mt" / "tatoeba"
OUT = REPO / "src" / "tolmach" / "data" / "mt-examples"
FILES = {"ru": ("eng-rus", "rus"), "uk": ("eng-ukr", "ukr")}
STEM = "tatoeba-test-v2021-08-07"

# Line ranges [start, end) kept out of the bank, for both languages.
HELD_OUT = ((0, 500), (5000, 5150), (10000, 10150))


def norm(text: str) -> str:
    """Lower case, letters and digits only: the key for "the same sentence"."""
    return " ".join(re.findall(r"\w+", text.lower()))


def held_out(i: int) -> bool:
    return any(start <= i < end for start, end in HELD_OUT)


def read(data: Path, lang: str) -> list[tuple[str, str]]:
    folder, ext = FILES[lang]
    src = (data / folder / f"{STEM}.{ext}").read_text(encoding="utf-8").splitlines()
    eng = (data / folder / f"{STEM}.eng").read_text(encoding="utf-8").splitlines()
    if len(src) != len(eng):
        raise SystemExit(f"{folder}: {len(src)} source lines but {len(eng)} English lines")
    return list(zip(src, eng, strict=True))


def bank(pairs: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """The pairs allowed in the bank: not held out, not a copy of a held-out sentence."""
    banned = set()
    for i, (src, eng) in enumerate(pairs):
        if held_out(i):
            banned |= {norm(src), norm(eng)}
    rows, seen = [], set()
    for i, (src, eng) in enumerate(pairs):
        src, eng = " ".join(src.split()), " ".join(eng.split())
        if held_out(i) or not src or not eng or norm(src) in banned or norm(eng) in banned:
            continue
        if (src, eng) in seen:
            continue
        seen.add((src, eng))
        rows.append((i, src, eng))
    return rows


def write(path: Path, rows: list[tuple[int, str, str]]) -> None:
    text = "".join(f"{i}\t{src}\t{eng}\n" for i, src, eng in rows)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for lang in FILES:
        pairs = read(args.data, lang)
        rows = bank(pairs)
        path = args.out / f"{lang}-en.tsv.gz"
        write(path, rows)
        print(f"{lang}: {len(rows)} of {len(pairs)} pairs -> {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
