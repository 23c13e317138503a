"""A workspace: the settings, database and blob store one process works with.

Built explicitly from ``Settings`` (never at import time), so a test makes one in a temporary
folder:

    ws = Workspace.open(Settings(data_dir=tmp_path))
    item = ws.ingest(Path("clip.mp4"))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.export import export_item
from tolmach.pipeline import runner
from tolmach.pipeline.ingest import Ingested, ingest_file
from tolmach.store.blobs import BlobStore, Progress
from tolmach.store.db import open_db


@dataclass
class Workspace:
    settings: Settings
    db: sessionmaker[Session]
    blobs: BlobStore

    @classmethod
    def open(cls, settings: Settings) -> Workspace:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings, open_db(settings.db_url), BlobStore(settings.blob_dir))

    def close(self) -> None:
        self.db.kw["bind"].dispose()

    def ingest(self, path: Path, on_progress: Progress | None = None) -> Ingested:
        return ingest_file(self.db, self.blobs, self.settings, path, on_progress)

    def ingest_url(self, url: str, on_progress: Progress | None = None) -> Ingested:
        """Capture a post at ``url``: media, page archive (WACZ), screenshot, post text."""
        from tolmach.capture.url import capture_url  # the capture stack loads only for URLs

        return capture_url(self.db, self.blobs, self.settings, url, on_progress)

    def process(
        self, item_id: str, on_event: runner.StageEvent = lambda s, k, d, t: None
    ) -> dict[str, dict[str, Any]]:
        return runner.process(self.db, self.blobs, self.settings, item_id, on_event)

    def export(self, item_id: str, out_dir: Path) -> dict[str, Any]:
        return export_item(self.db, self.blobs, item_id, out_dir, self.settings.operator)
