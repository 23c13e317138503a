"""Verification on the desk: an item's review status, who it is assigned to, notes, and its
full history from the custody log.

Every change writes its ``reviews``/``notes`` rows and appends a custody entry in the
caller's transaction, so the record of who decided what can't be rewritten:

    with ws.db.begin() as session:
        set_status(session, item_id, "verified", "Geolocated: matches the base.", actor="olena")
        add_note(session, item_id, "Second source found.", actor="olena")
        history(session, item_id)[-1]["kind"]          # 'note'

A status change needs a note saying why; assigning takes an existing account or nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tolmach import custody
from tolmach.errors import InputError
from tolmach.store import queries
from tolmach.store.desk import REVIEW_STATUSES, Note, Review, User
from tolmach.store.tables import Event, utcnow

STATUS_WORDS = {
    "unstarted": "Unstarted",
    "in_progress": "In progress",
    "needs_review": "Needs review",
    "verified": "Verified",
    "false_or_misleading": "False or misleading",
    "cannot_be_verified": "Cannot be verified",
}
MAX_NOTE = 20_000


def words(status: str) -> str:
    """A status as people read it: "false_or_misleading" -> "False or misleading"."""
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


def review_of(session: Session, item_id: str) -> Review:
    """The item's review row, made (unstarted) on first use."""
    row = session.get(Review, item_id)
    if row is None:
        row = Review(item_id=item_id, status="unstarted", assignee="", updated_by="")
        session.add(row)
        session.flush()
    return row


def _note_text(text: str, why: str) -> str:
    clean = text.strip()
    if not clean:
        raise InputError(why, "Write a few words in the note.")
    if len(clean) > MAX_NOTE:
        raise InputError(f"The note is over {MAX_NOTE} characters.", "Shorten it.")
    return clean


def set_status(session: Session, item_ref: str, status: str, note: str, actor: str) -> Review:
    """Change the item's status, with a note saying why (required)."""
    item_id = queries.get_item(session, item_ref).id
    status = status.strip().lower().replace(" ", "_")
    if not status:
        raise InputError("Choose the new status.", "Pick one from the list.")
    if status not in REVIEW_STATUSES:
        choices = ", ".join(STATUS_WORDS[s] for s in REVIEW_STATUSES)
        raise InputError(f"Unknown status {status!r}.", f"Choose one of: {choices}.")
    text = _note_text(note, "A status change needs a note saying why.")
    row = review_of(session, item_id)
    if row.status == status:
        raise InputError(
            f"The item is already {words(status)!r}.",
            "To add a remark without changing the status, add a note.",
        )
    noted = Note(item_id=item_id, author=actor, text=text, status_from=row.status, status_to=status)
    session.add(noted)
    session.flush()
    custody.append(
        session,
        kind="status",
        actor=actor,
        item_id=item_id,
        subject=status,
        detail={"from": row.status, "to": status, "note": noted.id, "text": text},
    )
    row.status, row.updated_at, row.updated_by = status, utcnow(), actor
    return row


def assign(session: Session, item_ref: str, assignee: str, actor: str) -> Review:
    """Assign the item to an existing, enabled account, or to nobody (``""``)."""
    item_id = queries.get_item(session, item_ref).id
    name = assignee.strip().lower()
    if name:
        user = session.scalars(select(User).where(User.name == name)).first()
        if user is None or user.disabled:
            raise InputError(f"No account {name!r} to assign to.", "Pick one from the list.")
    row = review_of(session, item_id)
    if row.assignee == name:
        return row
    custody.append(
        session,
        kind="assigned",
        actor=actor,
        item_id=item_id,
        subject=name,
        detail={"from": row.assignee, "to": name},
    )
    row.assignee, row.updated_at, row.updated_by = name, utcnow(), actor
    return row


def add_note(session: Session, item_ref: str, text: str, actor: str) -> Note:
    item_id = queries.get_item(session, item_ref).id
    clean = _note_text(text, "The note is empty.")
    noted = Note(item_id=item_id, author=actor, text=clean)
    session.add(noted)
    session.flush()
    custody.append(
        session,
        kind="note",
        actor=actor,
        item_id=item_id,
        subject="",
        detail={"note": noted.id, "text": clean},
    )
    return noted


def _when(at: datetime | None) -> str | None:
    return custody.iso(at) if at is not None else None


def history(session: Session, item_id: str) -> list[dict[str, Any]]:
    """Every custody entry of the item, oldest first, as plain data."""
    events = session.scalars(select(Event).where(Event.item_id == item_id).order_by(Event.id))
    return [custody.entry_dict(ev) for ev in events]


def summary(entry: dict[str, Any]) -> str:
    """One line saying what a custody entry recorded, for people."""
    detail = entry["detail"] if isinstance(entry["detail"], dict) else {}
    kind = entry["kind"]
    if kind == "status":
        return f"{words(str(detail.get('from', '')))} → {words(str(detail.get('to', '')))}"
    if kind == "assigned":
        return f"assigned to {detail.get('to') or 'nobody'}"
    if kind == "note":
        return ""  # the note's text is shown in full beside it
    parts = [f"{k}: {_brief(v)}" for k, v in detail.items() if k != "text" and v not in ("", None)]
    line = "; ".join(parts)
    return line if len(line) <= 240 else line[:239] + "…"


def _brief(value: Any) -> str:
    """A detail's value in a few characters: a mapping by its keys, a sha256 by its start."""
    if isinstance(value, dict):
        return ", ".join(str(k) for k in value)
    text = str(value)
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text[:12] + "…"
    return text


def state(session: Session, item_ref: str) -> dict[str, Any]:
    """The item's review state, notes and history as plain data (the API's answer)."""
    item = queries.get_item(session, item_ref)
    row = session.get(Review, item.id)
    notes = session.scalars(select(Note).where(Note.item_id == item.id).order_by(Note.id))
    return {
        "item_id": item.id,
        "status": row.status if row else "unstarted",
        "status_words": words(row.status if row else "unstarted"),
        "assignee": row.assignee if row else "",
        "updated_at": _when(row.updated_at) if row and row.updated_by else None,
        "updated_by": row.updated_by if row else "",
        "published_at": _when(row.published_at) if row else None,
        "published_by": row.published_by if row else "",
        "source_status": item.source_status,
        "source_deleted_at": _when(item.source_deleted_at),
        "notes": [
            {
                "id": n.id,
                "author": n.author,
                "text": n.text,
                "at": _when(n.created_at),
                "status_from": n.status_from,
                "status_to": n.status_to,
            }
            for n in notes
        ],
    }


def accounts(session: Session) -> list[str]:
    """Names of the enabled accounts an item can be assigned to."""
    return list(
        session.scalars(select(User.name).where(User.disabled.is_(False)).order_by(User.name))
    )
