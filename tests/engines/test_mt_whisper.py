"""The whisper engine: Whisper base's own speech translation of a real Russian clip (a fallback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RU_WAV
from tolmach.config import Settings
from tolmach.engines.mt import make_translator
from tolmach.engines.mt_base import TranslationRequest
from tolmach.errors import EngineError

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def settings_models(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("mt-whisper"), mt_engine="whisper")


def test_whisper_translates_the_segment_audio(settings_models: Settings) -> None:
    engine = make_translator(settings_models, audio=RU_WAV)
    english = engine.translate(TranslationRequest("", "ru", start=0.0, end=5.7))
    assert english.strip() and all(ord(c) < 0x400 for c in english)  # English, not Cyrillic
    assert engine.model_ref().name == "whisper-base"
    # A slice too short to hold speech gives nothing rather than a guess.
    assert engine.translate(TranslationRequest("", "ru", start=1.0, end=1.05)) == ""


def test_whisper_unreadable_audio(settings_models: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "audio.wav"
    bad.write_bytes(b"RIFF not audio")
    with pytest.raises(EngineError, match="audio"):
        make_translator(settings_models, audio=bad)
