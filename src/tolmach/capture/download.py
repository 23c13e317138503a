"""Download the media of a post with yt-dlp, used as a library.

yt-dlp knows the platforms (YouTube, X, Telegram, VK, ...) and, through its generic extractor,
plain pages with a ``<video>`` and direct media links. One video is taken (no playlists), the
best single file that has sound, or best video and audio merged by ffmpeg. The size cap (on
the announced length, and on the bytes as they arrive) and the deadline are enforced in a
progress hook, so an oversized or endless download stops early.

    got = download(url, work_dir, limits)
    got.path, got.info["uploader"], got.media_urls
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.utils import DownloadError

from tolmach.capture.fetch import Limits, too_large
from tolmach.errors import EngineError, InputError, TolmachError
from tolmach.store.blobs import Progress

log = logging.getLogger(__name__)

FORMAT = "b[acodec!=?none]/bv*+ba/b"
MAX_COMMENTS = 1000


@dataclass(frozen=True)
class Downloaded:
    """The downloaded file and what yt-dlp knows about the post."""

    path: Path
    info: dict[str, Any]
    media_urls: tuple[str, ...]  # the http(s) URLs the bytes came from
    headers: dict[str, str]  # what yt-dlp sent to get them (User-Agent, Referer, ...)


class _Stop(Exception):
    """Raised from a progress hook to stop a download; carries the error to report."""

    def __init__(self, error: TolmachError) -> None:
        super().__init__(error.message)
        self.error = error


class _Log:
    """yt-dlp's messages go to the log, never to the terminal."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)


def _options(
    url: str, folder: Path, limits: Limits, on_progress: Progress | None
) -> dict[str, Any]:
    def hook(d: dict[str, Any]) -> None:
        total = d.get("total_bytes") or d.get("total_bytes_estimate") or 0
        if on_progress:
            on_progress(int(d.get("downloaded_bytes") or 0), int(total))
        if max(d.get("downloaded_bytes") or 0, total) > limits.max_bytes:
            raise _Stop(too_large(url, limits.max_bytes))
        if time.monotonic() > limits.deadline:
            raise _Stop(timed_out(url))

    return {
        "format": FORMAT,
        "noplaylist": True,
        "playlist_items": "1",
        "outtmpl": str(folder / "media.%(ext)s"),
        "restrictfilenames": True,
        "socket_timeout": max(1.0, min(60.0, limits.left())),
        "retries": 0,
        "fragment_retries": 0,
        "extractor_retries": 0,
        "getcomments": True,
        # Comments are read before the download starts, outside the progress hook's reach, so
        # their number is capped where the extractor allows it.
        "extractor_args": {"youtube": {"max_comments": [str(MAX_COMMENTS)]}},
        "progress_hooks": [hook],
        "logger": _Log(),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "no_color": True,
        "cachedir": False,
        "updatetime": False,
        "overwrites": True,
        "merge_output_format": "mp4",
    }


def download(
    url: str, folder: Path, limits: Limits, on_progress: Progress | None = None
) -> Downloaded:
    """Download the one video of ``url`` into ``folder``; ``on_progress(bytes, total)``."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with yt_dlp.YoutubeDL(_options(url, folder, limits, on_progress)) as ydl:
            raw = ydl.extract_info(url, download=True)
            info: dict[str, Any] = ydl.sanitize_info(raw) if raw else {}
    except _Stop as stop:
        raise stop.error from None
    except DownloadError as exc:
        if isinstance(exc.exc_info[1], _Stop):
            raise exc.exc_info[1].error from None
        raise _explain(url, str(exc), limits.max_bytes) from None
    entries = info.get("entries")
    if entries:  # a page with several videos: the first, with the page's own text kept
        first = dict(entries[0] or {})
        for key in ("description", "uploader", "title", "timestamp", "webpage_url"):
            first.setdefault(key, info.get(key))
        info = first
    files = [Path(d["filepath"]) for d in info.get("requested_downloads") or [] if "filepath" in d]
    files = [f for f in files if f.is_file()]
    if not files:
        if time.monotonic() > limits.deadline:
            raise timed_out(url)
        raise InputError(
            f"yt-dlp found a video at {url} but did not download it.",
            "Retry; if it persists, download the file by hand and run `tolmach ingest FILE`.",
        )
    formats = info.get("requested_formats") or [info]
    urls = tuple(
        str(f["url"])
        for f in formats
        if str(f.get("url", "")).startswith(("http://", "https://"))
        and f.get("protocol", "http") in ("http", "https")
    )
    headers = {str(k): str(v) for k, v in (formats[0].get("http_headers") or {}).items()}
    return Downloaded(files[0], info, urls, headers)


def timed_out(url: str) -> TolmachError:
    return EngineError(
        f"Capturing {url} took longer than capture_timeout_s.",
        "Try again later, or raise capture_timeout_s in tolmach.toml.",
    )


def _explain(url: str, message: str, cap: int) -> TolmachError:
    """One clear error for yt-dlp's own failure message."""
    text = message.removeprefix("ERROR: ").strip()
    low = text.lower()
    if "unsupported url" in low or "no video formats" in low or "no media" in low:
        return InputError(
            f"No video or audio was found at {url}.",
            "Check that the page shows the video without a login; or download the file "
            "and run `tolmach ingest FILE`.",
        )
    if "timed out" in low or "timeout" in low:
        return timed_out(url)
    if "larger than max-filesize" in low or "file is larger" in low:
        return too_large(url, cap)
    if "http error 404" in low or "http error 410" in low:
        return InputError(f"The media of {url} is gone (HTTP 404).", "Look for a copy elsewhere.")
    return EngineError(
        f"yt-dlp could not capture {url}: {text}", "Retry; update yt-dlp if it persists."
    )
