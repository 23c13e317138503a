"""The desk's review state: status changes need a note and a known status, assigning needs
an enabled account, and every change is a custody entry whose chain checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tolmach import custody, review
from tolmach.config import Settings
from tolmach.errors import InputError, NotFoundError
from tolmach.pipeline.text_item import ingest_text
from tolmach.store.desk import Note, Review
from tolmach.store.tables import Event
from tolmach.web import auth
from tolmach.workspace import Workspace


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    workspace = Workspace.open(settings)
    yield workspace
    workspace.close()


@pytest.fixture
def item_id(ws: Workspace, tmp_path: Path) -> str:
    path = tmp_path / "statement.txt"
    path.write_text("Нам не хватает воды.", encoding="utf-8")
    with ws.db.begin() as session:
        auth.add_user(session, "olena", "editor", "a long passphrase")
        auth.add_user(session, "petro", "viewer", "a long passphrase")
        auth.get_user(session, "petro").disabled = True
    return ingest_text(ws.db, ws.blobs, ws.settings, path, "ru").item_id


def test_words() -> None:
    assert review.words("false_or_misleading") == "False or misleading"
    assert review.words("cannot_be_verified") == "Cannot be verified"
    assert review.words("in_progress") == "In progress"


def test_a_status_change_needs_a_known_status_and_a_note(ws: Workspace, item_id: str) -> None:
    with ws.db() as session:
        with pytest.raises(InputError, match="needs a note"):
            review.set_status(session, item_id, "verified", " \n ", "olena")
        with pytest.raises(InputError, match="Choose the new status"):
            review.set_status(session, item_id, " ", "why", "olena")
        with pytest.raises(InputError, match="Unknown status"):
            review.set_status(session, item_id, "true", "why", "olena")
        with pytest.raises(InputError, match="over 20000"):
            review.set_status(session, item_id, "verified", "x" * 20_001, "olena")
        with pytest.raises(NotFoundError):
            review.set_status(session, "ffffffffffff", "verified", "why", "olena")
    with ws.db.begin() as session:
        row = review.set_status(session, item_id, "False or misleading", " Staged. ", "olena")
        assert (row.status, row.updated_by) == ("false_or_misleading", "olena")
    with ws.db() as session:
        with pytest.raises(InputError, match="already 'False or misleading'"):
            review.set_status(session, item_id, "false_or_misleading", "again", "olena")
        (note,) = session.scalars(select(Note)).all()
        assert (note.text, note.status_from, note.status_to) == (
            "Staged.",
            "unstarted",
            "false_or_misleading",
        )
        entry = review.history(session, item_id)[-1]
        assert (entry["kind"], entry["actor"], entry["subject"]) == (
            "status",
            "olena",
            "false_or_misleading",
        )
        assert entry["detail"] == {
            "from": "unstarted",
            "to": "false_or_misleading",
            "note": note.id,
            "text": "Staged.",
        }
        assert review.summary(entry) == "Unstarted → False or misleading"


def test_assigning_and_notes(ws: Workspace, item_id: str) -> None:
    with ws.db() as session:
        with pytest.raises(InputError, match="No account 'nobody-here'"):
            review.assign(session, item_id, "nobody-here", "olena")
        with pytest.raises(InputError, match="No account 'petro'"):  # disabled
            review.assign(session, item_id, "petro", "olena")
        with pytest.raises(InputError, match="empty"):
            review.add_note(session, item_id, "   ", "olena")
    with ws.db.begin() as session:
        assert review.assign(session, item_id, " Olena ", "olena").assignee == "olena"
        review.assign(session, item_id, "olena", "olena")  # no change: no entry
        review.add_note(session, item_id, "<b>first</b>", "olena")
        review.assign(session, item_id, "", "olena")
    with ws.db() as session:
        entries = review.history(session, item_id)
        assert [e["kind"] for e in entries] == ["captured", "assigned", "note", "assigned"]
        sha = entries[0]["detail"]["record_sha256"]
        assert f"record_sha256: {sha[:12]}…" in review.summary(entries[0])
        assert [review.summary(e) for e in entries[1:]] == [
            "assigned to olena",
            "",
            "assigned to nobody",
        ]
        state = review.state(session, item_id)
        assert state["assignee"] == "" and state["status_words"] == "Unstarted"
        assert [n["text"] for n in state["notes"]] == ["<b>first</b>"]
        assert review.accounts(session) == ["olena"]
        assert session.get(Review, item_id) is not None
        log = [custody.entry_dict(e) for e in session.scalars(select(Event).order_by(Event.id))]
    assert custody.check_chain(log) == []


def test_state_of_an_untouched_item(ws: Workspace, item_id: str) -> None:
    with ws.db() as session:
        state = review.state(session, item_id[:6])
        assert state["item_id"] == item_id and state["status"] == "unstarted"
        assert state["updated_at"] is None and state["published_at"] is None
        assert state["source_status"] == "unknown" and state["notes"] == []
        assert session.get(Review, item_id) is None  # reading makes no row
