"""A brute-force WGS84 reference for the matcher, built only on pyproj ``Geod``.

Slow and obvious on purpose: every (event, site) pair, the distance to a segment found by a
golden-section search along the geodesic (vectorized over all pairs), polygons' insides by
shapely. The matcher must agree with it pair for pair.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

G = Geod(ellps="WGS84")
_PHI = (5**0.5 - 1) / 2


def segment_km(a: np.ndarray, b: np.ndarray, p: np.ndarray, steps: int = 70) -> np.ndarray:
    """Distance (km) from points p to geodesic segments a–b, rows of (lon, lat)."""
    az, _, length = G.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    az, length = np.asarray(az), np.asarray(length)

    def f(s: np.ndarray) -> np.ndarray:
        lon, lat, _ = G.fwd(a[:, 0], a[:, 1], az, s)
        return np.asarray(G.inv(lon, lat, p[:, 0], p[:, 1])[2])

    lo, hi = np.zeros(len(a)), length.copy()
    x1, x2 = hi - _PHI * (hi - lo), lo + _PHI * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(steps):
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        nx1 = np.where(left, hi - _PHI * (hi - lo), x2)
        nx2 = np.where(left, x1, lo + _PHI * (hi - lo))
        nf1 = np.where(left, np.nan, f2)
        nf2 = np.where(left, f1, np.nan)
        need1, need2 = np.isnan(nf1), np.isnan(nf2)
        nf1[need1] = f(nx1)[need1]
        nf2[need2] = f(nx2)[need2]
        x1, x2, f1, f2 = nx1, nx2, nf1, nf2
    ends = np.minimum(
        np.asarray(G.inv(a[:, 0], a[:, 1], p[:, 0], p[:, 1])[2]),
        np.asarray(G.inv(b[:, 0], b[:, 1], p[:, 0], p[:, 1])[2]),
    )
    return np.minimum(np.minimum(f1, f2), ends) / 1000.0


def _segments(geometry: BaseGeometry) -> np.ndarray:
    """(n, 4) segments of every line part and ring."""
    out = []
    for part in shapely.get_parts(geometry):
        rings = [part] if part.geom_type == "LineString" else list(shapely.get_rings(part))
        for ring in rings:
            c = shapely.get_coordinates(ring)
            out.append(np.hstack([c[:-1], c[1:]]))
    return np.vstack(out) if out else np.zeros((0, 4))


def distances_km(geometry: BaseGeometry, points: np.ndarray) -> np.ndarray:
    """Exact distance (km) from each point to one site geometry."""
    kind = geometry.geom_type
    if kind in ("Point", "MultiPoint"):
        c = shapely.get_coordinates(geometry)
        best = np.full(len(points), np.inf)
        for x, y in c:
            d = np.asarray(
                G.inv(np.full(len(points), x), np.full(len(points), y), points[:, 0], points[:, 1])[
                    2
                ]
            )
            best = np.minimum(best, d / 1000.0)
        return best
    segs = _segments(geometry)
    # Every (segment, point) pair in one vectorized search.
    seg = np.repeat(segs, len(points), axis=0)
    pts = np.tile(points, (len(segs), 1))
    best = segment_km(seg[:, :2], seg[:, 2:], pts).reshape(len(segs), len(points)).min(axis=0)
    if kind in ("Polygon", "MultiPolygon"):
        inside = shapely.intersects_xy(geometry, points[:, 0], points[:, 1])
        best[inside] = 0.0
    return best


def pairs_within(
    geometries: list[BaseGeometry], points: np.ndarray, radius_km: float
) -> dict[tuple[int, int], float]:
    """{(event, site): km} for every pair within ``radius_km``, by brute force.

    To stay affordable it first drops sites whose every point is provably farther: a site
    lies within ``R`` km of its first vertex (the farthest vertex plus half the longest
    segment, from Geod, plus 1 %), so an event farther than ``radius + R`` from that vertex
    cannot be within the radius.
    """
    out: dict[tuple[int, int], float] = {}
    for s, geometry in enumerate(geometries):
        c = shapely.get_coordinates(geometry)
        x0, y0 = c[0]
        spread = np.asarray(G.inv(np.full(len(c), x0), np.full(len(c), y0), c[:, 0], c[:, 1])[2])
        # A point of a geodesic segment is within half its length of one end, and may lie
        # farther from the first vertex than any vertex does (segments bow toward a pole).
        segs = _segments(geometry) if geometry.geom_type not in ("Point", "MultiPoint") else None
        half = 0.0
        if segs is not None and len(segs):
            half = float(np.max(G.inv(segs[:, 0], segs[:, 1], segs[:, 2], segs[:, 3])[2])) / 2
        reach = (spread.max() + half) / 1000.0 * 1.01 + 1.0
        if geometry.geom_type in ("Polygon", "MultiPolygon"):
            reach += 50.0  # lon/lat edges may bow; generous, this is only a shortcut
        first = (
            np.asarray(
                G.inv(
                    np.full(len(points), x0), np.full(len(points), y0), points[:, 0], points[:, 1]
                )[2]
            )
            / 1000.0
        )
        near = np.flatnonzero(first <= radius_km + reach)
        if not len(near):
            continue
        d = distances_km(geometry, points[near])
        for e, km in zip(near[d <= radius_km], d[d <= radius_km], strict=True):
            out[(int(e), s)] = float(km)
    return out
