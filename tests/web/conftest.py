"""Fixtures of the desk's tests: an app on a temporary store, accounts of each role, and
clients signed in as each of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tolmach.config import Settings
from tolmach.web import auth
from tolmach.web.app import create_app

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
