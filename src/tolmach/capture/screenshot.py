"""A screenshot of a captured page, taken with headless Chromium (Debian's ``chromium``).

Chromium runs with a fresh profile in a temporary folder, without background networking,
component updates or sync (offline it would otherwise wait on them). The page is measured and
shot whole over the DevTools pipe (:mod:`tolmach.capture.browser`); if that fails, Chromium's
plain ``--screenshot`` of a tall window is taken instead. The PNG is checked (signature, size)
before it is kept.

    png = screenshot("https://t.me/unit/123", work_dir / "page.png", timeout_s=60)
"""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from tolmach.capture.browser import full_page
from tolmach.errors import ToolError

log = logging.getLogger(__name__)

WIDTH = 1280
HEIGHT = 3000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    """The Chromium executable; ToolError when none is installed."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ToolError(
        "Chromium is not installed, so the page cannot be screenshotted.",
        "Install it with `apt-get install chromium` (or run `make setup`), "
        "or set capture_screenshot = false.",
    )


def flags(profile: Path) -> list[str]:
    """Chromium and the flags every run gets: headless, offline-quiet, a fresh profile."""
    return [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
    ]


def command(url: str, png: Path, profile: Path, height: int = HEIGHT) -> list[str]:
    """The plain command line that writes a screenshot of ``url`` (the top ``height`` pixels)."""
    return [
        *flags(profile),
        f"--window-size={WIDTH},{height}",
        f"--screenshot={png}",
        # A URL that starts with "-" would be read as a flag; "--" ends the flags.
        "--",
        url,
    ]


def png_size(png: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header; ToolError when it is not a PNG."""
    with png.open("rb") as f:
        head = f.read(24)
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise ToolError(f"{png.name} is not a PNG image.", "Retry the capture.")
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def screenshot(url: str, png: Path, timeout_s: float) -> Path:
    """Write a full-page PNG of ``url`` to ``png``: measured over the DevTools pipe, or, when
    that fails, the top of the page from a tall window. ToolError when Chromium fails."""
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="tolmach-chromium-") as profile:
        try:
            shot = full_page(flags(Path(profile)), url, png, WIDTH, timeout_s)
            png_size(shot)
            return shot
        except ToolError as exc:
            log.info("full-page screenshot of %s failed (%s); taking a tall window", url, exc)
            png.unlink(missing_ok=True)
    return tall_window(url, png, timeout_s)


def tall_window(url: str, png: Path, timeout_s: float) -> Path:
    """Write a PNG of the top HEIGHT pixels of ``url`` with Chromium's plain --screenshot."""
    with tempfile.TemporaryDirectory(prefix="tolmach-chromium-") as profile:
        cmd = command(url, png, Path(profile))
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise ToolError(
                f"Chromium did not finish the screenshot of {url} within {timeout_s:.0f} s.",
                "Retry, or set capture_screenshot = false to capture without one.",
            ) from None
    if proc.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = " ".join(
            line for line in proc.stderr.strip().splitlines()[-3:] if "dbus" not in line.lower()
        )
        raise ToolError(
            f"Chromium could not screenshot {url} (exit status {proc.returncode}). {tail}".strip(),
            "Check that `chromium --headless` runs on this machine.",
        )
    png_size(png)
    return png
