"""The durable job queue: claiming, recovery after a stop, child processes, failures."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.pipeline.runner import STAGES
from tolmach.store.db import open_db
from tolmach.store.desk import Job
from tolmach.web import jobs
from tolmach.web.jobrun import JobProgress, handler, run
from tolmach.web.jobs import MAX_ATTEMPTS, JobQueue, claim, recover
from tolmach.web.jobview import StageRow, pipeline_stages, stage_rows
from tolmach.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    space = Workspace.open(Settings(data_dir=tmp_path / "data", operator="tester"))
    yield space
    space.close()


def add_jobs(db: sessionmaker[Session], n: int, kind: str = "process") -> list[int]:
    with db.begin() as session:
        made = [Job(kind=kind) for _ in range(n)]
        session.add_all(made)
        session.flush()
        return [job.id for job in made]


def wait_for(db: sessionmaker[Session], job_id: int, statuses: tuple[str, ...]) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db() as session:
            job = session.get(Job, job_id)
            if job is not None and job.status in statuses:
                return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {statuses}")


def test_two_claimers_never_take_the_same_job(ws: Workspace) -> None:
    ids = add_jobs(ws.db, 60)
    taken: dict[str, list[int]] = {f"w{n}": [] for n in range(4)}
    engines = {name: open_db(ws.settings.db_url) for name in taken}  # as other processes have
    start = threading.Barrier(len(taken), timeout=30)

    def claimer(name: str) -> None:
        start.wait()
        while (job := claim(engines[name], name)) is not None:
            assert job.worker == name and job.status == "running" and job.attempts == 1
            taken[name].append(job.id)
            time.sleep(0.002)  # as a worker does something with its job, so others get a turn

    threads = [threading.Thread(target=claimer, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for factory in engines.values():
        factory.kw["bind"].dispose()
    assert sum(bool(got) for got in taken.values()) >= 2, taken  # they really raced
    every = [job_id for got in taken.values() for job_id in got]
    assert sorted(every) == ids  # each job once, none twice, none left
    with ws.db() as session:
        rows = session.scalars(select(Job)).all()
        assert {row.id: row.worker for row in rows} == {
            job_id: name for name, got in taken.items() for job_id in got
        }


def test_claim_takes_the_oldest_queued_job(ws: Workspace) -> None:
    first, second = add_jobs(ws.db, 2)
    with ws.db.begin() as session:
        job = session.get(Job, first)
        assert job is not None
        job.status = "done"
    got = claim(ws.db, "w")
    assert got is not None and got.id == second
    assert claim(ws.db, "w") is None


def test_recover_queues_interrupted_jobs_and_gives_up_after_three_starts(ws: Workspace) -> None:
    again, given_up, finished = add_jobs(ws.db, 3, "ingest_file")
    folder = ws.settings.data_dir / "uploads"
    folder.mkdir()
    for job_id in (again, given_up):
        (folder / f"{job_id}.media").write_bytes(b"media")
    with ws.db.begin() as session:
        for job_id, status, attempts in (
            (again, "running", 1),
            (given_up, "running", MAX_ATTEMPTS),
            (finished, "done", 1),
        ):
            job = session.get(Job, job_id)
            assert job is not None
            job.status, job.attempts = status, attempts
            job.payload_json = json.dumps({"upload": f"{job_id}.media", "name": "a.mp4"})
    assert recover(ws.db, ws.settings) == (1, 1)
    with ws.db() as session:
        rows = {job.id: job for job in session.scalars(select(Job))}
    assert rows[again].status == "queued" and rows[again].worker == ""
    assert rows[given_up].status == "failed"
    assert "interrupted 3 times" in rows[given_up].error and rows[given_up].message
    assert rows[finished].status == "done"
    assert sorted(p.name for p in folder.iterdir()) == [f"{again}.media"]  # kept for its rerun


def test_submit_refuses_an_unknown_kind(ws: Workspace) -> None:
    queue = JobQueue(ws, ws.settings)
    with ws.db.begin() as session, pytest.raises(InputError, match="Unknown kind"):
        queue.submit(session, "frobnicate")


def test_a_failed_job_keeps_the_message_and_hint_in_a_child_process(ws: Workspace) -> None:
    queue = JobQueue(ws, ws.settings)
    queue.start()
    try:
        with ws.db.begin() as session:
            job_id = queue.submit(session, "process", by="editor").id  # no item: refused
        job = wait_for(ws.db, job_id, ("done", "failed"))
    finally:
        queue.stop()
    assert job.status == "failed" and job.attempts == 1 and job.finished_at is not None
    assert job.error == "A process job needs an item."
    assert job.message == "Submit it with item_id."
    assert "Traceback" not in job.error + job.message


def boom(ws: Workspace, job_id: int, item_id: str | None, payload: dict[str, Any], _p: Any) -> None:
    raise ValueError("x" * 1000)


def steps(ws: Workspace, job_id: int, item_id: str | None, payload: dict[str, Any], p: Any) -> None:
    p("probe", "start", 0, 1)
    p("probe", "done", 1, 1)
    p("transcribe", "progress", 3, 10)


def test_a_bug_in_a_handler_is_kept_short(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(jobs.HANDLERS, "boom", f"{__name__}:boom")
    job_id = add_jobs(ws.db, 1, "boom")[0]
    job = claim(ws.db, "w1")
    assert job is not None
    run(ws, job_id, "w1")
    with ws.db() as session:
        row = session.get(Job, job_id)
    assert row is not None and row.status == "failed"
    assert row.error.startswith("Internal error (ValueError)") and len(row.error) <= 300
    assert "server's log" in row.message
    assert "Traceback" in caplog.text  # the whole story is in the log, not on the job


def test_progress_is_written_and_only_by_the_claim_that_runs_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(jobs.HANDLERS, "steps", f"{__name__}:steps")
    job_id = add_jobs(ws.db, 1, "steps")[0]
    assert claim(ws.db, "now") is not None
    run(ws, job_id, "stale")  # not the claim that runs it: touches nothing
    with ws.db() as session:
        row = session.get(Job, job_id)
        assert row is not None and row.status == "running" and row.stage == ""
    JobProgress(ws.db, job_id, "stale")("probe", "start", 0, 1)
    run(ws, job_id, "now")
    with ws.db() as session:
        row = session.get(Job, job_id)
    assert row is not None and row.status == "done" and row.message == "Done."
    assert (row.stage, row.done, row.total) == ("transcribe", 3, 10)
    assert row.heartbeat_at is not None and row.finished_at is not None


def test_stop_ends_the_child_and_the_job_runs_again_at_the_next_start(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = [sys.executable, "-c", "import sys, time; sys.stdin.readline(); time.sleep(120)"]
    monkeypatch.setattr(jobs, "child_command", lambda job_id, worker: slow)
    queue = JobQueue(ws, ws.settings)
    queue.start()
    with ws.db.begin() as session:
        job_id = queue.submit(session, "process").id
    wait_for(ws.db, job_id, ("running",))
    began = time.monotonic()
    queue.stop()
    assert time.monotonic() - began < 15
    with ws.db() as session:
        assert (row := session.get(Job, job_id)) is not None and row.status == "running"
    assert recover(ws.db, ws.settings) == (1, 0)
    with ws.db() as session:
        assert (row := session.get(Job, job_id)) is not None and row.status == "queued"


def test_a_child_that_dies_fails_its_job_with_a_clear_error(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    dies = [sys.executable, "-c", "import os, sys; sys.stdin.readline(); os._exit(9)"]
    monkeypatch.setattr(jobs, "child_command", lambda job_id, worker: dies)
    queue = JobQueue(ws, ws.settings)
    queue.start()
    try:
        with ws.db.begin() as session:
            job_id = queue.submit(session, "process", payload={"why": "test"}).id
        job = wait_for(ws.db, job_id, ("failed",))
    finally:
        queue.stop()
    assert job.error == "The job's process ended unexpectedly (exit code 9)."
    assert json.loads(job.payload_json) == {"why": "test"}


def test_stage_rows_show_where_a_job_is(ws: Workspace) -> None:
    names = pipeline_stages("video", ws.settings)
    assert "voice" not in names and names[0] == "probe"  # opt-in stages only when on
    job = Job(kind="ingest_file", status="running", stage="transcribe", done=3.0, total=10.0)
    rows = {row.name: row for row in stage_rows(job, "video", ws.settings)}
    assert list(rows) == ["ingest", *names]
    assert rows["ingest"].state == rows["fingerprint"].state == "done"
    assert (rows["transcribe"].state, rows["transcribe"].percent) == ("running", 30)
    assert rows["translate"].state == "waiting"
    job.status = "failed"
    assert stage_rows(job, "video", ws.settings)[3] == StageRow("transcribe", "failed")
    job.status = "queued"  # queued again after a restart: nothing is running
    assert {row.state for row in stage_rows(job, "video", ws.settings)} == {"waiting"}
    assert [row.name for row in stage_rows(Job(kind="process"), "text", ws.settings)] == [
        s.name for s in STAGES if "text" in s.kinds and not s.opt_in
    ]


def test_every_kind_names_a_handler_that_exists() -> None:
    for kind in jobs.HANDLERS:
        assert callable(handler(kind)), kind
