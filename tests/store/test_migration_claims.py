"""Migration 0003 (claims): upgrades a store with items in it, downgrades cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from tolmach.store.db import MIGRATIONS, make_engine, migrate
from tolmach.store.tables import Base


def test_claims_table_up_and_down(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.exec_driver_sql(
            "insert into items (id, sha256, size, ext, kind, duration, media_json, created_at, "
            "status, source_status) values ('abc', 'x', 1, 'txt', 'text', 0.0, '{}', "
            "'2026-01-01', 'ingested', 'unknown')"
        )
    migrate(engine)
    with engine.begin() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
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
