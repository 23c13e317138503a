"""Checks of what tolmach needs on this machine, each with how to fix it."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from tolmach import catalog
from tolmach.config import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _ffmpeg_has(args: list[str], needle: str) -> bool:
    exe = shutil.which("ffmpeg")
    if not exe:
        return False
    out = subprocess.run([exe, "-hide_banner", *args], capture_output=True, text=True, check=False)
    return needle in out.stdout


def run_checks(settings: Settings) -> list[Check]:
    apt = "Install it: `apt-get install ffmpeg` (or `make setup`)."
    checks = [
        Check("ffmpeg", bool(shutil.which("ffmpeg")), shutil.which("ffmpeg") or "missing", apt),
        Check("ffprobe", bool(shutil.which("ffprobe")), shutil.which("ffprobe") or "missing", apt),
        Check("libx264", _ffmpeg_has(["-encoders"], "libx264"), "H.264 encoder", apt),
        Check("libass", _ffmpeg_has(["-filters"], "subtitles"), "subtitle burn-in", apt),
        Check(
            "llama.cpp",
            importlib.util.find_spec("llama_cpp") is not None,
            "local GGUF translation",
            "`pip install 'llama-cpp-python==0.3.36'` (compiles; needs cmake and gcc).",
        ),
    ]
    for name in catalog.CATALOG:
        problems = catalog.verify(settings.models_dir, name)
        checks.append(
            Check(
                f"model {name}",
                not problems,
                "installed, hashes match" if not problems else "; ".join(problems),
                f"`tolmach models install {name}`",
            )
        )
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
        checks.append(Check("data directory", True, str(settings.data_dir)))
    except OSError as exc:
        checks.append(
            Check(
                "data directory",
                False,
                f"{settings.data_dir}: {exc.strerror}",
                "Set TOLMACH_DATA_DIR to a writable folder.",
            )
        )
    return checks
