"""Connections and entity pages through HTTP, over real analysis of the two 96th Regiment
statements (text items processed by the pipeline, with a stand-in translator) beside the
processed speech item."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from analysis.case_96th import ENGLISH, VIDEO_1, VIDEO_2
from tolmach.engines.fake import FakeTranslator
from tolmach.pipeline import translate
from tolmach.pipeline.analyse import entity_rows
from tolmach.pipeline.text_item import ingest_text
from tolmach.store.desk import EntityRow
from tolmach.store.tables import Event
from tolmach.workspace import Workspace
from web.conftest import HX, bearer, cookie_sign_in

pytestmark = pytest.mark.model


def add_text_item(ws: Workspace, folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    item_id = ingest_text(ws.db, ws.blobs, ws.settings, path, "ru").item_id
    ws.process(item_id)
    return item_id


@pytest.fixture
def statements(
    item_client: tuple[TestClient, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[TestClient, str, str]:
    """The desk's client and the 96th Regiment's complaint and recantation, processed."""
    client, _ = item_client
    engine = FakeTranslator(ENGLISH)
    monkeypatch.setattr(translate, "make_translator", lambda settings, audio=None: engine)
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    first = add_text_item(ws, tmp_path, "video1.txt", VIDEO_1)
    second = add_text_item(ws, tmp_path, "video2.txt", VIDEO_2)
    return client, first, second


def test_links_and_the_claim_by_claim_retraction_view(
    statements: tuple[TestClient, str, str],
) -> None:
    client, first, second = statements
    signed_out = client.get(f"/items/{second}/connections", follow_redirects=False)
    assert signed_out.status_code == 303  # sign in first
    csrf = cookie_sign_in(client, "editor")
    page = client.get(f"/items/{second}/connections", headers=HX)
    assert page.status_code == 200 and "<html" not in page.text
    text = page.text
    for kind in ("Same unit", "Follow-up", "Retracts"):
        assert kind in text
    assert "Confirmed by a person" not in text and "Suggested by the machine" in text
    retracted, blanket, never = (
        text.split(title, 1)[1].split("<h4>", 1)[0]
        for title in (
            "Explicitly retracted (3)",
            "Covered only by a blanket retraction (1)",
            "Never addressed (3)",
        )
    )
    assert "We lack water and clothing." in retracted  # English beside the source
    assert "Нам не хватает воды и одежды." in retracted
    assert "претензий к командованию" in blanket  # what covers it, from the later statement
    assert "untimed" in never and "деньги" in never  # text items have no times
    named = client.get(f"/items/{first}/connections", headers=HX).text
    assert 'href="/entities/unit/96th%20Regiment"' in named

    api = client.get(f"/api/items/{second}/links", headers=bearer(client, "viewer")).json()
    (view,) = api["retractions"]
    assert (view["earlier"], view["later"]) == (first, second)
    assert sorted(e["claim"]["topic"] for e in view["never_addressed"]) == ["leave", "mail", "pay"]

    bad = client.post(f"/items/{second}/links/{first}/confirm", data={"csrf": csrf})
    assert bad.status_code == 400
    missing = client.post(
        f"/items/{second}/links/{first}/confirm", data={"csrf": csrf, "kind": "near-duplicate"}
    )
    assert missing.status_code == 404
    done = client.post(
        f"/items/{second}/links/{first}/confirm",
        data={"csrf": csrf, "kind": "retracts"},
        headers=HX,
    )
    assert done.status_code == 200 and "Confirmed by a person" in done.text
    links = client.get(f"/api/items/{first}/links", headers=bearer(client, "viewer")).json()
    state = {r["kind"]: r["confirmed"] for r in links["links"]}
    assert state == {"same-unit": False, "follow-up": False, "retracts": True}
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    with ws.db() as session:
        last = session.scalars(
            select(Event).where(Event.item_id == second).order_by(Event.id.desc())
        ).first()
        assert last is not None
        assert (last.kind, last.actor, last.item_id) == ("link-confirmed", "editor", second)

    viewer = TestClient(client.app)
    viewer_csrf = cookie_sign_in(viewer, "viewer")
    r = viewer.post(
        f"/items/{second}/links/{first}/confirm", data={"csrf": viewer_csrf, "kind": "follow-up"}
    )
    assert r.status_code == 403


def test_entity_pages_follow_a_unit_across_items(
    statements: tuple[TestClient, str, str],
) -> None:
    client, first, second = statements
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    with ws.db() as session:
        rows = session.scalars(select(EntityRow).where(EntityRow.item_id == first)).all()
    named = {(r.kind, r.name): r for r in rows}
    unit = named[("unit", "96th Regiment")]
    assert unit.count == 1 and "96-го полка" in unit.source and unit.t_start is None
    assert ("place", "Udmurtia") in named

    cookie_sign_in(client, "viewer")
    index = client.get("/entities")
    assert index.status_code == 200
    assert 'href="/entities/unit/96th%20Regiment"' in index.text
    unit_page = client.get("/entities/unit/96th Regiment")
    assert unit_page.status_code == 200
    assert f'href="/items/{first}"' in unit_page.text  # the recantation names no unit
    assert f'href="/items/{second}"' not in unit_page.text
    (term,) = [name for kind, name in named if kind == "term" and "SMO" in name]
    page = client.get(f"/entities/term/{term}")  # "СВО": both statements
    assert page.text.index(f'href="/items/{first}"') < page.text.index(f'href="/items/{second}"')

    api = client.get(f"/api/entities/term/{term}", headers=bearer(client, "viewer"))
    assert [m["item_id"] for m in api.json()["mentions"]] == [first, second]
    nothing = client.get("/api/entities/unit/1st Nowhere", headers=bearer(client, "viewer"))
    assert nothing.status_code == 404 and "No item names" in nothing.json()["error"]


def test_entity_rows_keep_spellings_counts_and_the_first_mention() -> None:
    entities = [
        {"kind": "place", "english": "Kharkiv", "text": "Харькове", "t_start": 7.5},
        {"kind": "place", "english": "Kharkiv", "text": "Харьков", "t_start": 2.4},
        {"kind": "place", "english": "Kharkiv", "text": "Харькове", "t_start": 9.0},
        {"kind": "unit", "english": "96th Regiment", "text": "96-го полка", "t_start": None},
    ]
    rows = {r.name: r for r in entity_rows("abc", entities)}
    assert (rows["Kharkiv"].count, rows["Kharkiv"].t_start) == (3, 2.4)
    assert rows["Kharkiv"].source == "Харькове, Харьков"
    assert (rows["96th Regiment"].count, rows["96th Regiment"].t_start) == (1, None)


def test_a_timed_mention_links_into_the_item_at_its_time(
    item_client: tuple[TestClient, str],
) -> None:
    """The processed speech item names no entity (its analysis found none), so one row is
    added as the analyse stage would for a mention at 2.4 s."""
    client, item_id = item_client
    cookie_sign_in(client, "viewer")
    panel = client.get(f"/items/{item_id}/connections", headers=HX)
    assert panel.status_code == 200 and "No links to other items." in panel.text
    ws = client.app.state.desk.ws  # type: ignore[attr-defined]
    with ws.db.begin() as session:
        session.add_all(entity_rows(item_id, [{"kind": "place", "english": "Kharkiv",
                                               "text": "Харькове", "t_start": 2.4}]))  # fmt: skip
    page = client.get("/entities/place/Kharkiv")
    assert f'href="/items/{item_id}?t=2"' in page.text and "at 2.4 s" in page.text


def test_a_timed_claim_links_into_its_item(app_client: TestClient) -> None:
    """The claim row of the retraction table (the 96th's statements are text: untimed)."""
    templates = app_client.app.state.desk.templates  # type: ignore[attr-defined]
    claim = {"topic": "water", "text": "Нам не хватает воды.", "english": "We lack water.",
             "t_start": 12.74, "t_end": 15.0}  # fmt: skip
    row = templates.get_template("connections/claim.html").render(c=claim, of="abc123")
    assert '<a href="/items/abc123?t=12">12.7–15.0 s</a>' in row
    assert "We lack water." in row and "untimed" not in row


def test_a_claim_row_says_what_the_learned_models_changed(app_client: TestClient) -> None:
    templates = app_client.app.state.desk.templates  # type: ignore[attr-defined]
    claim = {"topic": "command", "stance": "complaint", "text": "Таскаем снаряды.",
             "english": "", "t_start": None, "method": "model", "topic_p": 0.912,
             "rule_stance": "affirmation", "stance_p": 0.8}  # fmt: skip
    row = templates.get_template("connections/claim.html").render(c=claim, of="abc123")
    assert "(topic by model, p 0.91)" in row
    assert "(complaint by model, p 0.80; rules: affirmation)" in row
    plain = claim | {"method": "keywords", "rule_stance": None}
    assert "model" not in templates.get_template("connections/claim.html").render(c=plain, of="x")
