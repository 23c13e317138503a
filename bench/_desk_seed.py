"""A desk store seeded directly in the database: many items with realistic segments.

Words come from the Tatoeba test sentences (Russian, Ukrainian, English) ranked by how often
they occur there, and are drawn with Zipf-like frequencies (rank ** -1.07), so a few words are
in most segments and most words in very few, as in real speech. Items are 55% Russian, 35%
Ukrainian, 10% English; each has a capture (URL on one of a few channels, a date in 2026), a
transcribe run whose summary holds its language, and a review row for a third of them.

    vocab = load_vocab()
    seed(Path("data/tolmach.db"), vocab, items=5000, segments=200)   # 1,000,000 segments
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from _common import REPO

TATOEBA = REPO.parent / "shared" / "data" / "mt" / "tatoeba"
FILES = {
    "ru": TATOEBA / "eng-rus" / "tatoeba-test-v2021-08-07.rus",
    "uk": TATOEBA / "eng-ukr" / "tatoeba-test-v2021-08-07.ukr",
    "en": TATOEBA / "eng-rus" / "tatoeba-test-v2021-08-07.eng",
}
LANGS = (("ru", 0.55), ("uk", 0.35), ("en", 0.10))
STATUSES = ("in_progress", "needs_review", "verified", "false_or_misleading")
CHANNELS = ("https://t.me/front_news", "https://t.me/mobik_voices", "https://x.com/osint_ua")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def load_vocab() -> dict[str, list[str]]:
    """Each language's words, most frequent first."""
    vocab = {}
    for lang, path in FILES.items():
        counts = Counter(w.lower() for w in _WORD.findall(path.read_text(encoding="utf-8")))
        vocab[lang] = [w for w, _ in counts.most_common()]
    return vocab


class Sentences:
    """Random sentences of 5 to 14 words with Zipf-distributed words."""

    def __init__(self, vocab: dict[str, list[str]], seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = {k: np.array(v, dtype=object) for k, v in vocab.items()}
        self.p = {}
        for k, v in vocab.items():
            weights = np.arange(1, len(v) + 1, dtype=float) ** -1.07
            self.p[k] = weights / weights.sum()

    def batch(self, lang: str, n: int) -> list[str]:
        lengths = self.rng.integers(5, 15, size=n)
        drawn = self.rng.choice(self.words[lang], size=int(lengths.sum()), p=self.p[lang])
        out, at = [], 0
        for length in lengths:
            words = drawn[at : at + length]
            at += length
            out.append(" ".join(words).capitalize() + ".")
        return out


def seed(
    db_path: Path,
    vocab: dict[str, list[str]],
    items: int,
    segments: int,
    on_progress: Callable[[int], None] = lambda done: None,
) -> dict[str, str]:
    """Add ``items`` items of ``segments`` segments each to a migrated store; return each new
    item's language."""
    rng = random.Random(11)
    gen = Sentences(vocab)
    conn = sqlite3.connect(db_path)
    languages: dict[str, str] = {}
    start = datetime(2026, 1, 1)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for n in range(items):
            lang = rng.choices([k for k, _ in LANGS], [w for _, w in LANGS])[0]
            item_id = hashlib.sha256(f"seed-{db_path}-{n}".encode()).hexdigest()[:16]
            languages[item_id] = lang
            _item(conn, rng, item_id, lang, start + timedelta(hours=n * 7 % 8000))
            source = gen.batch(lang, segments)
            english = gen.batch("en", segments)
            conn.executemany(
                "INSERT INTO segment_search (source, english, item_id, seg, t_start, t_end) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (s, e, item_id, i, i * 4.0, i * 4.0 + 3.5)
                    for i, (s, e) in enumerate(zip(source, english, strict=True))
                ],
            )
            if n % 100 == 99:
                conn.commit()
                on_progress(n + 1)
        conn.commit()
    finally:
        conn.close()
    return languages


def _item(
    conn: sqlite3.Connection, rng: random.Random, item_id: str, lang: str, when: datetime
) -> None:
    sha = hashlib.sha256(item_id.encode()).hexdigest()
    at = when.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores datetimes in SQLite
    conn.execute(
        "INSERT INTO items (id, sha256, size, ext, kind, duration, media_json, created_at, "
        "status, source_status) VALUES (?, ?, 1000, 'mp4', 'video', 800.0, '{}', ?, "
        "'processed', 'unknown')",
        (item_id, sha, at),
    )
    url = f"{rng.choice(CHANNELS)}/{rng.randint(1, 99999)}"
    conn.execute(
        "INSERT INTO captures (item_id, source, captured_at, operator, tool_version, "
        "record_sha256, kind, url, page_json, files_json) "
        "VALUES (?, ?, ?, 'bench', '0', ?, 'url', ?, '{}', '[]')",
        (item_id, url, at, sha, url),
    )
    conn.execute(
        "INSERT INTO stage_runs (item_id, stage, input_key, status, started_at, finished_at, "
        "engine, model_name, model_sha256, settings_json, summary_json, tool_version, error) "
        "VALUES (?, 'transcribe', ?, 'done', ?, ?, 'bench', '', '', '{}', ?, '0', '')",
        (item_id, sha, at, at, json.dumps({"language": lang, "segments": 0})),
    )
    if rng.random() < 1 / 3:
        conn.execute(
            "INSERT INTO reviews (item_id, status, assignee, updated_at, updated_by, "
            "published_by) VALUES (?, ?, '', ?, 'bench', '')",
            (item_id, rng.choice(STATUSES), at),
        )
