"""Translation engines: ``make_translator`` picks one by ``settings.mt_engine``.

    engine = make_translator(settings)                     # llama, openai, libretranslate, ...
    engine = make_translator(settings, audio=wav_path)     # whisper needs the item's audio
    engine.translate(TranslationRequest("Нам не хватает воды.", "ru"))

Engines (``Translator`` in ``mt_base``):

- ``llama``: a local GGUF through llama.cpp, few-shot prompted (``mt_llama``); a draft.
- ``openai``: any OpenAI-compatible chat endpoint (``mt_http``).
- ``libretranslate``: a LibreTranslate server (``mt_http``); no context, glossary protected.
- ``ctranslate2``: an OPUS-MT/Marian or NLLB CTranslate2 folder (``mt_ct2``).
- ``whisper``: Whisper's own speech translation of the segment's audio (``mt_ct2``); a
  fallback only, it has reversed the meaning of sentences.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tolmach.config import Settings
from tolmach.engines.mt_base import TranslationRequest, Translator
from tolmach.errors import ConfigError

__all__ = ["ENGINES", "LABELS", "TranslationRequest", "Translator", "make_translator"]

Factory = Callable[[Settings, Path | None], Translator]


def _llama(settings: Settings, audio: Path | None) -> Translator:
    from tolmach.engines.mt_llama import LlamaTranslator

    return LlamaTranslator(settings)


def _openai(settings: Settings, audio: Path | None) -> Translator:
    from tolmach.engines.mt_http import OpenAITranslator

    return OpenAITranslator(settings)


def _libretranslate(settings: Settings, audio: Path | None) -> Translator:
    from tolmach.engines.mt_http import LibreTranslator

    return LibreTranslator(settings)


def _ctranslate2(settings: Settings, audio: Path | None) -> Translator:
    from tolmach.engines.mt_ct2 import CT2Translator

    return CT2Translator(settings)


def _whisper(settings: Settings, audio: Path | None) -> Translator:
    from tolmach.engines.mt_ct2 import WhisperTranslator

    if audio is None:
        raise ConfigError(
            "The whisper translation engine needs the item's audio.",
            "Run it through the pipeline, or choose a text engine with --mt-engine.",
        )
    return WhisperTranslator(settings, audio)


ENGINES: dict[str, Factory] = {
    "llama": _llama,
    "openai": _openai,
    "libretranslate": _libretranslate,
    "ctranslate2": _ctranslate2,
    "whisper": _whisper,
}

# How each engine's output is described to readers, beside "machine translation, unreviewed".
LABELS = {"llama": "draft", "whisper": "fallback draft (speech translation)"}


def make_translator(settings: Settings, audio: Path | None = None) -> Translator:
    """The translation engine named by ``settings.mt_engine``; ``audio`` for whisper."""
    try:
        factory = ENGINES[settings.mt_engine]
    except KeyError:
        known = ", ".join(ENGINES)
        raise ConfigError(
            f"Unknown translation engine {settings.mt_engine!r}.", f"Choose one of {known}."
        ) from None
    return factory(settings, audio)
