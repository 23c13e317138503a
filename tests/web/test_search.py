"""The search pages and API over real HTTP: who may search, live results, escaping, bad
input, and a really processed item found through the index its subtitles run filled."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tolmach import edits, search_index
from tolmach.store import queries
from tolmach.store.tables import Capture, Item
from tolmach.workspace import Workspace
from web.conftest import sign_in

HOSTILE = "<script>alert(1)</script> Нам не выплатили деньги"


def workspace(client: TestClient) -> Workspace:
    ws: Workspace = client.app.state.desk.ws  # type: ignore[attr-defined]
    return ws


def seed(client: TestClient, item_id: str, segments: list[tuple[str, str]]) -> None:
    """An item with a capture and index rows (what the subtitles stage's hook writes)."""
    with workspace(client).db.begin() as session:
        session.add(
            Item(id=item_id, sha256=item_id * 4, size=1, ext="mp4", kind="video", duration=60.0)
        )
        session.add(
            Capture(
                item_id=item_id,
                source="clip.mp4",
                url="https://t.me/chan/7",
                captured_at=datetime(2026, 5, 1),
                operator="t",
                tool_version="0",
                record_sha256=item_id * 4,
            )
        )
        rows = [
            {"source": s, "english": e, "item_id": item_id, "seg": i, "t_start": i * 4.5}
            | {"t_end": i * 4.5 + 4}
            for i, (s, e) in enumerate(segments)
        ]
        search_index.add_rows(session, rows)


@pytest.fixture
def viewer(app_client: TestClient) -> TestClient:
    seed(
        app_client,
        "abcd1234abcd1234",
        [("Всё спокойно.", "All quiet."), (HOSTILE, "They did not <b>pay</b> us")],
    )
    sign_in(app_client, "viewer")
    return app_client


def test_anonymous_visitors_cannot_search(app_client: TestClient) -> None:
    for path in ("/search?q=деньги", "/search/results?q=деньги"):
        r = app_client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = app_client.get("/api/search?q=деньги")
    assert r.status_code == 401


def test_page_has_the_live_form_and_renders_results_of_its_query(viewer: TestClient) -> None:
    page = viewer.get("/search?q=выплат*")
    assert page.status_code == 200
    assert 'hx-get="/search/results"' in page.text and 'hx-target="#results"' in page.text
    assert '<link rel="stylesheet" href="/static/search.css">' in page.text
    assert "style=" not in page.text and "<script>" not in page.text.split("</head>", 1)[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Нам не <mark>выплатили</mark> деньги" in page.text
    assert 'href="/items/abcd1234abcd1234?t=4.5"' in page.text
    assert "They did not &lt;b&gt;pay&lt;/b&gt; us" in page.text
    assert viewer.get("/static/search.css").status_code == 200


def test_results_fragment_is_only_the_results(viewer: TestClient) -> None:
    r = viewer.get("/search/results", params={"q": "ВСЁ"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "<form" not in r.text
    assert "<mark>Всё</mark> спокойно." in r.text and "1 matching segment," in r.text
    empty = viewer.get("/search/results", params={"q": "танк"})
    assert "No segment matches <q>танк</q>" in empty.text


def test_api_gives_hits_with_escaped_highlights_and_seek_links(viewer: TestClient) -> None:
    r = viewer.get("/api/search", params={"q": '"не выплатили"', "source": "t.me/chan"})
    assert r.status_code == 200
    body = r.json()
    assert body["matches"] == 1 and body["capped"] is False and body["more"] is False
    [hit] = body["hits"]
    assert hit["item_id"] == "abcd1234abcd1234" and hit["segment"] == 1
    assert hit["link"] == "/items/abcd1234abcd1234?t=4.5"
    assert hit["source_html"].startswith("&lt;script&gt;")
    assert "<mark>не выплатили</mark>" in hit["source_html"]
    assert hit["source"] == HOSTILE
    other = viewer.get("/api/search", params={"q": "выплатили", "source": "x.com"})
    assert other.json()["hits"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "done"}, "Unknown review status 'done'."),
        ({"since": "2026-13-01"}, "since '2026-13-01' is not a date."),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "since is after until."),
        ({"page": "0"}, "page must be 1 to 25."),
        ({"page": "two"}, "page must be a number."),
    ],
)
def test_bad_filters_are_one_clear_error(
    viewer: TestClient, params: dict[str, str], message: str
) -> None:
    api = viewer.get("/api/search", params={"q": "деньги", **params})
    assert api.status_code == 400 and api.json()["error"] == message
    page = viewer.get("/search", params={"q": "деньги", **params})
    assert page.status_code == 400 and message.replace("'", "&#39;") in page.text


@pytest.mark.parametrize(
    "q", ['"', "NEAR(", "OR -", "* : ^", "'; DROP TABLE items; --", "ё" * 10_000]
)
def test_hostile_queries_are_answered(viewer: TestClient, q: str) -> None:
    assert viewer.get("/api/search", params={"q": q}).status_code == 200
    assert viewer.get("/search/results", params={"q": q}).status_code == 200


def _words(client: TestClient, item_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ws = workspace(client)
    with ws.db() as session:
        outputs = queries.current_outputs(session, item_id)
    transcript = json.loads(ws.blobs.read_bytes(outputs["transcript.json"]))
    translation = json.loads(ws.blobs.read_bytes(outputs["translation.json"]))
    return transcript, translation


@pytest.mark.model
def test_a_processed_item_is_indexed_found_and_follows_an_edit(
    item_client: tuple[TestClient, str],
) -> None:
    client, item_id = item_client
    ws = workspace(client)
    transcript, _ = _words(client, item_id)
    with ws.db() as session:  # the subtitles stage's record hook indexed every segment
        rows = session.execute(
            text("SELECT seg, source FROM segment_search WHERE item_id = :i ORDER BY seg"),
            {"i": item_id},
        ).all()
    assert [(r.seg, r.source) for r in rows] == [
        (s["id"], s["text"].strip()) for s in transcript["segments"]
    ]
    with ws.db.begin() as session:  # as in a store processed before the index existed
        session.execute(text("DELETE FROM segment_search WHERE item_id = :i"), {"i": item_id})
    seg = max(transcript["segments"], key=lambda s: len(s["text"]))
    word = max(seg["text"].split(), key=len).strip(".,!?«»")
    sign_in(client, "viewer")
    page = client.get("/search", params={"q": word.upper()})
    assert page.status_code == 200
    assert f'href="/items/{item_id}?t={round(seg["start"], 2)}"' in page.text
    assert f"<mark>{word}</mark>" in page.text

    jobs = SimpleNamespace(submit=lambda *a, **k: SimpleNamespace(id=1))
    edits.edit_segment(ws, jobs, item_id, seg["id"], "english", "Zanzibar was mentioned.", by="t")
    assert client.get("/api/search", params={"q": "zanzibar"}).json()["hits"] == []
    ws.process(item_id)  # what the queued job does: subtitles run again on the edited English
    [hit] = client.get("/api/search", params={"q": "zanzibar"}).json()["hits"]
    assert hit["segment"] == seg["id"] and hit["english_html"].startswith("<mark>Zanzibar</mark>")
