"""One look at a source URL: is the post still there, deleted, or just not answering?

``check`` GETs the URL (redirects followed up to a limit, a time-out, the body kept up to
``MAX_BODY`` bytes) and classifies what came back:

- ``deleted``: HTTP 404 or 410; a platform's own "deleted" or "unavailable" page (the table
  ``PATTERNS``, applied only to pages of that platform, known by host or by the page's own
  markup, so an article that quotes "this post was deleted" is not taken for one); or a page
  that had a video when it was captured and has none now.
- ``unreachable``: no such host, connection refused, time-out, a redirect loop, HTTP 5xx, 429,
  or any other answer that does not prove the post is gone (401/403: a login or a block).
  Never taken for a deletion: a transient failure must not mark anything deleted.
- ``live``: anything else.

    with httpx.Client(follow_redirects=True, max_redirects=5, timeout=20) as client:
        seen = check(client, "https://t.me/unit/123", had_video=True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from tolmach.store.tables import utcnow

__all__ = ["MAX_BODY", "PATTERNS", "Checked", "Pattern", "check", "classify"]

MAX_BODY = 5 * 1024 * 1024
KEPT_HEADERS = ("content-type", "content-length", "date", "last-modified", "etag", "server")


@dataclass(frozen=True)
class Pattern:
    """A platform's "this post is gone" page: hosts and page markup that say which platform a
    page belongs to, and the phrases (regular expressions) of its deletion notices."""

    platform: str
    hosts: tuple[str, ...]
    markers: tuple[str, ...]
    phrases: tuple[str, ...]


_APOS = "['’]"  # pages write "doesn't" with either apostrophe


def _site(name: str) -> str:
    """The page's ``og:site_name`` meta tag naming ``name``."""
    return rf"""og:site_name["']\s+content=["']{name}["']"""


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "telegram",
        ("t.me", "telegram.me", "telegram.org"),
        (r"tgme_", _site("Telegram")),
        (r"Post not found", r"This post is unavailable", r"Message not found",
         r"Channel not found", r"This channel can't be displayed"),
    ),
    Pattern(
        "youtube",
        ("youtube.com", "youtu.be"),
        (_site("YouTube"), r"ytInitialPlayerResponse"),
        (r"This video has been removed", r"This video is no longer available",
         rf"This video isn{_APOS}t available any ?more", r"This video is private",
         r'"playabilityStatus":\s*\{\s*"status":\s*"(?:ERROR|UNPLAYABLE)"'),
    ),
    Pattern(
        "x",
        ("x.com", "twitter.com"),
        (_site("X"), _site("Twitter"), _site(r"X \(formerly Twitter\)")),
        (r"This (?:post|Tweet) was deleted", rf"Hmm\.\.\.this page doesn{_APOS}t exist",
         rf"This account doesn{_APOS}t exist", r"This (?:post|Tweet) is unavailable"),
    ),
    Pattern(
        "vk",
        ("vk.com", "vk.ru", "vkvideo.ru", "m.vk.com"),
        (_site("VK"), _site("ВКонтакте"), _site("VK Видео")),
        (r"Запись удалена", r"Видеозапись удалена", r"Видео удалено",
         r"Видеозапись не найдена", r"Запись не найдена", r"This post was deleted",
         r"Post deleted", r"Video deleted"),
    ),
)  # fmt: skip

_VIDEO = re.compile(
    rb"""<video[\s>]|property=["']og:video|name=["']twitter:player|og:type["']\s+content=["']video""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Checked:
    """The outcome of one check and the evidence for it."""

    url: str
    outcome: str  # live, deleted, unreachable
    status: int | None
    body: bytes
    evidence: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)  # when the answer came (naive UTC)


def platform_of(url: str, body: bytes) -> Pattern | None:
    """The platform a page belongs to: by its host, else by its own markup."""
    host = (urlsplit(url).hostname or "").lower()
    for p in PATTERNS:
        if any(host == h or host.endswith("." + h) for h in p.hosts):
            return p
    text = body[:MAX_BODY].decode("utf-8", "replace")
    for p in PATTERNS:
        if any(re.search(m, text) for m in p.markers):
            return p
    return None


def classify(
    url: str, status: int, body: bytes, *, content_type: str = "text/html", had_video: bool = False
) -> tuple[str, dict[str, Any]]:
    """The outcome of an HTTP answer, and why (``reason``, and the phrase that matched)."""
    if status in (404, 410):
        return "deleted", {"reason": f"HTTP {status}"}
    if status >= 500 or status == 429:
        return "unreachable", {"reason": f"HTTP {status}: the server failed; not a deletion"}
    if status >= 400:
        return "unreachable", {"reason": f"HTTP {status}: refused; not proof of a deletion"}
    platform = platform_of(url, body)
    if platform is not None:
        text = body.decode("utf-8", "replace")
        for phrase in platform.phrases:
            found = re.search(phrase, text, re.IGNORECASE)
            if found:
                return "deleted", {
                    "reason": f"{platform.platform} deletion notice",
                    "platform": platform.platform,
                    "pattern": phrase,
                    "matched": found.group(0),
                }
    if had_video and "html" in content_type.lower() and not _VIDEO.search(body):
        return "deleted", {"reason": "the page had a video when captured and has none now"}
    why: dict[str, Any] = {"reason": f"HTTP {status}"}
    if platform is not None:
        why["platform"] = platform.platform
    return "live", why


def check(client: httpx.Client, url: str, *, had_video: bool = False) -> Checked:
    """GET ``url`` with ``client`` (which sets time-out and redirect limit) and classify it."""
    try:
        with client.stream("GET", url) as resp:
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk[: MAX_BODY - len(body)]
                if len(body) >= MAX_BODY:
                    break
            truncated = len(body) >= MAX_BODY
    except httpx.TooManyRedirects:
        return _unreachable(url, "a redirect loop (too many redirects)")
    except httpx.TimeoutException:
        return _unreachable(url, "no answer in time")
    except httpx.ConnectError as exc:
        return _unreachable(url, f"could not connect: {exc}")
    except httpx.HTTPError as exc:
        return _unreachable(url, f"{type(exc).__name__}: {exc}")
    data = bytes(body)
    outcome, why = classify(
        str(resp.url),
        resp.status_code,
        data,
        content_type=resp.headers.get("content-type", ""),
        had_video=had_video,
    )
    evidence = {
        "url": url,
        "final_url": str(resp.url),
        "status": resp.status_code,
        "redirects": [{"url": str(r.url), "status": r.status_code} for r in resp.history],
        "headers": {k: resp.headers[k] for k in KEPT_HEADERS if k in resp.headers},
        "body_bytes": len(data),
        "truncated": truncated,
        "had_video": had_video,
        **why,
    }
    return Checked(url, outcome, resp.status_code, data, evidence)


def _unreachable(url: str, reason: str) -> Checked:
    return Checked(url, "unreachable", None, b"", {"url": url, "reason": reason})
