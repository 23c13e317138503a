"""Verification through HTTP: status changes need a note and land in notes, reviews and the
custody log (whose chain still checks), assigning, notes escaped, history in order."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tolmach.store.desk import Note, Review
from tolmach.store.tables import Event, Item, utcnow
from tolmach.verify import verify_store
from web.conftest import HX, bearer, cookie_sign_in

pytestmark = pytest.mark.model


def test_status_change_needs_a_note_and_is_recorded(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    csrf = cookie_sign_in(client, "editor")
    url = f"/items/{item_id}/status"

    refused = client.post(url, data={"csrf": csrf, "status": "verified", "note": "  "})
    assert refused.status_code == 400 and "needs a note" in refused.text
    unknown = client.post(url, data={"csrf": csrf, "status": "true", "note": "x"})
    assert unknown.status_code == 400 and "Unknown status" in unknown.text
    no_csrf = client.post(url, data={"status": "verified", "note": "Geolocated."})
    assert no_csrf.status_code == 403
    with ws.db() as session:
        assert session.get(Review, item_id) is None
        assert session.scalars(select(Note)).all() == []

    done = client.post(
        url, data={"csrf": csrf, "status": "verified", "note": "Geolocated."}, headers=HX
    )
    assert done.status_code == 200
    assert "Verified" in done.text and "Geolocated." in done.text
    assert "<html" not in done.text  # a fragment for htmx
    with ws.db() as session:
        review = session.get(Review, item_id)
        assert review is not None and (review.status, review.updated_by) == ("verified", "editor")
        (note,) = session.scalars(select(Note)).all()
        assert (note.text, note.status_from, note.status_to) == (
            "Geolocated.",
            "unstarted",
            "verified",
        )
        last = session.scalars(
            select(Event).where(Event.item_id == item_id).order_by(Event.id.desc())
        ).first()
        assert last is not None and (last.kind, last.actor, last.item_id) == (
            "status",
            "editor",
            item_id,
        )
    again = client.post(url, data={"csrf": csrf, "status": "verified", "note": "again"})
    assert again.status_code == 400 and "already" in again.text
    assert verify_store(ws.db, ws.blobs).ok


def test_viewer_sees_the_panel_but_may_not_change_it(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    assert client.get(f"/api/items/{item_id}/review").status_code == 401
    csrf = cookie_sign_in(client, "viewer")
    page = client.get(f"/items/{item_id}/review", headers=HX)
    assert page.status_code == 200 and "Unstarted" in page.text
    assert "Change status" not in page.text  # no forms for a viewer
    r = client.post(
        f"/items/{item_id}/status", data={"csrf": csrf, "status": "verified", "note": "x"}
    )
    assert r.status_code == 403
    assert client.get("/items/ffffffffffff/review").status_code == 404


def test_assign_notes_and_history_in_order(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    csrf = cookie_sign_in(client, "editor")
    bad = client.post(f"/items/{item_id}/assign", data={"csrf": csrf, "assignee": "nobody-x"})
    assert bad.status_code == 400 and "No account" in bad.text
    r = client.post(
        f"/items/{item_id}/assign",
        data={"csrf": csrf, "assignee": "viewer"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/items/{item_id}/review"
    evil = "<script>alert(1)</script> & <b>bold</b>"
    r = client.post(f"/items/{item_id}/notes", data={"csrf": csrf, "text": evil}, headers=HX)
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text and "<b>bold</b>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in r.text
    assert (
        client.post(f"/items/{item_id}/notes", data={"csrf": csrf, "text": ""}).status_code == 400
    )

    api = bearer(client, "editor")
    r = client.post(f"/api/items/{item_id}/status", json={"status": "needs_review"}, headers=api)
    assert r.status_code == 400 and "needs a note" in r.json()["error"]
    r = client.post(
        f"/api/items/{item_id}/status",
        json={"status": "false_or_misleading", "note": "Staged."},
        headers=api,
    )
    assert r.status_code == 200 and r.json()["status_words"] == "False or misleading"
    assert r.json()["assignee"] == "viewer"
    r = client.post(f"/api/items/{item_id}/notes", json={"text": "Second look."}, headers=api)
    assert r.status_code == 201 and r.json()["author"] == "editor"

    history = client.get(f"/api/items/{item_id}/history", headers=bearer(client, "viewer"))
    kinds = [e["kind"] for e in history.json()]
    assert kinds[0] == "captured" and "processed" in kinds
    assert kinds[-4:] == ["assigned", "note", "status", "note"]
    assert [e["id"] for e in history.json()] == sorted(e["id"] for e in history.json())
    assert history.json()[-2]["detail"]["text"] == "Staged."
    state = client.get(f"/api/items/{item_id}/review", headers=api).json()
    assert [n["text"] for n in state["notes"]] == [evil, "Staged.", "Second look."]

    page = client.get(f"/items/{item_id}/review")
    assert page.status_code == 200 and "<html" in page.text
    history_part = page.text.split("<h3>History</h3>", 1)[1]
    positions = [history_part.index(k) for k in ("captured", "assigned", "False or misleading")]
    assert positions == sorted(positions)


def test_deleted_by_source_is_shown(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]

    with ws.db.begin() as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.source_status, item.source_deleted_at = "deleted", utcnow()
    cookie_sign_in(client, "viewer")
    page = client.get(f"/items/{item_id}/review", headers=HX)
    assert "Deleted by source" in page.text
