"""Fixtures of the desk's tests: an app on a temporary store, accounts of each role, and
clients signed in as each of them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import copy_store, store_database
from tolmach.config import Settings
from tolmach.web import auth
from tolmach.web.app import create_app
from tolmach.web.deps import COOKIE

PASSWORD = "correct horse battery"
ROLES = ("viewer", "editor", "admin")


@pytest.fixture
def desk_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", operator="tester")


@pytest.fixture
def app_client(desk_settings: Settings) -> Iterator[TestClient]:
    """An anonymous client of a desk with one account per role (named after the role)."""
    app = create_app(desk_settings)
    with app.state.desk.ws.db.begin() as session:
        for role in ROLES:
            auth.add_user(session, role, role, PASSWORD)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


HX = {"HX-Request": "true"}


def cookie_sign_in(client: TestClient, name: str) -> str:
    """Sign ``client`` in as ``name`` with a real session cookie; return its CSRF token."""
    desk = client.app.state.desk  # type: ignore[attr-defined]
    with desk.ws.db.begin() as session:
        token, web = auth.sign_in(session, desk.settings, name, PASSWORD, "testclient")
        csrf: str = web.csrf
    client.cookies.set(COOKIE, token)
    return csrf


def bearer(client: TestClient, name: str) -> dict[str, str]:
    """The header of a new API token of ``name``."""
    desk = client.app.state.desk  # type: ignore[attr-defined]
    with desk.ws.db.begin() as session:
        token = auth.new_token(session, auth.get_user(session, name), "tests")
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in through the login form; return the page's CSRF token."""
    page = client.get("/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    home = client.get("/items")
    return home.text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]


@pytest.fixture(scope="session")
def processed_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder holding one item really processed end to end (ffmpeg, Whisper, the
    offline translator, render, analysis) from a clip of real Russian speech: made once per
    test session and copied by ``item_client``."""
    from conftest import MediaFactory
    from tolmach.workspace import Workspace

    root = tmp_path_factory.mktemp("desk-store")
    clip = MediaFactory(root / "media").speech_video("обращение 96 полка.mp4")
    url = store_database(root / "data")
    ws = Workspace.open(Settings(data_dir=root / "data", operator="tester", database_url=url))
    try:
        item_id = ws.ingest(clip).item_id
        ws.process(item_id)
    finally:
        ws.close()
    return root / "data", item_id


@pytest.fixture
def item_client(
    processed_store: tuple[Path, str], tmp_path: Path
) -> Iterator[tuple[TestClient, str]]:
    """An anonymous client of a desk (accounts as in ``app_client``) over a copy of the
    processed store, and the processed item's id. Models are shared, not copied."""
    template, item_id = processed_store
    data = tmp_path / "data"
    copy_store(template, data, ignore=shutil.ignore_patterns("models", "work"))
    (data / "models").symlink_to(template / "models", target_is_directory=True)
    app = create_app(Settings(data_dir=data, operator="tester"))
    with app.state.desk.ws.db.begin() as session:
        for role in ROLES:
            auth.add_user(session, role, role, PASSWORD)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, item_id
