"""Plain factory functions for test data (STYLE.md §7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely.geometry import LineString, MultiLineString, Point, Polygon

from allweather.domain.portfolio import Contact, Project, Site, StaffCounts
from allweather.domain.vocabulary import ProjectKind, ProjectStatus, Sector
from allweather.store.base import ProjectUpdate

# Real places: Nairobi terminus of the SGR, Mombasa port, Gwadar port.
NAIROBI = Point(36.8219, -1.2921)
MOMBASA_PORT = Polygon(
    [(39.64, -4.06), (39.67, -4.06), (39.67, -4.03), (39.64, -4.03), (39.64, -4.06)]
)
SGR_LINE = LineString([(39.63, -4.04), (38.57, -3.39), (37.95, -2.69), (36.82, -1.29)])


def make_site(key: str = "1", **overrides: Any) -> Site:
    values: dict[str, Any] = {"key": key, "geometry": NAIROBI, "country_code": "KE"}
    values.update(overrides)
    return Site(**values)


def make_project(code: str = "KE-SGR", **overrides: Any) -> Project:
    values: dict[str, Any] = {
        "code": code,
        "name": "Mombasa–Nairobi Standard Gauge Railway",
        "name_zh": "蒙内铁路",
        "country_code": "KE",
        "kind": ProjectKind.FLAGSHIP,
        "sector": Sector.TRANSPORT,
        "status": ProjectStatus.OPERATING,
        "value_usd": 3.8e9,
        "staff": StaffCounts(120, 2000, 5),
        "contacts": (Contact("Li Ming", "security officer", "+254 700 000000", "li@example.org"),),
        "sites": (
            make_site("line", geometry=SGR_LINE),
            make_site("port", geometry=MOMBASA_PORT),
            make_site("terminus"),
        ),
    }
    values.update(overrides)
    return Project(**values)


def make_update(project: Project | None = None, **overrides: Any) -> ProjectUpdate:
    return ProjectUpdate(project=project or make_project(), **overrides)


def corridor(*parts: list[tuple[float, float]]) -> MultiLineString:
    return MultiLineString(list(parts))


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
