"""Shared fixtures: temporary settings, database and blob store; the shared test material.

Tests run on SQLite (a file in each test's data folder) unless ``TOLMACH_TEST_DATABASE_URL``
names a PostgreSQL server and a superuser (``scripts/with-postgres`` starts a throwaway one):
then each test gets a database of its own, copied from a template migrated once, and
``TOLMACH_DATABASE_URL`` names it for the test, so every ``Settings`` the test makes, and every
``tolmach`` it runs as a subprocess with its environment, uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from tolmach.config import Settings
from tolmach.store.blobs import BlobStore
from tolmach.store.db import make_engine, migrate, normal_url, open_db

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RU_WAV = REPO / "samples" / "ru.wav"  # real Russian speech, 5.7 s (MPL-2.0, see samples/)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real test material made by others (see shared/data/SOURCES.md)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


class Postgres:
    """The PostgreSQL server of a test session: a template database with the schema, and
    databases made from it (``CREATE DATABASE ... TEMPLATE`` copies files: milliseconds)."""

    def __init__(self, url: str) -> None:
        self.server = make_url(normal_url(url))
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.template = f"tolmach_template_{os.getpid()}"
        self.stores: dict[Path, str] = {}  # data folders built for several tests -> database
        self.current = ""  # the running test's database
        self.others: list[str] = []  # more databases of the running test
        self.run(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
        self.run(f"CREATE DATABASE {self.template}")
        engine = make_engine(self.url(self.template))
        migrate(engine)
        engine.dispose()

    def run(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str = "") -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.run(f"CREATE DATABASE {name} TEMPLATE {template or self.template}")
        return name

    def drop(self, name: str) -> None:
        self.run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # ends leftover connections

    def close(self) -> None:
        for name in [*self.stores.values(), self.template]:
            self.drop(name)
        self.admin.dispose()


_postgres: list[Postgres] = []


def postgres() -> Postgres | None:
    """The session's PostgreSQL server (made on first use), or None when tests run on SQLite."""
    url = os.environ.get("TOLMACH_TEST_DATABASE_URL", "")
    if url and not _postgres:
        _postgres.append(Postgres(url))
    return _postgres[0] if _postgres else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres:
        _postgres.pop().close()


def store_database(data_dir: Path) -> str:
    """For a fixture wider than one test that builds a store in ``data_dir``: the URL of a
    database of its own ("" on SQLite, where the store is the file in the folder), kept until
    the session ends; :func:`copy_store` copies it with the folder."""
    pg = postgres()
    if pg is None:
        return ""
    pg.stores[data_dir] = pg.create()
    return pg.url(pg.stores[data_dir])


def copy_store(
    source: Path, dest: Path, ignore: Callable[[str, list[str]], set[str]] | None = None
) -> None:
    """Copy a data folder built by a wider fixture into a test's own; on PostgreSQL the test's
    database becomes a copy of the store's (the store's engine must be closed)."""
    shutil.copytree(source, dest, ignore=ignore)
    pg = postgres()
    if pg is not None and source in pg.stores:
        pg.drop(pg.current)
        pg.run(f"CREATE DATABASE {pg.current} TEMPLATE {pg.stores[source]}")


def second_database() -> dict[str, str]:
    """The environment of a second store in the same test: on PostgreSQL a database of its
    own (dropped with the test's); on SQLite nothing, as the data folder holds the store."""
    pg = postgres()
    if pg is None:
        return {}
    pg.others.append(pg.create())
    return {"TOLMACH_DATABASE_URL": pg.url(pg.others[-1])}


@pytest.fixture(autouse=True)
def database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test's database URL: its own PostgreSQL database, or "" for the SQLite file."""
    monkeypatch.delenv("TOLMACH_BLOB_ROOT", raising=False)  # never a deployment's store
    monkeypatch.delenv("TOLMACH_DATABASE_URL", raising=False)
    pg = postgres()
    if pg is None:
        yield ""
        return
    pg.current = pg.create()
    url = pg.url(pg.current)
    monkeypatch.setenv("TOLMACH_DATABASE_URL", url)
    yield url
    for name in [pg.current, *pg.others]:
        pg.drop(name)
    pg.others.clear()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", operator="tester", database_url=database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    factory = open_db(settings.db_url)
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
