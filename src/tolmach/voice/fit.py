"""Fitting one spoken utterance into its segment's time slot: the tempo and the overflow rule.

A segment's slot runs from its start to its end; its *room* runs on to the next segment's
start (or the end of the media). For an utterance of ``natural`` seconds at normal speed:

1. it fits the slot as it is: spoken at normal speed (``fits``). Speech is never slowed down:
   slowed synthetic speech sounds drunk, and a short utterance simply leaves silence;
2. it fits the slot at up to ``max_tempo`` (1.4x): sped up just enough (``sped``);
3. at ``max_tempo`` it still overruns the slot but ends within the room: it runs on into the
   silence after the segment (``overran``, flagged);
4. at ``max_tempo`` it is longer than the room: it is cut at the next segment's start with a
   short fade (``truncated``, flagged) so that two utterances never talk over each other.

Only ``fits`` and ``sped`` count as fitting their slot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Outcome = Literal["fits", "sped", "overran", "truncated"]
MIN_SLOT = 0.2  # a zero-length segment still gets a moment


@dataclass(frozen=True)
class Fit:
    """Where and how fast one utterance is spoken (seconds in the media's own time)."""

    start: float
    natural: float  # length at normal speed
    tempo: float  # >= 1.0
    length: float  # length as placed: after the tempo and any cut
    outcome: Outcome
    overflow: float  # seconds past the slot's end

    @property
    def in_slot(self) -> bool:
        return self.outcome in ("fits", "sped")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start", "natural", "length", "overflow"):
            data[key] = round(data[key], 3)
        data["tempo"] = round(self.tempo, 3)
        return data


def fit(start: float, end: float, room_end: float, natural: float, max_tempo: float) -> Fit:
    """Apply the rule above to one utterance."""
    slot = max(MIN_SLOT, end - start)
    room = max(slot, room_end - start)
    if natural <= slot:
        return Fit(start, natural, 1.0, natural, "fits", 0.0)
    if natural / max_tempo <= slot:
        tempo = natural / slot
        return Fit(start, natural, tempo, natural / tempo, "sped", 0.0)
    length = natural / max_tempo
    if length <= room:
        return Fit(start, natural, max_tempo, length, "overran", length - slot)
    return Fit(start, natural, max_tempo, room, "truncated", room - slot)


def rooms(spans: list[tuple[float, float]], media_end: float) -> list[float]:
    """Each span's room end: the next span's start, or the media's end for the last one."""
    ends = []
    for n, (_start, end) in enumerate(spans):
        following = spans[n + 1][0] if n + 1 < len(spans) else max(media_end, end)
        ends.append(max(end, following))
    return ends
