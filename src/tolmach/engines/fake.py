"""Fake engines for unit tests of the pipeline; never a substitute for testing the real ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from tolmach.engines.mt_base import TranslationRequest
from tolmach.models import ModelRef


@dataclass
class FakeTranslator:
    """Answers from a fixed table (or ``EN: <source>``) and records every request it gets.

    fake = FakeTranslator({"Нам не хватает воды.": "We lack water."})
    fake.translate(TranslationRequest("Нам не хватает воды.", "ru"))   # 'We lack water.'
    fake.requests[0].before                                            # ()
    """

    answers: dict[str, str] = field(default_factory=dict)
    name: str = "fake"
    requests: list[TranslationRequest] = field(default_factory=list)

    def model_ref(self) -> ModelRef:
        return ModelRef("fake-mt", "0" * 64, source="test")

    def translate(self, request: TranslationRequest) -> str:
        self.requests.append(request)
        return self.answers.get(request.text, f"EN: {request.text}")
