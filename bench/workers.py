"""Distributed workers: items per minute through Celery workers (1 and 2 ``tolmach worker``
processes on a real redis-server) against the same items processed one after another in one
process, measured in the same command; and the queueing overhead per stage.

Every phase has a fresh data folder and the same short real clips (5.7 s of Russian speech,
320x180; different files by their container's title), the same settings (Whisper with one beam
transcribes and translates, one thread per process, no 9:16 clip), and first processes one
warm-up item (loading the models) that is not timed.

Overhead per stage, with one worker: the worker runs one task at a time and is never idle
while tasks wait, so (wall time - the time the stages themselves ran) / tasks is what a task
costs beyond calling the stage function: sending, Redis, claiming, the job row, recording the
next stage. The stages' own times are each run's ``finished_at - started_at`` (the runner's
record of calling the stage function), also given per stage for the capacity estimate. The
median gap between one stage's record and the next one's start is given too, on the worker and
in one process (where it is the runner's own look at what is done): their difference is what
the queue adds to a stage.

    .venv/bin/python bench/workers.py [--items 4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import MODELS, REPO, machine, median, table
from sqlalchemy import func, select

ENV = {
    "TOLMACH_OPERATOR": "bench",
    "TOLMACH_JOB_RUNNER": "celery",
    "TOLMACH_RENDER_VERTICAL": "false",
    "TOLMACH_ASR_BEAM_SIZE": "1",
    "TOLMACH_ASR_THREADS": "1",
    "TOLMACH_MT_THREADS": "1",
    "TOLMACH_MT_ENGINE": "whisper",
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def make_clips(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    first = folder / "speech.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-i",
        str(REPO / "samples/ru.wav"),
        "-shortest",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(first),
    )
    clips = []
    for i in range(n):
        out = folder / f"clip{i:02d}.mp4"
        ffmpeg("-i", str(first), "-c", "copy", "-metadata", f"title=clip {i}", str(out))
        clips.append(out)
    return clips


def settings_for(data: Path, broker: str):  # type: ignore[no-untyped-def]
    from tolmach.config import Settings

    data.mkdir(parents=True)
    (data / "models").symlink_to(MODELS, target_is_directory=True)
    for key, value in ENV.items():
        os.environ[key] = value
    return Settings(data_dir=data, broker_url=broker)


def stage_times(ws, timed: list[str]) -> tuple[dict[str, list[float]], list[float]]:  # type: ignore[no-untyped-def]
    """Each stage's own times (the timed items'), and the gaps between one stage's record and
    the next stage's start: the runner's own work in one process; that plus the queue's on a
    worker."""
    from tolmach.store.tables import StageRun

    times: dict[str, list[float]] = defaultdict(list)
    with ws.db() as session:
        runs = session.scalars(
            select(StageRun)
            .where(StageRun.status == "done", StageRun.item_id.in_(timed))
            .order_by(StageRun.started_at)
        ).all()
    for run in runs:
        times[run.stage].append((run.finished_at - run.started_at).total_seconds())
    gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in itertools.pairwise(runs)]
    return times, gaps


Measured = tuple[float, int, dict[str, list[float]], list[float]]  # wall, tasks, times, gaps


def in_process(root: Path, clips: list[Path], broker: str) -> Measured:
    from tolmach.workspace import Workspace

    ws = Workspace.open(settings_for(root / "inproc", broker))
    ws.process(ws.ingest(clips[0]).item_id)  # warm-up: models loaded
    ids = [ws.ingest(clip).item_id for clip in clips[1:]]
    start = time.perf_counter()
    for item_id in ids:
        ws.process(item_id)
    wall = time.perf_counter() - start
    times, gaps = stage_times(ws, ids)
    ws.close()
    return wall, 0, times, gaps


def submit_all(ws, item_ids: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    from tolmach.distributed.dispatch import submit

    jobs = []
    for item_id in item_ids:
        with ws.db.begin() as session:
            jobs.append(submit(session, ws.settings, "process", item_id=item_id).id)
    return jobs


def wait(ws, jobs: list[int]) -> None:  # type: ignore[no-untyped-def]
    from tolmach.store.desk import Job

    while True:
        with ws.db() as session:
            ended = session.scalar(
                select(func.count()).where(Job.id.in_(jobs), Job.status.in_(("done", "failed")))
            )
            failed = session.scalars(select(Job.error).where(Job.status == "failed")).all()
        if failed:
            sys.exit(f"a job failed: {failed[0]}")
        if ended == len(jobs):
            return
        time.sleep(0.2)


def on_workers(root: Path, clips: list[Path], broker: str, workers: int) -> Measured:
    """Wall time of the timed items, the tasks they took, the stages' own times and gaps."""
    from tolmach.workspace import Workspace

    ws = Workspace.open(settings_for(root / f"workers{workers}", broker))
    env = {
        **os.environ,
        "TOLMACH_DATA_DIR": str(ws.settings.data_dir),
        "TOLMACH_BROKER_URL": broker,
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tolmach", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    try:
        warm = [ws.ingest(clips[0]).item_id]
        if workers > 1:  # every worker loads its models before the clock starts
            warm.append(ws.ingest(clips[-1]).item_id)
        wait(ws, submit_all(ws, warm))
        ids = [ws.ingest(clip).item_id for clip in clips[1 : len(clips) - (workers > 1)]]
        start = time.perf_counter()
        wait(ws, submit_all(ws, ids))
        wall = time.perf_counter() - start
        times, gaps = stage_times(ws, ids)
        tasks = len(ids) * (1 + len(times))  # a job task, then one task per stage
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
        ws.close()
    return wall, tasks, times, gaps


def make_silent(folder: Path, n: int) -> list[Path]:
    """``n`` one-second videos with no audio track: every stage is cheap on them."""
    folder.mkdir(parents=True)
    made = []
    for i in range(n):
        out = folder / f"silent{i:02d}.mp4"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=25:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-metadata",
            f"title={i}",
            str(out),
        )
        made.append(out)
    return made


