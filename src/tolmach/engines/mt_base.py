"""The translation engine interface, shared by every engine in ``mt`` and the fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tolmach.models import ModelRef


@dataclass(frozen=True)
class TranslationRequest:
    """One source segment to translate, with its neighbours as context (not to be translated)."""

    text: str
    source_language: str  # "ru", "uk"
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    glossary: dict[str, str] = field(default_factory=dict)  # source term -> fixed English
    start: float = 0.0  # segment times, for engines that work on audio (whisper)
    end: float = 0.0


class Translator(Protocol):
    """Translate one segment into English.

    engine = make_translator(settings)
    english = engine.translate(TranslationRequest("Нам не хватает воды.", "ru"))
    """

    name: str

    def model_ref(self) -> ModelRef: ...

    def translate(self, request: TranslationRequest) -> str: ...
