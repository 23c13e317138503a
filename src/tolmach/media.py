"""ffprobe and ffmpeg helpers: media facts, container sanity checks, running ffmpeg safely.

File names are always passed as separate argv entries (never through a shell), and paths that
start with ``-`` are made absolute so ffmpeg cannot read them as options.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from tolmach.errors import InputError, ToolError

ISO_EXTS = {"mp4", "m4a", "m4v", "mov", "3gp", "3g2", "mj2"}
ERROR_LINES_KEPT = 40


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ToolError(
            f"{name} is not installed.",
            "Install it with `apt-get install ffmpeg` (or run `make setup`), then retry.",
        )
    return found


def safe_path(path: Path) -> str:
    return str(path if path.is_absolute() else Path.cwd() / path)


def run_ffmpeg(args: list[str], what: str, timeout: float | None = None) -> None:
    """Run ffmpeg with ``args``; raise ToolError with its last error lines on failure."""
    cmd = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise ToolError(f"ffmpeg failed while {what}: {tail}", "Check the input file.")


def probe(path: Path) -> dict[str, Any]:
    """Media facts from ffprobe; InputError when the file is not readable media."""
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file.", "Check the path.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes).", "Capture the file again.")
    cmd = [
        tool("ffprobe"),
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        safe_path(path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    data: dict[str, Any] = json.loads(proc.stdout or "{}") if proc.returncode == 0 else {}
    streams = [s for s in data.get("streams", []) if s.get("codec_type") in ("audio", "video")]
    if proc.returncode != 0 or not streams:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no streams"
        raise InputError(
            f"{path.name} is not a video or audio file that can be read ({reason}).",
            "Check that the download finished and that this is the media file itself.",
        )
    check_container(path)
    return facts(data)


def facts(data: dict[str, Any]) -> dict[str, Any]:
    """The ffprobe facts worth keeping in a capture record."""
    fmt = data.get("format", {})
    streams = []
    for s in data.get("streams", []):
        keep = {
            k: s[k]
            for k in (
                "index",
                "codec_type",
                "codec_name",
                "width",
                "height",
                "r_frame_rate",
                "sample_rate",
                "channels",
                "duration",
                "bit_rate",
                "pix_fmt",
            )
            if k in s
        }
        rotation = next(
            (sd.get("rotation") for sd in s.get("side_data_list", []) if "rotation" in sd), None
        )
        if rotation is not None:
            keep["rotation"] = rotation
        if "attached_pic" in s.get("disposition", {}) and s["disposition"]["attached_pic"]:
            keep["attached_pic"] = True
        streams.append(keep)
    return {
        "format_name": fmt.get("format_name", ""),
        "duration": float(fmt.get("duration") or 0.0),
        "size": int(fmt.get("size") or 0),
        "bit_rate": int(fmt.get("bit_rate") or 0),
        "tags": fmt.get("tags", {}),
        "streams": streams,
    }


def has_video(media: dict[str, Any]) -> bool:
    return any(
        s["codec_type"] == "video" and not s.get("attached_pic") for s in media.get("streams", [])
    )


def has_audio(media: dict[str, Any]) -> bool:
    return any(s["codec_type"] == "audio" for s in media.get("streams", []))


def check_container(path: Path) -> None:
    """Refuse an ISO media file (MP4, MOV, M4A) whose top-level boxes run past its end.

    ffprobe reads a truncated MP4 whose index sits at the front without complaint; the missing
    tail only shows when decoding reaches it. Walking the top-level boxes catches it up front.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if head[4:8] != b"ftyp":
            return
        pos = 0
        while pos < size:
            f.seek(pos)
            header = f.read(16)
            if len(header) < 8:
                break
            box_len = int.from_bytes(header[:4], "big")
            if box_len == 1 and len(header) >= 16:
                box_len = int.from_bytes(header[8:16], "big")
            elif box_len == 0:  # box runs to the end of the file
                return
            if box_len < 8 or pos + box_len > size:
                kind = header[4:8].decode("latin-1")
                raise InputError(
                    f"{path.name} is truncated: its '{kind}' box needs {pos + box_len} bytes "
                    f"but the file has {size}.",
                    "The download or copy was cut short; capture the file again.",
                )
            pos += box_len


def run_ffmpeg_progress(
    args: list[str],
    what: str,
    total: float,
    on_progress: Callable[[float, float], None],
    timeout: float | None = None,
) -> list[str]:
    """Run ffmpeg with ``args``, reporting ``on_progress(seconds_done, total)`` as it goes.

    ffmpeg's ``-progress pipe:1`` report is read line by line and only the first and last lines
    of its error output are kept, so a long file never fills memory. Returns those error lines
    (empty when ffmpeg said nothing at ``error`` level: decode errors show up here even when
    ffmpeg exits 0); raises ToolError when ffmpeg fails or runs past ``timeout`` seconds.
    """
    quiet = ["-nostdin", "-hide_banner", "-loglevel", "error", "-nostats"]
    cmd = [tool("ffmpeg"), *quiet, "-progress", "pipe:1", "-y", *args]
    first: list[str] = []
    last: deque[str] = deque(maxlen=ERROR_LINES_KEPT)
    timed_out = threading.Event()
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
    ) as proc:

        def stop() -> None:
            timed_out.set()
            proc.kill()

        reader = threading.Thread(target=_drain, args=(proc.stderr, first, last), daemon=True)
        reader.start()
        killer = threading.Timer(timeout, stop) if timeout else None
        if killer:
            killer.start()
        try:
            for line in proc.stdout or ():
                done = parse_progress_line(line)
                if done is not None:
                    on_progress(min(done, total) if total > 0 else done, total)
            returncode = proc.wait()
        finally:
            if killer:
                killer.cancel()
            if proc.poll() is None:  # on_progress raised: do not leave ffmpeg running
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
    errors = [*first, *last]
    if timed_out.is_set():
        raise ToolError(
            f"ffmpeg took longer than {timeout:.0f} s while {what} and was stopped.",
            "Check that the input is not damaged; a very long file may need a larger timeout.",
        )
    if returncode != 0:
        tail = " ".join(errors[-3:]) or f"exit status {returncode}"
        raise ToolError(f"ffmpeg failed while {what}: {tail}", "Check the input file.")
    if total > 0:
        on_progress(total, total)
    return errors


def parse_progress_line(line: str) -> float | None:
    """Seconds done from one ``-progress`` line (``out_time_us=...``), else None."""
    key, _, value = line.strip().partition("=")
    if key != "out_time_us":
        return None
    try:
        return max(0.0, int(value) / 1_000_000)
    except ValueError:  # "N/A" before the first frame is written
        return None


def _drain(stream: IO[str] | None, first: list[str], last: deque[str]) -> None:
    """Keep the first and the last error lines of ffmpeg, dropping the middle."""
    for line in stream or ():
        if not line.strip():
            continue
        if len(first) < ERROR_LINES_KEPT // 4:
            first.append(line.strip())
        else:
            last.append(line.strip())
