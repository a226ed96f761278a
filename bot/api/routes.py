"""The staff API under /staff/ (bearer token). Every refusal and every action is audited.

The routes live in `bot.api`, one module per group; this module mounts them in the order
they are documented, and keeps `router` and `current_staff` where the rest of the app finds them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bot.api import beneficiaries, bookings, broadcasts, members, slots, stats, tokens
from bot.api.auth import current_staff
from bot.api.plumbing import refuse_nul

__all__ = ["router", "current_staff"]

router = APIRouter(prefix="/staff", tags=["staff"], dependencies=[Depends(refuse_nul)])
router.include_router(members.router)
router.include_router(tokens.router)
router.include_router(broadcasts.router)
router.include_router(slots.router)
router.include_router(bookings.router)
router.include_router(beneficiaries.router)
router.include_router(stats.router)
