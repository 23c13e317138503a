"""Shared fixtures: temporary settings, database and blob store; the shared test material."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.store.blobs import BlobStore
from tolmach.store.db import open_db

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RU_WAV = REPO / "samples" / "ru.wav"  # real Russian speech, 5.7 s (MPL-2.0, see samples/)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real test material made by others (see shared/data/SOURCES.md)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", operator="tester")


@pytest.fixture
def db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    factory = open_db(settings.db_path)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def blobs(settings: Settings) -> BlobStore:
    return BlobStore(settings.blob_dir)


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True, timeout=120
    )


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's streams and format of ``path`` as a dict."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)],
        capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    data: dict[str, Any] = json.loads(out)
    return data


class MediaFactory:
    """Small real media files made with ffmpeg, for tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def speech_video(
        self, name: str = "clip.mp4", wav: Path = RU_WAV, size: str = "640x360"
    ) -> Path:
        out = self.root / name
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate=25",
            "-i",
            str(wav),
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            str(out),
        )
        return out

    def silent_video(self, name: str = "silent.mp4", seconds: int = 3, audio: bool = True) -> Path:
        out = self.root / name
        args = ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}"]
        if audio:
            args += ["-f", "lavfi", "-i", f"anullsrc=r=16000:cl=mono:d={seconds}", "-c:a", "aac"]
        ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out))
        return out

    def audio(self, name: str = "voice.m4a", wav: Path = RU_WAV) -> Path:
        out = self.root / name
        ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", "64k", str(out))
        return out


@pytest.fixture
def media(tmp_path: Path) -> MediaFactory:
    return MediaFactory(tmp_path / "media")
