"""The content-addressed blob store."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from tolmach.errors import InputError, NotFoundError
from tolmach.store.blobs import BlobStore, sha256_file


def test_put_bytes_is_content_addressed_and_read_only(blobs: BlobStore) -> None:
    sha, size = blobs.put_bytes(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert size == 5
    path = blobs.path(sha)
    assert path.read_bytes() == b"hello"
    assert path.stat().st_mode & 0o222 == 0
    assert blobs.put_bytes(b"hello") == (sha, 5)
    assert list(blobs.iter_shas()) == [sha]


def test_put_file_hashes_in_one_pass_with_progress(blobs: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * (9 * 1024 * 1024 + 7))
    seen: list[tuple[int, int]] = []
    sha, size = blobs.put_file(src, lambda d, t: seen.append((d, t)))
    assert sha == sha256_file(src)
    assert size == src.stat().st_size
    assert seen[-1] == (size, size) and len(seen) == 3


def test_failed_write_leaves_nothing(blobs: BlobStore) -> None:
    class Broken(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise OSError("disk went away")
            return super().read(4)

    with pytest.raises(OSError):
        blobs.put_stream(Broken(b"abcdefgh"))
    assert list(blobs.iter_shas()) == []
    assert list((blobs.root / "tmp").iterdir()) == []


def test_missing_blob_and_folder_input(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        blobs.open("0" * 64)
    with pytest.raises(InputError):
        blobs.put_file(tmp_path)
