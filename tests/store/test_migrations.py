"""Alembic migrations: every revision upgrades a store with data in it, and the newest schema
matches the tables the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

from tolmach.distributed import claims  # noqa: F401  (its table joins Base.metadata)
from tolmach.store import desk  # noqa: F401  (its tables join Base.metadata)
from tolmach.store.db import MIGRATIONS, make_engine, migrate
from tolmach.store.tables import Base


def _schema_diff(conn: Connection) -> list[object]:
    """What the migrated schema lacks or has beyond the declared tables (the FTS5 index and
    its shadow tables are made by the migration alone)."""

    def declared(obj: object, name: str | None, type_: str, *_: object) -> bool:
        return not (type_ == "table" and (name or "").startswith("segment_search"))

    ctx = MigrationContext.configure(conn, opts={"include_object": declared})
    return list(compare_metadata(ctx, Base.metadata))


def _store_at(tmp_path: Path, revision: str) -> tuple[Engine, Config]:
    """A new SQLite store migrated only as far as ``revision``."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return engine, cfg


def test_upgrade_with_data_downgrade_and_schema_matches(tmp_path: Path) -> None:
    engine, cfg = _store_at(tmp_path, "0001")
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


def test_claims_table_up_and_down(tmp_path: Path) -> None:
    engine, cfg = _store_at(tmp_path, "0002")
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
            "analysis_sha256) values ('abc', 1, 'water', 'complaint', 0, 'Нет воды', '', 'y')"
        )
        row = conn.exec_driver_sql("select topic, t_start from claims").fetchone()
    assert row == ("water", None)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        tables = {r[0] for r in conn.exec_driver_sql("select name from sqlite_master")}
        assert "claims" not in tables and "items" in tables
        assert conn.exec_driver_sql("select count(*) from items").fetchone() == (1,)
        command.upgrade(cfg, "head")


def test_desk_tables_up_and_down(tmp_path: Path) -> None:
    engine, cfg = _store_at(tmp_path, "0003")
    migrate(engine)
    with engine.begin() as conn:
        assert _schema_diff(conn) == []
        conn.exec_driver_sql(
            "insert into segment_search (source, english, item_id, seg, t_start, t_end) "
            "values ('Нам не выплатили деньги', 'We were not paid', 'abc', 3, 1.5, 4.0)"
        )
        hit = conn.exec_driver_sql(
            "select seg from segment_search where segment_search match 'выплатили'"
        ).fetchone()
    assert hit == (3,)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        assert not conn.exec_driver_sql(
            "select name from sqlite_master where name in ('users', 'segment_search')"
        ).fetchall()
        command.upgrade(cfg, "head")
