"""Response models of /api/v1 (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from shapely.geometry import mapping

from allweather.domain.labels import Label
from allweather.domain.portfolio import Country, Organization, Project, Site
from allweather.store.base import CountryUsage, ProjectSummary

T = TypeVar("T")


class LabelOut(BaseModel):
    zh: str
    en: str

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls(zh=label.zh, en=label.en)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int

    @classmethod
    def build(cls, items: list[T], page: int, page_size: int, total: int) -> Page[T]:
        return cls(
            items=items,
            page=page,
            page_size=page_size,
            total=total,
            pages=(total + page_size - 1) // page_size,
        )


class CountryOut(BaseModel):
    iso2: str
    iso3: str
    name_zh: str
    name_en: str
    projects: int = 0
    sites: int = 0

    @classmethod
    def of(cls, country: Country, usage: CountryUsage | None = None) -> CountryOut:
        return cls(
            iso2=country.iso2,
            iso3=country.iso3,
            name_zh=country.name_zh,
            name_en=country.name_en,
            projects=usage.projects if usage else 0,
            sites=usage.sites if usage else 0,
        )


class OrganizationOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    kind: str
    kind_label: LabelOut
    oversees: list[str]

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(
            code=org.code,
            name=org.name,
            name_zh=org.name_zh,
            kind=org.kind.value,
            kind_label=LabelOut.of(org.kind.label),
            oversees=list(org.oversees),
        )


class ProjectSummaryOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    organization: str | None
    country: str | None
    kind: str
    sector: str | None
    status: str | None
    value_usd: float | None
    site_count: int
    anchor: list[float] | None = Field(description="[longitude, latitude] of the first site")
    updated_at: datetime

    @classmethod
    def of(cls, s: ProjectSummary) -> ProjectSummaryOut:
        return cls(
            code=s.code,
            name=s.name,
            name_zh=s.name_zh,
            organization=s.organization_code,
            country=s.country_code,
            kind=s.kind,
            sector=s.sector,
            status=s.status,
            value_usd=s.value_usd,
            site_count=s.site_count,
            anchor=list(s.anchor) if s.anchor else None,
            updated_at=s.updated_at,
        )


class SiteOut(BaseModel):
    id: int | None
    key: str
    name: str | None
    kind: str
    kind_label: LabelOut
    precision: str
    country: str | None
    geometry: dict[str, Any] = Field(description="GeoJSON geometry (WGS84)")

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            key=site.key,
            name=site.name,
            kind=site.kind.value,
            kind_label=LabelOut.of(site.kind.label),
            precision=site.precision.value,
            country=site.country_code,
            geometry=dict(mapping(site.geometry)),
        )


class StaffOut(BaseModel):
    chinese: int | None
    local: int | None
    third_country: int | None
    total: int | None


class ProjectOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    organization: str | None
    country: str | None
    kind: str
    kind_label: LabelOut
    sector: str | None
    sector_label: LabelOut | None
    status: str | None
    status_label: LabelOut | None
    value_usd: float | None
    start_date: date | None
    end_date: date | None
    staff: StaffOut
    sites: list[SiteOut]
    # Contacts are deliberately absent until roles exist (issue 8: sensitive fields by role).

    @classmethod
    def of(cls, p: Project) -> ProjectOut:
        return cls(
            code=p.code,
            name=p.name,
            name_zh=p.name_zh,
            organization=p.organization_code,
            country=p.country_code,
            kind=p.kind.value,
            kind_label=LabelOut.of(p.kind.label),
            sector=p.sector.value if p.sector else None,
            sector_label=LabelOut.of(p.sector.label) if p.sector else None,
            status=p.status.value if p.status else None,
            status_label=LabelOut.of(p.status.label) if p.status else None,
            value_usd=p.value_usd,
            start_date=p.start_date,
            end_date=p.end_date,
            staff=StaffOut(
                chinese=p.staff.chinese,
                local=p.staff.local,
                third_country=p.staff.third_country,
                total=p.staff.total,
            ),
            sites=[SiteOut.of(s) for s in p.sites],
        )


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class VocabularyOut(BaseModel):
    """A closed vocabulary with labels, for forms and legends."""

    name: str
    values: list[dict[str, Any]]
