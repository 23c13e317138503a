"""Ingest throughput: hashing and storing a 1 GiB file with tolmach's blob store, against
``sha256sum`` of the same file.

A 1 GiB file of random bytes is written to a temporary folder on the same disk as the store
(under bench/corpus/ by default) and deleted at the end. Cases, interleaved for ``--rounds``
rounds (order reversed every other round), medians reported:

- sha256sum:      coreutils ``sha256sum FILE`` (the baseline: read and hash)
- hashlib read:   ``tolmach.store.blobs.sha256_file`` (read and hash in Python, no write)
- cp+fsync:       ``shutil.copyfile`` then fsync (write cost of any store that keeps a copy)
- put_file:       ``BlobStore.put_file`` (read, hash, write, fsync, rename; the real thing)
- put_file nofsync: the same with fsync disabled (diagnostic: what the fsync costs)

The test file sits in the page cache for every case (it was just written; the machine has far
more memory than 1 GiB), so reads are memory reads for all of them alike. Each store case
starts from an empty store. Target: put_file >= 0.8 x sha256sum's throughput.

    .venv/bin/python bench/ingest.py [--size-mib 1024] [--rounds 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import CORPUS, machine, median, table, timed

TARGET = 0.8
MIB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    block = 64 * MIB
    with path.open("wb") as f:
        left = size
        while left:
            n = min(block, left)
            f.write(os.urandom(n))
            left -= n
        f.flush()
        os.fsync(f.fileno())


def make_cases(src: Path, tmp: Path) -> dict[str, Callable[[], Any]]:
    from tolmach.store import blobs as blobs_mod
    from tolmach.store.blobs import BlobStore, sha256_file

    def fresh(name: str) -> Path:
        root = tmp / name
        shutil.rmtree(root, ignore_errors=True)
        return root

    def sha256sum() -> str:
        out = subprocess.run(["sha256sum", str(src)], capture_output=True, text=True, check=True)
        return out.stdout.split()[0]

    def cp_fsync() -> None:
        dst = fresh("cp")
        dst.mkdir()
        shutil.copyfile(src, dst / "copy")
        fd = os.open(dst / "copy", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put_file() -> str:
        return BlobStore(fresh("store")).put_file(src)[0]

    def put_file_nofsync() -> str:
        real = blobs_mod.os.fsync
        blobs_mod.os.fsync = lambda fd: None
        try:
            return BlobStore(fresh("store-nofsync")).put_file(src)[0]
        finally:
            blobs_mod.os.fsync = real

    return {
        "sha256sum": sha256sum,
        "hashlib read": lambda: sha256_file(src),
        "cp+fsync": cp_fsync,
        "put_file": put_file,
        "put_file nofsync": put_file_nofsync,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=CORPUS, help="where the temporary folder goes")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    size = args.size_mib * MIB
    tmp = Path(tempfile.mkdtemp(prefix="tolmach-bench-ingest-", dir=args.dir))
    times: dict[str, list[float]] = {}
    try:
        src = tmp / "test.bin"
        print(f"writing {args.size_mib} MiB of random bytes to {src}...", file=sys.stderr)
        make_file(src, size)
        cases = make_cases(src, tmp)
        digests = {cases["sha256sum"](), cases["put_file"]()}  # warm-up, and a correctness check
        if len(digests) != 1:
            raise SystemExit(f"sha256sum and put_file disagree: {digests}")
        names = list(cases)
        times = {n: [] for n in names}
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                seconds, _ = timed(cases[name])
                times[name].append(seconds)
                mibs = size / MIB / seconds
                print(
                    f"round {r + 1} {name:17} {seconds:6.2f} s {mibs:7.0f} MiB/s", file=sys.stderr
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {n: median(t) for n, t in times.items()}
    base = size / MIB / med["sha256sum"]
    rows = []
    for n, t in times.items():
        mibs = size / MIB / med[n]
        rows.append([n, med[n], " / ".join(f"{x:.2f}" for x in t), f"{mibs:.0f}", mibs / base])
    print(f"\nIngest of a {args.size_mib} MiB file; {machine()}")
    print(f"median of {args.rounds} interleaved rounds; file in the page cache for all cases")
    print(table(["case", "median s", "runs s", "MiB/s", "x sha256sum"], rows))
    ratio = med["sha256sum"] / med["put_file"]
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(f"put_file / sha256sum throughput: {ratio:.2f} (target >= {TARGET}: {verdict})")
    if args.json:
        args.json.write_text(json.dumps({"size": size, "times": times}, indent=1) + "\n")


if __name__ == "__main__":
    main()
