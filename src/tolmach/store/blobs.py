"""Content-addressed blob store: files named by their sha256 under one root.

Writes go to a temporary file in the same directory, are fsynced, then renamed into place, so a
crash never leaves a half-written blob under a real name. The hash is computed while copying,
in one pass over the bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from tolmach.errors import InputError, NotFoundError

CHUNK = 4 * 1024 * 1024

Progress = Callable[[int, int], None]


def sha256_file(path: Path, on_progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
            done += len(block)
            if on_progress:
                on_progress(done, total)
    return h.hexdigest()


class BlobStore:
    """Blobs under ``root/ab/cd/abcdef...``; ``put_*`` return ``(sha256, size)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFoundError(
                f"Blob {sha256[:12]} is missing from the store at {self.root}.",
                "Run `tolmach verify` to list what is missing; restore it from a backup.",
            ) from None

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as f:
            return f.read()

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        with self._writer() as (f, h, out):
            f.write(data)
            h.update(data)
        return out[0]

    def put_stream(
        self, src: BinaryIO, total: int = 0, on_progress: Progress | None = None
    ) -> tuple[str, int]:
        done = 0
        with self._writer() as (f, h, out):
            while block := src.read(CHUNK):
                h.update(block)
                f.write(block)
                done += len(block)
                if on_progress:
                    on_progress(done, total)
        return out[0]

    def put_file(self, path: Path, on_progress: Progress | None = None) -> tuple[str, int]:
        try:
            with path.open("rb") as src:
                return self.put_stream(src, path.stat().st_size, on_progress)
        except IsADirectoryError:
            raise InputError(
                f"{path} is a folder, not a file.", "Give the path of a file."
            ) from None

    @contextmanager
    def _writer(self) -> Iterator[tuple[BinaryIO, hashlib._Hash, list[tuple[str, int]]]]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        h = hashlib.sha256()
        out: list[tuple[str, int]] = []
        try:
            with os.fdopen(fd, "wb") as f:
                yield f, h, out
                f.flush()
                os.fsync(f.fileno())
                size = f.tell()
            digest = h.hexdigest()
            final = self.path(digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                tmp.unlink()
            else:
                os.chmod(tmp, 0o444)
                os.replace(tmp, final)
                _fsync_dir(final.parent)
            out.append((digest, size))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def iter_shas(self) -> Iterator[str]:
        for p in self.root.glob("??/??/*"):
            if p.is_file() and len(p.name) == 64:
                yield p.name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
