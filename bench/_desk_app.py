"""The desk's app for ``uvicorn --factory --workers N`` (bench/desk_load.py ``--workers``):
what ``tolmach serve`` runs, built from the same TOLMACH_* settings, in several processes."""

from __future__ import annotations

from fastapi import FastAPI

from tolmach.cli_base import load_settings
from tolmach.web.app import create_app


def app() -> FastAPI:
    return create_app(load_settings())
