"""Benchmark claim analysis on a labelled set of statement pairs, against a keyword baseline.

    python bench/analysis.py [--split dev|heldout-N|independent-N|all] [--data FILE ...]

Two kinds of labelled set. ``bench/data/analysis-independent*.json`` (splits "independent-N")
were each written by an annotator who had not seen the rules, the analysis code or the other
sets, from a brief with the taxonomy, the labelling conventions and three example pairs; each
was scored once with the rules frozen (docs/benchmarks.md gives the commit) before anyone
looked at its errors. ``bench/data/analysis-pairs.json`` was written by the engineer who wrote
the rules:
pairs of a grievance and a follow-up, in Russian and Ukrainian, each claim of interest labelled
by a quote, a topic and a stance, and each complaint of the first statement by the group the
second puts it in (retracted, blanket, never addressed). "dev" pairs were looked at while the
rules were written. "heldout-1" was written at the same time and scored once with the rules
frozen; its errors were then looked at and the rules changed, so it is no longer held out.
"heldout-2" was written after that and scored once with the rules frozen again, then looked
at; "heldout-3" to "heldout-16" likewise, each after the next changes (heldout-6 and 7, 13
and 14, 15 and 16 with the same rules). docs/benchmarks.md lists each split's first score and
the commit the rules were at.

Reported, in the same run, for tolmach (lemma keywords with weights, clause splitting, e5
fallbacks, stance rules and stance words, then the learned topic and stance models) and a
trivial baseline (one claim per sentence, the first keyword's topic, "complaint" if the
sentence has a negation, blanket if it mentions claims/complaints):

- topic and stance accuracy over labelled claims (a labelled claim matches the predicted
  claim whose span overlaps its quote, preferring one with the same topic; none: wrong);
- retraction precision and recall: a complaint counts as taken back when it is explicitly
  retracted or covered by a blanket denial; plus three-way group accuracy;
- time per item for a statement of about 300 words (two minutes of speech), warm, median of 5;
  and the first call's time, which loads the language tools.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tolmach.analysis import lexicon, retractions, topics
from tolmach.pipeline.analyse import analyse
from tolmach.pipeline.text_item import transcript_of

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "analysis-pairs.json"
# sets written by annotators who had not seen the rules (one split each)
INDEPENDENT = sorted((REPO / "bench" / "data").glob("analysis-independent*.json"))

Analyser = Callable[[str, str], list[dict[str, Any]]]


def tolmach_claims(text: str, language: str) -> list[dict[str, Any]]:
    claims: list[dict[str, Any]] = analyse(transcript_of(text, language), None, timed=False)[
        "claims"
    ]
    # analysis.json spans are offsets in the segments joined by newlines: map back to the text
    joined = "\n".join(s.text for s in transcript_of(text, language).segments)
    return [_respan(c, joined, text) for c in claims]


def _respan(claim: dict[str, Any], joined: str, text: str) -> dict[str, Any]:
    start = text.find(claim["text"])
    return claim | ({"start": start, "end": start + len(claim["text"])} if start >= 0 else {})


_NEG = re.compile(r"\b(не|нет|ни|немає|нема|без)\b", re.IGNORECASE)
_BLANKET = re.compile(r"претензи|претензі|жалоб|скарг", re.IGNORECASE)


def baseline_claims(text: str, language: str) -> list[dict[str, Any]]:
    """One claim per sentence: first keyword's topic; negation means complaint."""
    tax = topics.load()
    out: list[dict[str, Any]] = []
    for i, (s, e) in enumerate(lexicon.sentences(text)):
        piece = text[s:e]
        hits = tax.hits(lexicon.tokens(piece, language))
        blanket = bool(_BLANKET.search(piece))
        topic = hits[0].topic if hits else topics.GENERAL
        if blanket:
            topic = topics.GENERAL
        stance = "denial" if blanket else "complaint" if _NEG.search(piece) else "affirmation"
        out.append({"id": i + 1, "start": s, "end": e, "text": piece, "topic": topic,
                    "stance": stance, "blanket": blanket, "also": []})  # fmt: skip
    return out


def _match(gold: dict[str, Any], text: str, pred: list[dict[str, Any]]) -> dict[str, Any] | None:
    gs = text.index(gold["quote"])
    ge = gs + len(gold["quote"])
    over = [p for p in pred if p["start"] < ge and gs < p["end"]]
    if not over:
        return None
    same = [p for p in over if p["topic"] == gold["topic"]]
    pool = same or over
    return max(pool, key=lambda p: min(ge, p["end"]) - max(gs, p["start"]))


