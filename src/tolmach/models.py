"""Domain values: plain frozen dataclasses that stages pass around and store as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One source-language segment with its word timings."""

    id: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        words = tuple(Word(**w) for w in d.get("words", ()))
        return cls(id=d["id"], start=d["start"], end=d["end"], text=d["text"], words=words)


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    segments: tuple[Segment, ...]
    duration: float = 0.0
    # How the language was decided: detector votes and any re-run, kept for the record.
    language_checks: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        return cls(
            language=d["language"],
            language_probability=d["language_probability"],
            segments=tuple(Segment.from_dict(s) for s in d["segments"]),
            duration=d.get("duration", 0.0),
            language_checks=d.get("language_checks", {}),
        )

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.segments)


@dataclass(frozen=True)
class EnglishSegment:
    """The English for one source segment (same id, same times) and its fidelity flags."""

    id: int
    start: float
    end: float
    text: str
    flags: tuple[str, ...] = ()
    reviewed: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnglishSegment:
        return cls(
            id=d["id"],
            start=d["start"],
            end=d["end"],
            text=d["text"],
            flags=tuple(d.get("flags", ())),
            reviewed=d.get("reviewed", False),
        )


@dataclass(frozen=True)
class Translation:
    source_language: str
    segments: tuple[EnglishSegment, ...]
    engine: str
    model: str
    label: str = "machine translation, unreviewed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Translation:
        return cls(
            source_language=d["source_language"],
            segments=tuple(EnglishSegment.from_dict(s) for s in d["segments"]),
            engine=d["engine"],
            model=d["model"],
            label=d.get("label", "machine translation, unreviewed"),
        )


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: times in seconds and one or two lines of text."""

    start: float
    end: float
    lines: tuple[str, ...]
    index: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class ModelRef:
    """Which model made an output: recorded with every stage output."""

    name: str
    sha256: str
    source: str = ""
