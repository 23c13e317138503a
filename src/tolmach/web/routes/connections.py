"""Routes of the desk: connections."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
