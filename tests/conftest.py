"""Shared fixtures: temporary settings, database and blob store; the shared test material."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tolmach.config import Settings
from tolmach.store.blobs import BlobStore
from tolmach.store.db import open_db

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


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
