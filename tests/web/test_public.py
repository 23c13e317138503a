"""Publishing through HTTP: anonymous visitors see only published items (page, media with
Range, subtitles, ClaimReview JSON-LD, Atom feed); the evidence bundle download checks."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tolmach.bundle_check import verify_bundle
from tolmach.models import Translation
from tolmach.store import queries
from tolmach.store.tables import Capture, Event, Output, StageRun, utcnow
from tolmach.verify import verify_store
from web.conftest import HX, cookie_sign_in

pytestmark = pytest.mark.model
ATOM = "{http://www.w3.org/2005/Atom}"


def english_lines(client: TestClient, item_id: str) -> list[str]:
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    with ws.db() as session:
        sha = queries.current_outputs(session, item_id)["translation.json"]
    translation = Translation.from_dict(json.loads(ws.blobs.read_bytes(sha)))
    return [s.text for s in translation.segments if s.text.strip()]


def json_ld(page: str) -> dict[str, object]:
    start = '<script type="application/ld+json">'
    block = page.split(start, 1)[1].split("</script>", 1)[0]
    data: dict[str, object] = json.loads(block)
    return data


def test_only_published_items_are_public(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    for path in (f"/p/{item_id}", f"/p/{item_id}/media", f"/p/{item_id}/english.vtt"):
        assert client.get(path).status_code == 404, path
    assert client.get("/p/ffffffffffff").status_code == 404
    assert client.get(f"/p/{item_id[:6]}").status_code == 404  # no prefixes on the public side
    feed = ET.fromstring(client.get("/feed.atom").content)
    assert feed.findall(f"{ATOM}entry") == []
    assert client.post(f"/items/{item_id}/publish", follow_redirects=False).status_code == 303

    viewer = TestClient(client.app)
    csrf = cookie_sign_in(viewer, "viewer")
    assert viewer.post(f"/items/{item_id}/publish", data={"csrf": csrf}).status_code == 403

    csrf = cookie_sign_in(client, "editor")
    r = client.post(
        f"/items/{item_id}/status", data={"csrf": csrf, "status": "verified", "note": "Checked."}
    )
    assert r.status_code == 200
    r = client.post(f"/items/{item_id}/publish", data={"csrf": csrf}, headers=HX)
    assert r.status_code == 200 and "Unpublish" in r.text
    again = client.post(f"/items/{item_id}/publish", data={"csrf": csrf})
    assert again.status_code == 400 and "published already" in again.text

    anon = TestClient(client.app)
    page = anon.get(f"/p/{item_id}")
    assert page.status_code == 200
    lines = english_lines(client, item_id)
    assert lines and all(line in page.text for line in lines)
    assert "Machine translation, not reviewed" in page.text and "Verified" in page.text
    assert "AI-generated" not in page.text  # no voice-over output
    data = json_ld(page.text)
    assert data["@type"] == "ClaimReview" and data["url"] == f"http://testserver/p/{item_id}"
    assert data["reviewRating"] == {"@type": "Rating", "alternateName": "Verified"}
    assert data["author"] == {"@type": "Person", "name": "editor"}
    assert str(data["datePublished"]).endswith("Z")

    media = anon.get(f"/p/{item_id}/media", headers={"Range": "bytes=0-99"})
    assert media.status_code == 206 and len(media.content) == 100
    assert media.headers["content-type"] == "video/mp4"
    vtt = anon.get(f"/p/{item_id}/english.vtt")
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert f'src="/p/{item_id}/english.vtt"' in page.text

    feed_response = anon.get("/feed.atom")
    assert feed_response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(feed_response.content)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author", "link"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == f"http://testserver/p/{item_id}"
    assert "Verified" in (entry.findtext(f"{ATOM}summary") or "")
    listing = anon.get("/published")
    assert f'href="/p/{item_id}"' in listing.text

    r = client.post(f"/items/{item_id}/unpublish", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert anon.get(f"/p/{item_id}").status_code == 404
    assert ET.fromstring(anon.get("/feed.atom").content).findall(f"{ATOM}entry") == []
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    with ws.db() as session:
        kinds = session.scalars(
            select(Event.kind).where(Event.item_id == item_id).order_by(Event.id)
        ).all()
    assert kinds[-3:] == ["status", "published", "unpublished"]
    assert verify_store(ws.db, ws.blobs).ok


def test_json_ld_is_escaped_and_the_voice_disclosed(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    title = "</script><script>alert(1)</script> & more"
    with ws.db.begin() as session:
        cap = session.scalars(select(Capture).where(Capture.item_id == item_id)).first()
        assert cap is not None
        cap.page_json = json.dumps({"title": title})
        run = StageRun(item_id=item_id, stage="voice", input_key="k", status="done",
                       started_at=utcnow())  # fmt: skip
        session.add(run)
        session.flush()
        item = queries.get_item(session, item_id)
        session.add(Output(run_id=run.id, name="english-voice.mp4", sha256=item.sha256, size=1))
    csrf = cookie_sign_in(client, "editor")
    assert client.post(f"/items/{item_id}/publish", data={"csrf": csrf}).status_code == 200
    page = TestClient(client.app).get(f"/p/{item_id}")
    assert "<script>alert(1)" not in page.text and "</script><script>" not in page.text
    data = json_ld(page.text)
    assert data["itemReviewed"]["appearance"]["name"] == title  # type: ignore[index]
    assert data["reviewRating"]["alternateName"] == "Unstarted"  # type: ignore[index]
    assert "This English voice is AI-generated." in page.text


def test_publishing_needs_a_processed_item(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    with ws.db.begin() as session:
        queries.get_item(session, item_id).status = "failed"
    csrf = cookie_sign_in(client, "editor")
    panel = client.get(f"/items/{item_id}/review", headers=HX).text
    assert "Publishing needs a processed item" in panel and ">Publish<" not in panel
    r = client.post(f"/items/{item_id}/publish", data={"csrf": csrf})
    assert r.status_code == 400 and "only a processed item" in r.text
    assert client.get(f"/p/{item_id}").status_code == 404


def test_bundle_download_is_a_checked_zip(
    item_client: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, item_id = item_client
    cookie_sign_in(client, "viewer")
    assert client.get(f"/items/{item_id}/bundle").status_code == 403
    cookie_sign_in(client, "editor")
    r = client.get(f"/items/{item_id}/bundle")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    name = f"tolmach-{item_id}-evidence.zip"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    path = tmp_path / name
    path.write_bytes(r.content)
    report = verify_bundle(path)
    assert report.ok, report.problems
    assert report.files > 3 and report.entries > 1
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    assert not any(ws.settings.work_dir.glob("bundle-*"))  # the temporary copy is gone
    assert client.get("/items/ffffffffffff/bundle").status_code == 404


def test_public_links_use_the_configured_address(item_client: tuple[TestClient, str]) -> None:
    client, item_id = item_client
    desk = client.app.state.desk  # type: ignore[attr-defined]
    desk.settings = desk.settings.model_copy(update={"web_public_url": "https://desk.example/"})
    csrf = cookie_sign_in(client, "editor")
    assert client.post(f"/items/{item_id}/publish", data={"csrf": csrf}).status_code == 200
    anon = TestClient(client.app)
    assert json_ld(anon.get(f"/p/{item_id}").text)["url"] == f"https://desk.example/p/{item_id}"
    feed = ET.fromstring(anon.get("/feed.atom").content)
    assert feed.findtext(f"{ATOM}id") == "https://desk.example/feed.atom"
