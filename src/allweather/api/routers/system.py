"""Health and platform facts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from allweather import __version__
from allweather.api.deps import PlatformDep
from allweather.store.database import current_revision

router = APIRouter(tags=["system"])


@router.get("/health")
def health(platform: PlatformDep) -> dict[str, Any]:
    """Liveness, schema revision, the platform clock, and portfolio counts."""
    return {
        "status": "ok",
        "version": __version__,
        "schema": current_revision(platform.engine),
        "now": platform.clock.now().isoformat(),
        "counts": platform.portfolio.counts(),
    }
