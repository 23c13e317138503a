"""The custody log: an append-only, hash-chained record of what happened to each item.

Every entry's ``hash`` is the sha256 of a canonical JSON of its content and of two links:
``prev_hash`` (the entry before it, overall) and ``item_prev_hash`` (the entry before it of the
same item, "" for an item's first). A changed entry no longer recomputes; a deleted or inserted
entry breaks a link. Entries are appended inside the caller's transaction:

    with db.begin() as session:
        session.add(capture)
        custody.append(session, kind="captured", actor="anna", item_id=item.id,
                       detail={"capture": capture.id})

Appends serialise on the database's write lock, so two processes never chain onto the same
previous entry. Entries written before the chain existed (hash "") are sealed, in id order, by
the next append.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tolmach.store.tables import Event, utcnow

__all__ = [
    "Problem",
    "append",
    "canonical",
    "check_chain",
    "entry_dict",
    "entry_hash",
    "failed_attempt",
    "iso",
    "seal",
]

_PG_LOCK_KEY = 7_346_173  # an arbitrary advisory-lock number that means "the custody log"


def canonical(data: Any) -> str:
    """The one JSON text of ``data`` that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iso(at: datetime) -> str:
    """A stored (naive UTC) time as ISO 8601 with microseconds: 2026-01-02T03:04:05.000006Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of an entry given as :func:`entry_dict` makes it (``id`` and ``hash`` ignored)."""
    fields = {
        "at": entry["at"],
        "actor": entry["actor"],
        "kind": entry["kind"],
        "item_id": entry["item_id"],
        "subject": entry["subject"],
        "detail": entry["detail"],
        "prev_hash": entry["prev_hash"],
        "item_prev_hash": entry["item_prev_hash"],
    }
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def entry_dict(ev: Event) -> dict[str, Any]:
    """An entry as plain JSON data (as written to an evidence bundle's custody.jsonl)."""
    try:
        detail: Any = json.loads(ev.detail_json or "{}")
    except json.JSONDecodeError:
        detail = {"unparseable": ev.detail_json}
    return {
        "id": ev.id,
        "at": iso(ev.at),
        "actor": ev.actor,
        "kind": ev.kind,
        "item_id": ev.item_id,
        "subject": ev.subject or "",
        "detail": detail,
        "prev_hash": ev.prev_hash,
        "item_prev_hash": ev.item_prev_hash,
        "hash": ev.hash,
    }


def _lock(session: Session) -> None:
    """Take the database's write lock before the last hash is read."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # A write statement makes SQLite take its (single) write lock, waiting for any other
        # writer, even when no row matches.
        session.execute(text("UPDATE events SET id = id WHERE id = (SELECT max(id) FROM events)"))
    elif dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    else:
        session.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))


def _last(session: Session, item_id: str | None = None, before: int | None = None) -> str:
    q = select(Event.hash).order_by(Event.id.desc()).limit(1)
    if item_id is not None:
        q = q.where(Event.item_id == item_id)
    if before is not None:
        q = q.where(Event.id < before)
    return session.scalars(q).first() or ""


def _unsealed(session: Session) -> list[Event]:
    """Entries without a hash. Appends seal in id order, so only those after the newest hashed
    entry can lack one: two quick lookups instead of a scan of the whole log."""
    newest = select(Event.id).where(Event.hash != "").order_by(Event.id.desc()).limit(1)
    after = session.scalar(newest) or 0
    q = select(Event).where(Event.id > after, Event.hash == "").order_by(Event.id)
    return list(session.scalars(q))


def _seal(session: Session) -> None:
    """Hash the entries written without a hash (before the chain existed), in id order."""
    unsealed = _unsealed(session)
    if not unsealed:
        return
    first = unsealed[0].id
    prev = _last(session, before=first)
    per_item: dict[str, str] = {}
    for ev in unsealed:
        ev.prev_hash = prev
        if ev.item_id is None:
            ev.item_prev_hash = ""
        else:
            if ev.item_id not in per_item:
                per_item[ev.item_id] = _last(session, ev.item_id, before=first)
            ev.item_prev_hash = per_item[ev.item_id]
        ev.subject = ev.subject or ""
        ev.hash = entry_hash(entry_dict(ev))
        prev = ev.hash
        if ev.item_id is not None:
            per_item[ev.item_id] = ev.hash
    session.flush()


def seal(db: sessionmaker[Session]) -> int:
    """Hash any entries written without a hash, as the next append would; return how many."""
    with db() as session:
        unsealed = len(_unsealed(session))
    if unsealed:
        with db.begin() as session:
            _lock(session)
            _seal(session)
    return unsealed


def append(
    session: Session,
    *,
    kind: str,
    actor: str,
    item_id: str | None = None,
    subject: str = "",
    detail: Mapping[str, Any] | None = None,
) -> Event:
    """Append one entry to the custody log inside the caller's open transaction."""
    _lock(session)
    _seal(session)
    ev = Event(
        item_id=item_id,
        at=utcnow(),
        actor=actor,
        kind=kind,
        subject=subject,
        detail_json=canonical(dict(detail or {})),
        prev_hash=_last(session),
        item_prev_hash=_last(session, item_id) if item_id is not None else "",
    )
    ev.hash = entry_hash(entry_dict(ev))
    session.add(ev)
    session.flush()
    return ev


def failed_attempt(
    db: sessionmaker[Session], *, kind: str, actor: str, subject: str, error: str
) -> Event:
    """Record, in its own transaction, an attempt that failed and stored nothing."""
    with db.begin() as session:
        return append(session, kind=kind, actor=actor, subject=subject, detail={"error": error})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a custody log: which entry, and what."""

    entry: int | None
    what: str

    def __str__(self) -> str:
        return f"custody entry {self.entry}: {self.what}" if self.entry else self.what


def check_chain(entries: Iterable[Mapping[str, Any]], *, whole: bool = True) -> list[Problem]:
    """Recompute every entry's hash and the links between entries given in id order.

    With ``whole`` the entries are the entire log, so the overall chain (``prev_hash``) is
    checked too; otherwise they are one item's entries and only ``item_prev_hash`` is.
    """
    problems: list[Problem] = []
    prev = ""
    per_item: dict[str | None, str] = {}
    for e in entries:
        eid = e.get("id")
        if not e.get("hash"):
            problems.append(Problem(eid, "has no hash (never sealed)"))
        elif entry_hash(e) != e["hash"]:
            problems.append(Problem(eid, "changed: its content no longer matches its hash"))
        if whole and e["prev_hash"] != prev:
            problems.append(
                Problem(eid, "chain broken before it: an entry was deleted, inserted or reordered")
            )
        item = e["item_id"]
        expected = per_item.get(item, "") if item is not None else ""
        if e["item_prev_hash"] != expected:
            problems.append(
                Problem(eid, f"item {item}'s chain broken before it: an entry of the item is gone")
            )
        prev = e["hash"]
        if item is not None:
            per_item[item] = e["hash"]
    return problems
