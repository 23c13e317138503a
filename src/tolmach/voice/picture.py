"""The voice-over clip's picture, encoded while the voice is made, and the final mux.

The picture needs only the lead-in (how long the disclosure takes to say), not the voice
itself, so it is encoded by an ffmpeg of its own as soon as the disclosure is spoken, while
the segments are spoken and mixed (and the mix encoded as AAC); the clip is then both, copied
as they are. On 2 cores the x264 encode was 60-90% of the stage's time, and speech and
mixing leave a core idle much of the time they run.

The picture is the original's (its first frame held for the lead-in), with the subtitles and
the translation label as ``render`` draws them and the AI labels burned in: every frame
changes (the corner label stays throughout), so it is always re-encoded. x264 runs at
``superfast`` without sub-pixel motion search, partitions or B-frames (``ultrafast`` when
``render_preset`` is ``ultrafast``), at ``render_crf``: on 720p testsrc2 that took 0.43x the
CPU of ``veryfast`` for about twice the bytes and the same or better SSIM. The clip is a
disclosed derivative of ``clip.en.mp4``, made for speed; ``render`` keeps ``render_preset``.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from types import TracebackType

from tolmach.config import Settings
from tolmach.errors import ToolError
from tolmach.media import run_ffmpeg, run_ffmpeg_progress, safe_path, tool

log = logging.getLogger(__name__)

FAST_X264 = ["-preset", "superfast", "-x264-params", "subme=0:partitions=none:bframes=0"]


def x264_options(settings: Settings) -> list[str]:
    """The encoder options of the voiced picture (see the module's notes)."""
    speed = ["-preset", "ultrafast"] if settings.render_preset == "ultrafast" else FAST_X264
    return ["-c:v", "libx264", *speed, "-crf", str(settings.render_crf), "-pix_fmt", "yuv420p"]


class Picture:
    """An ffmpeg encoding the picture alone into ``dest``, in the background.

    Use as a context manager: leaving the block before ``wait`` (an error while the voice was
    made) stops the encode.
    """

    def __init__(self, inputs: list[str], graph: str, options: list[str], dest: Path) -> None:
        self.dest = dest
        self._log = dest.with_suffix(".log")
        cmd = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs]
        cmd += ["-filter_complex", graph, "-map", "[v]", *options, "-an", safe_path(dest)]
        with self._log.open("wb") as errors:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors
            )

    def wait(self, timeout: float) -> Path:
        """The encoded picture, once ffmpeg is done; a ToolError if it failed or took longer
        than ``timeout`` seconds in all."""
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise ToolError(
                f"ffmpeg took more than {timeout:.0f} s to draw the voice-over's picture.",
                "Check the machine's load, or set render_preset = ultrafast.",
            ) from None
        said = self._log.read_text(errors="replace").strip().splitlines()
        if code != 0:
            raise ToolError(
                f"ffmpeg failed while drawing the voice-over's picture: {' '.join(said[-3:])}",
                "Check the input file.",
            )
        if said:  # decode errors in a damaged original: the picture is drawn as ffmpeg can
            log.warning("ffmpeg reported %s while drawing the voice-over's picture", said[0])
        return self.dest

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()

    def __enter__(self) -> Picture:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def encode_sound(sound: Path, dest: Path) -> Path:
    """The mix as AAC, while the picture may still be encoding (the mux then copies both)."""
    run_ffmpeg(
        ["-i", safe_path(sound), "-c:a", "aac", "-b:a", "160k", safe_path(dest)],
        "encoding the voice-over's sound",
        timeout=900,
    )
    return dest


def mux(picture: Path, sound: Path, tags: list[str], total: float, dest: Path) -> Path:
    """The clip: ``picture`` and ``sound`` (AAC) as they are, with ``tags``."""
    run_ffmpeg_progress(
        [
            *["-i", safe_path(picture), "-i", safe_path(sound), "-map", "0:v", "-map", "1:a"],
            *["-c", "copy", *tags, "-movflags", "+faststart", "-shortest", safe_path(dest)],
        ],
        "writing the voice-over clip",
        total,
        lambda done, total: None,
        timeout=600 + 2 * total,
    )
    return dest
