"""Exact WGS84 distances for the matcher: point to point, and point to a geodesic segment.

Both use Karney's algorithms through pyproj's ``Geod`` (accurate to nanometres), vectorized over
arrays of pairs. pyproj releases the GIL, so large batches split across threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from allweather.domain.geo import WGS84
from allweather.matching.sphere import EARTH_RADIUS_KM, FloatArray

_SPLIT = 50_000  # below this many pairs, threads cost more than they give
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="geodesic")
# Along-segment Newton steps stop once they move less than this (metres).
_CONVERGED_M = 1e-5
_MAX_STEPS = 12
_END_M = 1e-3


def _inv(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Forward azimuth (degrees) and distance (metres) from points 1 to points 2."""
    n = len(lon1)
    if n < _SPLIT:
        az, _, dist = WGS84.inv(lon1, lat1, lon2, lat2)
        return np.asarray(az, dtype=float), np.asarray(dist, dtype=float)
    half = n // 2
    parts = list(
        _POOL.map(
            lambda s: WGS84.inv(lon1[s], lat1[s], lon2[s], lat2[s]),
            (slice(0, half), slice(half, n)),
        )
    )
    az = np.concatenate([np.asarray(p[0], dtype=float) for p in parts])
    dist = np.concatenate([np.asarray(p[2], dtype=float) for p in parts])
    return az, dist


def _fwd(
    lon: FloatArray, lat: FloatArray, az: FloatArray, dist: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """End points and the azimuth there (degrees, onward) after ``dist`` metres along ``az``."""
    n = len(lon)

    def run(s: slice) -> Any:
        return WGS84.fwd(lon[s], lat[s], az[s], dist[s])

    if n < _SPLIT:
        parts = [run(slice(0, n))]
    else:
        parts = list(_POOL.map(run, (slice(0, n // 2), slice(n // 2, n))))
    lon2 = np.concatenate([np.asarray(p[0], dtype=float) for p in parts])
    lat2 = np.concatenate([np.asarray(p[1], dtype=float) for p in parts])
    back = np.concatenate([np.asarray(p[2], dtype=float) for p in parts])
    return lon2, lat2, back + 180.0


def point_distances(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Geodesic distance (km) and azimuth from 1 to 2 (degrees in [0, 360))."""
    if not len(lon1):
        return np.zeros(0), np.zeros(0)
    az, metres = _inv(lon1, lat1, lon2, lat2)
    return metres / 1000.0, _compass(az)


def segment_distances(
    a_lon: FloatArray,
    a_lat: FloatArray,
    b_lon: FloatArray,
    b_lat: FloatArray,
    p_lon: FloatArray,
    p_lat: FloatArray,
    start_fraction: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Distance (km) from each point P to the WGS84 geodesic segment A–B, and the azimuth from
    the segment's nearest point to P (degrees in [0, 360)).

    The nearest point X is found by Newton steps along the segment: at X the geodesic to P
    leaves at angle Δ to the segment, and the along-track offset to the foot of the
    perpendicular is ``atan(tan(d) cos Δ)`` (a right spherical triangle in the local sphere),
    which converges quadratically on the ellipsoid. X is kept on the segment, so when the foot
    falls beyond an end the answer is that end; the smallest distance measured is kept.
    """
    n = len(p_lon)
    if not n:
        return np.zeros(0), np.zeros(0)
    az_ab, length = _inv(a_lon, a_lat, b_lon, b_lat)
    along = np.zeros(n) if start_fraction is None else np.clip(start_fraction, 0, 1) * length
    best_d = np.full(n, np.inf)
    best_az = np.zeros(n)
    active = np.arange(n)
    for _ in range(_MAX_STEPS):
        if not len(active):
            break
        x_lon, x_lat, x_az = _fwd(a_lon[active], a_lat[active], az_ab[active], along[active])
        az_xp, d = _inv(x_lon, x_lat, p_lon[active], p_lat[active])
        better = d < best_d[active]
        best_d[active[better]] = d[better]
        best_az[active[better]] = az_xp[better]
        delta = np.radians(az_xp - x_az)
        sigma = d / (EARTH_RADIUS_KM * 1000.0)
        step = np.arctan2(np.sin(sigma) * np.cos(delta), np.cos(sigma)) * EARTH_RADIUS_KM * 1000
        moved = np.clip(along[active] + np.nan_to_num(step), 0.0, length[active])
        change = np.abs(moved - along[active])
        along[active] = moved
        active = active[change > _CONVERGED_M]
    if len(active):  # the last step moved: measure where it landed
        x_lon, x_lat, _ = _fwd(a_lon[active], a_lat[active], az_ab[active], along[active])
        az_xp, d = _inv(x_lon, x_lat, p_lon[active], p_lat[active])
        better = d < best_d[active]
        best_d[active[better]] = d[better]
        best_az[active[better]] = az_xp[better]
    # Where the nearest point is at (or within a millimetre of) an end, measure from the vertex
    # itself: walking a segment lands within nanometres of a vertex, not on it, and an event on
    # a vertex is at 0.
    near_a, near_b = along <= _END_M, along >= length - _END_M
    for at_end, e_lon, e_lat in ((near_a, a_lon, a_lat), (near_b, b_lon, b_lat)):
        ends = np.flatnonzero(at_end)
        if len(ends):
            az_e, d = _inv(e_lon[ends], e_lat[ends], p_lon[ends], p_lat[ends])
            better = d < best_d[ends]
            best_d[ends[better]] = d[better]
            best_az[ends[better]] = az_e[better]
    return best_d / 1000.0, _compass(best_az)


def _compass(az: FloatArray) -> FloatArray:
    """Azimuths in [0, 360): ``np.mod(-1e-14, 360)`` rounds to 360.0, which is north."""
    out = np.mod(az, 360.0)
    out[out >= 360.0] = 0.0
    return np.asarray(out)
