"""``tolmach jobs`` (what is queued, running where, failed, retried) and the command line's
refusals: an unknown status or queue, ``run --submit`` without Celery."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import MediaFactory
from tolmach.cli import app
from tolmach.config import Settings
from tolmach.distributed import claims
from tolmach.store.desk import Job
from tolmach.workspace import Workspace


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "TOLMACH_DATA_DIR": str(settings.data_dir),
        "TOLMACH_DATABASE_URL": settings.db_url,
        "COLUMNS": "200",  # the table on one line a row
    }


def test_jobs_lists_each_status_the_stage_worker_and_retries(
    settings: Settings, media: MediaFactory
) -> None:
    ws = Workspace.open(settings)
    item = ws.ingest(media.silent_video(seconds=1)).item_id
    with ws.db.begin() as session:
        rows = [
            Job(kind="ingest_url", status="queued"),
            Job(kind="process", item_id=item, status="running", stage="transcribe", attempts=2),
            Job(kind="process", item_id=item, status="failed", error="No speech model."),
            Job(kind="process", item_id=item, status="done", message="Done.", attempts=1),
        ]
        session.add_all(rows)
        session.flush()
        ids = [job.id for job in rows]
    claims.claim(ws.db, item, "transcribe", "gpu-1:4242", ids[1], stale_s=60)
    ws.close()
    runner = CliRunner()
    res = runner.invoke(app, ["jobs", "--json"], env=env_of(settings))
    assert res.exit_code == 0, res.output
    listed = {row["id"]: row for row in json.loads(res.stdout)}
    assert [listed[i]["status"] for i in ids] == ["queued", "running", "failed", "done"]
    running = listed[ids[1]]
    assert (running["stage"], running["worker"], running["attempts"]) == (
        "transcribe",
        "gpu-1:4242",  # from its live claim
        2,
    )
    assert running["heartbeat_s"] is not None and running["heartbeat_s"] < 60
    res = runner.invoke(app, ["jobs", "--status", "failed"], env=env_of(settings))
    assert res.exit_code == 0 and "No speech model." in res.stdout
    assert "ingest_url" not in res.stdout
    res = runner.invoke(app, ["jobs"], env=env_of(settings))
    assert "running (retried)" in res.stdout
    res = runner.invoke(app, ["jobs", "--status", "stuck"], env=env_of(settings))
    assert res.exit_code == 2 and "Unknown status" in res.output


def test_submit_needs_celery_and_worker_needs_known_queues(
    settings: Settings, media: MediaFactory, tmp_path: Path
) -> None:
    runner = CliRunner()
    clip = media.silent_video(seconds=1)
    res = runner.invoke(app, ["run", str(clip), "--submit"], env=env_of(settings))
    assert res.exit_code != 0 and "job_runner is 'inprocess'" in res.output
    res = runner.invoke(app, ["run", str(clip)], env=env_of(settings))
    assert res.exit_code == 2 and "--out" in res.output
    res = runner.invoke(app, ["worker", "--queues", "gpu"], env=env_of(settings))
    assert res.exit_code == 2 and "Unknown queues" in res.output
