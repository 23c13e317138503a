"""Rich progress bars for the CLI: bytes while ingesting, one bar per pipeline stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from tolmach.pipeline.runner import STAGES


@contextmanager
def ingest_progress(console: Console, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    if quiet:
        yield lambda done, total: None
        return
    with Progress(
        TextColumn("ingest    "),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


class StageProgress:
    """Draws ``runner`` events: one bar per stage, marked done or skipped (already done)."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self._quiet = quiet
        self._progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> StageProgress:
        if not self._quiet:
            self._progress.start()
            for stage in STAGES:
                self._tasks[stage.name] = self._progress.add_task(stage.name, total=1, start=False)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._quiet:
            self._progress.stop()

    def on_event(self, stage: str, kind: str, done: float, total: float) -> None:
        if self._quiet or stage not in self._tasks:
            return
        task = self._tasks[stage]
        if kind == "start":
            self._progress.start_task(task)
        elif kind == "progress" and total > 0:
            self._progress.update(task, completed=done, total=total)
        elif kind == "skip":
            self._progress.update(task, description=f"{stage} (already done)", completed=1, total=1)
        elif kind == "done":
            t = self._progress.tasks[self._tasks[stage]]
            self._progress.update(task, completed=t.total or 1)
