"""`tolmach users ...` and `tolmach serve` in real subprocesses on a real store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from tolmach.config import Settings
from tolmach.store.desk import LoginAttempt, WebSession
from tolmach.store.tables import Event
from tolmach.web import auth
from tolmach.workspace import Workspace

PASSWORD = "a long test passphrase"


def tolmach(data: Path, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data), "TOLMACH_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "tolmach", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def ws(data: Path) -> Iterator[Workspace]:
    workspace = Workspace.open(Settings(data_dir=data, operator="tester"))
    yield workspace
    workspace.close()


def test_users_add_list_and_errors(data: Path) -> None:
    assert tolmach(data, "users", "add", "olena", "--role", "editor").returncode == 0
    assert tolmach(data, "users", "add", "taras").returncode == 0  # viewer by default
    listed = tolmach(data, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["role"], r["disabled"]) for r in rows] == [
        ("olena", "editor", False), ("taras", "viewer", False),
    ]  # fmt: skip
    plain = tolmach(data, "users", "list")
    assert "olena  editor" in plain.stdout and PASSWORD not in plain.stdout
    bad_role = tolmach(data, "users", "add", "petro", "--role", "owner")
    assert bad_role.returncode == 2 and "Unknown role 'owner'" in bad_role.stderr
    assert "viewer, editor, admin" in bad_role.stderr
    short = tolmach(data, "users", "add", "petro", password="short")
    assert short.returncode == 2 and "shorter than 10" in short.stderr
    twice = tolmach(data, "users", "add", "olena")
    assert twice.returncode == 2 and "exists already" in twice.stderr
    assert len(json.loads(tolmach(data, "users", "list", "--json").stdout)) == 2


def test_users_list_on_an_empty_desk_says_what_to_do(data: Path) -> None:
    r = tolmach(data, "users", "list")
    assert r.returncode == 0 and "tolmach users add NAME --role admin" in r.stderr


def test_users_token_prints_a_working_token_once(data: Path, ws: Workspace) -> None:
    tolmach(data, "users", "add", "olena", "--role", "editor")
    r = tolmach(data, "users", "token", "olena", "--label", "archive sync")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("tmk_") and len(token) > 40
    with ws.db() as session:
        user = auth.token_user(session, token)
        assert user is not None and user.name == "olena"
        events = session.scalars(select(Event).where(Event.kind == "token_created")).all()
        assert [e.subject for e in events] == ["olena"] and token not in events[0].detail_json
    empty = tolmach(data, "users", "token", "olena", "--label", " ")
    assert empty.returncode == 2 and "needs a label" in empty.stderr
    nobody = tolmach(data, "users", "token", "nobody", "--label", "x")
    assert nobody.returncode == 3 and "No account 'nobody'" in nobody.stderr


def test_users_password_changes_it_and_ends_sign_ins(data: Path, ws: Workspace) -> None:
    tolmach(data, "users", "add", "olena")
    with ws.db.begin() as session:
        cookie, _ = auth.sign_in(session, ws.settings, "olena", PASSWORD, "10.0.0.1")
    new = "a different long passphrase"
    r = tolmach(data, "users", "password", "olena", password=new)
    assert r.returncode == 0 and "olena  password set" in r.stdout
    with ws.db.begin() as session:
        assert auth.session_user(session, cookie) is None
        with pytest.raises(auth.InputError, match="Wrong name or password"):
            auth.sign_in(session, ws.settings, "olena", PASSWORD, "10.0.0.1")
    with ws.db.begin() as session:
        auth.sign_in(session, ws.settings, "olena", new, "10.0.0.1")
        kinds = [e.kind for e in session.scalars(select(Event).order_by(Event.id))]
    assert kinds == ["account_added", "password_set"]
    short = tolmach(data, "users", "password", "olena", password="short")
    assert short.returncode == 2 and "shorter than 10" in short.stderr


def test_users_disable_and_enable(data: Path, ws: Workspace) -> None:
    tolmach(data, "users", "add", "olena", "--role", "admin")
    token = tolmach(data, "users", "token", "olena", "--label", "bot").stdout.strip()
    with ws.db.begin() as session:
        cookie, _ = auth.sign_in(session, ws.settings, "olena", PASSWORD, "10.0.0.1")
    r = tolmach(data, "users", "disable", "olena")
    assert r.returncode == 0 and "olena  disabled" in r.stdout
    with ws.db() as session:
        assert (
            auth.session_user(session, cookie) is None and auth.token_user(session, token) is None
        )
        assert all(w.revoked_at is not None for w in session.scalars(select(WebSession)))
    listed = json.loads(tolmach(data, "users", "list", "--json").stdout)
    assert listed[0]["disabled"] is True
    r = tolmach(data, "users", "enable", "olena")
    assert r.returncode == 0 and "olena  enabled" in r.stdout
    with ws.db() as session:
        assert auth.token_user(session, token) is not None
        assert auth.session_user(session, cookie) is None  # its sign-ins stay ended
    nobody = tolmach(data, "users", "disable", "nobody")
    assert nobody.returncode == 3 and "tolmach users list" in nobody.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def serving(data: Path, **env_extra: str) -> Iterator[tuple[str, list[str]]]:
    """A real `tolmach serve` on a free port: its base URL, and its stderr once it ended."""
    port = free_port()
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data), **env_extra}
    server = subprocess.Popen(
        [sys.executable, "-m", "tolmach", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base, stderr = f"http://127.0.0.1:{port}", []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/login")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the desk did not start in 30 s"
                time.sleep(0.2)
        yield base, stderr
    finally:
        server.terminate()
        stderr.append(server.communicate(timeout=30)[1])


@pytest.mark.server
def test_serve_answers_with_the_accounts_of_the_cli(data: Path) -> None:
    tolmach(data, "users", "add", "olena", "--role", "viewer")
    token = tolmach(data, "users", "token", "olena", "--label", "probe").stdout.strip()
    with serving(data) as (base, stderr):
        status, page = get(f"{base}/login")
        assert status == 200 and 'name="csrf"' in page
        assert get(f"{base}/api/me", token) == (
            200,
            '{"name":"olena","role":"viewer","via":"token"}',
        )
        assert get(f"{base}/api/me", "tmk_wrong")[0] == 401
    assert f"tolmach desk on {base}/" in stderr[0] and "warning" not in stderr[0]


def failed_sign_in(base: str, forwarded_for: str) -> None:
    """A wrong password through the real sign-in form, as if relayed by a proxy."""
    with urllib.request.urlopen(f"{base}/login", timeout=10) as response:
        cookie = response.headers["set-cookie"].split(";", 1)[0]
        page = response.read().decode()
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"name": "olena", "password": "wrong one", "csrf": csrf})
    headers = {"Cookie": cookie, "X-Forwarded-For": forwarded_for}
    request = urllib.request.Request(f"{base}/login", form.encode(), headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


@pytest.mark.server
def test_only_trusted_proxies_say_who_the_visitor_is(data: Path, ws: Workspace) -> None:
    tolmach(data, "users", "add", "olena", "--role", "viewer")
    with serving(data) as (base, _):
        failed_sign_in(base, "203.0.113.7")  # anyone can send the header: not believed
    with serving(data, TOLMACH_WEB_TRUSTED_PROXIES="127.0.0.1") as (base, _):
        failed_sign_in(base, "203.0.113.7")
    with ws.db() as session:
        seen = session.scalars(select(LoginAttempt.address).order_by(LoginAttempt.id)).all()
    assert seen == ["127.0.0.1", "203.0.113.7"]


@pytest.mark.server
def test_serve_warns_when_reachable_over_plain_http(data: Path) -> None:
    env = {**os.environ, "TOLMACH_DATA_DIR": str(data)}
    server = subprocess.Popen(
        [sys.executable, "-m", "tolmach", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        first, second = server.stderr.readline(), server.stderr.readline()
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert "tolmach desk on http://0.0.0.0:" in first
    assert "over plain HTTP" in second and "web_secure_cookies" in second


@pytest.mark.server
def test_serve_in_two_processes_answers_and_runs_jobs(data: Path) -> None:
    tolmach(data, "users", "add", "olena", "--role", "editor")
    token = tolmach(data, "users", "token", "olena", "--label", "probe").stdout.strip()
    with serving(data, TOLMACH_WEB_PROCESSES="2") as (base, _):
        for _ in range(6):  # the answers come from either process
            assert get(f"{base}/api/me", token)[0] == 200
        body = json.dumps({"url": "http://127.0.0.1:9/gone"}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{base}/api/items/url", body, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            job_id = json.loads(response.read())["id"]
        deadline = time.monotonic() + 60
        while (job := json.loads(get(f"{base}/api/jobs/{job_id}", token)[1]))["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
    assert job["status"] == "failed" and "127.0.0.1" in job["error"]
