"""Alembic migrations: every revision upgrades a store with data in it, and the newest schema
matches the tables the code declares; on SQLite, or on an empty PostgreSQL database when the
tests run on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from conftest import postgres
from tolmach.distributed import claims  # noqa: F401  (its table joins Base.metadata)
from tolmach.search_terms import terms, tsquery, tsvector
from tolmach.store import desk  # noqa: F401  (its tables join Base.metadata)
from tolmach.store.db import MIGRATIONS, make_engine, migrate
from tolmach.store.tables import Base


def _schema_diff(conn: Connection) -> list[object]:
    """What the migrated schema lacks or has beyond the declared tables (the FTS5 index and
    its shadow tables are made by the migration alone)."""

    def declared(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return not (name or "").startswith("segment_search")  # with its indexes

    ctx = MigrationContext.configure(conn, opts={"include_object": declared})
    return list(compare_metadata(ctx, Base.metadata))


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the test's PostgreSQL database emptied."""
    pg = postgres()
    if pg is None:
        return f"sqlite:///{tmp_path / 'old.db'}"
    pg.drop(pg.current)
    pg.run(f"CREATE DATABASE {pg.current}")
    return pg.url(pg.current)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _store_at(url: str, revision: str) -> tuple[Engine, Config]:
    """A new store migrated only as far as ``revision``."""
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return engine, cfg


def test_upgrade_with_data_downgrade_and_schema_matches(empty_url: str) -> None:
    engine, cfg = _store_at(empty_url, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "insert into items values ('abc', 'x', 1, 'mp4', 'video', 1.0, '{}', "
            "'2026-01-01', 'ingested')"
        )
        conn.exec_driver_sql(
            "insert into events (item_id, at, actor, kind, detail_json) "
            "values ('abc', '2026-01-01', 'me', 'captured', '{}')"
        )
    migrate(engine)
    with engine.begin() as conn:
        assert _schema_diff(conn) == []
        item = conn.exec_driver_sql("select source_status from items").fetchone()
        event = conn.exec_driver_sql("select item_id, hash from events").fetchone()
    assert item == ("unknown",) and event == ("abc", "")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        assert conn.exec_driver_sql("select count(*) from events").fetchone() == (1,)
        command.upgrade(cfg, "head")


def test_claims_table_up_and_down(empty_url: str) -> None:
    engine, cfg = _store_at(empty_url, "0002")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "insert into items (id, sha256, size, ext, kind, duration, media_json, created_at, "
            "status, source_status) values ('abc', 'x', 1, 'txt', 'text', 0.0, '{}', "
            "'2026-01-01', 'ingested', 'unknown')"
        )
    migrate(engine)
    with engine.begin() as conn:
        assert _schema_diff(conn) == []
        conn.exec_driver_sql(
            "insert into claims (item_id, number, topic, stance, blanket, text, english, "
            "analysis_sha256) values ('abc', 1, 'water', 'complaint', false, 'Нет воды', '', 'y')"
        )
        row = conn.exec_driver_sql("select topic, t_start from claims").fetchone()
    assert row == ("water", None)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        tables = _tables(conn)
        assert "claims" not in tables and "items" in tables
        assert conn.exec_driver_sql("select count(*) from items").fetchone() == (1,)
        command.upgrade(cfg, "head")


def test_desk_tables_up_and_down(empty_url: str) -> None:
    engine, cfg = _store_at(empty_url, "0003")
    migrate(engine)
    source, english = "Нам не выплатили деньги", "We were not paid"
    row: dict[str, object] = {"source": source, "english": english, "item_id": "abc", "seg": 3}
    row |= {"t_start": 1.5, "t_end": 4.0}
    with engine.begin() as conn:
        assert _schema_diff(conn) == []
        if conn.dialect.name == "sqlite":  # FTS5
            found = text("select seg from segment_search where segment_search match 'выплатили'")
        else:  # a tsvector with a GIN index
            row["terms"] = tsvector(source, english)
            found = text("select seg from segment_search where terms @@ CAST(:q AS tsquery)")
            found = found.bindparams(q=tsquery(terms("выплатили")))
        values = ", ".join(f"CAST(:{k} AS tsvector)" if k == "terms" else f":{k}" for k in row)
        conn.execute(text(f"insert into segment_search ({', '.join(row)}) values ({values})"), row)
        hit = conn.execute(found).fetchone()
    assert hit == (3,)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        assert not {"users", "segment_search"} & _tables(conn)
        command.upgrade(cfg, "head")
