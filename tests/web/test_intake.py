"""Bringing material in through the desk: uploads (streamed, size-limited, checked as media),
URLs, the job pages and the API, and jobs that survive the server being killed."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from conftest import MediaFactory
from tolmach.config import Settings
from tolmach.pipeline.runner import STAGES
from tolmach.store.desk import Job
from tolmach.store.tables import Capture, Event, Item, StageRun
from tolmach.web import auth
from tolmach.web.app import create_app
from tolmach.workspace import Workspace
from web.conftest import PASSWORD, ROLES, sign_in

EXPECTED = sorted(s.name for s in STAGES if "video" in s.kinds and not s.opt_in)  # by default
HOSTILE = ("../../etc/passwd.mp4", "<script>alert(1)</script>.mp4", "обращение «96» 🙂.mp4")


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One models folder for every desk of this module (assembled on first use)."""
    return tmp_path_factory.mktemp("intake-models")


@contextmanager
def desk(data: Path, models: Path | None = None, **overrides: Any) -> Iterator[TestClient]:
    """A client of a desk over ``data`` with one account per role; settings as given."""
    data.mkdir(parents=True, exist_ok=True)
    if models is not None:
        (data / "models").symlink_to(models, target_is_directory=True)
    app = create_app(Settings(data_dir=data, operator="tester", **overrides))
    with app.state.desk.ws.db.begin() as session:
        for role in ROLES:
            auth.add_user(session, role, role, PASSWORD)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def ws_of(client: TestClient) -> Workspace:
    ws: Workspace = client.app.state.desk.ws  # type: ignore[attr-defined]
    return ws


def counts(client: TestClient) -> tuple[int, int, int]:
    """Jobs, items and captures stored."""
    with ws_of(client).db() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(t)) for t in (Job, Item, Capture)
        )


def uploads(client: TestClient) -> list[str]:
    folder = ws_of(client).settings.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def upload(
    client: TestClient, csrf: str, path: Path, name: str, *, plain_form: bool = False
) -> Response:
    """Post ``path`` as ``name``: as intake.js does (CSRF header), or as a plain form."""
    with path.open("rb") as f:
        files = {"file": (name, f, "video/mp4")}
        if plain_form:
            return client.post(
                "/intake/upload", files=files, data={"csrf": csrf}, follow_redirects=False
            )
        headers = {"X-CSRF-Token": csrf}
        return client.post("/intake/upload", files=files, headers=headers, follow_redirects=False)


