"""Anchor the custody log: an RFC 3161 token over the hash of its newest entry.

The log's hash chain shows an entry changed, inserted or deleted in the middle, but not the
newest entries deleted: the chain simply ends earlier. An anchor fixes the head at a moment:
a timestamp authority signs the head entry's hash, so that entry and everything before it
must still be there, unchanged. Anchors are kept in the store and, for an outside copy that
someone with the database can't remove, as a receipt file kept elsewhere:

    row = make_anchor(ws.db, ws.blobs, ws.settings)        # `tolmach anchor --out r.json`
    findings = check(session, blobs, [json.loads(Path("r.json").read_text())])
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach import custody, timestamp
from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import ChainAnchor, Event

SCHEMA = "tolmach.anchor/1"


def make_anchor(db: sessionmaker[Session], blobs: BlobStore, settings: Settings) -> ChainAnchor:
    """Timestamp the head of the custody log now; record the anchor (and a custody entry)."""
    custody.seal(db)
    with db() as session:
        head = session.scalars(select(Event).order_by(Event.id.desc())).first()
        if head is None:
            raise InputError("The custody log is empty: there is nothing to anchor yet.")
        event_id, head_hash = head.id, head.hash
    token = timestamp.fetch(settings, bytes.fromhex(head_hash))  # no lock held while it answers
    token_sha, _ = blobs.put_bytes(token.der)
    with db.begin() as session:
        row = ChainAnchor(
            event_id=event_id,
            head_hash=head_hash,
            tsa_url=settings.tsa_url,
            token_sha256=token_sha,
            gen_time=token.gen_time,
        )
        session.add(row)
        session.flush()
        custody.append(
            session,
            kind="anchored",
            actor=settings.operator,
            subject=settings.tsa_url,
            detail={"anchor": row.id, "event": event_id, "head_hash": head_hash},
        )
    return row


def receipt(row: ChainAnchor, blobs: BlobStore) -> dict[str, Any]:
    """The anchor as a small JSON document to keep outside the store."""
    return {
        "schema": SCHEMA,
        "event_id": row.event_id,
        "head_hash": row.head_hash,
        "tsa_url": row.tsa_url,
        "gen_time": custody.iso(row.gen_time),
        "token": base64.b64encode(blobs.read_bytes(row.token_sha256)).decode(),
    }


def _check_one(session: Session, event_id: int, head_hash: str, token: bytes | None) -> str:
    """What is wrong with one anchor ('' when it holds)."""
    if token is not None:
        try:
            imprint, _, _ = timestamp.read_token(token)
        except (ValueError, TypeError, KeyError):
            return "its timestamp token cannot be read"
        if imprint != head_hash:
            return f"its token is over {imprint[:16]}, not the anchored head {head_hash[:16]}"
    entry = session.get(Event, event_id)
    if entry is None:
        return f"custody entry {event_id} it anchors is gone: entries were deleted"
    if entry.hash != head_hash:
        return f"custody entry {event_id} no longer has the anchored hash: the log was rewritten"
    return ""


def check(
    session: Session, blobs: BlobStore, receipts: Sequence[dict[str, Any]] = ()
) -> list[tuple[str, str]]:
    """(subject, problem) for every stored anchor and given receipt that no longer holds."""
    found = []
    for row in session.scalars(select(ChainAnchor).order_by(ChainAnchor.id)):
        token = blobs.read_bytes(row.token_sha256) if blobs.has(row.token_sha256) else None
        why = _check_one(session, row.event_id, row.head_hash, token)
        if why:
            found.append((f"anchor {row.id}", why))
    for n, kept in enumerate(receipts, 1):
        try:
            event_id, head = int(kept["event_id"]), str(kept["head_hash"])
            token = base64.b64decode(kept["token"], validate=True)
        except (KeyError, TypeError, ValueError):
            found.append((f"receipt {n}", "is not a tolmach anchor receipt"))
            continue
        why = _check_one(session, event_id, head, token)
        if why:
            found.append((f"receipt {n}", why))
    return found
