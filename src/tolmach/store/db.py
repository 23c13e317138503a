"""Database: an engine for SQLite (WAL) or PostgreSQL (pooled), migrated with Alembic.

    db = open_db(settings.db_url)          # sqlite:///... or postgresql+psycopg://...
    with db.begin() as session:
        ...

Every process that opens the store brings the schema to the newest revision first, so an
upgraded tolmach migrates the database on its first run (Alembic's own version table makes
concurrent openers wait for one another on PostgreSQL, and SQLite's write lock does the same).
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATE_LOCK = 7_346_174  # an advisory-lock number that means "migrating tolmach's schema"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def normal_url(url: str | Path) -> str:
    """The SQLAlchemy URL of ``url``: a path is a SQLite file; a bare ``postgresql://`` URL
    gets the psycopg (3) driver, the one tolmach installs."""
    if isinstance(url, Path):
        return f"sqlite:///{url}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | Path) -> Engine:
    """An engine for ``url``. PostgreSQL connections are pooled (a few per process, checked
    before use so a restarted server costs no failed request) and time out rather than hang."""
    url = normal_url(url)
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(
            url,
            pool_size=5,
            max_overflow=10,
            pool_timeout=30,
            pool_recycle=1800,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "application_name": "tolmach"},
        )
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting at once must not both create the tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_db(url: str | Path) -> sessionmaker[Session]:
    """A session factory on the database at ``url`` (a path: a SQLite file), migrated."""
    parsed = make_url(normal_url(url))
    engine = make_engine(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db_file = Path(parsed.database)
        db_file.parent.mkdir(parents=True, exist_ok=True)
        # SQLite takes its write lock only at the first write, after Alembic has read the
        # version: processes opening a new store at once would all create the tables
        with open(f"{db_file}.migrate-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            migrate(engine)
    else:
        migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)
