"""Peak memory (RSS) of the transcribe stage on 1 hour of audio, against plain faster-whisper.

Each case runs in its own child process; the parent samples the child's RSS with psutil every
0.1 s and also reads the kernel's peak (``ru_maxrss`` from ``os.wait4``), and reports the larger.

- model:    load whisper-base and stop (the floor every case pays)
- baseline: plain faster-whisper ``BatchedInferencePipeline.transcribe`` (batch 8, beam 5,
            VAD, language ru) on the whole hour loaded into memory at once
- stage:    tolmach's transcribe stage (``tolmach.pipeline.transcribe.run``), which reads the
            audio in windows of ``asr_window_s`` (900 s by default), with its language checks
            and word timestamps

Target: the stage's peak under 2.5 GB. One hour takes about 7 minutes a case on 2 cores.

    .venv/bin/python bench/memory.py [--cases model,baseline,stage] [--wav bench/corpus/ru-1h.wav]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import WAV_1H, load_whisper, machine, need_corpus, read_wav, stage_context, table

TARGET_GB = 2.5
GB = 1e9


def child(case: str, wav: Path) -> dict[str, Any]:
    import resource

    start = time.perf_counter()
    out: dict[str, Any] = {"case": case}
    if case == "model":
        load_whisper()
    elif case == "baseline":
        from faster_whisper import BatchedInferencePipeline

        model = load_whisper()
        audio = read_wav(wav)
        segments, _info = BatchedInferencePipeline(model).transcribe(
            audio, language="ru", beam_size=5, batch_size=8, vad_filter=True
        )
        out["segments"] = len(list(segments))
    elif case == "stage":
        from tolmach.pipeline import transcribe

        with tempfile.TemporaryDirectory(prefix="tolmach-bench-mem-") as tmp:
            result = transcribe.run(stage_context(wav, Path(tmp)))
        out["segments"] = result.summary.get("segments", 0)
        out["language"] = result.summary.get("language", "")
    else:
        raise SystemExit(f"unknown case {case}")
    out["wall_s"] = time.perf_counter() - start
    out["self_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def measure(case: str, wav: Path) -> dict[str, Any]:
    """Run one case in a child; return its report with the peak RSS seen from outside."""
    import psutil

    cmd = [sys.executable, __file__, "--child", case, "--wav", str(wav)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    sampled = 0
    rusage_kb = 0
    status = 0
    while True:
        try:
            rss = watched.memory_info().rss
            rss += sum(c.memory_info().rss for c in watched.children(recursive=True))
            sampled = max(sampled, rss)
        except psutil.Error:
            pass
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            rusage_kb = usage.ru_maxrss
            break
        time.sleep(0.1)
    assert proc.stdout is not None
    text = proc.stdout.read()
    proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{case} failed with exit code {proc.returncode}")
    report: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    report["sampled_peak"] = sampled
    report["maxrss"] = rusage_kb * 1024
    report["peak"] = max(sampled, rusage_kb * 1024)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default="model,baseline,stage")
    ap.add_argument("--wav", type=Path, default=WAV_1H)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.wav)))
        return
    need_corpus(args.wav)
    reports = []
    for case in args.cases.split(","):
        print(f"running {case} on {args.wav.name}...", file=sys.stderr, flush=True)
        reports.append(measure(case, args.wav))
        r = reports[-1]
        print(f"  {case}: peak {r['peak'] / GB:.2f} GB, {r['wall_s']:.0f} s", file=sys.stderr)
    base = next((r for r in reports if r["case"] == "baseline"), None)
    rows = []
    for r in reports:
        vs = f"{r['peak'] / base['peak']:.2f}" if base else "-"
        rows.append(
            [
                r["case"],
                f"{r['peak'] / GB:.2f}",
                f"{r['sampled_peak'] / GB:.2f}",
                f"{r['maxrss'] / GB:.2f}",
                vs,
                f"{r['wall_s']:.0f}",
                r.get("segments", "-"),
            ]
        )
    print(f"\nPeak RSS, {args.wav.name}; {machine()}")
    headers = ["case", "peak GB", "sampled GB", "ru_maxrss GB", "x baseline", "wall s", "segments"]
    print(table(headers, rows))
    stage = next((r for r in reports if r["case"] == "stage"), None)
    if stage:
        verdict = "met" if stage["peak"] / GB < TARGET_GB else "MISSED"
        print(f"stage peak {stage['peak'] / GB:.2f} GB: target < {TARGET_GB} GB {verdict}")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1) + "\n")


if __name__ == "__main__":
    main()