def wait_job(client: TestClient, job_id: int, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if got["status"] in ("done", "failed"):
            return got
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def job_id_of(r: Response) -> int:
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/jobs/(\d+)", r.headers["location"])
    assert found, r.headers["location"]
    return int(found.group(1))


@pytest.mark.model
@pytest.mark.slow
def test_an_uploaded_clip_is_ingested_and_processed(
    tmp_path: Path, media: MediaFactory, models: Path
) -> None:
    clip = media.speech_video()
    name = "обращение <b>96</b> полка.mp4"
    with desk(tmp_path / "data", models) as client:
        csrf = sign_in(client, "editor")
        job_id = job_id_of(upload(client, csrf, clip, name))
        page = client.get(f"/jobs/{job_id}")
        assert page.status_code == 200 and 'hx-trigger="every 1s"' in page.text
        assert "обращение &lt;b&gt;96&lt;/b&gt; полка.mp4" in page.text
        job = wait_job(client, job_id)
        assert job["status"] == "done", job
        item_id = job["item_id"]
        assert [s["state"] for s in job["stages"]] == ["done"] * len(job["stages"])
        assert job["stages"][0]["name"] == "ingest"
        status = client.get(f"/jobs/{job_id}/status").text
        assert f'href="/items/{item_id}"' in status and "hx-trigger" not in status
        assert uploads(client) == []  # the upload is removed once it is stored
        with ws_of(client).db() as session:
            item = session.get(Item, item_id)
            assert item is not None and item.status == "processed"
            capture = session.scalars(select(Capture).where(Capture.item_id == item_id)).one()
            assert capture.source == name and capture.kind == "file"
            assert capture.operator == "editor"  # who uploaded it, in the custody log too
            actors = session.scalars(
                select(Event.actor).where(
                    Event.item_id == item_id, Event.kind.in_(("captured", "processed"))
                )
            ).all()
            assert set(actors) == {"editor"} and len(actors) > 1  # the stages' entries too
            done = session.scalars(
                select(StageRun.stage).where(StageRun.item_id == item_id, StageRun.status == "done")
            ).all()
        assert sorted(done) == EXPECTED


def test_an_upload_over_the_limit_is_refused_while_it_streams(
    tmp_path: Path, media: MediaFactory
) -> None:
    clip = media.speech_video()
    limit = clip.stat().st_size // 4
    with desk(tmp_path / "data", web_max_upload_bytes=limit, web_job_workers=0) as client:
        csrf = sign_in(client, "editor")
        for plain in (False, True):
            r = upload(client, csrf, clip, "clip.mp4", plain_form=plain)
            assert r.status_code == 413, r.text
            assert "larger than the upload limit" in r.text and "web_max_upload_bytes" in r.text
            assert uploads(client) == []
        api = client.post(
            "/api/items",
            files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")},
            headers={"X-CSRF-Token": csrf},
        )
        assert api.status_code == 413 and "limit" in api.json()["error"]
        assert counts(client) == (0, 0, 0) and uploads(client) == []


def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(1536 * 1024))  # over the limit plus the room for the framing
    with desk(tmp_path / "data", web_max_upload_bytes=1000, web_job_workers=0) as client:
        csrf = sign_in(client, "editor")
        for plain in (False, True):
            r = upload(client, csrf, big, "big.mp4", plain_form=plain)
            assert r.status_code == 413 and "limit" in r.text
        # sent in chunks with no length announced: counted as it arrives, even when the CSRF
        # check is what reads the body
        head = (
            f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()

        def chunks() -> Iterator[bytes]:
            yield head
            yield from [os.urandom(256 * 1024)] * 8
            yield b"\r\n--b--\r\n"

        r = client.post(
            "/intake/upload",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            follow_redirects=False,
        )
        assert r.status_code == 413 and "limit" in r.text
        assert "content-length" not in r.request.headers
        assert counts(client) == (0, 0, 0) and uploads(client) == []


def test_a_file_that_is_not_media_is_refused_at_once(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("This is a text file with a video's name.\n" * 50)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with desk(tmp_path / "data", web_job_workers=0) as client:
        csrf = sign_in(client, "editor")
        r = upload(client, csrf, fake, "notes.mp4")
        assert r.status_code == 400 and "notes.mp4 is not a video or audio file" in r.text
        r = upload(client, csrf, fake, "notes.mp4", plain_form=True)
        assert r.status_code == 400 and "not a video or audio file" in r.text
        r = upload(client, csrf, empty, "")  # the form sent with no file chosen
        assert r.status_code == 400 and "No file was sent" in r.text
        r = client.post("/intake/upload", data={"csrf": csrf}, follow_redirects=False)
        assert r.status_code == 400 and "No file was sent" in r.text
        assert counts(client) == (0, 0, 0) and uploads(client) == []


def test_hostile_file_names_are_kept_as_data_and_escaped(
    tmp_path: Path, media: MediaFactory
) -> None:
    clip = media.speech_video()
    with desk(tmp_path / "data", web_job_workers=0) as client:
        csrf = sign_in(client, "editor")
        ids = [job_id_of(upload(client, csrf, clip, name)) for name in HOSTILE]
        stored = uploads(client)
        assert len(stored) == 3 and all(re.fullmatch(r"[0-9a-f]{32}\.media", n) for n in stored)
        assert not (tmp_path / "etc").exists()
        listing = client.get("/jobs").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.mp4" in listing
        assert "<script>alert" not in listing
        page = client.get(f"/jobs/{ids[1]}").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.mp4" in page
        assert "<script>alert" not in page
        for job_id, name in zip(ids, HOSTILE, strict=True):
            assert client.get(f"/api/jobs/{job_id}").json()["source"] == {"name": name}
        assert "обращение «96» 🙂.mp4" in client.get(f"/jobs/{ids[2]}").text


def test_a_url_to_nowhere_fails_with_a_clear_message(tmp_path: Path) -> None:
    with desk(tmp_path / "data") as client:
        csrf = sign_in(client, "editor")
        form = {"url": "http://127.0.0.1:9/x", "csrf": csrf}
        r = client.post("/intake/url", data=form, follow_redirects=False)
        job = wait_job(client, job_id_of(r), timeout=120)
        assert job["status"] == "failed" and job["item_id"] is None
        assert "Could not connect to 127.0.0.1" in job["error"] and job["hint"]
        assert job["stages"][0] == {"name": "capture", "state": "failed", "percent": None}
        page = client.get(f"/jobs/{job['id']}").text
        assert "Could not connect to 127.0.0.1" in page and "Traceback" not in page
        assert counts(client)[1:] == (0, 0)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.org/x.mp4", "http://", ""]
)
def test_an_address_that_is_not_http_is_refused_at_once(tmp_path: Path, url: str) -> None:
    with desk(tmp_path / "data", web_job_workers=0) as client:
        csrf = sign_in(client, "editor")
        r = client.post("/intake/url", data={"url": url, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 400 and "http:// or https://" in r.text
        api = client.post("/api/items/url", json={"url": url}, headers={"X-CSRF-Token": csrf})
        assert api.status_code == 400 and "http:// or https://" in api.json()["error"]
        assert counts(client) == (0, 0, 0)


def test_roles_tokens_and_the_csrf_check(tmp_path: Path, media: MediaFactory) -> None:
    clip = media.speech_video()
    with desk(tmp_path / "data", web_job_workers=0) as client:
        assert client.get("/intake", follow_redirects=False).status_code == 303
        assert client.get("/api/jobs").status_code == 401
        csrf = sign_in(client, "viewer")
        assert client.get("/intake").status_code == 403
        assert upload(client, csrf, clip, "clip.mp4").status_code == 403
        assert client.get("/jobs").status_code == 200 and client.get("/api/jobs").json() == []
        client.cookies.clear()
        csrf = sign_in(client, "editor")
        page = client.get("/intake")
        assert page.status_code == 200 and 'action="/intake/upload"' in page.text
        assert upload(client, "wrong", clip, "clip.mp4").status_code == 403
        assert counts(client) == (0, 0, 0) and uploads(client) == []
        with ws_of(client).db.begin() as session:
            token = auth.new_token(session, auth.get_user(session, "editor"), "script")
        client.cookies.clear()
        bearer = {"Authorization": f"Bearer {token}"}
        r = client.post(
            "/api/items", files={"file": ("a.mp4", clip.read_bytes(), "video/mp4")}, headers=bearer
        )
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] == "queued" and job["kind"] == "ingest_file"
        assert job["source"] == {"name": "a.mp4"} and job["url"] == f"/jobs/{job['id']}"
        r = client.post("/api/items/url", json={"url": "https://example.org/v"}, headers=bearer)
        assert r.status_code == 202 and r.json()["source"] == {"url": "https://example.org/v"}
        listed = client.get("/api/jobs", headers=bearer).json()
        assert [j["kind"] for j in listed] == ["ingest_url", "ingest_file"]
        assert client.get("/api/jobs/999", headers=bearer).status_code == 404


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(data: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """A real ``tolmach serve`` on a free port, once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "tolmach", "serve", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, cwd=data.parent, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError("tolmach serve did not start")


def poll(url: str, headers: dict[str, str], until: Callable[[dict[str, Any]], bool]) -> Any:
    deadline = time.monotonic() + 600
    while not until(got := httpx.get(url, headers=headers, timeout=10).json()):
        assert got["status"] != "failed" and time.monotonic() < deadline, got
        time.sleep(0.3)
    return got


def job_processes(worker: str) -> list[int]:
    """Processes running the job claimed as ``worker`` (their command line names it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tolmach.web.jobrun" in cmdline and worker.encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.server
@pytest.mark.model
@pytest.mark.slow
def test_a_job_survives_the_server_being_killed(
    tmp_path: Path, media: MediaFactory, models: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(models, target_is_directory=True)
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data), "TOLMACH_OPERATOR": "tester"}
    add = [sys.executable, "-m", "tolmach", "users", "add", "ed", "--role", "editor"]
    subprocess.run(add, env={**env, "TOLMACH_PASSWORD": PASSWORD}, check=True, timeout=120)
    ws = Workspace.open(Settings(data_dir=data, operator="tester"))
    with ws.db.begin() as session:
        token = auth.new_token(session, auth.get_user(session, "ed"), "test")
    bearer = {"Authorization": f"Bearer {token}"}
    server, base = serve(data, env)
    try:
        clip = media.speech_video()
        files = {"file": ("clip.mp4", clip.read_bytes(), "video/mp4")}
        r = httpx.post(f"{base}/api/items", files=files, headers=bearer, timeout=60)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        # mid-job: the first stages done, the slowest one running
        poll(f"{base}/api/jobs/{job_id}", bearer, lambda j: j["stage"] == "translate")
        with ws.db() as session:
            row = session.get(Job, job_id)
            assert row is not None and row.status == "running"
            first = row.worker
        (pid,) = job_processes(first)
        nice = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16])
        niced = os.nice(0) + Settings.model_fields["web_job_nice"].default
        assert nice == min(19, niced)  # so that pages stay fast while it runs
        server.kill()  # SIGKILL: no chance to stop its job
        server.wait(30)
        deadline = time.monotonic() + 30
        while job_processes(first):  # the job's process sees its server gone and ends
            assert time.monotonic() < deadline, "the job's process outlived its server"
            time.sleep(0.2)
        server, base = serve(data, env)
        job = poll(f"{base}/api/jobs/{job_id}", bearer, lambda j: j["status"] == "done")
        assert job["attempts"] == 2 and job["stages"][-1]["state"] == "done", job
    finally:
        server.kill()
        server.wait(30)
    item_id = job["item_id"]
    with ws.db() as session:
        done = session.scalars(
            select(StageRun.stage).where(StageRun.item_id == item_id, StageRun.status == "done")
        ).all()
        captures = session.scalar(select(func.count()).where(Capture.item_id == item_id))
        item = session.get(Item, item_id)
    ws.close()
    assert sorted(done) == sorted(
        s.name for s in STAGES if "video" in s.kinds and not s.opt_in
    )  # each once
    assert captures == 1 and item is not None and item.status == "processed"
    assert not any((data / "uploads").iterdir())


def test_only_the_api_is_in_the_schema(tmp_path: Path) -> None:
    with desk(tmp_path / "data", web_job_workers=0) as client:
        paths = client.get("/api/openapi.json").json()["paths"]
    body = paths["/api/items"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert body["schema"]["required"] == ["file"]
    assert {"/api/items/url", "/api/jobs", "/api/jobs/{job_id}"} <= set(paths)
    assert not [p for p in paths if not p.startswith("/api/")]


def test_the_upload_script_gets_its_job_as_json(tmp_path: Path, media: MediaFactory) -> None:
    clip = media.speech_video()
    with desk(tmp_path / "data", web_job_workers=0) as client:
        csrf = sign_in(client, "editor")
        page = client.get("/intake").text
        assert '<script src="/static/intake.js" defer></script>' in page
        assert client.get("/static/intake.js").status_code == 200
        r = client.post(
            "/intake/upload",
            files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")},
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        )
        assert r.status_code == 202 and r.json()["url"] == f"/jobs/{r.json()['id']}"
        r = client.post(
            "/intake/upload",
            files={"file": ("x.mp4", b"not media", "video/mp4")},
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        )
        assert r.status_code == 400 and "x.mp4 is not a video or audio file" in r.json()["error"]
        assert r.json()["hint"] and len(uploads(client)) == 1
