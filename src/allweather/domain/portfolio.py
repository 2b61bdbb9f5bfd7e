"""The project portfolio: organisations, projects, their sites, staff and contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shapely.geometry.base import BaseGeometry

from allweather.domain.geo import site_kind_of
from allweather.domain.vocabulary import (
    LocationPrecision,
    OrgKind,
    ProjectKind,
    ProjectStatus,
    Sector,
    SiteKind,
)


@dataclass(frozen=True)
class Organization:
    """An enterprise (runs projects) or a supervising department (oversees enterprises)."""

    code: str
    name: str
    name_zh: str | None = None
    kind: OrgKind = OrgKind.ENTERPRISE
    oversees: tuple[str, ...] = ()


@dataclass(frozen=True)
class StaffCounts:
    """Headcount on a project: Chinese, local, and third-country staff."""

    chinese: int | None = None
    local: int | None = None
    third_country: int | None = None

    @property
    def total(self) -> int | None:
        known = [n for n in (self.chinese, self.local, self.third_country) if n is not None]
        return sum(known) if known else None


@dataclass(frozen=True)
class Contact:
    """A person to reach about a project (sensitive: visible by role only)."""

    name: str
    role: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Site:
    """One place of a project: a point, an area footprint or a line corridor.

    ``key`` identifies the site within its project and stays stable across re-imports.
    """

    key: str
    geometry: BaseGeometry
    name: str | None = None
    country_code: str | None = None
    precision: LocationPrecision = LocationPrecision.EXACT
    id: int | None = None  # assigned by the store

    @property
    def kind(self) -> SiteKind:
        return site_kind_of(self.geometry)


@dataclass(frozen=True)
class Project:
    """An overseas project: its facts and one or more sites."""

    code: str
    name: str
    name_zh: str | None = None
    organization_code: str | None = None
    country_code: str | None = None
    kind: ProjectKind = ProjectKind.GENERAL
    sector: Sector | None = None
    status: ProjectStatus | None = None
    value_usd: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    staff: StaffCounts = field(default_factory=StaffCounts)
    source: str | None = None  # where the record came from (dataset, register), for attribution
    contacts: tuple[Contact, ...] = ()
    sites: tuple[Site, ...] = ()
    id: int | None = None  # assigned by the store

    def display_name(self, lang: str = "zh") -> str:
        """The name in the asked language, falling back to the other when it is missing."""
        if lang == "zh":
            return self.name_zh or self.name
        return self.name or self.name_zh or self.code


@dataclass(frozen=True)
class Country:
    """An ISO 3166-1 country with its names in both languages."""

    iso2: str
    iso3: str
    numeric: str
    name_en: str
    name_zh: str
