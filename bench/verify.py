"""Store verification throughput: ``tolmach verify`` over a large simulated store, against
``sha256sum`` of the same blob files.

The store is built directly (no ingest): ``--items`` items, each with an original of
``--total-gb / --items`` bytes, a capture record, an output and two custody entries, chained
as ``tolmach.custody`` chains them. Originals are sparse files (a hole of zeros then a unique
32-byte tail), so 50 GB takes no disk space and is built in seconds: the sha256 of the zeros is
computed once and copied for each tail. Reading a hole still returns every byte, so every case
really reads and hashes the full size; on a machine with less memory than the store, no case
is helped by the page cache more than another.

Cases, interleaved for ``--rounds`` rounds (order reversed every other round), medians reported:

- sha256sum:        coreutils ``sha256sum`` over every blob file, one process (the baseline)
- sha256sum -P N:   the same split over N processes (``xargs -P``, N = cores)
- openssl dgst:     ``openssl dgst -sha256`` over every blob file, one process (what the hash
                    code alone can do: OpenSSL's SHA-256, as Python's hashlib uses)
- tolmach verify:   ``tolmach verify --json`` (every blob re-hashed in a thread pool, plus the
                    custody chain, captures and outputs checked), as a user runs it

Target: tolmach verify >= 0.8 x sha256sum's throughput.

    .venv/bin/python bench/verify.py [--items 10000] [--total-gb 50] [--rounds 1] [--dir PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import CORPUS, REPO, machine, median, table, timed

TARGET = 0.8


def build_store(data: Path, items: int, total: int) -> tuple[int, int]:
    """Write the blobs and rows of a simulated store under ``data``; return (files, bytes)."""
    from sqlalchemy import insert

    from tolmach import custody
    from tolmach.store.blobs import BlobStore
    from tolmach.store.db import open_db
    from tolmach.store.tables import Capture, Event, Item, Output, StageRun, utcnow

    blobs = BlobStore(data / "blobs")
    db = open_db(data / "tolmach.db")
    size = max(total // items - 32, 0)
    zeros = hashlib.sha256()
    block = bytes(8 * 1024 * 1024)
    left = size
    while left:
        zeros.update(block[: min(left, len(block))])
        left -= min(left, len(block))
    rows: dict[str, list[dict[str, Any]]] = {"items": [], "caps": [], "runs": [], "outs": []}
    events: list[dict[str, Any]] = []
    prev = ""
    nbytes = 0
    now = utcnow()
    for n in range(items):
        tail = n.to_bytes(32, "big")
        h = zeros.copy()
        h.update(tail)
        sha = h.hexdigest()
        path = blobs.path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.truncate(size)
            f.seek(size)
            f.write(tail)
        item_id = sha[:12]
        record = json.dumps({"item_id": item_id, "sha256": sha, "source": f"/in/{n}.mp4"})
        rec_sha, rec_size = blobs.put_bytes(record.encode())
        out_sha, out_size = blobs.put_bytes(json.dumps({"item": n, "segments": []}).encode())
        nbytes += size + 32 + rec_size + out_size
        rows["items"].append(
            dict(id=item_id, sha256=sha, size=size + 32, ext="mp4", kind="video", duration=1.0)
        )
        rows["caps"].append(
            dict(id=n + 1, item_id=item_id, source=f"/in/{n}.mp4", captured_at=now,
                 operator="bench", tool_version="bench", record_sha256=rec_sha)
        )  # fmt: skip
        rows["runs"].append(
            dict(id=n + 1, item_id=item_id, stage="transcribe", input_key="k", status="done",
                 started_at=now)
        )  # fmt: skip
        rows["outs"].append(
            dict(run_id=n + 1, name="transcript.json", sha256=out_sha, size=out_size)
        )
        item_prev = ""
        for kind, detail in (
            ("captured", {"capture": n + 1, "source": f"/in/{n}.mp4", "record_sha256": rec_sha}),
            ("processed", {"stage": "transcribe", "outputs": {"transcript.json": out_sha}}),
        ):
            e = dict(at=custody.iso(now), actor="bench", kind=kind, item_id=item_id, subject="",
                     detail=detail, prev_hash=prev, item_prev_hash=item_prev)  # fmt: skip
            e["hash"] = prev = item_prev = custody.entry_hash(e)
            events.append(
                dict(item_id=item_id, at=now, actor="bench", kind=kind, subject="",
                     detail_json=custody.canonical(detail), prev_hash=e["prev_hash"],
                     item_prev_hash=e["item_prev_hash"], hash=e["hash"])
            )  # fmt: skip
    with db.begin() as session:
        for table_, key in (
            (Item, "items"),
            (Capture, "caps"),
            (StageRun, "runs"),
            (Output, "outs"),
        ):
            session.execute(insert(table_), rows[key])
        session.execute(insert(Event), events)
    db.kw["bind"].dispose()
    return items * 3, nbytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--total-gb", type=float, default=50.0, help="bytes of originals, in GB")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=CORPUS, help="where the store is built")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="verify-bench-") as tmp:
        data = Path(tmp) / "data"
        build_s, (files, nbytes) = timed(
            lambda: build_store(data, args.items, int(args.total_gb * 1e9))
        )
        print(f"built {args.items} items, {files} blobs, {nbytes / 1e9:.1f} GB in {build_s:.0f} s")
        listing = Path(tmp) / "files.txt"
        listing.write_bytes(
            b"\0".join(str(p).encode() for p in sorted((data / "blobs").glob("??/??/*")))
        )
        tolmach = str(Path(sys.executable).with_name("tolmach"))

        def xargs(procs: int, *command: str) -> None:
            with listing.open("rb") as f:
                subprocess.run(
                    ["xargs", "-0", "-P", str(procs), "-n", str(max(files // procs // 4, 1)),
                     *command], stdin=f, stdout=subprocess.DEVNULL, check=True,
                )  # fmt: skip

        def verify() -> None:
            run = subprocess.run(
                [tolmach, "--data-dir", str(data), "verify", "--json"],
                capture_output=True, text=True, check=False, cwd=REPO,
            )  # fmt: skip
            report = json.loads(run.stdout)
            if run.returncode or report["checked"]["blobs"] != files:
                sys.exit(f"verify failed: {run.stdout[-2000:]} {run.stderr[-2000:]}")

        cases = {
            "sha256sum": lambda: xargs(1, "sha256sum"),
            f"sha256sum -P {cores}": lambda: xargs(cores, "sha256sum"),
            "openssl dgst -sha256": lambda: xargs(1, "openssl", "dgst", "-sha256"),
            "tolmach verify": verify,
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for r in range(args.rounds):
            order = list(cases) if r % 2 == 0 else list(reversed(cases))
            for name in order:
                seconds, _ = timed(cases[name])
                times[name].append(seconds)
                print(f"round {r + 1}: {name}: {seconds:.1f} s", flush=True)
        shutil.rmtree(data, ignore_errors=True)
    base = median(times["sha256sum"])
    rows = [
        [name, median(t), nbytes / median(t) / 1e6, base / median(t)] for name, t in times.items()
    ]
    print(f"\n{machine()}; {args.items} items, {files} blobs, {nbytes / 1e9:.1f} GB\n")
    print(table(["case", "median s", "MB/s", "x sha256sum"], rows))
    ratio = base / median(times["tolmach verify"])
    print(f"\ntolmach verify: {ratio:.2f} x sha256sum (target >= {TARGET})")
    if args.json:
        args.json.write_text(json.dumps({"files": files, "bytes": nbytes, "times": times}))


if __name__ == "__main__":
    main()
