"""The JSON API with an API token, as a script would use it: find an item, read its
segments, verify it with a note, assign it, publish it and take it back; the OpenAPI schema
describes exactly the /api routes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from web.conftest import bearer
from web.test_matrix import api_routes as api_routes_of

pytestmark = pytest.mark.model


def test_a_script_verifies_assigns_and_publishes(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    editor, viewer = bearer(client, "editor"), bearer(client, "viewer")
    listed = client.get("/api/items", headers=viewer).json()
    assert item_id in str(listed)
    segments = client.get(f"/api/items/{item_id}/segments", headers=viewer).json()
    assert segments and "Bearer" not in str(segments)

    r = client.post(f"/api/items/{item_id}/status", json={"status": "verified"}, headers=editor)
    assert r.status_code == 400 and "note" in r.json()["error"].lower()
    change = {"status": "verified", "note": "Matched the uploader's other posts."}
    r = client.post(f"/api/items/{item_id}/status", json=change, headers=editor)
    assert r.status_code == 200 and r.json()["status"] == "verified"
    r = client.post(f"/api/items/{item_id}/assign", json={"assignee": "viewer"}, headers=viewer)
    assert r.status_code == 403
    r = client.post(f"/api/items/{item_id}/assign", json={"assignee": "viewer"}, headers=editor)
    assert r.status_code == 200 and r.json()["assignee"] == "viewer"
    r = client.post(
        f"/api/items/{item_id}/assign", json={"assignee": "nobody-here"}, headers=editor
    )
    assert r.status_code == 400

    assert client.get(f"/p/{item_id}").status_code == 404
    r = client.post(f"/api/items/{item_id}/publish", headers=editor)
    assert r.status_code == 200 and r.json()["published_by"] == "editor"
    assert client.get(f"/p/{item_id}").status_code == 200
    r = client.post(f"/api/items/{item_id}/unpublish", headers=editor)
    assert r.status_code == 200 and not r.json()["published_at"]
    assert client.get(f"/p/{item_id}").status_code == 404
    kinds = [e["kind"] for e in client.get(f"/api/items/{item_id}/history", headers=viewer).json()]
    for kind in ("status", "assigned", "published", "unpublished"):
        assert kind in kinds


def test_openapi_describes_the_api_and_only_the_api(app_client: TestClient) -> None:
    schema = app_client.get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert paths and all(p.startswith("/api/") for p in paths)
    app = app_client.app  # type: ignore[attr-defined]
    api_routes = {
        re.sub(r":\w+}", "}", e.path)  # OpenAPI writes {name:path} as {name}
        for e in api_routes_of(app)
        if e.path.startswith("/api/")
    }
    assert api_routes == paths
    for needed in ("/api/items", "/api/search", "/api/items/{item_id}/publish", "/api/me"):
        assert needed in paths, needed
