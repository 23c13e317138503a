"""Desk search over a million segments: tolmach.search against ranking every match by bm25.

Seeds a temporary store (bench/_desk_seed.py: Zipf-distributed Russian, Ukrainian and English
words from the Tatoeba test sentences, many items), then times queries of each kind, several
rounds interleaved: rare words, the commonest words, two-word phrases, prefixes, and common
words under each filter. *desk*: ``tolmach.search.search`` (ranks the newest 500 matches,
highlights one page). *baseline*: the same match and filters with ``ORDER BY bm25 LIMIT 20``
over every match, then the same highlighting: what a plain FTS5 search would do.

    .venv/bin/python bench/search.py                       # 1,000,000 segments, ~10 minutes
    .venv/bin/python bench/search.py --segments 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine, table
from _desk_seed import load_vocab, seed
from sqlalchemy import text

from tolmach import search, search_index, search_terms
from tolmach.search import Query
from tolmach.store.blobs import BlobStore
from tolmach.store.db import open_db


def queries(vocab: dict[str, list[str]]) -> list[tuple[str, Query]]:
    ru, uk, en = vocab["ru"], vocab["uk"], vocab["en"]
    common = [ru[0], uk[0], en[0], ru[1], uk[2], en[3]]
    rare = [ru[6000], ru[9000], uk[5000], uk[8000], en[4000], en[6000]]
    phrase = [f'"{ru[0]} {ru[1]}"', f'"{uk[1]} {uk[0]}"', f'"{en[0]} {en[2]}"']
    prefix = [ru[300][:4] + "*", uk[300][:4] + "*", en[200][:3] + "*"]
    filtered = [
        Query(text=ru[0], language="ru"),
        Query(text=en[0], language="uk"),
        Query(text=ru[0], status="verified"),
        Query(text=en[0], status="unstarted"),
        Query(text=uk[0], source="osint_ua"),
        Query(text=en[0], since=date(2026, 3, 1), until=date(2026, 3, 31)),
        Query(text=ru[6000], language="ru", status="needs_review"),
    ]
    out = [("common", Query(text=w)) for w in common]
    out += [("rare", Query(text=w)) for w in rare]
    out += [("phrase", Query(text=p)) for p in phrase]
    out += [("prefix", Query(text=p)) for p in prefix]
    out += [("page 5", Query(text=w, page=5)) for w in common[:3]]
    out += [("filtered", q) for q in filtered]
    return out


def baseline(session: Any, query: Query) -> int:
    """Every match ranked by bm25, one page highlighted: a plain FTS5 search."""
    expr = search_terms.fts_expression(search_terms.terms(query.text))
    items = search._allowed(session, query)
    where, params = "segment_search MATCH :q", {"q": expr}
    if items is not None:  # item ids are hex: safe to inline
        where += " AND item_id IN (" + ",".join(f"'{i}'" for i in items) + ")"
    rows = session.execute(
        text(
            "SELECT rowid, highlight(segment_search, 0, '[', ']'), "
            f"highlight(segment_search, 1, '[', ']') FROM segment_search WHERE {where} "
            f"ORDER BY bm25(segment_search) LIMIT {search.PAGE} "
            f"OFFSET {(query.page - 1) * search.PAGE}"
        ),
        params,
    ).all()
    return len(rows)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--per-item", type=int, default=200, help="segments per item")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="seed (or reuse) the store in this folder")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    args = ap.parse_args()

    vocab = load_vocab()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tolmach-search-"))
    db_path = folder / "tolmach.db"
    fresh = not db_path.exists()
    db = open_db(db_path)
    if fresh:
        items = args.segments // args.per_item
        t0 = time.perf_counter()
        seed(db_path, vocab, items, args.per_item, lambda n: print(f"  {n} items", end="\r"))
        print(f"seeded {items * args.per_item} segments in {time.perf_counter() - t0:.0f} s")
    with db() as session:
        total = session.scalar(text("SELECT count(*) FROM segment_search"))
    size = sum(f.stat().st_size for f in folder.glob("tolmach.db*")) / 2**20
    t0 = time.perf_counter()
    search_index.ensure_indexed(db, BlobStore(folder / "blobs"))
    first = time.perf_counter() - t0

    cases = queries(vocab)
    ours: dict[str, list[float]] = {}
    base: dict[str, list[float]] = {}
    found: dict[str, list[int]] = {}
    for _ in range(args.rounds):
        for kind, q in cases:
            with db() as session:
                t0 = time.perf_counter()
                res = search.search(session, q)
                ours.setdefault(kind, []).append(time.perf_counter() - t0)
                found.setdefault(kind, []).append(res.matches + (10**6 if res.capped else 0))
                t0 = time.perf_counter()
                baseline(session, q)
                base.setdefault(kind, []).append(time.perf_counter() - t0)
    rows = []
    for kind in [*ours, "overall"]:
        a = ours[kind] if kind != "overall" else [t for v in ours.values() for t in v]
        b = base[kind] if kind != "overall" else [t for v in base.values() for t in v]
        capped = sum(1 for n in found.get(kind, []) if n >= 10**6)
        n = len(found.get(kind, [])) or 1
        rows.append(
            [
                kind,
                f"{capped * 100 // n}%" if kind != "overall" else "",
                statistics.median(a) * 1000,
                p95(a) * 1000,
                statistics.median(b) * 1000,
                p95(b) * 1000,
                f"{statistics.median(b) / statistics.median(a):.1f}x",
            ]
        )
    print(f"\n{machine()}, load {os.getloadavg()[0]:.1f}; {total} segments, {size:.0f} MiB")
    print(f"first search of the process (checks for unindexed items): {first * 1000:.0f} ms\n")
    head = ["kind", "capped", "desk median ms", "desk p95 ms", "bm25-all median ms"]
    print(table([*head, "bm25-all p95 ms", "ratio (median)"], rows))
    if args.json:
        args.json.write_text(json.dumps({"ours": ours, "baseline": base, "found": found}))


if __name__ == "__main__":
    main()
