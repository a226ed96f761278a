"""Pydantic models shared by several route groups of the staff API."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["LinkOut"]


class LinkOut(BaseModel):
    link: str
