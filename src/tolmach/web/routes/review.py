"""Routes of the desk: review."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