def _gold_groups(pair: dict[str, Any]) -> list[str]:
    left = {g: list(pair["retractions"][g]) for g in retractions.GROUPS}
    groups = []
    for claim in pair["first"]["claims"]:
        if claim["stance"] != "complaint":
            groups.append("")
            continue
        for g in retractions.GROUPS:
            if claim["topic"] in left[g]:
                left[g].remove(claim["topic"])
                groups.append(g)
                break
        else:
            groups.append("never_addressed")
    return groups


def score(pairs: list[dict[str, Any]], analyser: Analyser) -> dict[str, Any]:
    topic_ok = stance_ok = total = 0
    tp = fp = fn = group_ok = group_n = 0
    for pair in pairs:
        lang = pair["language"]
        pred = {side: analyser(pair[side]["text"], lang) for side in ("first", "second")}
        for side in ("first", "second"):
            for gold in pair[side]["claims"]:
                m = _match(gold, pair[side]["text"], pred[side])
                total += 1
                topic_ok += bool(m and m["topic"] == gold["topic"])
                stance_ok += bool(m and m["stance"] == gold["stance"])
        view = retractions.view(pred["first"], pred["second"])
        group_of = {e["claim"]["id"]: g for g in retractions.GROUPS for e in view[g]}
        for gold, want in zip(pair["first"]["claims"], _gold_groups(pair), strict=True):
            if not want:
                continue
            m = _match(gold, pair["first"]["text"], pred["first"])
            got = group_of.get(m["id"], "never_addressed") if m else "never_addressed"
            group_n += 1
            group_ok += got == want
            gold_pos, pred_pos = want != "never_addressed", got != "never_addressed"
            tp += gold_pos and pred_pos
            fp += pred_pos and not gold_pos
            fn += gold_pos and not pred_pos
    return {
        "claims": total,
        "topic_accuracy": topic_ok / total if total else 0.0,
        "stance_accuracy": stance_ok / total if total else 0.0,
        "retraction_precision": tp / (tp + fp) if tp + fp else 0.0,
        "retraction_recall": tp / (tp + fn) if tp + fn else 0.0,
        "group_accuracy": group_ok / group_n if group_n else 0.0,
        "complaints": group_n,
    }


def statement_of_300_words(pairs: list[dict[str, Any]]) -> str:
    texts = [p["first"]["text"] for p in pairs if p["language"] == "ru"]
    out: list[str] = []
    i = 0
    while len(" ".join(out).split()) < 300:
        out.append(texts[i % len(texts)])
        i += 1
    return " ".join(out)


def timing(text: str) -> tuple[float, float, float, int]:
    """First call (loads the tools), warm median of 5 (whole analysis: entities and claims),
    and the keyword baseline's warm median, for one statement."""
    t0 = time.perf_counter()
    tolmach_claims(text, "ru")
    cold = time.perf_counter() - t0
    runs, base = [], []
    for _ in range(5):
        lexicon._CACHE.clear()  # no credit for having seen the same sentences last time
        t0 = time.perf_counter()
        analyse(transcript_of(text, "ru"), None, timed=False)
        runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        baseline_claims(text, "ru")
        base.append(time.perf_counter() - t0)
    return cold, statistics.median(runs), statistics.median(base), len(text.split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", default=[DATA, *INDEPENDENT])
    ap.add_argument("--split", default="all", help="dev, heldout-1 ... heldout-16, or all")
    args = ap.parse_args()
    pairs = [p for f in args.data for p in json.loads(f.read_text(encoding="utf-8"))["pairs"]]
    found = list(dict.fromkeys(p["split"] for p in pairs))
    splits = found if args.split == "all" else [args.split]
    text = statement_of_300_words(pairs)
    cold, warm, base, words = timing(text)
    print(
        f"time per item ({words} words): first call {cold:.2f} s, warm median {warm:.3f} s; "
        f"baseline warm median {base:.3f} s; load average {os.getloadavg()[0]:.1f}"
    )
    header = (
        "| split | lang | system | pairs | claims | topic | stance | retr. P | retr. R | groups |"
    )
    print(header)
    print("|---" * 10 + "|")
    for split in splits:
        for lang in ("ru", "uk", "all"):
            chosen = [p for p in pairs if p["split"] == split and lang in ("all", p["language"])]
            for name, analyser in (("baseline", baseline_claims), ("tolmach", tolmach_claims)):
                r = score(chosen, analyser)
                print(
                    f"| {split} | {lang} | {name} | {len(chosen)} | {r['claims']} | "
                    f"{r['topic_accuracy']:.2f} | {r['stance_accuracy']:.2f} | "
                    f"{r['retraction_precision']:.2f} | {r['retraction_recall']:.2f} | "
                    f"{r['group_accuracy']:.2f} |"
                )


if __name__ == "__main__":
    main()
