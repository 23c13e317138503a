"""The few queries the stages, CLI and exports share."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tolmach.errors import InputError, NotFoundError
from tolmach.store.tables import Capture, Item, StageRun


def get_item(session: Session, ref: str) -> Item:
    """An item by its id or an unambiguous prefix of it (at least 4 characters)."""
    ref = ref.strip().lower()
    item = session.get(Item, ref)
    if item is not None:
        return item
    if len(ref) >= 4 and ref.isalnum():
        found = session.scalars(select(Item).where(Item.id.startswith(ref)).limit(2)).all()
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InputError(f"Item prefix {ref!r} matches several items.", "Give more of the id.")
    raise NotFoundError(f"No item {ref!r} in this store.", "Run `tolmach list` to see the items.")


def latest_capture(session: Session, item_id: str) -> Capture:
    cap = session.scalars(
        select(Capture).where(Capture.item_id == item_id).order_by(Capture.id.desc())
    ).first()
    if cap is None:
        raise NotFoundError(f"Item {item_id} has no capture record.")
    return cap


def latest_runs(session: Session, item_id: str) -> list[StageRun]:
    """The newest successful run of each stage of an item."""
    newest = (
        select(StageRun.stage, func.max(StageRun.id).label("id"))
        .where(StageRun.item_id == item_id, StageRun.status == "done")
        .group_by(StageRun.stage)
        .subquery()
    )
    return list(
        session.scalars(
            select(StageRun).join(newest, StageRun.id == newest.c.id).order_by(StageRun.id)
        )
    )


def current_outputs(session: Session, item_id: str) -> dict[str, str]:
    """File name -> sha256 of every current output of an item, plus its original."""
    item = get_item(session, item_id)
    outputs = {"original": item.sha256}
    for run in latest_runs(session, item.id):
        for out in run.outputs:
            outputs[out.name] = out.sha256
    return outputs


def last_failure(session: Session, item_id: str) -> StageRun | None:
    return session.scalars(
        select(StageRun)
        .where(StageRun.item_id == item_id, StageRun.status == "failed")
        .order_by(StageRun.id.desc())
    ).first()
