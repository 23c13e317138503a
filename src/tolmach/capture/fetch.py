"""Fetch a URL over HTTP and record every exchange (redirects included) as WARC records.

Each request and response is written to an open WARC file as it happened: the response body is
kept as sent (``iter_raw``: still content-encoded), streamed to a temporary file and cut off at
the size cap. A failure becomes one clear ``TolmachError`` that names the cause (no such host,
connection refused, time-out, redirect loop, HTTP error, too large).

    with httpx.Client(follow_redirects=True) as client:
        fetched = fetch(client, warc, "https://t.me/unit/123", limits)
"""

from __future__ import annotations

import socket
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from typing import IO
from urllib.parse import urlsplit

import httpx
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tolmach.errors import EngineError, InputError, NotFoundError, TolmachError

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) tolmach-capture"
MAX_REDIRECTS = 10
CHUNK = 1024 * 1024
HEAD_KEPT = 2 * 1024 * 1024  # of a body, kept to sniff it and read its meta tags


@dataclass(frozen=True)
class Limits:
    """The size cap (bytes) and the moment (``time.monotonic()``) a capture must end by."""

    max_bytes: int
    deadline: float

    def left(self) -> float:
        return max(0.1, self.deadline - time.monotonic())


@dataclass(frozen=True)
class Fetched:
    """What one fetch gave: the final URL and status, the declared type and the body's size."""

    url: str
    final_url: str
    status: int
    content_type: str
    size: int
    head: bytes  # the body's first HEAD_KEPT bytes, to sniff what it really is
    warc_date: str  # WARC-Date of the final response record (what a WACZ page must name)


def fetch(
    client: httpx.Client,
    warc: WARCWriter,
    url: str,
    limits: Limits,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET ``url`` following redirects, writing request and response records to ``warc``.

    ``headers`` are sent as well (a platform's media URL may need its Referer or User-Agent).
    """
    try:
        return _fetch(client, warc, url, limits, headers or {})
    except httpx.TooManyRedirects:
        raise EngineError(
            f"{url} redirects in a loop (more than {MAX_REDIRECTS} redirects).",
            "Open it in a browser to see where it should lead, then capture that address.",
        ) from None
    except httpx.TimeoutException:
        raise EngineError(
            f"{url} did not answer in time (capture_timeout_s).",
            "Try again later, or raise capture_timeout_s in tolmach.toml.",
        ) from None
    except httpx.ConnectError as exc:
        raise connect_error(url, exc) from None
    except httpx.HTTPError as exc:
        raise EngineError(
            f"Fetching {url} failed: {exc}.", "Check the address and your connection; retry."
        ) from None


def connect_error(url: str, exc: BaseException) -> TolmachError:
    """The error for a host that cannot be resolved or reached."""
    host = urlsplit(url).hostname or url
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror) or "Name or service not known" in str(cause):
            return NotFoundError(
                f"The host {host} does not exist (DNS lookup failed).",
                "Check the address for typos, and that this machine can resolve names.",
            )
        cause = cause.__cause__ or cause.__context__
    return EngineError(
        f"Could not connect to {host}: {exc}.",
        "Check that the site is up and reachable from here; retry later.",
    )


def _fetch(
    client: httpx.Client, warc: WARCWriter, url: str, limits: Limits, extra: dict[str, str]
) -> Fetched:
    timeout = httpx.Timeout(limits.left())
    headers = {"User-Agent": USER_AGENT, **extra, "Accept-Encoding": "gzip, deflate"}
    with client.stream("GET", url, headers=headers, timeout=timeout) as resp:
        for earlier in resp.history:
            _write_pair(warc, earlier, earlier.content, len(earlier.content))
        with tempfile.TemporaryFile() as body:
            size = 0
            head = b""
            for block in resp.iter_raw(CHUNK):
                size += len(block)
                if size > limits.max_bytes:
                    raise too_large(url, limits.max_bytes)
                if time.monotonic() > limits.deadline:
                    raise httpx.ReadTimeout("capture deadline passed")
                if len(head) < HEAD_KEPT:
                    head += block[: HEAD_KEPT - len(head)]
                body.write(block)
            body.seek(0)
            warc_date = _write_pair(warc, resp, body, size)
    if resp.status_code >= 400:
        raise http_error(url, resp.status_code)
    return Fetched(
        url=url,
        final_url=str(resp.url),
        status=resp.status_code,
        content_type=resp.headers.get("content-type", "").split(";")[0].strip().lower(),
        size=size,
        head=head,
        warc_date=warc_date,
    )


def too_large(url: str, cap: int) -> InputError:
    return InputError(
        f"{url} is larger than the capture cap of {cap / 1024**2:.0f} MiB.",
        "Raise capture_max_bytes in tolmach.toml if this really is the media you want.",
    )


def http_error(url: str, status: int) -> TolmachError:
    if status in (404, 410):
        return NotFoundError(
            f"{url} answered HTTP {status}: the page is not there (deleted, or a wrong address).",
            "Check the address; if the post was deleted, look for a copy elsewhere.",
        )
    if status in (401, 403):
        return InputError(
            f"{url} answered HTTP {status}: access is refused.",
            "The post may be private or need a login; capture it from a browser session.",
        )
    return EngineError(f"{url} answered HTTP {status}.", "Try again later.")


def _write_pair(warc: WARCWriter, resp: httpx.Response, body: bytes | IO[bytes], size: int) -> str:
    """A request record and a response record for one exchange; the response's WARC-Date."""
    req = resp.request
    target = req.url.raw_path.decode("ascii", "replace") or "/"
    req_headers = StatusAndHeaders(
        f"{req.method} {target} HTTP/1.1",
        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in req.headers.raw],
        is_http_request=True,
    )
    uri = str(req.url)
    request = warc.create_warc_record(
        uri, "request", payload=BytesIO(b""), length=0, http_headers=req_headers
    )
    # The body is stored de-chunked, so the original Transfer-Encoding is kept under another
    # name (as archiving tools do) and readers do not try to de-chunk it again.
    resp_headers = []
    for k, v in resp.headers.raw:
        name = k.decode("latin-1")
        if name.lower() == "transfer-encoding":
            name = "X-Archive-Orig-Transfer-Encoding"
        resp_headers.append((name, v.decode("latin-1")))
    reason = resp.reason_phrase or "-"
    status = StatusAndHeaders(f"{resp.status_code} {reason}", resp_headers, protocol="HTTP/1.1")
    payload = BytesIO(body) if isinstance(body, bytes) else body
    response = warc.create_warc_record(
        uri, "response", payload=payload, length=size, http_headers=status
    )
    request.rec_headers.add_header(
        "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
    )
    warc.write_record(response)
    warc.write_record(request)
    return str(response.rec_headers.get_header("WARC-Date"))


def sniff(head: bytes) -> str:
    """What the first bytes of a body really are: "html", "media" or "other"."""
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in start:
        return "html"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide") or head.startswith(
        (b"\x1a\x45\xdf\xa3", b"OggS", b"ID3", b"RIFF", b"FLV", b"\xff\xfb", b"\xff\xf3")
    ):
        return "media"
    return "other"


def declared(content_type: str) -> str:
    """What a Content-Type claims: "html", "media" or "other"."""
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if content_type.startswith(("video/", "audio/")):
        return "media"
    return "other"
