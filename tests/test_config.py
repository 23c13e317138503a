"""Settings: every setting documented; sources and their order."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tolmach.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    for name, field in Settings.model_fields.items():
        assert f"`{name}`" in text, f"{name} missing from docs/settings.md"
        assert field.description, f"{name} has no description"


def test_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tolmach.toml").write_text('mt_engine = "openai"\nasr_beam_size = 3\n')
    monkeypatch.setenv("TOLMACH_ASR_BEAM_SIZE", "2")
    s = Settings()
    assert s.mt_engine == "openai" and s.asr_beam_size == 2
    assert Settings(asr_beam_size=7).asr_beam_size == 7


def test_bad_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        Settings(mt_engine="babelfish")  # type: ignore[arg-type]


def test_secrets_are_not_recorded() -> None:
    assert "mt_api_key" not in Settings(mt_api_key="secret").public()
