"""Geometry rules for sites and events: accepted shapes, validation, WGS84 geodesics.

Geometries are shapely objects in WGS84 longitude/latitude. Distances are geodesic on the WGS84
ellipsoid (pyproj's Geod, Karney's algorithm), never planar degrees.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from allweather.domain.vocabulary import SiteKind

WGS84 = Geod(ellps="WGS84")

_KIND_BY_TYPE = {
    "Point": SiteKind.POINT,
    "MultiPoint": SiteKind.POINT,
    "LineString": SiteKind.LINE,
    "MultiLineString": SiteKind.LINE,
    "Polygon": SiteKind.AREA,
    "MultiPolygon": SiteKind.AREA,
}


class GeometryError(ValueError):
    """A geometry that cannot be a site: the message says why, in plain words."""


def site_kind_of(geometry: BaseGeometry) -> SiteKind:
    """The site kind a geometry makes: point, area (polygon) or line corridor."""
    try:
        return _KIND_BY_TYPE[geometry.geom_type]
    except KeyError:
        raise GeometryError(
            f"{geometry.geom_type} is not a site geometry; use a point, polygon or line"
        ) from None


def parse_wkt(text: str) -> BaseGeometry:
    """Parse WKT into a validated site geometry.

    Raises:
        GeometryError: for unparsable text, empty or unsupported shapes, coordinates outside
            WGS84 ranges, or invalid polygons (with GEOS's reason).
    """
    try:
        geometry = shapely.from_wkt(text.strip())
    except shapely.errors.ShapelyError as err:
        raise GeometryError(f"malformed WKT: {_first_line(str(err))}") from err
    if geometry is None:
        raise GeometryError("malformed WKT: empty text")
    validate_site_geometry(geometry)
    return geometry


def validate_site_geometry(geometry: BaseGeometry) -> None:
    """Check a geometry can be a site. Raises ``GeometryError`` saying why not."""
    site_kind_of(geometry)
    if geometry.is_empty:
        raise GeometryError("geometry is empty")
    if shapely.has_z(geometry):
        geometry = shapely.force_2d(geometry)
    coords = shapely.get_coordinates(geometry)
    if not all(math.isfinite(v) for v in coords.flat):
        raise GeometryError("geometry has non-finite coordinates")
    lon_min, lat_min = coords.min(axis=0)
    lon_max, lat_max = coords.max(axis=0)
    if lat_min < -90 or lat_max > 90:
        raise GeometryError("latitude outside [-90, 90] — are longitude and latitude swapped?")
    if lon_min < -180 or lon_max > 180:
        raise GeometryError("longitude outside [-180, 180]")
    if not geometry.is_valid:
        raise GeometryError(f"invalid geometry: {shapely.is_valid_reason(geometry)}")


def check_latitude(value: float) -> None:
    if not math.isfinite(value) or not -90 <= value <= 90:
        raise GeometryError(f"latitude {value} is outside [-90, 90]")


def check_longitude(value: float) -> None:
    if not math.isfinite(value) or not -180 <= value <= 180:
        raise GeometryError(f"longitude {value} is outside [-180, 180]")


def geodesic_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance between two points on the WGS84 ellipsoid, in km."""
    _, _, metres = WGS84.inv(lon1, lat1, lon2, lat2)
    return float(metres) / 1000.0


def approx_distance_km(a: BaseGeometry, b: BaseGeometry) -> float:
    """Geodesic length of the planar-nearest pair of points between two geometries, in km.

    The nearest pair is found in degrees, so this is an estimate for messages and flags (a site
    "3 km outside its country"), not the exact matcher distance.
    """
    if a.intersects(b):
        return 0.0
    pa, pb = nearest_points(a, b)
    return geodesic_km(pa.x, pa.y, pb.x, pb.y)


def approx_distances_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``approx_distance_km`` pairwise over two equal-length arrays of geometries."""
    if len(a) == 0:
        return np.zeros(0)
    ends = shapely.get_coordinates(shapely.shortest_line(a, b)).reshape(-1, 4)
    _, _, metres = WGS84.inv(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
    return np.asarray(metres, dtype=float) / 1000.0


def anchor_point(geometry: BaseGeometry) -> tuple[float, float]:
    """A point guaranteed on the geometry (longitude, latitude), for labels and map pins."""
    point = geometry.representative_point() if geometry.geom_type != "Point" else geometry
    return float(point.x), float(point.y)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unreadable"
