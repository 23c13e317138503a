"""What a stage gets (``StageContext``) and what it gives back (``StageResult``).

A stage is a plain function ``def run(ctx: StageContext) -> StageResult``. It reads its inputs by
name, writes nothing outside ``ctx.work_dir``, and returns its files; the runner stores them.

    def run(ctx: StageContext) -> StageResult:
        transcript = Transcript.from_dict(ctx.read_json("transcript.json"))
        ...
        return StageResult(files={"translation.json": json_bytes(data)}, engine="llama")
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tolmach.config import Settings
from tolmach.errors import NotFoundError
from tolmach.models import ModelRef
from tolmach.store.blobs import BlobStore

Progress = Callable[[float, float], None]


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()


@dataclass(frozen=True)
class ItemInfo:
    """A read-only snapshot of the item a stage works on."""

    id: str
    sha256: str
    ext: str
    kind: str  # video or audio
    duration: float
    media: dict[str, Any]  # ffprobe facts from the capture


@dataclass
class StageContext:
    item: ItemInfo
    settings: Settings
    blobs: BlobStore
    inputs: dict[str, str]  # file name -> sha256 of every output so far, plus "original"
    work_dir: Path
    on_progress: Progress = field(default=lambda done, total: None)

    def path(self, name: str) -> Path:
        """The blob path of an input (read-only)."""
        try:
            return self.blobs.path(self.inputs[name])
        except KeyError:
            raise NotFoundError(f"Input {name} is missing for item {self.item.id}.") from None

    def has(self, name: str) -> bool:
        return name in self.inputs

    def read_bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def read_json(self, name: str) -> Any:
        return json.loads(self.read_bytes(name))


@dataclass
class StageResult:
    """Files to store (bytes, or a path inside work_dir) and how they were made."""

    files: dict[str, bytes | Path] = field(default_factory=dict)
    engine: str = ""
    model: ModelRef | None = None
    summary: dict[str, Any] = field(default_factory=dict)
