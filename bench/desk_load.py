"""The desk under load: 50 (then 10) clients for 60 s on the item list, search and an item
page of a real ``tolmach serve``, while a real transcription runs on the same store, against
the same load with nothing else running.

Setup (a fresh store in a temporary folder): one item really processed from ``samples/ru.wav``
(``tolmach run``), a few hundred seeded items with many segments (bench/_desk_seed.py), a
viewer account, and ``tolmach serve`` as a subprocess, signed in through its login form.
``wrk`` (Debian package) sends the session cookie and rotates the three pages (the search
through a few words); a Lua hook counts every answer that is not 2xx. The job is ~5 minutes of
real speech (samples/ru.wav and the shared speech clips, looped), uploaded to the desk by an
editor so that the desk's own job runner transcribes it (``--job desk``: a child process at
``web_job_nice`` that writes its progress to the store every half second), or ``tolmach run``
at that niceness beside the server (``--job cli``: the store changes only between stages).
A thread counts how often the store changed during each case (SQLite's data version), since
every change makes the desk's kept pages old.

    .venv/bin/python bench/desk_load.py                          # about 7 minutes
    .venv/bin/python bench/desk_load.py --items 300 --segments 400 --clients 50 --duration 60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import httpx
from _common import REPO, machine, table
from _desk_seed import load_vocab, seed

from tolmach.config import Settings
from tolmach.store.db import open_db

TOLMACH = [sys.executable, "-m", "tolmach"]
PASSWORD = "load test password"
SPEECH = REPO.parent / "shared" / "data" / "speech"
CLIPS = [
    REPO / "samples" / "ru.wav",
    SPEECH / "deepspeech_russian_sample" / "ru.wav",
    SPEECH / "irudnyts-openai" / "sample-ua.m4a",
]
LUA = """
local paths = {%(paths)s}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; n = 0 end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], {["Cookie"] = "%(cookie)s"})
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("NON2XX %%d\\nP50 %%d\\nP90 %%d\\nP99 %%d\\nMAX %%d\\n", total,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def ffmpeg(*args: str) -> None:
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(cmd, check=True, timeout=300)


def tolmach(env: dict[str, str], *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOLMACH, *args], env=env, check=True, text=True, capture_output=True, **kw
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_media(tmp: Path, seconds: int) -> tuple[Path, Path]:
    """A short video of real Russian speech, and a long WAV of real speech looped."""
    clip = tmp / "statement.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25",
        "-i",
        str(CLIPS[0]),
        "-shortest",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(clip),
    )
    base = tmp / "speech.wav"
    inputs = [a for c in CLIPS for a in ("-i", str(c))]
    chain = "".join(f"[{i}:a]" for i in range(len(CLIPS))) + f"concat=n={len(CLIPS)}:v=0:a=1"
    ffmpeg(*inputs, "-filter_complex", chain, "-ar", "16000", "-ac", "1", str(base))
    long = tmp / "long-statement.wav"
    ffmpeg("-stream_loop", "-1", "-i", str(base), "-t", str(seconds), str(long))
    return clip, long


def sign_in(base: str) -> str:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        page = client.get("/login")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": csrf})
        if r.status_code != 303:
            sys.exit(f"sign-in failed: {r.status_code} {r.text[:200]}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def per_page(base: str, cookie: str, paths: list[str], rounds: int = 15) -> list[list[Any]]:
    """Each page's status and median time, one request at a time (no load)."""
    rows = []
    with httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=30) as client:
        for path in paths:
            times, status = [], set()
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                status.add(r.status_code)
            rows.append([path, ",".join(map(str, sorted(status))), statistics.median(times)])
    return rows


def wrk(base: str, cookie: str, paths: list[str], seconds: int, clients: int) -> dict[str, Any]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    quoted = ", ".join(json.dumps(p) for p in paths)
    script.write_text(LUA % {"paths": quoted, "cookie": cookie})
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        check=True,
        text=True,
        capture_output=True,
        timeout=seconds + 60,
    ).stdout
    script.unlink()
    found = {k: int(v) for k, v in re.findall(r"^(NON2XX|P50|P90|P99|MAX) (\d+)$", out, re.M)}
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": found["P50"] / 1000,
        "p90_ms": found["P90"] / 1000,
        "p99_ms": found["P99"] / 1000,
        "max_ms": found["MAX"] / 1000,
        "non2xx": found["NON2XX"],
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "raw": out,
    }


