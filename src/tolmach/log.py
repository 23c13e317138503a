"""Logging helpers: a per-item, per-stage adapter so every stage log line carries both."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any


class StageLog(logging.LoggerAdapter[logging.Logger]):
    """Prefix every message with the item id and stage name."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = self.extra or {}
        return f"[{extra.get('item')}:{extra.get('stage')}] {msg}", kwargs


def stage_logger(name: str, item_id: str, stage: str) -> StageLog:
    return StageLog(logging.getLogger(name), {"item": item_id, "stage": stage})


def setup(verbose: bool = False) -> None:
    """Configure handlers; called only by entry points."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
