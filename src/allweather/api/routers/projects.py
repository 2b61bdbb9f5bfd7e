"""Projects and their sites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from allweather.api.deps import PageDep, PlatformDep
from allweather.api.errors import NotFoundError
from allweather.api.schemas import Page, ProjectOut, ProjectSummaryOut
from allweather.domain.vocabulary import ProjectKind, ProjectStatus, Sector
from allweather.store.base import ProjectFilter

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=Page[ProjectSummaryOut])
def list_projects(
    platform: PlatformDep,
    paging: PageDep,
    country: Annotated[
        str | None, Query(min_length=2, max_length=2, description="ISO alpha-2")
    ] = None,
    organization: Annotated[str | None, Query(description="organisation code")] = None,
    kind: ProjectKind | None = None,
    sector: Sector | None = None,
    status: ProjectStatus | None = None,
    q: Annotated[str | None, Query(max_length=100, description="text in code or name")] = None,
) -> Page[ProjectSummaryOut]:
    """Projects, filtered and paginated, ordered by code."""
    where = ProjectFilter(
        country_code=country,
        organization_code=organization,
        kind=kind.value if kind else None,
        sector=sector.value if sector else None,
        status=status.value if status else None,
        text=q,
    )
    rows, total = platform.portfolio.list_projects(where, paging.offset, paging.page_size)
    return Page.build([ProjectSummaryOut.of(r) for r in rows], paging.page, paging.page_size, total)


@router.get("/{code}", response_model=ProjectOut)
def get_project(code: str, platform: PlatformDep) -> ProjectOut:
    """One project with its sites (GeoJSON geometries)."""
    project = platform.portfolio.get_project(code)
    if project is None:
        raise NotFoundError(f"no project with code {code!r}")
    return ProjectOut.of(project)
