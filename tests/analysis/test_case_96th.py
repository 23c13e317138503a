"""The case the issue names: two text statements of the 96th Regiment, ingested, processed,
linked, and the retraction view's three groups exactly as expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from case_96th import ENGLISH, VIDEO_1, VIDEO_2
from sqlalchemy import select

from tolmach.analysis import store
from tolmach.config import Settings
from tolmach.engines.fake import FakeTranslator
from tolmach.pipeline import translate
from tolmach.pipeline.text_item import ingest_text
from tolmach.store.tables import Capture
from tolmach.workspace import Workspace


@pytest.fixture
def ws(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    engine = FakeTranslator(ENGLISH)
    monkeypatch.setattr(translate, "make_translator", lambda settings, audio=None: engine)
    workspace = Workspace.open(settings)
    yield workspace
    workspace.close()


def _ingest(ws: Workspace, tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    item_id = ingest_text(ws.db, ws.blobs, ws.settings, path, "ru").item_id
    ws.process(item_id)
    return item_id


def test_two_statements_of_the_96th_regiment(ws: Workspace, tmp_path: Path) -> None:
    first = _ingest(ws, tmp_path, "video1.txt", VIDEO_1)
    second = _ingest(ws, tmp_path, "video2.txt", VIDEO_2)

    one = store.analysis_of(ws, first)
    assert one is not None
    named = {(e["kind"], e["english"]) for e in one["named"]}
    assert ("unit", "96th Regiment") in named
    assert ("place", "Udmurtia") in named
    assert any(k == "person" and en.endswith("Putin") for k, en in named)
    assert any(k == "term" and "SMO" in en for k, en in named)
    assert ("date", "since December") in named

    complaints = [c for c in one["claims"] if c["stance"] == "complaint"]
    assert len(complaints) >= 7
    topics = {c["topic"] for c in complaints}
    assert {"leave", "pay", "water", "clothing", "equipment", "mail", "command"} <= topics
    water = next(c for c in complaints if c["topic"] == "water")
    assert water["english"] == "We lack water and clothing."
    assert water["t_start"] is None  # a text item has no timings

    two = store.analysis_of(ws, second)
    assert two is not None
    stances = {(c["topic"], c["stance"], c["blanket"]) for c in two["claims"]}
    assert ("supplies", "affirmation", False) in stances
    assert ("command", "denial", True) in stances
    explanation = [c for c in two["claims"] if c["stance"] == "explanation"]
    assert explanation and "усталост" in explanation[0]["text"]
    assert any(c["stance"] == "retraction" for c in two["claims"])

    result = store.report(ws, second)
    kinds = {(r["item_id"], r["other_id"], r["kind"]) for r in result["links"]}
    assert {
        (second, first, "same-unit"),
        (second, first, "follow-up"),
        (second, first, "retracts"),
    } <= kinds
    assert all(r["confirmed"] is False for r in result["links"] if r["kind"] != "near-duplicate")
    follow = next(r for r in result["links"] if r["kind"] == "follow-up")
    assert follow["shared"]["unit"] == ["96th Regiment"]
    assert follow["shared"]["place"] == ["Udmurtia"]

    (view,) = result["retractions"]
    assert (view["earlier"], view["later"]) == (first, second)
    groups = {
        g: sorted(e["claim"]["topic"] for e in view[g])
        for g in ("retracted", "blanket", "never_addressed")
    }
    assert groups == {
        "retracted": ["clothing", "equipment", "water"],
        "blanket": ["command"],
        "never_addressed": ["leave", "mail", "pay"],
    }
    by = view["retracted"][0]["by"][0]
    assert by["english"].startswith("We are fully supplied")
    assert view["blanket"][0]["by"][0]["text"].startswith("претензий к командованию")
    assert json.dumps(result, ensure_ascii=False)  # plain data, ready for --json


def test_confirming_a_link_survives_a_refresh(ws: Workspace, tmp_path: Path) -> None:
    first = _ingest(ws, tmp_path, "video1.txt", VIDEO_1)
    second = _ingest(ws, tmp_path, "video2.txt", VIDEO_2)
    store.refresh(ws, second)
    store.confirm(ws, first, second, "retracts")
    result = store.report(ws, first)
    confirmed = {r["kind"]: r["confirmed"] for r in result["links"]}
    assert confirmed["retracts"] is True and confirmed["same-unit"] is False


def test_post_time_and_account_from_url_captures(ws: Workspace, tmp_path: Path) -> None:
    """Two statements that name nothing in common, posted by the same account 5 hours apart."""
    first = _ingest(ws, tmp_path, "a.txt", "Нам не хватает воды.")
    second = _ingest(ws, tmp_path, "b.txt", "Нам не дают отпуск.")
    with ws.db.begin() as session:
        for item_id, posted in ((first, "2026-01-10T08:00:00Z"), (second, "2026-01-10T13:00:00Z")):
            cap = session.scalars(select(Capture).where(Capture.item_id == item_id)).one()
            cap.page_json = json.dumps({"uploader_id": "chan-96", "posted_at": posted})
    (link,) = [r for r in store.report(ws, second)["links"] if r["kind"] == "follow-up"]
    assert (link["item_id"], link["other_id"]) == (second, first)
    assert link["shared"]["account"] == ["chan-96"] and link["hours"] == 5.0
