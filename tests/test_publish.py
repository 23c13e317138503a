"""Publishing: who may be published, what the public sees (labels, reviewers, the voice
disclosure), schema.org ClaimReview and the Atom feed, over a text item really processed
(with a stand-in translator)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tolmach import custody, publish, review
from tolmach.config import Settings
from tolmach.engines.fake import FakeTranslator
from tolmach.errors import InputError
from tolmach.pipeline import translate
from tolmach.pipeline.text_item import ingest_text
from tolmach.store import queries
from tolmach.store.tables import Event, Output, StageRun, utcnow
from tolmach.workspace import Workspace

ATOM = "{http://www.w3.org/2005/Atom}"
TEXT = "Нам не хватает воды. Командование заставляет нас покупать снаряжение."
BASE = "https://desk.example.org"


@pytest.fixture
def ws(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    engine = FakeTranslator({"Нам не хватает воды.": "We lack water."})
    monkeypatch.setattr(translate, "make_translator", lambda settings, audio=None: engine)
    workspace = Workspace.open(settings)
    yield workspace
    workspace.close()


def _text_item(ws: Workspace, folder: Path, name: str, text: str, process: bool = True) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    item_id = ingest_text(ws.db, ws.blobs, ws.settings, path, "ru").item_id
    if process:
        ws.process(item_id)
    return item_id


def _add_output(ws: Workspace, item_id: str, stage: str, name: str, data: bytes) -> None:
    sha, size = ws.blobs.put_bytes(data)
    with ws.db.begin() as session:
        run = StageRun(item_id=item_id, stage=stage, input_key=stage, status="done",
                       started_at=utcnow())  # fmt: skip
        session.add(run)
        session.flush()
        session.add(Output(run_id=run.id, name=name, sha256=sha, size=size))


def test_publish_and_unpublish(ws: Workspace, tmp_path: Path) -> None:
    item_id = _text_item(ws, tmp_path, "a.txt", TEXT)
    raw = _text_item(ws, tmp_path, "b.txt", "Нам не дают отпуск.", process=False)
    with ws.db() as session:
        with pytest.raises(InputError, match="only a processed item with a translation"):
            publish.publish(session, raw, "olena")
        with pytest.raises(InputError, match="not published"):
            publish.unpublish(session, item_id, "olena")
        assert publish.public_item(session, ws.blobs, item_id) is None
        assert publish.public_item(session, ws.blobs, "nonsense") is None
    with ws.db.begin() as session:
        row = publish.publish(session, item_id, "olena")
        assert row.published_by == "olena" and row.published_at is not None
    with ws.db() as session:
        with pytest.raises(InputError, match="published already"):
            publish.publish(session, item_id, "olena")
        assert publish.published_ids(session) == [item_id]
        shown = publish.public_item(session, ws.blobs, item_id)
    assert shown is not None
    assert shown["label"] == "Machine translation, not reviewed"
    assert shown["segments"][0]["text"] == "We lack water."
    assert (shown["kind"], shown["timed"], shown["ai_voice"]) == ("text", False, False)
    assert shown["title"] == "a.txt" and shown["source_url"] == ""
    with ws.db.begin() as session:
        publish.unpublish(session, item_id, "petro")
    with ws.db() as session:
        assert publish.public_item(session, ws.blobs, item_id) is None
        kinds = session.scalars(
            select(Event.kind).where(Event.item_id == item_id).order_by(Event.id)
        ).all()
        log = [custody.entry_dict(e) for e in session.scalars(select(Event).order_by(Event.id))]
    assert kinds[-2:] == ["published", "unpublished"]
    assert custody.check_chain(log) == []


def test_labels_name_the_reviewers_and_the_voice(ws: Workspace, tmp_path: Path) -> None:
    item_id = _text_item(ws, tmp_path, "a.txt", TEXT)
    with ws.db.begin() as session:
        review.set_status(session, item_id, "verified", "Checked.", "olena")
        publish.publish(session, item_id, "olena")
        sha = queries.current_outputs(session, item_id)["translation.json"]
    translation = json.loads(ws.blobs.read_bytes(sha))
    assert len(translation["segments"]) == 2

    def shown_with(*marks: dict[str, object]) -> dict[str, Any]:
        for seg, mark in zip(translation["segments"], marks, strict=True):
            seg.update(mark)
        data = json.dumps(translation).encode()
        _add_output(ws, item_id, "translate", "translation.json", data)
        with ws.db() as session:
            shown = publish.public_item(session, ws.blobs, item_id)
        assert shown is not None
        return shown

    partly = shown_with({"reviewed": True, "reviewed_by": "taras"}, {})
    assert partly["label"] == "Machine translation, partly reviewed by taras (1 of 2 lines)"
    both = shown_with({}, {"reviewed": True, "reviewed_by": "mila"})
    assert both["label"] == "Machine translation, reviewed by taras, mila"
    nameless = shown_with({"reviewed_by": ""}, {"reviewed_by": ""})
    assert nameless["label"] == "Machine translation, reviewed by olena"  # who set the status
    assert nameless["ai_voice"] is False
    _add_output(ws, item_id, "voice", "voiceover.wav", b"not really audio")
    with ws.db() as session:
        shown = publish.public_item(session, ws.blobs, item_id)
    assert shown is not None and shown["ai_voice"] is True


def test_claim_review_and_feed(ws: Workspace, tmp_path: Path) -> None:
    first = _text_item(ws, tmp_path, "a.txt", TEXT)
    second = _text_item(ws, tmp_path, "b.txt", "Нам не хватает воды. " + "Мы устали. " * 60)
    with ws.db.begin() as session:
        review.set_status(session, second, "cannot_be_verified", "No second source.", "olena")
        publish.publish(session, first, "olena")
        publish.publish(session, second, "mila")
    with ws.db() as session:
        ids = publish.published_ids(session)
        shown = [publish.public_item(session, ws.blobs, i) for i in ids]
    assert ids == [second, first]  # newest first
    items = [s for s in shown if s is not None]
    data = publish.claim_review(items[0], BASE)
    assert data["@type"] == "ClaimReview" and data["url"] == f"{BASE}/p/{second}"
    assert data["reviewRating"]["alternateName"] == "Cannot be verified"
    assert data["author"]["name"] == "olena"
    assert len(data["claimReviewed"]) <= publish.CLAIM_CHARS
    assert data["claimReviewed"].startswith("We lack water.")
    appearance = data["itemReviewed"]["appearance"]
    assert appearance["@type"] == "CreativeWork" and "contentUrl" not in appearance
    assert data["datePublished"].endswith("Z") and len(data["datePublished"]) == 20

    feed = ET.fromstring(publish.atom_feed(items, BASE))
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/feed.atom"
    assert feed.findtext(f"{ATOM}updated") == items[0]["published_at"][:19] + "Z"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"{BASE}/p/{second}", f"{BASE}/p/{first}"]
    for entry in entries:
        for tag in ("title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{tag}"), tag
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None
        assert entry.find(f"{ATOM}link").get("href", "").startswith(BASE)  # type: ignore[union-attr]
    empty = ET.fromstring(publish.atom_feed([], BASE))
    assert empty.findall(f"{ATOM}entry") == [] and empty.findtext(f"{ATOM}updated")
