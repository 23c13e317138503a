"""Train the claim topic model (src/tolmach/data/topic-model.npz) on the labelled sets, and
measure it by leaving each set out of the training in turn.

    python bench/topic_model.py [--cv] [--leave-out independent-7 ...] [--data FILE ...]

Each labelled claim gives two examples: the clause tolmach's splitter makes around its quote
(what the model sees in use) and the quote itself. ``--cv`` trains once per labelled file
without it and scores that file with the keyword rules alone and with the model, end to end
(topic, stance, retraction precision and recall) as bench/analysis.py scores them. Without
``--cv`` it trains on every file except those ``--leave-out`` names (by split) and writes the
model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from analysis import DATA, INDEPENDENT, score
from tolmach.analysis import claims, topic_model, topics

OUT = topic_model.DEFAULT


def examples(pairs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for pair in pairs:
        lang = pair["language"]
        for side in ("first", "second"):
            text = pair[side]["text"]
            found = claims.extract(text, lang, model=None)
            for gold in pair[side]["claims"]:
                gs = text.index(gold["quote"])
                ge = gs + len(gold["quote"])
                over = [c for c in found if c.start < ge and gs < c.end]
                if over:
                    c = max(over, key=lambda c: min(ge, c.end) - max(gs, c.start))
                    out.append((c.text, lang, gold["topic"]))
                out.append((gold["quote"], lang, gold["topic"]))
    return out


def analyser(model: topic_model.Model | None) -> Any:
    def run(text: str, language: str) -> list[dict[str, Any]]:
        return [c.to_dict() for c in claims.extract(text, language, model=model)]

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", default=[DATA, *INDEPENDENT])
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--leave-out", nargs="*", default=[])
    args = ap.parse_args()
    tax = topics.load()
    files = {f: json.loads(f.read_text(encoding="utf-8"))["pairs"] for f in args.data}
    if not args.cv:
        pairs = [p for ps in files.values() for p in ps if p["split"] not in args.leave_out]
        found = examples(pairs)
        topic_model.train(found, tax).save(OUT)
        print(f"trained on {len(pairs)} pairs ({len(found)} examples); wrote {OUT}")
        return
    print("| left out | claims | system | topic | stance | retr. P | retr. R |")
    print("|---|---|---|---|---|---|---|")
    for held, pairs in files.items():
        rest = [p for f, ps in files.items() if f != held for p in ps]
        model = topic_model.train(examples(rest), tax)
        for name, m in (("rules", None), ("rules + model", model)):
            r = score(pairs, analyser(m))
            print(
                f"| {held.stem} | {r['claims']} | {name} | {r['topic_accuracy']:.3f} | "
                f"{r['stance_accuracy']:.3f} | {r['retraction_precision']:.3f} | "
                f"{r['retraction_recall']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
