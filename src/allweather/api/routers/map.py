"""GeoJSON layers for the map: bounding-box filter, simplification by zoom."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from shapely.geometry import mapping

from allweather.api.deps import MapPageDep, PlatformDep
from allweather.store.base import ProjectFilter

router = APIRouter(prefix="/map", tags=["map"])


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``min_lon,min_lat,max_lon,max_lat``; min_lon > max_lon means the box crosses 180°."""
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise HTTPException(422, "bbox: expected min_lon,min_lat,max_lon,max_lat")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise HTTPException(
            422, "bbox: longitudes in [-180, 180], latitudes in [-90, 90], min ≤ max"
        )
    return min_lon, min_lat, max_lon, max_lat


@router.get("/sites")
def site_layer(
    platform: PlatformDep,
    paging: MapPageDep,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    zoom: Annotated[float | None, Query(ge=0, le=24, description="simplify for this zoom")] = None,
) -> dict[str, Any]:
    """Sites as a GeoJSON FeatureCollection (footprints, corridors, points)."""
    features, total = platform.portfolio.site_features(
        parse_bbox(bbox), paging.offset, paging.page_size
    )
    # Half a screen pixel at this zoom (256-px tiles), in degrees: invisible simplification.
    tolerance = 360.0 / (256 * 2**zoom) / 2 if zoom is not None else 0.0
    out = []
    for f in features:
        geometry = f.geometry
        if tolerance and geometry.geom_type not in ("Point", "MultiPoint"):
            geometry = geometry.simplify(tolerance, preserve_topology=True)
        out.append(
            {
                "type": "Feature",
                "id": f.site_id,
                "geometry": mapping(geometry),
                "properties": {
                    "site_id": f.site_id,
                    "site": f.site_key,
                    "site_kind": f.site_kind,
                    "precision": f.precision,
                    "country": f.country_code,
                    "code": f.project_code,
                    "name": f.project_name,
                    "name_zh": f.project_name_zh,
                    "kind": f.project_kind,
                    "sector": f.sector,
                    "status": f.status,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": out,
        "total": total,
        "page": paging.page,
        "page_size": paging.page_size,
    }


@router.get("/projects")
def project_layer(platform: PlatformDep, paging: MapPageDep) -> dict[str, Any]:
    """One point per project (its first site's anchor), for clustered pins."""
    rows, total = platform.portfolio.list_projects(ProjectFilter(), paging.offset, paging.page_size)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(r.anchor)},
            "properties": {
                "code": r.code,
                "name": r.name,
                "name_zh": r.name_zh,
                "kind": r.kind,
                "sector": r.sector,
                "status": r.status,
                "country": r.country_code,
                "sites": r.site_count,
            },
        }
        for r in rows
        if r.anchor is not None
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": total,
        "page": paging.page,
        "page_size": paging.page_size,
    }
