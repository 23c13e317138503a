"""The tolmach error tree.

Every error a user can cause or fix is a ``TolmachError`` with a message that says what is wrong
and a ``hint`` that says what to do. The CLI prints both on one line each and exits with
``exit_code``; nothing else is shown (no traceback).

    TolmachError
    ├── InputError          bad media, empty or truncated file, unreadable subtitle file
    ├── NotFoundError       an item, file or model that does not exist
    ├── ModelError          a model that is missing, corrupt or fails its hash check
    ├── EngineError         an engine or server that failed or cannot be reached
    ├── ToolError           an external program (ffmpeg, ffprobe) missing or failing
    └── ConfigError         a setting that makes no sense
"""

from __future__ import annotations


class TolmachError(Exception):
    """Base of every error tolmach reports to a user."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InputError(TolmachError):
    """The input itself is unusable (empty, truncated, not media, malformed)."""

    exit_code = 2


class NotFoundError(TolmachError):
    """Something named by the user does not exist."""

    exit_code = 3


class ModelError(TolmachError):
    """A model is missing, incomplete or does not match its manifest."""

    exit_code = 4


class EngineError(TolmachError):
    """An engine failed or its server cannot be reached."""

    exit_code = 5


class ToolError(TolmachError):
    """An external tool such as ffmpeg is missing or failed."""

    exit_code = 6


class ConfigError(TolmachError):
    """A setting is invalid."""

    exit_code = 7
