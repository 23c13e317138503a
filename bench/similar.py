"""Near-duplicate lookup: tolmach's index over 100,000 stored fingerprints, against a plain
Python loop over the same data in the same run.

Synthetic fingerprints: ``--items`` items of ``--frames`` random 256-bit frame hashes each,
stored in a real tolmach database (the ``fingerprints`` table). Queries, interleaved:

- planted: a stored item's frames, the first two thirds of them (a cut copy), each with
  ``--flip`` random bits flipped (re-encoding); the item must be found;
- random: fresh random frames; nothing must be found.

Measured: loading the index from the table (``SimilarIndex.from_session``), and per query the
index (``SimilarIndex.query``) against the baseline, a Python loop over every item with
``int.bit_count`` on 256-bit integers. The loop is run over a ``--sample`` of the items and
its time scaled to all of them (it is linear in the number of items). Random hashes spread
evenly over the chunk tables; real PDQ hashes cluster more, so real candidate lists are longer.

    .venv/bin/python bench/similar.py [--items 100000] [--frames 30] [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, median, table, timed
from sqlalchemy import insert

MAX_DISTANCE = 31
MIN_SHARE = 0.5


def flip(hashes: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    unpacked = np.unpackbits(hashes, axis=1)
    for row in unpacked:
        row[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(unpacked, axis=1)


def loop_query(query: list[int], items: list[tuple[str, list[int]]]) -> list[str]:
    """The baseline: every item, every pair of frames, Python integers."""
    found = []
    for item_id, hashes in items:
        q_hit = sum(any((q ^ h).bit_count() <= MAX_DISTANCE for h in hashes) for q in query)
        h_hit = sum(any((q ^ h).bit_count() <= MAX_DISTANCE for q in query) for h in hashes)
        if max(q_hit / len(query), h_hit / len(hashes)) >= MIN_SHARE:
            found.append(item_id)
    return found


def as_ints(hashes: np.ndarray) -> list[int]:
    return [int.from_bytes(h.tobytes(), "big") for h in hashes]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--queries", type=int, default=100, help="half planted, half random")
    ap.add_argument("--flip", type=int, default=20, help="bits flipped in planted frames")
    ap.add_argument("--sample", type=int, default=2000, help="items the Python loop scans")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    args = ap.parse_args()

    from tolmach.similar import SimilarIndex
    from tolmach.store.db import open_db
    from tolmach.store.tables import Fingerprint, Item

    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, (args.items, args.frames, 32), dtype=np.uint8)
    ids = [f"{i:012x}" for i in range(args.items)]
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "tolmach.db")
        with db.begin() as session:  # items first: fingerprints refer to them
            session.execute(insert(Item), [
                {"id": item_id, "sha256": f"{i:064x}", "size": 1, "ext": "mp4",
                 "kind": "video", "duration": 30.0} for i, item_id in enumerate(ids)
            ])  # fmt: skip
            session.execute(insert(Fingerprint), [
                {"item_id": item_id, "kind": "pdq", "data": data[i].tobytes(),
                 "count": args.frames} for i, item_id in enumerate(ids)
            ])  # fmt: skip
        with db() as session:
            build_s, index = timed(lambda: SimilarIndex.from_session(session, MAX_DISTANCE))
        db.kw["bind"].dispose()

    keep = max(1, args.frames * 2 // 3)
    queries: list[tuple[str, np.ndarray, str | None]] = []
    for n in range(args.queries):
        if n % 2 == 0:
            target = int(rng.integers(args.items))
            queries.append(("planted", flip(data[target][:keep], args.flip, rng), ids[target]))
        else:
            fresh = rng.integers(0, 256, (args.frames, 32), dtype=np.uint8)
            queries.append(("random", fresh, None))
    sample_idx = sorted(random.Random(2).sample(range(args.items), min(args.sample, args.items)))
    sample = [(ids[i], as_ints(data[i])) for i in sample_idx]
    scale = args.items / len(sample)

    index_s: list[float] = []
    by_kind: dict[str, list[float]] = {"planted": [], "random": []}
    loop_s: list[float] = []
    correct = 0
    for kind, hashes, expected in queries:
        blob = hashes.tobytes()
        s, hits = timed(lambda blob=blob: index.query(blob, min_share=MIN_SHARE))
        index_s.append(s)
        by_kind[kind].append(s)
        got = [h.item_id for h in hits]
        correct += got == ([expected] if expected else [])
        qi = as_ints(hashes)
        s, _ = timed(lambda qi=qi: loop_query(qi, sample))
        loop_s.append(s * scale)

    def pct(values: list[float], p: float) -> float:
        return float(np.percentile(values, p))

    rows = [
        ["tolmach index", median(index_s) * 1000, pct(index_s, 95) * 1000, "1.0"],
        ["  planted queries", median(by_kind["planted"]) * 1000,
         pct(by_kind["planted"], 95) * 1000, ""],
        ["  random queries", median(by_kind["random"]) * 1000,
         pct(by_kind["random"], 95) * 1000, ""],
        ["Python loop (scaled)", median(loop_s) * 1000, pct(loop_s, 95) * 1000,
         f"{median(loop_s) / median(index_s):.0f}"],
    ]  # fmt: skip
    print(f"\n{machine()}; {args.items} items x {args.frames} frames; {len(queries)} queries\n")
    print(f"Index load from the fingerprints table: {build_s:.2f} s\n")
    print(table(["case", "median ms", "p95 ms", "x slower than index"], rows))
    print(f"\nqueries answered exactly right (planted found alone, random nothing): "
          f"{correct}/{len(queries)}")  # fmt: skip
    if args.json:
        raw: dict[str, Any] = {
            "items": args.items, "frames": args.frames, "build_s": build_s,
            "index_s": index_s, "loop_s_scaled": loop_s, "loop_sample": len(sample),
            "correct": correct, "queries": len(queries),
        }  # fmt: skip
        args.json.write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
