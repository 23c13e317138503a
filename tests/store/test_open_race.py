"""Several processes opening a new SQLite store at once: one migrates, the others wait."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    db = tmp_path / "new" / "tolmach.db"
    code = (
        "import sys, pathlib; from tolmach.store.db import open_db; "
        "open_db(pathlib.Path(sys.argv[1]))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)]) for _ in range(8)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    from tolmach.store.db import make_engine

    engine = make_engine(db)
    assert "items" in inspect(engine).get_table_names()
    engine.dispose()
