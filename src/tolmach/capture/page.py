"""The page info of a capture: the post's text, author, time and comments, as plain JSON.

Two sources are merged: what yt-dlp's extractor knows about the post (description, uploader,
timestamp, comments) and the page's own metadata (``og:*``, ``author``, ``article:*`` meta
tags and the ``<title>``), read from the HTML that was archived. yt-dlp wins where both say
something; the meta tags are kept as they were under ``meta``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from tolmach.capture.download import MAX_COMMENTS

META_KEYS = (
    "og:title",
    "og:description",
    "og:site_name",
    "og:type",
    "og:url",
    "og:video",
    "og:image",
    "author",
    "description",
    "article:author",
    "article:published_time",
    "twitter:title",
    "twitter:description",
    "twitter:creator",
)


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag != "meta":
            return
        a = {k.lower(): v or "" for k, v in attrs}
        key = (a.get("property") or a.get("name") or "").lower()
        if key in META_KEYS and key not in self.meta and a.get("content"):
            self.meta[key] = a["content"].strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def html_meta(html: bytes) -> dict[str, str]:
    """The interesting ``<meta>`` tags and the title of an HTML page."""
    parser = _Meta()
    try:
        parser.feed(html.decode("utf-8", "replace"))
        parser.close()
    except AssertionError:  # html.parser gives up on some broken markup; keep what it read
        pass
    found = dict(parser.meta)
    if parser.title.strip():
        found["title"] = " ".join(parser.title.split())
    return found


def _time(info: dict[str, Any]) -> str | None:
    ts = info.get("timestamp") or info.get("release_timestamp")
    if isinstance(ts, int | float):
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    day = info.get("upload_date")
    if isinstance(day, str) and len(day) == 8:
        return f"{day[:4]}-{day[4:6]}-{day[6:]}"
    return None


def _comments(info: dict[str, Any]) -> list[dict[str, Any]]:
    kept = []
    for c in (info.get("comments") or [])[:MAX_COMMENTS]:
        kept.append(
            {
                "id": c.get("id"),
                "parent": c.get("parent"),
                "author": c.get("author"),
                "text": c.get("text"),
                "timestamp": c.get("timestamp"),
                "like_count": c.get("like_count"),
            }
        )
    return kept


def page_info(info: dict[str, Any], meta: dict[str, str]) -> dict[str, Any]:
    """The capture's page info from yt-dlp's ``info`` and the page's ``meta`` tags."""
    text = info.get("description") or meta.get("og:description") or meta.get("description")
    uploader = (
        info.get("uploader")
        or info.get("channel")
        or meta.get("author")
        or meta.get("article:author")
        or meta.get("twitter:creator")
    )
    posted = _time(info) or meta.get("article:published_time")
    return {
        "title": info.get("title") or meta.get("og:title") or meta.get("title"),
        "text": text,
        "uploader": uploader,
        "uploader_id": info.get("uploader_id"),
        "uploader_url": info.get("uploader_url"),
        "posted_at": posted,
        "webpage_url": info.get("webpage_url"),
        "extractor": info.get("extractor_key") or info.get("extractor"),
        "id": info.get("id"),
        "duration": info.get("duration"),
        "view_count": info.get("view_count"),
        "like_count": info.get("like_count"),
        "comment_count": info.get("comment_count"),
        "comments": _comments(info),
        "meta": meta,
    }
