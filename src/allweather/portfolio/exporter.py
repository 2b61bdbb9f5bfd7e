"""Portfolio export in the canonical columns: CSV (one row per site) or GeoJSON.

An export re-imports to the same portfolio: codes, site keys, values and geometry round-trip.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import shapely
from shapely.geometry import mapping

from allweather.domain.portfolio import Project, Site
from allweather.portfolio.columns import CANONICAL


def _cells(project: Project, site: Site) -> dict[str, Any]:
    contact = project.contacts[0] if project.contacts else None
    return {
        "code": project.code,
        "name": project.name,
        "name_zh": project.name_zh,
        "organization": project.organization_code,
        "country": site.country_code,
        "sector": project.sector.value if project.sector else None,
        "kind": project.kind.value,
        "status": project.status.value if project.status else None,
        "value_usd": _number(project.value_usd),
        "start_date": project.start_date.isoformat() if project.start_date else None,
        "end_date": project.end_date.isoformat() if project.end_date else None,
        "staff_cn": project.staff.chinese,
        "staff_local": project.staff.local,
        "staff_other": project.staff.third_country,
        "site": site.key,
        "site_name": site.name,
        "precision": site.precision.value,
        "source": project.source,
        "contact_name": contact.name if contact else None,
        "contact_role": contact.role if contact else None,
        "contact_phone": contact.phone if contact else None,
        "contact_email": contact.email if contact else None,
    }


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def write_csv(projects: Iterable[Project], out: TextIO) -> int:
    """Write one canonical row per site; points as latitude/longitude, other shapes as WKT.

    Returns the number of rows written.
    """
    writer = csv.DictWriter(out, fieldnames=list(CANONICAL), lineterminator="\n")
    writer.writeheader()
    count = 0
    for project in projects:
        for site in project.sites:
            cells = _cells(project, site)
            geometry = site.geometry
            if geometry.geom_type == "Point":
                cells["latitude"] = repr(geometry.y)
                cells["longitude"] = repr(geometry.x)
            else:
                cells["wkt"] = shapely.to_wkt(geometry, rounding_precision=-1, trim=True)
            writer.writerow({k: "" if v is None else v for k, v in cells.items()})
            count += 1
    return count


def iter_features(projects: Iterable[Project]) -> Iterator[dict[str, Any]]:
    for project in projects:
        for site in project.sites:
            properties = {k: v for k, v in _cells(project, site).items() if v is not None}
            yield {"type": "Feature", "properties": properties, "geometry": mapping(site.geometry)}


def write_geojson(projects: Iterable[Project], out: TextIO) -> int:
    """Write a FeatureCollection with one feature per site; returns the feature count.

    Streams feature by feature so a large portfolio never sits in memory as one document.
    """
    out.write('{"type":"FeatureCollection","features":[')
    count = 0
    for feature in iter_features(projects):
        out.write(("," if count else "\n") + json.dumps(feature, ensure_ascii=False) + "\n")
        count += 1
    out.write("]}\n")
    return count
