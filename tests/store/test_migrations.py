"""Alembic migrations: every revision upgrades a store with data in it, and the newest schema
matches the tables the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from tolmach.store.db import MIGRATIONS, make_engine, migrate
from tolmach.store.tables import Base


def test_upgrade_with_data_downgrade_and_schema_matches(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
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
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        item = conn.exec_driver_sql("select source_status from items").fetchone()
        event = conn.exec_driver_sql("select item_id, hash from events").fetchone()
    assert item == ("unknown",) and event == ("abc", "")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        assert conn.exec_driver_sql("select count(*) from events").fetchone() == (1,)
        command.upgrade(cfg, "head")
