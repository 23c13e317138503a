"""Links between items: same unit, follow-up in time, retracts; suggested until confirmed.

Two items are compared by what their analyses name (units by number and type, places and
people by English name) and by when they were captured. Kinds written here:

- ``same-unit``: both name the same unit ("96th Regiment").
- ``follow-up``: the later one was posted (or, where the post time is unknown, captured)
  within ``window_h`` hours of the earlier and they share a unit, a place, a person or the
  source account that posted them.
- ``retracts``: the later one takes back or blanket-denies at least one complaint of the
  earlier one (``retractions.view``), or apologises for a previous statement while sharing a
  unit, place or person.

Near-duplicate links come from the picture fingerprints, elsewhere. Every link here is a
suggestion (``{"confirmed": false}``) until a person confirms it.

    suggest(first, second)   # [Suggested('b', 'a', 'same-unit', 1.0, {...}), ...]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tolmach.analysis import retractions

KINDS = ("same-unit", "follow-up", "retracts")
WINDOW_H = 72.0


@dataclass(frozen=True)
class ItemFacts:
    id: str
    at: datetime  # when it was posted, where known, else when it was captured (UTC)
    analysis: dict[str, Any]
    account: str = ""  # the source account that posted it (a URL capture's uploader)

    def names(self, kind: str) -> set[str]:
        got = {e["english"] for e in self.analysis.get("entities", ()) if e["kind"] == kind}
        if kind == "unit":  # "96th Motor Rifle Regiment" and "96th Regiment" are one unit
            return {f"{n.split()[0]} {n.split()[-1]}" for n in got}
        return got


@dataclass(frozen=True)
class Suggested:
    item_id: str  # the later item
    other_id: str  # the earlier item
    kind: str
    score: float
    detail: dict[str, Any] = field(default_factory=dict)


def suggest(a: ItemFacts, b: ItemFacts, window_h: float = WINDOW_H) -> list[Suggested]:
    """The links between two items, directed from the later to the earlier.

    A later statement that names no unit, place or person of the earlier one is still taken
    to come from the same speakers when it apologises for a previous statement, was captured
    within ``window_h`` hours and answers at least one of the earlier complaints; such links
    say ``"basis": "inferred"`` (a recantation rarely repeats who is speaking).
    """
    earlier, later = sorted((a, b), key=lambda f: (f.at, f.id))
    shared = {
        kind: sorted(earlier.names(kind) & later.names(kind))
        for kind in ("unit", "place", "person")
    }
    shared["account"] = [earlier.account] if earlier.account == later.account != "" else []
    hours = (later.at - earlier.at).total_seconds() / 3600
    result = retractions.view(earlier.analysis["claims"], later.analysis["claims"])
    n = retractions.counts(result)
    answered = n["retracted"] + n["blanket"]
    apology = any(c["stance"] == "retraction" for c in later.analysis["claims"])
    basis = "named"
    if not any(shared.values()) and apology and answered and hours <= window_h:
        basis = "inferred"
        shared = {kind: sorted(earlier.names(kind)) for kind in ("unit", "place", "person")}
        shared["account"] = []
    base = {"confirmed": False, "basis": basis, "shared": shared}
    out: list[Suggested] = []
    if shared["unit"]:
        out.append(Suggested(later.id, earlier.id, "same-unit", 1.0, dict(base)))
    related = any(shared.values())
    if related and hours <= window_h:
        score = 1.0 - hours / window_h
        out.append(
            Suggested(
                later.id,
                earlier.id,
                "follow-up",
                round(score, 3),
                base | {"hours": round(hours, 2)},
            )
        )
    if related and (answered or apology):
        total = max(1, sum(n.values()))
        out.append(
            Suggested(
                later.id,
                earlier.id,
                "retracts",
                round(answered / total, 3),
                base | {"counts": n, "apology": apology},
            )
        )
    return out
