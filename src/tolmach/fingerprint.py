"""Video fingerprints: PDQ hashes of frames sampled from a video, and how two of them match.

A fingerprint is the concatenation of 32-byte PDQ hashes (256 bits each) of frames that ffmpeg
decodes at ``fps`` frames a second. Choices, each measured on the perception test videos
(a fast-moving clip, the same clip with a cut, an unrelated clip):

- 8 frames a second: at 2 a second, the same footage captured a quarter second later shares
  only a tenth of its frames with the original (the picture moves between samples); at 8 it
  shares three quarters.
- The bottom fifth of the picture is left out: burned-in subtitles or a caption there, as
  translators add them, otherwise move most frames beyond the match distance.
- A frame within ``DEDUP_DISTANCE`` bits of the one kept before it is dropped, so a still
  scene costs one hash; frames PDQ rates below ``MIN_QUALITY`` (black, flat colour) are
  dropped because they would match any other flat frame.

Two fingerprints match when a large share of the frames of either has a frame in the other
within ``max_distance`` bits. The share is taken both ways and the larger kept, so a cut-down
copy matches its longer original. Not matched: crops, mirroring, letterboxing.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash

from tolmach.errors import InputError
from tolmach.media import safe_path, tool

__all__ = [
    "HASH_BYTES",
    "Match",
    "frame_hashes",
    "match",
    "unpack",
]

HASH_BYTES = 32
SIDE = 128  # frames are scaled to SIDE x SIDE before hashing; PDQ works on 64 x 64 inside
KEEP_TOP = 0.8  # the share of the picture's height that is hashed (from the top)
MIN_QUALITY = 50  # PDQ's own advice for hashes worth matching
DEDUP_DISTANCE = 16

Hashes = npt.NDArray[np.uint8]  # (n, 32)


def frame_hashes(
    path: Path,
    *,
    fps: float = 8.0,
    max_frames: int = 2000,
    duration: float = 0.0,
    on_progress: Callable[[float, float], None] = lambda done, total: None,
) -> bytes:
    """The fingerprint of the first (non-cover) video stream of ``path``; b"" if no frame
    has enough detail. Frames are read one at a time, so memory does not grow with length."""
    vf = f"fps={fps},crop=iw:trunc(ih*{KEEP_TOP}/2)*2:0:0,scale={SIDE}:{SIDE}"
    cmd = [
        tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-i", safe_path(path), "-map", "0:V:0", "-an", "-sn", "-dn",
        "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    size = SIDE * SIDE * 3
    kept: list[Hashes] = []
    last: Hashes | None = None
    frames = 0
    # stderr goes to a file: a damaged file's error lines could fill a pipe and stall ffmpeg.
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors) as proc,
    ):
        out = proc.stdout
        while out is not None and len(raw := out.read(size)) == size:
            frames += 1
            bits, quality = pdqhash.compute(np.frombuffer(raw, np.uint8).reshape(SIDE, SIDE, 3))
            if frames % 40 == 0:
                on_progress(frames / fps, duration)
            if quality < MIN_QUALITY:
                continue
            packed: Hashes = np.packbits(bits.astype(np.uint8))
            if last is not None and int(np.unpackbits(packed ^ last).sum()) <= DEDUP_DISTANCE:
                continue
            kept.append(packed)
            last = packed
        code = proc.wait()
        errors.seek(0)
        stderr = errors.read()[-2000:].decode(errors="replace").strip()
    if code != 0:
        raise InputError(
            f"The video frames of {path.name} could not be decoded "
            f"({(stderr.splitlines() or ['no message'])[-1]}).",
            "The file is damaged: capture it again.",
        )
    if len(kept) > max_frames:  # keep an even spread over the whole video
        picks = np.linspace(0, len(kept) - 1, max_frames).round().astype(int)
        kept = [kept[i] for i in picks]
    return b"".join(h.tobytes() for h in kept)


def unpack(data: bytes) -> Hashes:
    """A fingerprint's bytes as an ``(n, 32)`` array of hashes."""
    if len(data) % HASH_BYTES:
        raise InputError(
            f"A fingerprint of {len(data)} bytes is not a whole number of hashes.",
            "Run the fingerprint stage again for this item.",
        )
    return np.frombuffer(data, np.uint8).reshape(-1, HASH_BYTES)


@dataclass(frozen=True)
class Match:
    """How two fingerprints match: the share of each one's frames found in the other."""

    share_a: float
    share_b: float
    frames_a: int
    frames_b: int

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)


def distances(a: Hashes, b: Hashes) -> npt.NDArray[np.int64]:
    """All Hamming distances between the hashes of ``a`` (rows) and ``b`` (columns)."""
    xor = a[:, None, :] ^ b[None, :, :]
    counts: npt.NDArray[np.int64] = np.unpackbits(xor, axis=2).sum(axis=2, dtype=np.int64)
    return counts


def match(a: bytes, b: bytes, max_distance: int = 31) -> Match:
    """Compare two fingerprints directly (the index does the same for many at once)."""
    ha, hb = unpack(a), unpack(b)
    if not len(ha) or not len(hb):
        return Match(0.0, 0.0, len(ha), len(hb))
    near = distances(ha, hb) <= max_distance
    return Match(float(near.any(axis=1).mean()), float(near.any(axis=0).mean()), len(ha), len(hb))
