"""Publishing: an editor publishes a processed item; anonymous readers then see its English,
its review status and who reviewed it, as a page, schema.org ClaimReview and an Atom feed.

    with ws.db.begin() as session:
        publish(session, item_id, actor="olena")             # custody entry "published"
        shown = public_item(session, ws.blobs, item_id)       # None unless published
    claim_review(shown, "https://desk.example.org")["reviewRating"]["alternateName"]
    atom_feed([shown], "https://desk.example.org")           # bytes of an Atom 1.0 feed

Only a published item is shown: ``public_item`` answers None for any other id, valid or not.
A voice-over output of the ``voice`` stage makes the page say that the English voice is
AI-generated.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tolmach import custody, review
from tolmach.errors import InputError
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.desk import Review
from tolmach.store.tables import Item, utcnow

ATOM = "http://www.w3.org/2005/Atom"
VOICE_OUTPUTS = ("english-voice.mp4", "voiceover.wav", "voice.json")  # the voice stage's
CLAIM_CHARS = 280
WEB = ("https://", "http://")


def can_publish(session: Session, item: Item) -> bool:
    """Only a processed item with a translation can be published."""
    outputs = queries.current_outputs(session, item.id)
    return item.status == "processed" and "translation.json" in outputs


def publish(session: Session, item_ref: str, actor: str) -> Review:
    """Publish a processed item that has a translation."""
    item = queries.get_item(session, item_ref)
    if not can_publish(session, item):
        raise InputError(
            f"Item {item.id} can't be published: only a processed item with a translation can.",
            f"Process it first (`tolmach process {item.id}`).",
        )
    row = review.review_of(session, item.id)
    if row.published_at is not None:
        raise InputError(f"Item {item.id} is published already.")
    row.published_at, row.published_by = utcnow(), actor
    custody.append(
        session,
        kind="published",
        actor=actor,
        item_id=item.id,
        subject=row.status,
        detail={
            "status": row.status,
            "translation": queries.current_outputs(session, item.id)["translation.json"],
        },
    )
    return row


def unpublish(session: Session, item_ref: str, actor: str) -> Review:
    item = queries.get_item(session, item_ref)
    row = review.review_of(session, item.id)
    if row.published_at is None:
        raise InputError(f"Item {item.id} is not published.")
    row.published_at, row.published_by = None, ""
    custody.append(session, kind="unpublished", actor=actor, item_id=item.id, subject="")
    return row


def _title(item: Item) -> str:
    """A page's title: the captured post's title, else the file's name, else the id."""
    for cap in reversed(item.captures):
        page = json.loads(cap.page_json or "{}")
        if page.get("title"):
            return str(page["title"])
        if cap.kind == "file" and cap.source:
            return Path(cap.source).name
    return f"Item {item.id}"


def label(segments: list[dict[str, Any]], fallback: str) -> str:
    """What the English is: "Machine translation, reviewed by NAME", "..., partly reviewed
    by NAME (k of n lines)" or "..., not reviewed". Names come from the segments'
    ``reviewed_by`` (set when a person edits a line), else ``fallback``."""
    done = [s for s in segments if s.get("reviewed")]
    names = list(dict.fromkeys(str(s.get("reviewed_by") or "") for s in done)) if done else []
    who = ", ".join(n for n in names if n) or fallback or "a person"
    if not done:
        return "Machine translation, not reviewed"
    if len(done) < len(segments):
        return (
            f"Machine translation, partly reviewed by {who} ({len(done)} of {len(segments)} lines)"
        )
    return f"Machine translation, reviewed by {who}"


def public_item(session: Session, blobs: BlobStore, item_id: str) -> dict[str, Any] | None:
    """What the public page of a published item shows; None unless the item is published."""
    item = session.get(Item, item_id.strip().lower())
    row = session.get(Review, item.id) if item is not None else None
    if item is None or row is None or row.published_at is None:
        return None
    outputs = queries.current_outputs(session, item.id)
    translation = json.loads(blobs.read_bytes(outputs["translation.json"]))
    segments = [s for s in translation["segments"] if str(s.get("text", "")).strip()]
    captured = min(c.captured_at for c in item.captures) if item.captures else item.created_at
    source_url = next((c.url for c in item.captures if c.url.startswith(WEB)), "")
    return {
        "id": item.id,
        "title": _title(item),
        "kind": item.kind,
        "ext": item.ext,
        "timed": item.kind != "text",
        "segments": [{"start": s["start"], "end": s["end"], "text": s["text"]} for s in segments],
        "label": label(segments, row.updated_by),
        "status": row.status,
        "status_words": review.words(row.status),
        "reviewer": row.updated_by or row.published_by,
        "published_at": custody.iso(row.published_at),
        "published_by": row.published_by,
        "captured_at": custody.iso(captured),
        "source_url": source_url,
        "sha256": item.sha256,
        "english_vtt": outputs.get("english.vtt", ""),
        "ai_voice": any(name in outputs for name in VOICE_OUTPUTS),
    }


def published_ids(session: Session) -> list[str]:
    """Ids of the published items, most recently published first."""
    q = select(Review.item_id).where(Review.published_at.is_not(None))
    return list(session.scalars(q.order_by(Review.published_at.desc(), Review.item_id)))


def _text(shown: dict[str, Any], limit: int) -> str:
    text = " ".join(s["text"].strip() for s in shown["segments"])
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _date(iso: str) -> str:
    """custody.iso's microsecond time as RFC 3339 to the second: 2026-01-02T03:04:05Z."""
    return iso[:19] + "Z"


def claim_review(shown: dict[str, Any], base_url: str) -> dict[str, Any]:
    """schema.org ClaimReview of a published item's verification result."""
    page = f"{base_url}/p/{shown['id']}"
    media = {"video": "VideoObject", "audio": "AudioObject"}.get(shown["kind"], "CreativeWork")
    appearance: dict[str, Any] = {
        "@type": media,
        "name": shown["title"],
        "url": shown["source_url"] or page,
    }
    if shown["kind"] != "text":
        appearance["contentUrl"] = f"{page}/media"
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page,
        "datePublished": _date(shown["published_at"]),
        "author": {"@type": "Person", "name": shown["reviewer"]},
        "claimReviewed": _text(shown, CLAIM_CHARS),
        "itemReviewed": {
            "@type": "Claim",
            "datePublished": _date(shown["captured_at"]),
            "appearance": appearance,
        },
        "reviewRating": {"@type": "Rating", "alternateName": shown["status_words"]},
    }


def _sub(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text:
        el.text = text
    return el


def atom_feed(items: list[dict[str, Any]], base_url: str, title: str = "tolmach") -> bytes:
    """An Atom 1.0 feed of published items (given newest first)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", f"{base_url}/feed.atom")
    _sub(feed, "title", f"{title}: published statements")
    newest = items[0]["published_at"] if items else custody.iso(utcnow())
    _sub(feed, "updated", _date(newest))
    _sub(feed, "link", rel="self", href=f"{base_url}/feed.atom")
    _sub(feed, "link", rel="alternate", href=f"{base_url}/published")
    _sub(_sub(feed, "author"), "name", title)
    for shown in items:
        entry = _sub(feed, "entry")
        page = f"{base_url}/p/{shown['id']}"
        _sub(entry, "id", page)
        _sub(entry, "title", shown["title"])
        _sub(entry, "updated", _date(shown["published_at"]))
        _sub(entry, "link", rel="alternate", href=page)
        _sub(_sub(entry, "author"), "name", shown["reviewer"] or title)
        summary = f"{shown['status_words']}. {shown['label']}. {_text(shown, 600)}"
        _sub(entry, "summary", summary)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