class StoreChanges:
    """Counts commits to the store while it runs (``PRAGMA data_version``, polled); with
    ``churn`` seconds, also commits a change that often (a seeded item's duration), as busy
    editors or a job writing its progress would."""

    def __init__(self, db_path: Path, churn: float = 0) -> None:
        self.db_path, self.churn, self.count, self._stop = db_path, churn, 0, threading.Event()
        self._threads = [threading.Thread(target=self._poll, daemon=True)]
        if churn:
            self._threads.append(threading.Thread(target=self._write, daemon=True))

    def __enter__(self) -> StoreChanges:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _write(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=30)
        while not self._stop.wait(self.churn):
            conn.execute(
                "UPDATE items SET duration = duration + 0.001 WHERE id = "
                "(SELECT id FROM items ORDER BY created_at LIMIT 1)"
            )
        conn.close()

    def _poll(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None)
        last = conn.execute("PRAGMA data_version").fetchone()[0]
        while not self._stop.wait(0.05):
            now = conn.execute("PRAGMA data_version").fetchone()[0]
            self.count += now != last
            last = now
        conn.close()


def loaded(
    base: str, cookie: str, paths: list[str], seconds: int, clients: int, db_path: Path,
    churn: float = 0,
) -> dict[str, Any]:  # fmt: skip
    with StoreChanges(db_path, churn) as changes:
        found = wrk(base, cookie, paths, seconds, clients)
    return found | {"store_changes": changes.count}


