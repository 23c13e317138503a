"""Routes of the desk: auth."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
