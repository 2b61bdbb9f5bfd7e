"""Exposures: which sites each event reaches, how far, under which rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from allweather.api.deps import PageDep, PlatformDep
from allweather.api.errors import NotFoundError
from allweather.api.schemas import Page
from allweather.connectors.registry import all_connectors
from allweather.pipeline.match import exposure_records

router = APIRouter(tags=["exposures"])


class ExposureOut(BaseModel):
    event_id: str
    source: str
    occurred_at: str | None
    fine_type: str
    severity: str
    project_code: str
    site_id: int
    site_key: str
    distance_km: float | None
    bearing_deg: float | None
    reach_kind: str
    reach_km: float | None
    rule: str
    precision: str
    note: str | None
    matrix_version: str | None


@router.get("/exposures", response_model=Page[ExposureOut])
def list_exposures(
    platform: PlatformDep,
    paging: PageDep,
    project: Annotated[str | None, Query(description="only this project's code")] = None,
) -> Page[ExposureOut]:
    """Exposures (影响匹配), newest event first, then nearest site."""
    if project is not None and platform.portfolio.get_project(project) is None:
        raise NotFoundError(f"no project {project!r}")
    rows, total = platform.matching.list_exposures(project, paging.offset, paging.page_size)
    numbers = {c.spec.number: c.spec.id for c in all_connectors()}
    items = [
        ExposureOut(**{k: v for k, v in r.items() if k in ExposureOut.model_fields})
        for r in exposure_records(rows, numbers)
    ]
    return Page.build(items, paging.page, paging.page_size, total)
