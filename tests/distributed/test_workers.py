"""The pipeline on real Celery workers: a real redis-server, three ``tolmach worker`` processes
and ``tolmach serve``, real clips of Russian speech, and a worker killed in the middle of a
transcription."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from conftest import MediaFactory, ffmpeg
from distributed.conftest import Cluster, free_port
from tolmach.distributed.claims import StageClaim
from tolmach.pipeline import runner
from tolmach.store.desk import Job
from tolmach.store.tables import Capture, Item, Output, StageRun
from tolmach.web import auth
from tolmach.workspace import Workspace

ITEMS = 30
WAIT_S = 900  # the whole run: about 6 minutes on two cores shared with other work


def clips(media: MediaFactory, n: int) -> list[Path]:
    """``n`` different files of the same real speech (their container's title differs)."""
    first = media.speech_video("speech.mp4", size="320x180")
    made = []
    for i in range(n):
        out = media.root / f"clip{i:02d}.mp4"
        ffmpeg("-i", str(first), "-c", "copy", "-metadata", f"title=clip {i}", str(out))
        made.append(out)
    return made


def serve(cluster: Cluster) -> str:
    """``tolmach serve`` with job_runner=celery, once it answers."""
    port = free_port()
    cluster.start("serve", "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return base
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("tolmach serve did not start")


def transcribing(ws: Workspace) -> StageClaim | None:
    with ws.db() as session:
        return session.scalars(select(StageClaim).where(StageClaim.stage == "transcribe")).first()


def blob_files(root: Path) -> set[str]:
    return {p.name for p in root.glob("??/??/*") if p.is_file()}


def referenced(ws: Workspace) -> set[str]:
    """Every blob the store's rows name: originals, capture records and files, outputs."""
    with ws.db() as session:
        shas = set(session.scalars(select(Item.sha256)))
        shas |= set(session.scalars(select(Output.sha256)))
        for capture in session.scalars(select(Capture)):
            shas.add(capture.record_sha256)
            shas |= {f["sha256"] for f in json.loads(capture.files_json)}
    return shas


@pytest.mark.server
@pytest.mark.model
@pytest.mark.slow
def test_thirty_items_survive_a_worker_killed_mid_transcription(
    cluster: Cluster, media: MediaFactory
) -> None:
    ws = Workspace.open(cluster.settings)
    with ws.db.begin() as session:
        auth.add_user(session, "ed", "editor", "correct horse battery")
        token = auth.new_token(session, auth.get_user(session, "ed"), "test")
    bearer = {"Authorization": f"Bearer {token}"}
    workers = {cluster.worker(f"w{n}").pid: f"w{n}" for n in range(3)}
    base = serve(cluster)
    started = time.monotonic()
    jobs = []
    for clip in clips(media, ITEMS):
        files = {"file": (clip.name, clip.read_bytes(), "video/mp4")}
        r = httpx.post(f"{base}/api/items", files=files, headers=bearer, timeout=60)
        assert r.status_code == 202, r.text
        jobs.append(r.json()["id"])

    while (held := transcribing(ws)) is None:  # a worker is in the middle of a transcription
        assert time.monotonic() - started < WAIT_S, "no transcription started"
        time.sleep(0.2)
    victim = int(held.worker.rsplit(":", 1)[1])
    assert victim in workers
    os.killpg(victim, signal.SIGKILL)
    killed_item, killed_job = held.item_id, held.job_id

    while True:
        with ws.db() as session:
            counts = Counter(session.scalars(select(Job.status).where(Job.id.in_(jobs))))
        if counts["done"] + counts["failed"] == ITEMS:
            break
        assert time.monotonic() - started < WAIT_S, counts
        time.sleep(1)
    listed = cluster.tolmach("jobs", "--json", "--limit", "100")
    assert listed.returncode == 0, listed.stderr
    by_id = {row["id"]: row for row in json.loads(listed.stdout)}

    assert counts["done"] == ITEMS, [r for r in by_id.values() if r["status"] == "failed"]
    assert by_id[killed_job]["attempts"] == 2  # retried once: the transcription taken over
    assert {r["attempts"] for r in by_id.values() if r["id"] != killed_job} == {1}
    with ws.db() as session:
        items = session.scalars(select(Item)).all()
        assert len(items) == ITEMS and {i.status for i in items} == {"processed"}
        runs = Counter(
            (r.item_id, r.stage)
            for r in session.scalars(select(StageRun).where(StageRun.status == "done"))
        )
        assert session.scalars(select(StageRun).where(StageRun.status != "done")).all() == []
        assert session.scalars(select(StageClaim)).all() == []  # nothing claimed, nothing stuck
        assert session.scalars(select(Job).where(Job.status.in_(("queued", "running")))).all() == []
    wanted = [s.name for s in runner.STAGES if "video" in s.kinds and not s.opt_in]
    for item in items:  # every stage of every item recorded exactly once
        assert {stage: runs[(item.id, stage)] for stage in wanted} == dict.fromkeys(wanted, 1)
    assert runs[(killed_item, "transcribe")] == 1
    blobs = ws.settings.blob_dir
    assert blob_files(blobs) == referenced(ws)  # no orphan blobs, none missing
    assert not any((blobs / "tmp").glob("*"))  # no half-written ones
    assert not any(ws.settings.work_dir.glob("*"))  # no scratch left behind
    ws.close()


@pytest.mark.server
@pytest.mark.model
@pytest.mark.slow
def test_run_submit_waits_for_the_workers_and_exports(
    cluster: Cluster, media: MediaFactory, tmp_path: Path
) -> None:
    cluster.worker("asr", "asr")
    cluster.worker("cpu", "cpu")
    clip = media.speech_video("one.mp4", size="320x180")
    out = tmp_path / "out"
    done = cluster.tolmach("run", str(clip), "--submit", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["segments"] >= 1 and (out / "english.srt").read_text().strip()
    listed = cluster.tolmach("jobs")
    assert listed.returncode == 0 and "done" in listed.stdout, listed.stderr


@pytest.mark.server
@pytest.mark.slow
def test_a_failing_stage_fails_its_job_with_the_reason(
    cluster: Cluster, media: MediaFactory, tmp_path: Path
) -> None:
    cluster.env["TOLMACH_ASR_MODEL"] = str(tmp_path / "no-such-model")
    cluster.worker("both")
    clip = media.speech_video("one.mp4", size="320x180")
    ran = cluster.tolmach("run", str(clip), "--submit", "--out", str(tmp_path / "out"))
    assert ran.returncode != 0 and "failed" in ran.stderr, ran.stderr
    listed = json.loads(cluster.tolmach("jobs", "--json").stdout)
    assert [(j["status"], j["stage"], j["attempts"]) for j in listed] == [
        ("failed", "transcribe", 1)
    ]
    assert "no-such-model" in listed[0]["error"] and listed[0]["message"]
    ws = Workspace.open(cluster.settings)
    with ws.db() as session:
        failed = session.scalars(select(StageRun.stage).where(StageRun.status == "failed")).all()
        assert failed == ["transcribe"]
        assert session.scalars(select(StageClaim)).all() == []
    assert not (tmp_path / "out").exists()
    ws.close()
