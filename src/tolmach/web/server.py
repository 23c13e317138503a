"""Serving the desk with uvicorn, in one process or several (``web_processes``).

uvicorn runs on uvloop with the httptools parser (both compiled): a kept-alive request costs
a fraction of what h11 and the pure-Python event loop cost, which matters under load.
With several processes, each builds its own app from the same settings (passed on in
TOLMACH_DESK_SETTINGS) and one of them runs the jobs (see ``app._job_runner_lock``).
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tolmach.config import Settings
from tolmach.web.app import create_app

SETTINGS_VARIABLE = "TOLMACH_DESK_SETTINGS"


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on a connection. The event loop does so itself only for
    sockets it knows are TCP; a listening socket handed to worker processes loses that mark,
    and each kept-alive answer then waited ~40 ms for the client's delayed ACK."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with Nagle off on every connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)


def app_from_environment() -> FastAPI:
    """The app of one of several server processes: the settings `serve` was given."""
    return create_app(Settings.model_validate_json(os.environ[SETTINGS_VARIABLE]))


def run(settings: Settings) -> None:
    """Serve the desk until interrupted."""
    target: Any
    if settings.web_processes > 1:
        os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
        target = f"{__name__}:app_from_environment"
    else:
        target = create_app(settings)
    uvicorn.run(
        target,
        factory=settings.web_processes > 1,
        workers=settings.web_processes,
        host=settings.web_host,
        port=settings.web_port,
        loop="uvloop",
        http=NoDelayProtocol,
        log_level="warning",
        access_log=False,  # the log level hides it anyway; this spares building each line
        # Behind a reverse proxy every visitor would share its address (and the sign-in
        # limit): the proxies named here are believed about the visitor's own address.
        proxy_headers=bool(settings.web_trusted_proxies),
        forwarded_allow_ips=settings.web_trusted_proxies or None,
    )