def start_redis(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    return subprocess.Popen([*cmd, "--dir", str(root)], stdout=subprocess.DEVNULL), (
        f"redis://127.0.0.1:{port}/0"
    )


def throughput(root: Path, broker: str, n: int) -> None:
    """Items per minute: one process, 1 worker, 2 workers; stage times; overhead per task."""
    clips = make_clips(root / "clips", n + 2)
    base_wall, _, base_times, base_gaps = in_process(root, clips[: n + 1], broker)
    one_wall, one_tasks, one_times, one_gaps = on_workers(root, clips[: n + 1], broker, 1)
    two_wall = on_workers(root, clips, broker, 2)[0]
    rows = [
        ["in one process (baseline)", "-", n, base_wall, 60 * n / base_wall, 1.0],
        ["Celery, 1 worker process", 1, n, one_wall, 60 * n / one_wall, base_wall / one_wall],
        ["Celery, 2 worker processes", 2, n, two_wall, 60 * n / two_wall, base_wall / two_wall],
    ]
    print(table(["run", "workers", "items", "wall s", "items/min", "x baseline"], rows))
    busy = sum(sum(v) for v in one_times.values())
    print(
        f"\nqueueing overhead, 1 worker: {1000 * (one_wall - busy) / one_tasks:.0f} ms a task "
        f"on average over {one_tasks} tasks (wall {one_wall:.1f} s, stages {busy:.1f} s); "
        f"between one stage's record and the next one's start, median "
        f"{1000 * median(one_gaps):.0f} ms on the worker, {1000 * median(base_gaps):.0f} ms in "
        f"one process: {1000 * (median(one_gaps) - median(base_gaps)):.0f} ms added by the queue"
    )
    stages = [
        [stage, median(base_times[stage]), median(times)]
        for stage, times in one_times.items()
        if stage in base_times
    ]
    print("\n" + table(["stage", "in one process: median s", "on a worker: median s"], stages))


def overhead(root: Path, broker: str, n: int) -> None:
    """The queue's cost per stage where the stages cost little: items with no audio track."""
    clips = make_silent(root / "silent", n + 1)
    base_wall, _, _, base_gaps = in_process(root / "s", clips, broker)
    one_wall, one_tasks, _, one_gaps = on_workers(root / "s", clips, broker, 1)
    print(
        f"\n{n} items with no audio track (7 cheap stages each): {base_wall:.2f} s in one "
        f"process, {one_wall:.2f} s on 1 worker: {1000 * (one_wall - base_wall) / one_tasks:.0f}"
        f" ms a task more over {one_tasks} tasks; median gap between stages "
        f"{1000 * median(one_gaps):.0f} ms on the worker, {1000 * median(base_gaps):.0f} ms in "
        f"one process: {1000 * (median(one_gaps) - median(base_gaps)):.0f} ms added by the queue"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=4, help="timed speech items per phase")
    parser.add_argument("--silent", type=int, default=16, help="timed items with no audio")
    parser.add_argument("--overhead-only", action="store_true", help="only the silent items")
    args = parser.parse_args()
    from tolmach import catalog

    catalog.install(MODELS, "whisper-base")
    root = Path(tempfile.mkdtemp(prefix="tolmach-queue-"))
    redis, broker = start_redis(root)
    print(f"machine: {machine()}; load before {os.getloadavg()}")
    try:
        if not args.overhead_only:
            throughput(root, broker, args.items)
        overhead(root, broker, args.silent)
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
