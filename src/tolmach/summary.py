"""Plain-data summaries of items for ``show``, ``list`` and ``run --json``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tolmach.store import queries
from tolmach.store.tables import Item
from tolmach.workspace import Workspace


def item_summary(ws: Workspace, item_ref: str) -> dict[str, Any]:
    with ws.db() as session:
        item = queries.get_item(session, item_ref)
        runs = queries.latest_runs(session, item.id)
        failure = queries.last_failure(session, item.id)
        outputs = queries.current_outputs(session, item.id)
        data: dict[str, Any] = {
            "item_id": item.id,
            "sha256": item.sha256,
            "kind": item.kind,
            "duration": round(item.duration, 3),
            "status": item.status,
            "source_status": item.source_status,
            "source_deleted_at": _iso(item.source_deleted_at),
            "review": "machine output, unreviewed",
            "captures": [
                {
                    "source": c.source,
                    "captured_at": c.captured_at.isoformat() + "Z",
                    "operator": c.operator,
                }
                for c in item.captures
            ],
            "stages": {
                r.stage: {
                    "engine": r.engine,
                    "model": r.model_name,
                    "at": r.finished_at.isoformat(),
                }
                for r in runs
            },
        }
        skipped = {r.stage: json.loads(r.summary_json).get("skipped") for r in runs}
        data["skipped"] = {stage: why for stage, why in skipped.items() if why}
        if failure is not None and failure.id > max((r.id for r in runs), default=0):
            data["error"] = {"stage": failure.stage, "message": failure.error}
    transcript = _load(ws, outputs.get("transcript.json"))
    if transcript is not None:
        data["language"] = transcript["language"]
        data["language_probability"] = transcript["language_probability"]
        data["segments"] = len(transcript["segments"])
        data["no_speech"] = not transcript["segments"]
    translation = _load(ws, outputs.get("translation.json"))
    if translation is not None:
        flags = Counter(f for s in translation["segments"] for f in s.get("flags", ()))
        data["flags"] = dict(flags)
        data["translation"] = {"engine": translation["engine"], "model": translation["model"]}
    analysis = _load(ws, outputs.get("analysis.json"))
    if analysis is not None:  # the full record: tolmach analyse ITEM --json
        data["analysis"] = {
            "named": [{"kind": n["kind"], "english": n["english"]} for n in analysis["named"]],
            "claims": len(analysis["claims"]),
            "stances": dict(Counter(c["stance"] for c in analysis["claims"])),
            "note": analysis.get("note", ""),
        }
    data["files"] = sorted(n for n in outputs if n != "original")
    return data


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() + "Z" if at is not None else None


def _load(ws: Workspace, sha: str | None) -> Any:
    if sha is None:
        return None
    return json.loads(ws.blobs.read_bytes(sha))


def list_items(ws: Workspace) -> list[dict[str, Any]]:
    with ws.db() as session:
        items = session.scalars(select(Item).order_by(Item.created_at.desc())).all()
        return [
            {
                "item_id": i.id,
                "kind": i.kind,
                "duration": round(i.duration, 1),
                "status": i.status,
                "source_status": i.source_status,
                "source_deleted_at": _iso(i.source_deleted_at),
                "created_at": i.created_at.isoformat() + "Z",
                "source": i.captures[-1].source if i.captures else "",
            }
            for i in items
        ]
