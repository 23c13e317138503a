"""Export an item's current files to a folder, with a manifest that says how each was made."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tolmach import __version__, custody
from tolmach.store import queries
from tolmach.store.blobs import BlobStore

# Intermediate files that stay in the store but are not part of an export.
INTERNAL = {"audio.wav"}


def export_item(
    db: sessionmaker[Session],
    blobs: BlobStore,
    item_ref: str,
    out_dir: Path,
    actor: str = "unknown",
) -> dict[str, Any]:
    """Write the item's files into ``out_dir``; return the manifest (also written there)."""
    with db() as session:
        item = queries.get_item(session, item_ref)
        capture = queries.latest_capture(session, item.id)
        entries: list[dict[str, Any]] = [
            _entry(
                f"original.{item.ext}" if item.ext else "original",
                item.sha256,
                item.size,
                {"stage": "ingest", "source": capture.source},
            ),
            _entry("capture.json", capture.record_sha256, 0, {"stage": "ingest"}),
        ]
        for f in json.loads(capture.files_json or "[]"):  # a URL capture's WACZ, screenshot...
            if f["sha256"] != item.sha256:  # the media itself is the original
                how = {"stage": "ingest", "role": f.get("role", ""), "source": capture.url}
                entries.append(_entry(safe_name(f["name"]), f["sha256"], f["size"], how))
        for run in queries.latest_runs(session, item.id):
            how = {
                "stage": run.stage,
                "engine": run.engine,
                "model": {"name": run.model_name, "sha256": run.model_sha256}
                if run.model_name
                else None,
                "settings": json.loads(run.settings_json),
                "tool_version": run.tool_version,
                "run_id": run.id,
                "made_at": run.finished_at.isoformat() + "Z",
            }
            entries.extend(
                _entry(o.name, o.sha256, o.size, how) for o in run.outputs if o.name not in INTERNAL
            )
        status, item_id = item.status, item.id
    out_dir.mkdir(parents=True, exist_ok=True)
    for e in entries:
        _copy(blobs, e["sha256"], out_dir / e["name"])
        e["size"] = (out_dir / e["name"]).stat().st_size
    manifest = {
        "schema": "tolmach.manifest/1",
        "item_id": item_id,
        "status": status,
        "review": "machine output, unreviewed",
        "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "tool": {"name": "tolmach", "version": __version__},
        "files": entries,
    }
    tmp = out_dir / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    os.replace(tmp, out_dir / "manifest.json")
    with db.begin() as session:
        custody.append(
            session,
            kind="exported",
            actor=actor,
            item_id=item_id,
            subject=str(out_dir),
            detail={
                "format": "folder",
                "manifest_sha256": hashlib.sha256(
                    (out_dir / "manifest.json").read_bytes()
                ).hexdigest(),
                "files": len(entries),
            },
        )
    return manifest


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder: no separators, no leading dots."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", Path(str(name)).name).lstrip(".")
    return clean[:120] or "file"


def _entry(name: str, sha: str, size: int, how: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "sha256": sha, "size": size, **how}


def _copy(blobs: BlobStore, sha: str, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp")
    with blobs.open(sha) as src, tmp.open("wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    os.replace(tmp, dest)
