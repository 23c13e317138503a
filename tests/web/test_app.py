"""The desk's shell: security headers, errors, the vendored htmx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tolmach.store import queries
from tolmach.workspace import Workspace


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
