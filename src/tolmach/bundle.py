"""Evidence bundles: one zip with an item's bytes, its proof, and a manifest of sha256s.

Layout (every file listed in manifest.json with its sha256 and size):

    manifest.json                     item, captures, timestamps, files
    original.<ext>                    the original bytes
    captures/<id>/record.json         each capture record (what the timestamps are over)
    captures/<id>/files/<name>        the capture's files (web archive, screenshot, page info)
    captures/<id>/timestamps/<n>.tsr  RFC 3161 tokens, and <n>.certs.pem the authority's chain
    custody.jsonl                     the item's custody entries, hashed and chained
    outputs/<name>                    the pipeline's current outputs

:mod:`tolmach.bundle_check` checks a bundle offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tolmach import __version__, custody, timestamp
from tolmach.bundle_check import BundleReport, verify_bundle
from tolmach.errors import InputError
from tolmach.export import INTERNAL, safe_name
from tolmach.store import queries
from tolmach.store.blobs import BlobStore
from tolmach.store.tables import Capture, Event, Timestamp
from tolmach.verify import hash_path

__all__ = ["BundleReport", "export_bundle", "verify_bundle"]

SCHEMA = "tolmach.bundle/1"
_STORED = {".mp4", ".mkv", ".webm", ".mov", ".m4a", ".mp3", ".jpg", ".png", ".wacz", ".zip"}


def export_bundle(
    db: sessionmaker[Session], blobs: BlobStore, actor: str, item_ref: str, dest: Path
) -> dict[str, Any]:
    """Write the bundle of one item to ``dest`` (atomically); return its manifest."""
    with db() as session:
        item = queries.get_item(session, item_ref)
        files: list[tuple[str, str, str]] = []  # (zip name, blob sha256, role)
        original = f"original.{item.ext}" if item.ext else "original"
        files.append((original, item.sha256, "original"))
        captures: list[dict[str, Any]] = []
        certs: list[tuple[str, str]] = []  # (zip name of the certificates, token sha256)
        caps = session.scalars(
            select(Capture).where(Capture.item_id == item.id).order_by(Capture.id)
        )
        for cap in caps:
            base = f"captures/{cap.id}"
            files.append((f"{base}/record.json", cap.record_sha256, "capture-record"))
            cap_files = []
            for f in json.loads(cap.files_json or "[]"):
                name = f"{base}/files/{safe_name(f.get('name', ''))}"
                if f["sha256"] == item.sha256:
                    name = original  # the captured media itself: not stored twice
                else:
                    name = _add(files, name, str(f["sha256"]), str(f.get("role", "capture-file")))
                cap_files.append({**f, "path": name})
            stamps = []
            rows = session.scalars(select(Timestamp).where(Timestamp.capture_id == cap.id))
            for ts in rows:
                token = f"{base}/timestamps/{ts.id}.tsr"
                files.append((token, ts.token_sha256, "timestamp-token"))
                certs.append((f"{base}/timestamps/{ts.id}.certs.pem", ts.token_sha256))
                stamps.append(
                    {
                        "token": token,
                        "certs": f"{base}/timestamps/{ts.id}.certs.pem",
                        "stamped_sha256": ts.stamped_sha256,
                        "tsa_url": ts.tsa_url,
                        "gen_time": custody.iso(ts.gen_time),
                    }
                )
            captures.append(
                {
                    "id": cap.id,
                    "kind": cap.kind,
                    "source": cap.source,
                    "url": cap.url,
                    "captured_at": custody.iso(cap.captured_at),
                    "operator": cap.operator,
                    "tool_version": cap.tool_version,
                    "record": f"{base}/record.json",
                    "record_sha256": cap.record_sha256,
                    "files": cap_files,
                    "timestamps": stamps,
                }
            )
        for run in queries.latest_runs(session, item.id):
            for o in run.outputs:
                if o.name not in INTERNAL:
                    _add(files, f"outputs/{safe_name(o.name)}", o.sha256, f"output:{run.stage}")
        events = session.scalars(select(Event).where(Event.item_id == item.id).order_by(Event.id))
        log_lines = "".join(custody.canonical(custody.entry_dict(e)) + "\n" for e in events)
        item_id, item_sha = item.id, item.sha256
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    listed: list[dict[str, Any]] = []
    try:
        with zipfile.ZipFile(tmp_name, "w", allowZip64=True) as zf:
            for name, sha, role in files:
                listed.append(_put_blob(zf, blobs, name, sha, role))
            for certs_name, token_sha in certs:  # the authority's chain, for openssl -untrusted
                _, _, pems = timestamp.read_token(blobs.read_bytes(token_sha))
                listed.append(_put_bytes(zf, certs_name, pems.encode(), "timestamp-certs"))
            listed.append(_put_bytes(zf, "custody.jsonl", log_lines.encode(), "custody"))
            manifest = {
                "schema": SCHEMA,
                "item_id": item_id,
                "sha256": item_sha,
                "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "tool": {"name": "tolmach", "version": __version__},
                "review": "machine output, unreviewed",
                "captures": captures,
                "files": listed,
            }
            text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
            zf.writestr("manifest.json", text, zipfile.ZIP_DEFLATED)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    with db.begin() as session:
        custody.append(
            session,
            kind="exported",
            actor=actor,
            item_id=item_id,
            subject=dest.name,
            detail={"format": SCHEMA, "sha256": hash_path(dest), "files": len(listed)},
        )
    return manifest


def _add(files: list[tuple[str, str, str]], name: str, sha: str, role: str) -> str:
    """Add a file under ``name``, or "name-2.ext" when one capture has two files of one name;
    return the name it got."""
    used = {f[0] for f in files}
    stem, dot, ext = name.rpartition(".") if "." in Path(name).name else (name, "", "")
    n, final = 1, name
    while final in used:
        n += 1
        final = f"{stem}-{n}{dot}{ext}"
    files.append((final, sha, role))
    return final


def _method(name: str) -> int:
    return zipfile.ZIP_STORED if Path(name).suffix.lower() in _STORED else zipfile.ZIP_DEFLATED


def _put_blob(
    zf: zipfile.ZipFile, blobs: BlobStore, name: str, sha: str, role: str
) -> dict[str, Any]:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = _method(name)
    h = hashlib.sha256()
    size = 0
    with blobs.open(sha) as src, zf.open(info, "w", force_zip64=True) as out:
        while block := src.read(4 * 1024 * 1024):
            h.update(block)
            out.write(block)
            size += len(block)
    if h.hexdigest() != sha:  # never seal a corrupted copy into a bundle as if it were good
        raise InputError(
            f"The store's copy of {name} (blob {sha[:16]}) has changed; no bundle was written.",
            "Run `tolmach verify` and restore the blob from a backup.",
        )
    return {"name": name, "sha256": sha, "size": size, "role": role}


def _put_bytes(zf: zipfile.ZipFile, name: str, data: bytes, role: str) -> dict[str, Any]:
    zf.writestr(name, data, zipfile.ZIP_DEFLATED)
    return {
        "name": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "role": role,
    }
