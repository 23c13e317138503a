"""The llama engine with the offline GGUF (gemma3-270m) on short real sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolmach.config import Settings
from tolmach.engines.mt import make_translator
from tolmach.engines.mt_base import TranslationRequest, Translator
from tolmach.engines.mt_llama import LlamaTranslator
from tolmach.errors import ConfigError, ModelError
from tolmach.glossary import load

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    return make_translator(Settings(data_dir=tmp_path_factory.mktemp("mt-llama")))


def _en(engine: Translator, text: str, lang: str = "ru", **kw: tuple[str, ...]) -> str:
    req = TranslationRequest(text, lang, glossary=load(None).matches(text), **kw)
    return engine.translate(req).lower()


def test_is_the_catalog_model(engine: Translator) -> None:
    assert isinstance(engine, LlamaTranslator)
    ref = engine.model_ref()
    assert ref.name == "gemma3-270m" and ref.sha256.startswith("a5fd3b62")


def test_water(engine: Translator) -> None:
    english = _en(engine, "Нам не хватает воды.")
    assert "water" in english and "\n" not in english


def test_regiment_number_survives(engine: Translator) -> None:
    english = _en(engine, "Мы, военнослужащие 96-го полка, просим о помощи.")
    assert "96" in english and "regiment" in english


def test_leave_and_context(engine: Translator) -> None:
    english = _en(
        engine,
        "С декабря нас не отпускают в отпуск.",
        before=("Мы стоим на позициях третий месяц.",),
        after=("Обещанные выплаты не платят.",),
    )
    assert "december" in english and "leave" in english
    # Context is for understanding only: the next sentence's content must not leak in.
    assert "payment" not in english


def test_ukrainian(engine: Translator) -> None:
    english = _en(engine, "Нам не вистачає води.", "uk")
    assert "water" in english


def test_empty_and_deterministic(engine: Translator) -> None:
    assert engine.translate(TranslationRequest("  ", "ru")) == ""
    req = TranslationRequest("Командир не отвечает на наши вопросы.", "ru")
    first = engine.translate(req)
    assert first and engine.translate(req) == first


def test_output_is_bounded(engine: Translator) -> None:
    english = engine.translate(TranslationRequest("Да.", "ru"))
    assert len(english) < 80


def test_bad_model_and_engine_names(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF not really")
    with pytest.raises(ModelError):
        make_translator(Settings(data_dir=tmp_path, mt_model=str(bad)))
    with pytest.raises(ModelError, match="Unknown model"):
        make_translator(Settings(data_dir=tmp_path, mt_model="no-such-model"))
    with pytest.raises(ConfigError, match="audio"):
        make_translator(Settings(data_dir=tmp_path, mt_engine="whisper"))
