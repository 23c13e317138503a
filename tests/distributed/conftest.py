"""Fixtures of the distributed tests: a real redis-server on a free port, real ``tolmach worker``
and ``tolmach serve`` processes on one data folder, and the models assembled once."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tolmach import catalog
from tolmach.config import Settings
from tolmach.workspace import Workspace

WORKER_ENV = {  # quick but real: Whisper (one beam) transcribes and translates; no 9:16 clip
    "TOLMACH_OPERATOR": "tester",
    "TOLMACH_JOB_RUNNER": "celery",
    "TOLMACH_RENDER_VERTICAL": "false",
    "TOLMACH_ASR_BEAM_SIZE": "1",
    "TOLMACH_ASR_THREADS": "1",
    "TOLMACH_MT_ENGINE": "whisper",
    "TOLMACH_BROKER_VISIBILITY_S": "30",
    "TOLMACH_CLAIM_STALE_S": "6",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test alone, with nothing saved to disk."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    cmd += ["--save", "", "--appendonly", "no", "--logfile", str(folder / "redis.log")]
    server = subprocess.Popen(cmd, start_new_session=True)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with Whisper installed, shared by the test session's data folders."""
    folder = tmp_path_factory.mktemp("dist-models")
    catalog.install(folder, "whisper-base")
    return folder


class Cluster:
    """Worker and server processes on one data folder and broker; all ended at teardown."""

    def __init__(self, settings: Settings, redis_url: str, models: Path) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / "models").symlink_to(models, target_is_directory=True)
        self.settings = settings.model_copy(
            update={"job_runner": "celery", "broker_url": redis_url}
        )
        self.env = {
            **os.environ,
            **WORKER_ENV,
            "TOLMACH_DATA_DIR": str(settings.data_dir),
            "TOLMACH_DATABASE_URL": settings.db_url,
            "TOLMACH_BROKER_URL": redis_url,
        }
        Workspace.open(self.settings).close()  # migrated once, before processes race to it
        self.logs = settings.data_dir.parent / "logs"
        self.logs.mkdir(exist_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """``tolmach ARGS``, its output in logs/NAME.log."""
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tolmach", *args],
            env=self.env,
            cwd=self.settings.data_dir.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: its ffmpeg ends with it
        )
        log.close()
        self.procs.append(proc)
        return proc

    def worker(self, name: str, queues: str = "asr,cpu") -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--queues", queues)

    def tolmach(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tolmach", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def cluster(settings: Settings, redis_url: str, models: Path) -> Iterator[Cluster]:
    made = Cluster(settings, redis_url, models)
    try:
        yield made
    finally:
        made.stop()
