"""Countries, organisations and the platform's vocabularies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from allweather.api.deps import PageDep, PlatformDep
from allweather.api.schemas import CountryOut, OrganizationOut, Page, VocabularyOut
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import EventClass, FineType, MofcomCategory, SeverityGrade
from allweather.domain.vocabulary import (
    LocationPrecision,
    OrgKind,
    ProjectKind,
    ProjectStatus,
    Sector,
    SiteKind,
)

router = APIRouter(tags=["reference"])


@router.get("/countries", response_model=Page[CountryOut])
def list_countries(
    platform: PlatformDep,
    paging: PageDep,
    with_projects: Annotated[bool, Query(description="only countries with projects")] = False,
) -> Page[CountryOut]:
    """ISO 3166 countries with Chinese and English names and portfolio counts."""
    usage = platform.portfolio.country_usage()
    if with_projects:
        usage = [u for u in usage if u.projects or u.sites]
    items = [CountryOut.of(u.country, u) for u in usage]
    window = items[paging.offset : paging.offset + paging.page_size]
    return Page.build(window, paging.page, paging.page_size, len(items))


@router.get("/organizations", response_model=Page[OrganizationOut])
def list_organizations(platform: PlatformDep, paging: PageDep) -> Page[OrganizationOut]:
    """Enterprises and supervising departments."""
    orgs = platform.portfolio.organizations()
    window = orgs[paging.offset : paging.offset + paging.page_size]
    return Page.build(
        [OrganizationOut.of(o) for o in window], paging.page, paging.page_size, len(orgs)
    )


@router.get("/vocabularies", response_model=list[VocabularyOut])
def vocabularies() -> list[VocabularyOut]:
    """Every closed vocabulary with its Chinese and English labels."""
    out = [
        VocabularyOut(
            name=v.__name__,
            values=[{"code": m.value, "zh": m.label.zh, "en": m.label.en} for m in v],
        )
        for v in (
            ProjectKind,
            Sector,
            ProjectStatus,
            OrgKind,
            SiteKind,
            LocationPrecision,
            MofcomCategory,
            EventClass,
            SeverityGrade,
        )
    ]
    out.append(
        VocabularyOut(
            name="FineType",
            values=[
                {
                    "code": t.value,
                    "zh": t.label.zh,
                    "en": t.label.en,
                    "category": t.category.value,
                    "event_class": t.event_class.value,
                }
                for t in FineType
            ],
        )
    )
    out.append(
        VocabularyOut(
            name="WarningLevel",
            values=[
                {
                    "code": level.value,
                    "zh": level.label.zh,
                    "en": level.label.en,
                    "colour": level.hex,
                }
                for level in WarningLevel
            ],
        )
    )
    return out
