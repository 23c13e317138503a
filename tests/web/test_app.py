"""The desk's shell: security headers, errors, the vendored htmx."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import SessionTransaction
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tolmach.config import Settings
from tolmach.pipeline.text_item import ingest_text
from tolmach.store import queries
from tolmach.store.desk import Note
from tolmach.web.app import create_app
from tolmach.web.server import NoDelayProtocol
from tolmach.workspace import Workspace
from web.conftest import bearer


def ws_outputs(ws: Workspace, item_id: str) -> dict[str, str]:
    with ws.db() as session:
        return queries.current_outputs(session, item_id)


def test_static_htmx_is_vendored_and_headers_are_strict(app_client: TestClient) -> None:
    r = app_client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:200]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unknown_page_is_a_clear_404(app_client: TestClient) -> None:
    page = app_client.get("/no/such/page")
    assert page.status_code == 404 and "Not Found" in page.text
    api = app_client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json()["error"] == "Not Found"


def test_path_traversal_in_static_is_refused(app_client: TestClient) -> None:
    r = app_client.get("/static/..%2F..%2Fauth.py")
    assert r.status_code == 404


@pytest.mark.model
def test_processed_store_fixture_is_real(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    outputs = ws_outputs(ws, item_id)
    for name in ("transcript.json", "translation.json", "english.srt", "analysis.json"):
        assert name in outputs


def test_a_failed_commit_is_an_error_and_stores_nothing(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A commit that fails turns into an error response with nothing stored. (The test
    client answers only once the request is done, so it can't tell whether the session ended
    before or after the response went out: that is the dependency's scope, set in deps.)"""
    ws = app_client.app.state.desk.ws  # type: ignore[attr-defined]
    statement = tmp_path / "statement.txt"
    statement.write_text("Нам не выплатили обещанные деньги.", encoding="utf-8")
    item_id = ingest_text(ws.db, ws.blobs, ws.settings, statement, "ru").item_id
    client = TestClient(app_client.app, raise_server_exceptions=False)
    headers = bearer(client, "editor")
    commit = SessionTransaction.commit

    def refuse_notes(self: SessionTransaction, _to_root: bool = False) -> None:
        if any(isinstance(row, Note) for row in list(self.session.identity_map.values())):
            raise RuntimeError("disk full")
        commit(self, _to_root)

    monkeypatch.setattr(SessionTransaction, "commit", refuse_notes)
    r = client.post(f"/api/items/{item_id}/notes", json={"text": "Seen."}, headers=headers)
    assert r.status_code == 500
    with ws.db() as session:
        assert session.scalars(select(Note)).all() == []


def test_htmx_gets_error_fragments_and_a_sign_in_redirect(app_client: TestClient) -> None:
    hx = {"HX-Request": "true"}
    r = app_client.get("/items", headers=hx, follow_redirects=False)
    assert r.status_code == 401 and r.headers["HX-Redirect"] == "/login?next=/items"
    r = app_client.get("/no/such/page", headers=hx)
    assert r.status_code == 404 and "data-error" in r.text and "<html" not in r.text
    page = app_client.get("/no/such/page")
    assert 'id="flash"' in page.text and "<html" in page.text


def test_of_two_servers_on_one_folder_only_one_runs_jobs(desk_settings: Settings) -> None:
    first, second = create_app(desk_settings), create_app(desk_settings)
    with TestClient(first), TestClient(second):
        assert first.state.desk.jobs.running and not second.state.desk.jobs.running
    with TestClient(second):  # the first has stopped: the lock is free again
        assert second.state.desk.jobs.running


def test_server_connections_have_nagle_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sockets handed to worker processes are not marked TCP by asyncio, which then leaves
    Nagle on (~40 ms per kept-alive answer): the desk's protocol turns it off itself."""
    monkeypatch.setattr(HttpToolsProtocol, "connection_made", lambda self, transport: None)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        with client, accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            transport = SimpleNamespace(get_extra_info=lambda name: accepted)
            protocol = NoDelayProtocol.__new__(NoDelayProtocol)  # only the hook is tried
            protocol.connection_made(transport)  # type: ignore[arg-type]
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
