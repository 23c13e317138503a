"""Settings: built once at the entry point from arguments, TOLMACH_* variables and tolmach.toml.

Every setting is declared here with its help text (``Field(description=...)``); a test checks
that each one is documented in docs/settings.md.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tolmach"


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Settings(BaseSettings):
    """All tolmach settings. Construct with ``Settings(**overrides)``; never at import time."""

    model_config = SettingsConfigDict(
        env_prefix="TOLMACH_", toml_file="tolmach.toml", extra="forbid", frozen=True
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Database, blobs, models."
    )
    operator: str = Field(default_factory=_default_operator, description="Who captures and runs.")

    asr_model: str = Field("whisper-base", description="Speech model: a manifest name or a folder.")
    asr_device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Where Whisper runs.")
    asr_compute_type: str = Field("int8", description="CTranslate2 compute type for Whisper.")
    asr_threads: int = Field(0, description="CPU threads for Whisper (0: all cores).")
    asr_beam_size: int = Field(5, description="Beam size for Whisper decoding.")
    asr_batch_size: int = Field(8, description="Batch size of the batched Whisper pipeline.")
    asr_window_s: float = Field(
        900.0, description="Audio is read and transcribed in windows of this many seconds."
    )
    languages: list[str] = Field(
        default_factory=lambda: ["ru", "uk"], description="Candidate source languages."
    )

    mt_engine: Literal["llama", "openai", "libretranslate", "ctranslate2", "whisper"] = Field(
        "llama", description="Translation engine."
    )
    mt_model: str = Field(
        "gemma3-270m", description="llama: manifest name or .gguf path; openai: model name."
    )
    mt_url: str = Field("", description="Server URL for the openai and libretranslate engines.")
    mt_api_key: str = Field("", description="API key for the openai and libretranslate engines.")
    mt_ct2_path: str = Field("", description="Folder of a CTranslate2 translation model.")
    mt_context: int = Field(2, description="Neighbouring segments given to the translator.")
    mt_timeout_s: float = Field(120.0, description="Timeout of one translation request.")
    mt_examples: int = Field(
        8, description="llama: similar example pairs from the bundled bank per segment (0: none)."
    )
    mt_threads: int = Field(0, description="CPU threads for the llama engine (0: all cores).")
    glossary: Path | None = Field(None, description="A glossary TSV of fixed translations.")
    analysis_models: bool = Field(
        True,
        description="Let the learned topic and stance models revise the rules' claims (about 0.6 s "
        "more for a two-minute statement); off: the rules alone.",
    )

    render_vertical: bool = Field(True, description="Also render the 9:16 clip.")
    render_crf: int = Field(23, description="x264 quality (lower is better, larger).")
    render_preset: str = Field("veryfast", description="x264 preset.")
    render_max_s: float = Field(
        3600.0,
        description="Render no clip for media longer than this (subtitles are still made).",
    )

    voice_in_run: bool = Field(
        False, description="Also make the English voice-over (voice stage) in `run` and `process`."
    )
    voice_engine: Literal["piper", "espeak"] = Field(
        "piper", description="Voice-over engine: piper (neural) or espeak (robotic, always there)."
    )
    voice_model: str = Field(
        "",
        description="piper: a voice .onnx path (empty: en_US-joe-medium); "
        "espeak: an espeak-ng voice (empty: en-us).",
    )
    voice_max_tempo: float = Field(
        1.4, ge=1.0, le=2.0, description="Speed an utterance up at most this much to fit its slot."
    )
    voice_loudness: float = Field(
        -16.0, description="Integrated loudness of voice-over clips and narrations (LUFS)."
    )
    c2pa_cert: Path | None = Field(
        None, description="PEM certificate chain (signer first) for C2PA manifests of AI voices."
    )
    c2pa_key: Path | None = Field(None, description="PEM private key of `c2pa_cert` (P-256).")
    c2pa_tsa_url: str = Field("", description="Timestamp authority for C2PA signatures (optional).")

    max_duration_s: float = Field(4 * 3600.0, description="Refuse media longer than this.")

    capture_max_bytes: int = Field(
        2 * 1024**3, description="Refuse a URL capture whose media or page is larger than this."
    )
    capture_timeout_s: float = Field(
        300.0, description="Give up a URL capture (download, archive) after this many seconds."
    )
    capture_screenshot: bool = Field(
        True, description="Take a full-page screenshot of a captured URL with headless Chromium."
    )

    tsa_url: str = Field(
        "", description="RFC 3161 timestamp authority that signs each capture record (empty: off)."
    )
    tsa_timeout_s: float = Field(30.0, description="Timeout of one timestamp request.")

    fingerprint_fps: float = Field(
        8.0, description="Frames a second hashed for the near-duplicate fingerprint."
    )
    fingerprint_max_frames: int = Field(
        2000, description="At most this many distinct frame hashes per item (evenly spread)."
    )
    similar_max_distance: int = Field(
        31,
        ge=0,
        le=31,
        description="Frames this many bits apart (of 256) or fewer match (at most 31).",
    )
    similar_min_share: float = Field(
        0.5, description="Link items when this share of either one's frames is in the other."
    )

    watch_timeout_s: float = Field(20.0, description="Timeout of one source check request.")
    watch_max_redirects: int = Field(
        5, description="Redirects followed when a source URL is checked."
    )
    watch_user_agent: str = Field(
        "Mozilla/5.0 (compatible; tolmach deletion watch)",
        description="User-Agent sent when a source URL is checked.",
    )

    web_host: str = Field("127.0.0.1", description="Address `tolmach serve` listens on.")
    web_port: int = Field(8765, description="Port `tolmach serve` listens on.")
    web_public_url: str = Field(
        "", description="The desk's public address, for links in the feed and JSON-LD."
    )
    web_max_upload_bytes: int = Field(
        2 * 1024**3, description="Refuse an upload larger than this (bytes)."
    )
    web_trusted_proxies: str = Field(
        "",
        description="Addresses of reverse proxies whose X-Forwarded-For is believed "
        "(comma-separated; empty: none).",
    )
    web_session_hours: float = Field(12.0, description="A sign-in lasts this many hours.")
    web_secure_cookies: bool = Field(
        False, description="Mark session cookies Secure (set when the desk is served over HTTPS)."
    )
    web_login_attempts: int = Field(
        5, description="Failed sign-ins allowed per name or address in the login window."
    )
    web_login_window_s: float = Field(
        900.0, description="The window of `web_login_attempts`, in seconds."
    )
    web_processes: int = Field(
        1, ge=1, description="Server processes answering pages (one of them runs the jobs)."
    )
    web_job_workers: int = Field(
        1, description="Jobs the desk runs at once (0: it only queues them)."
    )
    web_job_nice: int = Field(
        10, description="Niceness of job processes, so that pages stay fast while jobs run."
    )

    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database (empty: the SQLite file tolmach.db in "
        "data_dir; or postgresql+psycopg://user:pass@host/db).",
    )
    blob_root: Path | None = Field(
        None, description="Folder of the blob store (empty: blobs/ in data_dir; or a shared mount)."
    )
    job_runner: Literal["inprocess", "celery"] = Field(
        "inprocess",
        description="Who runs pipeline jobs: this process (inprocess) or Celery workers.",
    )
    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Celery broker (Redis) URL, for job_runner=celery."
    )
    broker_visibility_s: float = Field(
        3600.0,
        description="Seconds after which a task a lost worker took is delivered again "
        "(job_runner=celery).",
    )
    claim_stale_s: float = Field(
        60.0,
        description="Seconds without a heartbeat after which a worker's stage is taken over.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def db_path(self) -> Path:
        return self.data_dir / "tolmach.db"

    @property
    def blob_dir(self) -> Path:
        return self.blob_root or self.data_dir / "blobs"

    @property
    def db_url(self) -> str:
        """The database URL: ``database_url``, or the SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.db_path}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def public(self) -> dict[str, object]:
        """Settings as recorded with outputs (secrets removed)."""
        data = self.model_dump(mode="json")
        data.pop("mt_api_key", None)
        return data
