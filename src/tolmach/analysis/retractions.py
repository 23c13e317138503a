"""Retractions: what a later statement takes back from an earlier one, claim by claim.

Each complaint of the earlier item lands in exactly one group:

- ``retracted``: a later claim on the same topic, or on a topic that covers it ("fully
  supplied" covers water, food, clothing and equipment), takes the opposite stance
  (an affirmation or a specific denial).
- ``blanket``: only a blanket denial speaks to it: "претензий к командованию не имеем" covers
  the claims on command (as topic, or named in the claim), "ни к снабжению" those on water,
  food, clothing, equipment and medical care; "претензий не имеем" covers all.
  A withdrawal of the whole appeal ("мы отказываемся от своих слов") covers every claim,
  but only when the later statement answers none by itself.
- ``never_addressed``: nothing later speaks to it. An apology for "the previous video" is
  shown beside the groups but does not, by itself, take back any one claim.

    view(first["claims"], second["claims"])["retracted"][0]["claim"]["topic"]   # 'water'
"""

from __future__ import annotations

from typing import Any

from tolmach.analysis import topics

GROUPS = ("retracted", "blanket", "never_addressed")
OPPOSITE = {"affirmation", "denial"}  # what takes back a complaint


def _brief(claim: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "topic", "stance", "text", "english", "t_start", "t_end", "segments")
    return {k: claim.get(k) for k in keys}


def _covers_blanket(blanket: dict[str, Any], claim: dict[str, Any], tax: topics.Taxonomy) -> bool:
    """A blanket denial covers a claim on a topic it names (or one such a topic covers: "к
    снабжению" answers water, clothing, ...), a claim that names one of its topics, or every
    claim when it names no topic."""
    if blanket["topic"] == topics.GENERAL:
        return True
    named = {blanket["topic"], *blanket.get("also", ())} - {topics.GENERAL}
    also = set(claim.get("also", ()))
    return any(tax.answers(t, claim["topic"]) or t in also for t in named)


def view(
    earlier: list[dict[str, Any]],
    later: list[dict[str, Any]],
    taxonomy: topics.Taxonomy | None = None,
) -> dict[str, Any]:
    """The retraction view of ``earlier``'s claims by ``later``'s (analysis.json claim rows)."""
    tax = taxonomy or topics.load()
    groups: dict[str, list[dict[str, Any]]] = {g: [] for g in GROUPS}
    specific = [c for c in later if not c.get("blanket")]
    answers = [c for c in specific if c["stance"] in OPPOSITE]
    # a withdrawal of the whole appeal ("беремо свої слова назад") covers what is left only
    # when the follow-up answers nothing by itself
    blankets = [
        c for c in later if c.get("blanket") and (c["stance"] != "retraction" or not answers)
    ]
    for claim in earlier:
        if claim["stance"] != "complaint":
            continue
        by = [c for c in answers if tax.answers(c["topic"], claim["topic"])]
        if by:
            groups["retracted"].append({"claim": _brief(claim), "by": [_brief(c) for c in by]})
            continue
        cover = [c for c in blankets if _covers_blanket(c, claim, tax)]
        if cover:
            groups["blanket"].append({"claim": _brief(claim), "by": [_brief(c) for c in cover]})
        else:
            groups["never_addressed"].append({"claim": _brief(claim), "by": []})
    context = [_brief(c) for c in later if c["stance"] in {"retraction", "explanation"}]
    return {**groups, "context": context}


def counts(result: dict[str, Any]) -> dict[str, int]:
    return {g: len(result[g]) for g in GROUPS}
