"""What comes into the desk: uploaded files, streamed to ``data_dir/uploads`` under the size
limit and checked as media, and URLs to capture, checked for their scheme.

    upload = await receive_upload(request, settings)     # a random name on disk; the
    ...                                                  # browser's file name only as data

An upload's multipart body is parsed as it arrives (python-multipart), so a file over
``web_max_upload_bytes`` is refused at the first byte too many, and the partial file deleted.
``LimitedRoute`` refuses a body announced or sent over the limit even where something else
reads it (the CSRF check reads a plain form's fields before the route runs).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import Message

from tolmach.config import Settings
from tolmach.errors import InputError
from tolmach.pipeline.ingest import check_media

FIELD = "file"  # the form field of the file
SLACK = 1024 * 1024  # room in a body for the multipart framing and the other fields
MAX_URL = 2000


@dataclass(frozen=True)
class Upload:
    path: Path  # under data_dir/uploads, a random name
    name: str  # the file name the browser sent: data, never a path
    size: int


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def too_large(settings: Settings) -> HTTPException:
    mib = settings.web_max_upload_bytes / 1024**2
    return HTTPException(
        413,
        f"The file is larger than the upload limit of {mib:,.1f} MiB. "
        "Cut it into parts, or ask an admin to raise web_max_upload_bytes.",
    )


def sweep_partial(settings: Settings) -> None:
    """Remove uploads a stopped server left half received."""
    for stale in upload_dir(settings).glob("*.part"):
        stale.unlink(missing_ok=True)


class LimitedRoute(APIRoute):
    """A route whose request body may not exceed the upload limit (413 otherwise)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def limited(request: Request) -> Response:
            settings: Settings = request.app.state.desk.settings
            cap = settings.web_max_upload_bytes + SLACK
            if int(request.headers.get("content-length") or 0) > cap:
                raise too_large(settings)
            seen = 0

            async def receive() -> Message:
                nonlocal seen
                message = await request.receive()
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise too_large(settings)
                return message

            return await inner(Request(request.scope, receive))

        return limited


class _Sink:
    """python-multipart callbacks writing the one file field to a ``.part`` file."""

    def __init__(self, folder: Path, limit: int, settings: Settings) -> None:
        self.part = folder / f"{secrets.token_hex(16)}.part"
        self.limit, self.settings = limit, settings
        self.name: str | None = None
        self.size = 0
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._out: IO[bytes] | None = None

    def on_part_begin(self) -> None:
        self._headers, self._field = {}, b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self._field.lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self._field = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") == FIELD.encode() and b"filename" in options:
            if self.name is not None:
                raise InputError("Send one file at a time.")
            self.name = options[b"filename"].decode("utf-8", "replace")
            self._out = self.part.open("xb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is None:
            return  # another field (the CSRF token): read by the CSRF check, not needed here
        self.size += end - start
        if self.size > self.limit:
            raise too_large(self.settings)
        self._out.write(data[start:end])

    def on_part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_upload(request: Request, settings: Settings, form_read: bool) -> Upload:
    """The request's file, on disk under a random name and checked as media.

    ``form_read``: the body was parsed already (the CSRF check of a plain form does that), so
    the file is taken from the parsed form; else the body is parsed here as it streams in.
    """
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    sink = _Sink(folder, settings.web_max_upload_bytes, settings)
    try:
        if form_read:
            await _copy_from_form(request, sink)
        else:
            await _parse_stream(request, sink)
        if sink.name is None or not (sink.name or sink.size):
            raise InputError("No file was sent.", f"Choose a file (the form field '{FIELD}').")
        final = sink.part.with_suffix(".media")
        sink.part.rename(final)
    except BaseException:
        sink.close()
        sink.part.unlink(missing_ok=True)
        raise
    upload = Upload(final, sink.name, sink.size)
    try:
        await run_in_threadpool(check_media, final, settings)
    except InputError as exc:
        final.unlink(missing_ok=True)
        shown = exc.message.replace(final.name, upload.name or "The file")
        raise InputError(shown, exc.hint) from None
    return upload


async def _parse_stream(request: Request, sink: _Sink) -> None:
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise InputError(
            "An upload must be sent as multipart/form-data.",
            f"Send the file in the form field '{FIELD}'.",
        )
    parser = MultipartParser(
        options[b"boundary"],
        {
            "on_part_begin": sink.on_part_begin,
            "on_header_field": sink.on_header_field,
            "on_header_value": sink.on_header_value,
            "on_header_end": sink.on_header_end,
            "on_headers_finished": sink.on_headers_finished,
            "on_part_data": sink.on_part_data,
            "on_part_end": sink.on_part_end,
        },
    )
    async for chunk in request.stream():
        parser.write(chunk)
    parser.finalize()


async def _copy_from_form(request: Request, sink: _Sink) -> None:
    got = (await request.form()).get(FIELD)
    if not isinstance(got, UploadFile):
        return
    sink.name = got.filename or ""
    with sink.part.open("xb") as out:
        while block := await got.read(1024 * 1024):
            sink.size += len(block)
            if sink.size > sink.limit:
                raise too_large(sink.settings)
            out.write(block)


def check_url(url: str) -> str:
    """``url`` stripped, if it is an http or https address; InputError otherwise."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(
            "Only web addresses starting with http:// or https:// can be captured.",
            "Paste the address of the post, as the browser shows it.",
        )
    if len(url) > MAX_URL:
        raise InputError(f"That address is over {MAX_URL} characters long.")
    return url
