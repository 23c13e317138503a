"""The item list, an item's workspace (player, tracks, transcript) and segment edits, through
real HTTP on a store holding one item processed end to end with the real engines."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from tolmach import edits
from tolmach.pipeline import runner
from tolmach.pipeline.text_item import ingest_text
from tolmach.store import queries
from tolmach.store.desk import Job, Review
from tolmach.store.tables import Capture, Item, StageRun
from tolmach.web import jobs
from tolmach.workspace import Workspace
from web.conftest import PASSWORD, sign_in

HTMX = {"HX-Request": "true"}
NAMES = [stage.name for stage in runner.STAGES]
AFTER_TRANSLATE = [  # what reads the English, directly or not, on a video
    s.name
    for s in runner.STAGES[NAMES.index("translate") + 1 :]
    if "video" in s.kinds and not s.opt_in  # opt-in stages are off in these tests
]


def switch(client: TestClient, name: str) -> str:
    """Sign out whoever is signed in, then sign in as ``name``."""
    client.cookies.clear()
    return sign_in(client, name)


def workspace(client: TestClient) -> Workspace:
    ws: Workspace = client.app.state.desk.ws  # type: ignore[attr-defined]
    return ws


def current(client: TestClient, item_id: str, name: str) -> Any:
    ws = workspace(client)
    with ws.db() as session:
        return json.loads(ws.blobs.read_bytes(queries.current_outputs(session, item_id)[name]))


@pytest.mark.model
def test_list_shows_items_with_filters(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    assert client.get("/items", follow_redirects=False).status_code == 303  # sign in first
    sign_in(client, "viewer")
    page = client.get("/items")
    assert page.status_code == 200
    assert f'href="/items/{item_id}"' in page.text
    for fact in ("video", ">ru<", "processed", "Unstarted", "обращение 96 полка.mp4"):
        assert fact in page.text
    assert "/static/items.css" in page.text
    assert item_id in client.get("/items?language=ru&review=unstarted").text
    assert item_id not in client.get("/items?language=uk").text
    assert item_id not in client.get("/items?review=verified").text
    bad = client.get("/items?review=done")
    assert bad.status_code == 400 and "Review status &#39;done&#39; does not exist" in bad.text
    assert client.get("/items?page=0").status_code == 400


def test_list_pages_newest_first_and_filters(app_client: TestClient) -> None:
    ws = workspace(app_client)
    start = datetime(2026, 1, 1)
    with ws.db.begin() as session:
        for n in range(55):
            item_id = f"{n:012x}"
            session.add(
                Item(id=item_id, sha256=f"{n:064x}", size=1, ext="mp4", kind="video",
                     duration=61.0, created_at=start + timedelta(minutes=n), status="processed")
            )  # fmt: skip
            session.flush()
            language = "uk" if n % 5 == 0 else "ru"
            session.add(
                StageRun(item_id=item_id, stage="transcribe", input_key="k", status="done",
                         started_at=start, summary_json=json.dumps({"language": language}))
            )  # fmt: skip
            if n % 10 == 0:
                session.add(Review(item_id=item_id, status="verified"))
    sign_in(app_client, "viewer")
    first = app_client.get("/api/items").json()
    assert (first["total"], first["pages"], len(first["items"])) == (55, 2, 50)
    assert first["items"][0]["id"] == f"{54:012x}" and first["items"][0]["duration"] == 61.0
    second = app_client.get("/api/items?page=2").json()
    assert [i["id"] for i in second["items"]] == [f"{n:012x}" for n in range(4, -1, -1)]
    uk = app_client.get("/api/items?language=uk").json()
    assert uk["total"] == 11 and {i["language"] for i in uk["items"]} == {"uk"}
    verified_uk = app_client.get("/api/items?language=uk&review=verified").json()
    assert [i["id"] for i in verified_uk["items"]] == [f"{n:012x}" for n in (50, 40, 30, 20, 10, 0)]
    unstarted = app_client.get("/api/items?review=unstarted").json()
    assert unstarted["total"] == 49 and {i["review"] for i in unstarted["items"]} == {"unstarted"}
    page = app_client.get("/items?page=2&language=ru")
    assert "page 2 of 1" not in page.text and "No items match these filters" in page.text
    page = app_client.get("/items")
    assert (
        "page 1 of 2" in page.text and 'href="/items?language=&amp;review=&amp;page=2"' in page.text
    )
    assert "1:01" in page.text


@pytest.mark.model
def test_list_escapes_sources_and_says_deleted_by_source(
    item_client: tuple[TestClient, str],
) -> None:
    client, item_id = item_client
    ws = workspace(client)
    with ws.db.begin() as session:
        capture = session.scalars(select(Capture).where(Capture.item_id == item_id)).one()
        capture.kind, capture.url = "url", "https://t.me/x?<script>alert(1)</script>"
        item = session.get(Item, item_id)
        assert item is not None
        item.source_status = "deleted"
    sign_in(client, "viewer")
    page = client.get("/items").text
    assert "<script>alert(1)" not in page
    assert "https://t.me/x?&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "deleted by source" in page
    assert "deleted by source" in client.get(f"/items/{item_id}").text


@pytest.mark.model
def test_item_page_has_player_tracks_transcript_and_panels(
    item_client: tuple[TestClient, str],
) -> None:
    client, item_id = item_client
    sign_in(client, "viewer")
    page = client.get(f"/items/{item_id[:6]}")  # a prefix of the id will do
    assert page.status_code == 200
    html = page.text
    assert '<video id="player" data-synced-player controls' in html
    assert f'src="/items/{item_id}/media/original"' in html
    source_track = f'srclang="ru" src="/items/{item_id}/tracks/source.vtt">'
    assert '<track kind="subtitles" label="Source (ru)" ' + source_track in html
    assert f'src="/items/{item_id}/tracks/english.vtt" default>' in html
    assert f'hx-get="/items/{item_id}/review" hx-trigger="load"' in html
    assert f'hx-get="/items/{item_id}/connections" hx-trigger="load"' in html
    transcript = current(client, item_id, "transcript.json")["segments"]
    english = current(client, item_id, "translation.json")["segments"]
    for seg, en in zip(transcript, english, strict=True):
        assert f'id="seg-{seg["id"]}" data-start="{seg["start"]}"' in html
        assert seg["text"] in html and en["text"] in html
    assert html.count('class="seg machine"') == len(transcript)
    assert "machine translation, unreviewed" in html
    assert "/edit?field=" not in html  # a viewer may not edit
    switch(client, "editor")
    assert f"/items/{item_id}/segments/0/edit?field=english" in client.get(f"/items/{item_id}").text


@pytest.mark.model
def test_original_is_served_with_ranges(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    sign_in(client, "viewer")
    ws = workspace(client)
    with ws.db() as session:
        item = queries.get_item(session, item_id)
    data = ws.blobs.read_bytes(item.sha256)
    whole = client.get(f"/items/{item_id}/media/original")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/items/{item_id}/media/original", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"


@pytest.mark.model
def test_tracks_are_source_and_english_only(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    sign_in(client, "viewer")
    for name in ("source", "english"):
        r = client.get(f"/items/{item_id}/tracks/{name}.vtt")
        assert r.status_code == 200 and r.text.startswith("WEBVTT")
        assert r.headers["content-type"] == "text/vtt; charset=utf-8"
    for name in ("transcript", "original", "..%2Fenglish", "english.vtt%00"):
        assert client.get(f"/items/{item_id}/tracks/{name}.vtt").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/items/..%2F..%2Fetc%2Fpasswd",
        "/items/..%2F..%2Fetc%2Fpasswd/media/original",
        "/items/%2E%2E/tracks/english.vtt",
        "/api/items/..%2Fdata",
        "/items/nosuchitem/media/original",
    ],
)
@pytest.mark.model
def test_bad_item_ids_are_404(item_client: tuple[TestClient, str], path: str) -> None:
    client, _ = item_client
    sign_in(client, "viewer")
    assert client.get(path).status_code == 404


@pytest.mark.model
def test_edit_english_in_place_with_csrf(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    csrf = sign_in(client, "editor")
    form = client.get(f"/items/{item_id}/segments/0/edit?field=english", headers=HTMX)
    assert form.status_code == 200 and "<textarea" in form.text and 'name="csrf"' in form.text
    before = current(client, item_id, "translation.json")["segments"]
    assert before[0]["text"] in form.text
    page = client.get(f"/items/{item_id}/segments/0/edit?field=english")  # without htmx
    assert page.text.startswith("<!doctype html>") and 'action="/items/' in page.text
    url = f"/items/{item_id}/segments/0"
    data = {"field": "english", "text": "Appeal of the 96th regiment."}
    assert client.post(url, data=data, headers=HTMX).status_code == 403  # no CSRF token
    saved = client.post(url, data=data, headers=HTMX | {"X-CSRF-Token": csrf})
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith('<li class="seg reviewed" id="seg-0"')
    assert "reviewed by editor" in saved.text and "Appeal of the 96th regiment." in saved.text
    assert "/jobs/" in saved.text
    after = current(client, item_id, "translation.json")["segments"]
    assert after[0]["reviewed"] and after[0]["reviewed_by"] == "editor"
    assert after[1:] == before[1:]
    page = client.get(f"/items/{item_id}").text
    assert page.count('class="seg reviewed"') == 1
    assert page.count('class="seg machine"') == len(before) - 1
    ws = workspace(client)
    with ws.db() as session:
        kinds = session.scalars(select(Job.kind).where(Job.item_id == item_id)).all()
    assert "process" in kinds
    # without htmx (a plain form post): back to the item at that segment
    plain = client.post(url, data=data | {"csrf": csrf}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/items/{item_id}#seg-0"


@pytest.mark.model
def test_viewer_may_not_edit(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    csrf = sign_in(client, "viewer")
    r = client.post(
        f"/items/{item_id}/segments/0",
        data={"field": "english", "text": "x", "csrf": csrf},
        headers=HTMX,
    )
    assert r.status_code == 403
    assert client.get(f"/items/{item_id}/segments/0/edit?field=english").status_code == 403


@pytest.mark.model
def test_markup_in_an_edit_is_kept_as_text_and_escaped(
    item_client: tuple[TestClient, str],
) -> None:
    client, item_id = item_client
    csrf = sign_in(client, "editor")
    text = '<script>alert("x")</script><b onclick="x()">bold</b>'
    saved = client.post(
        f"/items/{item_id}/segments/0",
        data={"field": "english", "text": text},
        headers=HTMX | {"X-CSRF-Token": csrf},
    )
    assert saved.status_code == 200
    for html in (saved.text, client.get(f"/items/{item_id}").text):
        assert "<script>alert" not in html and "<b onclick" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert current(client, item_id, "translation.json")["segments"][0]["text"] == text
    api = client.get(f"/api/items/{item_id}/segments").json()
    assert api["segments"][0]["english"] == text


@pytest.mark.parametrize(
    ("number", "field", "text", "says"),
    [
        ("0", "english", "   ", "The text is empty."),
        ("0", "source", "я" * 2001, "2,001 characters long"),
        ("0", "title", "Fine.", "Unknown field"),
        ("99", "english", "Fine.", "no segment 99"),
        ("one", "english", "Fine.", "not a segment number"),
    ],
)
@pytest.mark.model
def test_bad_edits_are_clear_400s(
    item_client: tuple[TestClient, str], number: str, field: str, text: str, says: str
) -> None:
    client, item_id = item_client
    csrf = sign_in(client, "editor")
    before = current(client, item_id, "translation.json")
    r = client.post(
        f"/items/{item_id}/segments/{number}",
        data={"field": field, "text": text},
        headers=HTMX | {"X-CSRF-Token": csrf},
    )
    assert r.status_code == 400 and says in r.text
    api = client.patch(
        f"/api/items/{item_id}/segments/{number}",
        json={"field": field, "text": text},
        headers={"X-CSRF-Token": csrf},
    )
    assert api.status_code == 400 and says in api.json()["error"]
    assert current(client, item_id, "translation.json") == before


@pytest.mark.model
def test_a_bad_edit_gives_back_the_form_with_its_error(
    item_client: tuple[TestClient, str],
) -> None:
    client, item_id = item_client
    csrf = sign_in(client, "editor")
    r = client.post(
        f"/items/{item_id}/segments/0",
        data={"field": "english", "text": " "},
        headers=HTMX | {"X-CSRF-Token": csrf},
    )
    assert r.status_code == 400 and r.headers["x-desk-fragment"] == "1"
    assert r.text.lstrip().startswith('<li class="seg editing"')
    assert 'role="alert">The text is empty.' in r.text


@pytest.mark.model
def test_json_api(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    assert client.get("/api/items").status_code == 401
    csrf = sign_in(client, "viewer")
    listed = client.get("/api/items?language=ru").json()
    assert [i["id"] for i in listed["items"]] == [item_id] and listed["total"] == 1
    facts = client.get(f"/api/items/{item_id}").json()
    assert facts["review"] == "unstarted" and facts["status"] == "processed"
    assert facts["language"] == "ru" and facts["kind"] == "video"
    assert {"original", "transcript.json", "translation.json", "english.vtt"} <= set(
        facts["outputs"]
    )
    segs = client.get(f"/api/items/{item_id}/segments").json()
    assert segs["language"] == "ru" and segs["segments"]
    first = segs["segments"][0]
    assert set(first) == {
        "id", "start", "end", "source", "english", "reviewed", "reviewed_by", "flags",
    }  # fmt: skip
    assert first["reviewed"] is False
    patch = {"field": "english", "text": "Reviewed line."}
    url = f"/api/items/{item_id}/segments/0"
    assert client.patch(url, json=patch, headers={"X-CSRF-Token": csrf}).status_code == 403
    csrf = switch(client, "editor")
    assert client.patch(url, json=patch).status_code == 403  # a cookie needs the CSRF token
    done = client.patch(url, json=patch, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200
    body = done.json()
    assert body["segment"]["english"] == "Reviewed line." and body["segment"]["reviewed"]
    assert body["segment"]["reviewed_by"] == "editor" and isinstance(body["job_id"], int)
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/items/{item_id}/segments/{number}" in paths
    assert not any(p.startswith("/items") for p in paths)


@pytest.mark.model
def test_text_item_has_no_player_and_shows_its_pipeline_status(
    item_client: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, _ = item_client
    ws = workspace(client)
    post = tmp_path / "post.txt"
    post.write_text("Нам не хватает воды. Командир не отвечает.", encoding="utf-8")
    text_id = ingest_text(ws.db, ws.blobs, ws.settings, post, "ru").item_id
    only_text = tuple(s for s in runner.STAGES if s.name == "text")
    runner.process(ws.db, ws.blobs, ws.settings, text_id, stages=only_text)
    with ws.db.begin() as session:
        item = session.get(Item, text_id)
        assert item is not None
        item.status = "failed"
    sign_in(client, "viewer")
    html = client.get(f"/items/{text_id}").text
    assert "<video" not in html and "<audio" not in html and "<track" not in html
    assert "Pipeline status: <strong>failed</strong>" in html
    assert "Командир не отвечает." in html and "not translated yet" in html
    assert 'id="seg-1"' in html and "data-start" not in html


@pytest.mark.model
def test_source_edit_retranslates_one_segment_with_the_real_engine(
    item_client: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, item_id = item_client
    desk = client.app.state.desk  # type: ignore[attr-defined]
    desk.jobs.stop()  # the edit job is run here, in this process, to look at what it did
    monkeypatch.setitem(jobs.HANDLERS, "edit", "tolmach.edits:run_job")
    ws = workspace(client)
    before = current(client, item_id, "translation.json")["segments"]
    csrf = sign_in(client, "editor")
    last = len(before) - 1
    saved = client.post(
        f"/items/{item_id}/segments/{last}",
        data={"field": "source", "text": "Нам не хватает воды и еды."},
        headers=HTMX | {"X-CSRF-Token": csrf},
    )
    assert saved.status_code == 200 and "Нам не хватает воды и еды." in saved.text
    with ws.db() as session:
        job = session.scalars(select(Job).where(Job.kind == "edit")).one()
        start = max(session.scalars(select(StageRun.id)))
    edits.run_job(ws, job.id, item_id, json.loads(job.payload_json), lambda *a: None)
    after = current(client, item_id, "translation.json")["segments"]
    assert after[last]["text"] != before[last]["text"]
    assert any(w in after[last]["text"].lower() for w in ("water", "food"))
    assert not after[last]["reviewed"]
    assert after[:last] == before[:last]  # others kept (reviewed ones: see tests/test_edits.py)
    with ws.db() as session:
        added = session.scalars(
            select(StageRun.stage).where(StageRun.id > start).order_by(StageRun.id)
        ).all()
    assert list(added) == ["translate", *AFTER_TRANSLATE]
    vtt = client.get(f"/items/{item_id}/tracks/source.vtt").text
    assert "Нам не хватает воды и еды." in vtt


@pytest.mark.model
@pytest.mark.browser
def test_transcript_follows_the_player_in_a_browser(item_client: tuple[TestClient, str]) -> None:
    """desk.js in headless Chromium: ?t= seeks on load and highlights that line; a click on
    a line seeks to it; the phone layout is no wider than the screen."""
    from playwright.sync_api import expect, sync_playwright

    client, item_id = item_client
    transcript = current(client, item_id, "transcript.json")["segments"]
    last = transcript[-1]
    with serve(client.app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{url}/login")
            page.get_by_label("Account name").fill("viewer")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{url}/items")
            page.goto(f"{url}/items/{item_id}?t={last['start'] + 0.1}")
            expect(page.locator(f"#seg-{last['id']}")).to_have_class(re.compile(r"\bcurrent\b"))
            at = page.evaluate("document.getElementById('player').currentTime")
            assert abs(at - (last["start"] + 0.1)) < 0.2
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 375, f"the item page is {wide}px wide on a 375px screen"
            first = transcript[0]
            page.locator(f"#seg-{first['id']} .src .text").click()
            expect(page.locator(f"#seg-{first['id']}")).to_have_class(re.compile(r"\bcurrent\b"))
            at = page.evaluate("document.getElementById('player').currentTime")
            assert abs(at - first["start"]) < 0.2
            assert page.locator("li.seg.current").count() == 1
            # the review and connections panels may 404 until they exist: that is not an error
            assert not [e for e in errors if "404" not in e], errors
        finally:
            browser.close()


def chromium() -> str:
    found = os.environ.get("TOLMACH_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium not found: install it or set TOLMACH_CHROMIUM to its path.")
    return found


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free local port in a thread (its lifespan already runs in the client)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
