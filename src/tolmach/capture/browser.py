"""A headless Chromium driven over its DevTools pipe, to measure a page and shoot all of it.

Chromium is started with ``--remote-debugging-pipe``: it reads DevTools commands (JSON, each
ending in a NUL byte) on file descriptor 3 and writes answers and events on 4. No port is
opened, nothing else on the machine can talk to it, and no client library is needed.

    with Browser(profile_dir, timeout_s=60) as b:
        png_bytes = b.full_page_png("https://t.me/unit/123", width=1280)
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import math
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tolmach.errors import ToolError

MAX_HEIGHT = 16384  # taller pages are cut here (Chromium's own limit for one bitmap)


class Browser:
    """One headless Chromium process and one page session in it."""

    def __init__(self, argv: list[str], timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        cmd_r, self._cmd_w = os.pipe()
        self._ev_r, ev_w = os.pipe()

        def wire() -> None:  # in the child: the pipes become fds 3 and 4
            # Moved out of the way first, in case either already is 3 or 4.
            high_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(ev_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        try:
            self.proc = subprocess.Popen(
                [*argv, "--remote-debugging-pipe", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(3, 4),
                preexec_fn=wire,
                start_new_session=True,  # its helper processes can be ended with it
            )
        except OSError as exc:
            os.close(self._cmd_w)
            os.close(self._ev_r)
            raise ToolError(f"Chromium could not be started: {exc}.", "") from None
        finally:  # the child's ends of the pipes; the parent keeps its own
            os.close(cmd_r)
            os.close(ev_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command (to the page session once attached) and wait for its answer."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if self.session:
            msg["sessionId"] = self.session
        try:
            os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        except OSError as exc:  # the browser has gone (exited, or never started)
            raise ToolError(f"Chromium is not answering ({exc}).", "") from None
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise ToolError(f"Chromium refused {method}: {reply['error']}", "")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str) -> dict[str, Any]:
        """Wait for an event of the page session (kept ones first)."""
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            msg = self._read()
            if "method" in msg:
                self.events.append(msg)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self._ev_r], [], [], left)[0]:
                raise ToolError("Chromium did not finish loading the page in time.", "")
            chunk = os.read(self._ev_r, 1 << 20)
            if not chunk:
                raise ToolError("Chromium exited while loading the page.", "")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        data: dict[str, Any] = json.loads(raw)
        return data

    def open_page(self, url: str, width: int) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.send("Page.enable")
        self._viewport(width, 900)
        nav = self.send("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise ToolError(f"Chromium could not open {url}: {nav['errorText']}.", "")
        self.wait_event("Page.loadEventFired")

    def _viewport(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def full_page_png(self, url: str, width: int) -> bytes:
        """Open ``url`` and return a PNG of the whole page (up to MAX_HEIGHT pixels tall)."""
        self.open_page(url, width)
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
        height = max(1, min(MAX_HEIGHT, math.ceil(float(size.get("height", 900)))))
        self._viewport(width, height)
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.session = ""
                self.deadline = time.monotonic() + 5
                self.send("Browser.close")
        except (ToolError, OSError):
            pass
        finally:
            for fd in (self._cmd_w, self._ev_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def full_page(argv: list[str], url: str, png: Path, width: int, timeout_s: float) -> Path:
    """Write a measured, full-page PNG of ``url`` to ``png`` with the browser ``argv``."""
    with Browser(argv, timeout_s) as b:
        png.write_bytes(b.full_page_png(url, width))
    return png
