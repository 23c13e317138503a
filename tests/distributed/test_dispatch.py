"""The desk's job queue with job_runner=celery: a job's task reaches a real Redis when the
job's row is committed (not before, not on a rollback), queued jobs are sent again when the
desk starts, and a broker that can't be reached leaves the job queued; ``resume`` sends again
the tasks a broker lost, and only those."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import select

from conftest import MediaFactory
from distributed.conftest import free_port
from tolmach.config import Settings
from tolmach.distributed import claims
from tolmach.distributed.dispatch import resume
from tolmach.store.desk import Job
from tolmach.store.tables import utcnow
from tolmach.web.jobs import JobQueue
from tolmach.workspace import Workspace


@pytest.fixture
def ws(settings: Settings, redis_url: str) -> Iterator[Workspace]:
    space = Workspace.open(
        settings.model_copy(update={"job_runner": "celery", "broker_url": redis_url})
    )
    yield space
    space.close()


def sent(url: str, queue: str) -> list[tuple[str, list[Any]]]:
    """The (task, args) of the messages waiting in ``queue``, oldest first."""
    client = redis.Redis.from_url(url)
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):  # kombu pushes on the left
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        found.append((message["headers"]["task"], args))
    client.close()
    return found


def test_a_job_is_sent_when_its_row_is_committed(ws: Workspace, redis_url: str) -> None:
    queue = JobQueue(ws, ws.settings)
    with pytest.raises(RuntimeError), ws.db.begin() as session:
        queue.submit(session, "process", item_id=None, by="anna")
        raise RuntimeError("the request failed")
    assert sent(redis_url, "cpu") == []  # rolled back: nothing sent
    with ws.db.begin() as session:
        job = queue.submit(session, "process", by="anna")
        assert sent(redis_url, "cpu") == []  # not before the commit
    assert sent(redis_url, "cpu") == [("tolmach.job", [job.id])]
    assert queue.running  # the workers run it


def test_queued_jobs_are_sent_again_at_start_and_a_lost_broker_keeps_them(
    settings: Settings, redis_url: str
) -> None:
    down = settings.model_copy(
        update={"job_runner": "celery", "broker_url": f"redis://127.0.0.1:{free_port()}/0"}
    )
    ws = Workspace.open(down)
    with ws.db.begin() as session:
        job_id = JobQueue(ws, down).submit(session, "process", by="anna").id
    with ws.db() as session:
        assert session.scalars(select(Job.status)).all() == ["queued"]
    ws.close()
    up = Workspace.open(down.model_copy(update={"broker_url": redis_url}))
    JobQueue(up, up.settings).start()
    assert sent(redis_url, "cpu") == [("tolmach.job", [job_id])]
    up.close()


def test_resume_sends_the_tasks_a_broker_lost_and_no_others(
    ws: Workspace, redis_url: str, media: MediaFactory
) -> None:
    lost, working, fresh = (
        ws.ingest(media.silent_video(f"{n}.mp4", seconds=n)).item_id for n in (1, 2, 3)
    )
    old, now = utcnow() - timedelta(minutes=10), utcnow()
    running = {"kind": "process", "status": "running"}
    with ws.db.begin() as session:
        rows = [
            Job(**running, item_id=lost, stage="transcribe", heartbeat_at=old),
            Job(**running, item_id=working, stage="render", heartbeat_at=old),
            Job(**running, item_id=fresh, stage="render", heartbeat_at=now),
            Job(kind="ingest_url", status="queued"),
            Job(kind="process", item_id=fresh, status="done", stage="analyse", heartbeat_at=old),
        ]
        session.add_all(rows)
        session.flush()
        ids = [job.id for job in rows]
    claims.claim(ws.db, working, "render", "alive", ids[1], stale_s=60)  # a worker is on it
    assert resume(ws.db, ws.settings, idle_s=60) == [ids[0], ids[3]]
    assert sent(redis_url, "asr") == [("tolmach.stage", [ids[0], lost, "transcribe"])]
    assert sent(redis_url, "cpu") == [("tolmach.job", [ids[3]])]