def stages_of(db_path: Path, item_id: str) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT stage, finished_at FROM stage_runs WHERE item_id = ? ORDER BY id", (item_id,)
        ).fetchall()
    finally:
        conn.close()
    return [(str(a), str(b)) for a, b in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=300, help="seeded items")
    ap.add_argument("--segments", type=int, default=400, help="segments per seeded item")
    ap.add_argument("--duration", type=int, default=60, help="seconds of load per case")
    ap.add_argument("--clients", default="50,10", help="concurrent clients, one run each")
    ap.add_argument("--speech", type=int, default=300, help="seconds of speech the job gets")
    ap.add_argument("--workers", type=int, default=1, help="server processes (serve --processes)")
    ap.add_argument("--job", choices=("desk", "cli"), default="desk", help="how the job runs")
    ap.add_argument("--churn", type=float, default=0, help="commit a change every N seconds")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: sudo apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="tolmach-load-"))
    data = tmp / "data"
    env = os.environ | {
        "TOLMACH_DATA_DIR": str(data),
        "TOLMACH_OPERATOR": "bench",
        "TOLMACH_PASSWORD": PASSWORD,
    }
    clip, long = make_media(tmp, args.speech)
    t0 = time.perf_counter()
    done = json.loads(tolmach(env, "run", str(clip), "--out", str(tmp / "out"), "--json").stdout)
    real = str(done["item_id"])
    print(f"processed {real} in {time.perf_counter() - t0:.0f} s")
    db_path = Settings(data_dir=data).db_path
    open_db(db_path).kw["bind"].dispose()
    vocab = load_vocab()
    seed(db_path, vocab, args.items, args.segments)
    tolmach(env, "users", "add", "bench", "--role", "viewer")
    tolmach(env, "users", "add", "bench-editor", "--role", "editor")
    editor = tolmach(env, "users", "token", "bench-editor", "--label", "load").stdout.strip()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [*TOLMACH, "serve", "--port", str(port), "--processes", str(args.workers)]
    server = subprocess.Popen(serve, env=env)
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        cookie = sign_in(base)
        words = [
            vocab["ru"][40],
            vocab["uk"][200],
            '"' + " ".join(vocab["en"][:2]) + '"',
            vocab["ru"][3000][:4] + "*",
            vocab["en"][5],
        ]
        searches = [f"/search?q={urllib.parse.quote(w)}" for w in words]
        paths = [p for s in searches for p in ("/items", s, f"/items/{real}")]
        floor = "/api/me"  # signed in, nothing else: what every request costs
        pages = [floor, "/items", searches[0], searches[2], f"/items/{real}"]
        quiet = per_page(base, cookie, pages)
        print(table(["page (one request at a time)", "status", "median ms"], quiet))
        wrk(base, cookie, paths, 10, max(clients))  # warm-up: each process's first pages
        load = os.getloadavg()[0]
        case = {"paths": paths, "seconds": args.duration, "db_path": db_path, "churn": args.churn}
        alone = {c: loaded(base, cookie, clients=c, **case) for c in clients}
        if args.job == "desk":
            job_id = start_desk_job(base, editor, long)
        else:
            job, job_item = start_job(env, long, tmp, db_path, real)
        began = time.gmtime()
        busy = {c: loaded(base, cookie, clients=c, **case) for c in clients}
        if args.job == "desk":
            state = httpx.get(f"{base}/api/jobs/{job_id}", headers=bearer(editor)).json()
            still_running, job_item = state["status"] == "running", state["item_id"]
        else:
            still_running = job.poll() is None
            job.send_signal(signal.SIGTERM)
            job.wait(timeout=60)
        ran = stages_of(db_path, job_item)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"\n{machine()}, load average {load:.1f} before the runs; {args.items} seeded items x "
        f"{args.segments} segments + 1 processed; {args.duration} s per case; "
        f"{args.workers} server process(es); the job run by {args.job}"
        + (f"; a change committed every {args.churn} s" if args.churn else "")
    )
    report(alone, busy)
    print(
        f"job still running at the end of the load: {still_running}; stages finished by "
        f"then: {[s for s, _ in ran]} (load with the job began {time.strftime('%H:%M:%S', began)})"
    )
    if args.json:
        raw = {"alone": alone, "busy": busy, "pages": quiet, "stages": ran}
        args.json.write_text(json.dumps(raw, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_desk_job(base: str, token: str, long: Path) -> int:
    """The long clip uploaded to the desk as an editor; returns once its job transcribes."""
    with long.open("rb") as f:
        files = {"file": (long.name, f, "audio/wav")}
        r = httpx.post(f"{base}/api/items", files=files, headers=bearer(token), timeout=120)
    r.raise_for_status()
    job_id = int(r.json()["id"])
    for _ in range(480):
        job = httpx.get(f"{base}/api/jobs/{job_id}", headers=bearer(token), timeout=30).json()
        if job["status"] == "failed":
            sys.exit(f"the desk's job failed: {job['error']}")
        if job["stage"] == "transcribe":
            time.sleep(3)
            return job_id
        time.sleep(0.5)
    sys.exit("the desk's job did not start transcribing within 4 minutes")


def start_job(
    env: dict[str, str], long: Path, tmp: Path, db_path: Path, real: str
) -> tuple[subprocess.Popen[str], str]:
    """``tolmach run`` on the long clip at the desk's job niceness; returns once it has
    probed the file (so it is transcribing), with the new item's id."""
    nice = ["nice", "-n", str(Settings().web_job_nice)]
    job = subprocess.Popen(
        [*nice, *TOLMACH, "run", str(long), "--out", str(tmp / "long-out"), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for _ in range(240):
        conn = sqlite3.connect(db_path)
        row = conn.execute(
            "SELECT item_id FROM stage_runs WHERE stage = 'probe' AND item_id != ? "
            "ORDER BY id DESC LIMIT 1",
            (real,),
        ).fetchone()
        conn.close()
        if row:
            time.sleep(3)
            return job, str(row[0])
        time.sleep(0.5)
    job.kill()
    sys.exit("the transcription job did not start within 2 minutes")


def report(alone: dict[int, dict[str, Any]], busy: dict[int, dict[str, Any]]) -> None:
    rows = []
    for clients in alone:
        for name, r in (("alone", alone[clients]), ("with transcription job", busy[clients])):
            errors = r["non2xx"] + (1 if r["socket_errors"] else 0)
            times = [r["p50_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"]]
            bad = [r["non2xx"], r["socket_errors"] or "none", errors == 0, r["store_changes"]]
            rows.append([name, clients, r["requests"], r["rps"], *times, *bad])
    head = ["case", "clients", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    print(table([*head, "non-2xx", "socket errors", "clean", "store changes"], rows))
    for clients in alone:
        a, b = alone[clients], busy[clients]
        print(
            f"{clients} clients: p99 with/without the job {b['p99_ms'] / a['p99_ms']:.2f}, "
            f"p50 {b['p50_ms'] / a['p50_ms']:.2f}"
        )


if __name__ == "__main__":
    main()
