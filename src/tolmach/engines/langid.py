"""Offline text language identification (lingua), used to check Whisper's language choice."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# Close neighbours are always in the running, so a Belarusian or Bulgarian text is not forced
# into one of the candidates.
NEIGHBOURS = ("ru", "uk", "be", "bg")


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    langs = [Language.from_iso_code_639_1(IsoCode639_1.from_str(c)) for c in codes]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def identify(text: str, candidates: Sequence[str]) -> dict[str, float]:
    """Confidence of each language (candidates and close neighbours) for ``text``."""
    codes = tuple(sorted(set(candidates) | set(NEIGHBOURS)))
    if not text.strip():
        return {}
    values = _detector(codes).compute_language_confidence_values(text)
    return {
        v.language.iso_code_639_1.name.lower(): round(v.value, 4) for v in values if v.value > 0
    }
