"""Train the claim topic and stance models (src/tolmach/data/topic-model.npz and
stance-model.npz) on labelled sets, and measure them by leaving each set out in turn.

    python bench/claim_models.py --data FILE ... [--cv]

Each labelled claim gives the topic model two examples: the clause tolmach's splitter makes
around its quote (what the model sees in use) and the quote itself; and the stance model
one, the clause with the rules' stance and the statement's share of complaints. A clause
that overlaps no labelled quote teaches the stance model to keep the rules' stance. ``--cv``
trains once per labelled file without it and scores that file end to end (topic, stance,
retraction precision and recall, as bench/analysis.py scores them) with the rules alone,
with the topic model, and with both. Without ``--cv`` it trains on every file given and
writes the models.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from analysis import score
from tolmach.analysis import claims, learned, linear, topics

Examples = list[tuple[str, str, str, Any]]  # text, language, label, extra features (a row)


def examples(pairs: list[dict[str, Any]], tax: topics.Taxonomy) -> tuple[Examples, Examples]:
    by_topic: Examples = []
    by_stance: Examples = []
    for pair in pairs:
        lang = pair["language"]
        for side in ("first", "second"):
            text = pair[side]["text"]
            found = claims.extract(text, lang, tax, learned.NONE)
            share = learned.complaint_share(found)
            for gold in pair[side]["claims"]:
                gs = text.index(gold["quote"])
                ge = gs + len(gold["quote"])
                over = [c for c in found if c.start < ge and gs < c.end]
                texts = [gold["quote"]]
                if over:
                    c = max(over, key=lambda c: min(ge, c.end) - max(gs, c.start))
                    texts.append(c.text)
                    if not c.blanket:
                        row = learned.stance_extra([c.stance], share)[0]
                        by_stance.append((c.text, lang, gold["stance"], row))
                for t in texts:
                    row = learned.topic_extra([t], lang, tax)[0]
                    by_topic.append((t, lang, gold["topic"], row))
            quotes = [(text.index(g["quote"]), len(g["quote"])) for g in pair[side]["claims"]]
            for c in found:
                # a clause the annotator saw nothing in (an address, a greeting) keeps the
                # rules' stance: the model is not to make complaints of it
                if not c.blanket and not any(c.start < s + n and s < c.end for s, n in quotes):
                    row = learned.stance_extra([c.stance], share)[0]
                    by_stance.append((c.text, lang, c.stance, row))
    return by_topic, by_stance


def fit(found: Examples, labels: list[str], embedding: bool) -> linear.Model:
    return linear.train(
        [e[0] for e in found],
        [e[1] for e in found],
        np.stack([e[3] for e in found]),
        [e[2] for e in found],
        labels,
        embedding=embedding,
    )


def analyser(models: learned.Models) -> Any:
    def run(text: str, language: str) -> list[dict[str, Any]]:
        return [c.to_dict() for c in claims.extract(text, language, models=models)]

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--no-embedding", action="store_true", help="lemmas and rule features only")
    args = ap.parse_args()
    tax = topics.load()
    emb = not args.no_embedding
    files = {f: json.loads(f.read_text(encoding="utf-8"))["pairs"] for f in args.data}
    found = {f: examples(pairs, tax) for f, pairs in files.items()}
    if not args.cv:
        topic = fit([e for t, _ in found.values() for e in t], list(tax.topics), emb)
        stance = fit([e for _, s in found.values() for e in s], learned.STANCES, emb)
        topic.save(learned.DATA / "topic-model.npz")
        stance.save(learned.DATA / "stance-model.npz")
        n = sum(len(p) for p in files.values())
        print(f"trained on {n} pairs of {len(files)} files; wrote the models to {learned.DATA}")
        return
    print("| left out | claims | system | topic | stance | retr. P | retr. R |")
    print("|---|---|---|---|---|---|---|")
    for held, pairs in files.items():
        rest = [v for f, v in found.items() if f != held]
        topic = fit([e for t, _ in rest for e in t], list(tax.topics), emb)
        stance = fit([e for _, s in rest for e in s], learned.STANCES, emb)
        systems = {
            "rules": learned.NONE,
            "rules + topic model": learned.Models(topic, None),
            "rules + both models": learned.Models(topic, stance),
        }
        for name, models in systems.items():
            r = score(pairs, analyser(models))
            print(
                f"| {held.stem} | {r['claims']} | {name} | {r['topic_accuracy']:.3f} | "
                f"{r['stance_accuracy']:.3f} | {r['retraction_precision']:.3f} | "
                f"{r['retraction_recall']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
