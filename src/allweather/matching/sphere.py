"""The sphere as a prefilter for the WGS84 ellipsoid, with rigorous bounds.

A point (longitude, geodetic latitude) maps to the unit sphere with the same coordinates. Along
any path, the ellipsoid's length element is the sphere's (radius ``EARTH_RADIUS_KM``) times a
factor between ``M(equator) / R`` and ``N(pole) / R`` — the smallest meridional and the largest
normal radius of curvature. So for any two points, and for a point and any set,

    LOW * d_sphere  <=  d_ellipsoid  <=  HIGH * d_sphere.

The sphere may therefore discard pairs (``d_sphere > r / LOW`` cannot be within ``r``) but never
decide a distance; every distance the matcher reports is computed on the ellipsoid.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
_A = 6378.137
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_M_EQUATOR = _A * (1 - _E2)  # 6335.439 km, the smallest radius of curvature
_N_POLE = _A / math.sqrt(1 - _E2)  # 6399.594 km, the largest
# Rounded outward (0.994417 → 0.9944, 1.004487 → 1.0045) so float error cannot cross them.
LOW = math.floor(_M_EQUATOR / EARTH_RADIUS_KM * 1e4) / 1e4
HIGH = math.ceil(_N_POLE / EARTH_RADIUS_KM * 1e4) / 1e4
# A curve no longer than (HIGH / LOW) times the great-circle arc between its ends stays within
# this fraction of the arc's length of the arc (a spherical ellipse's half-width), rounded up:
# the ellipsoid geodesic between two vertices, drawn on the sphere, is such a curve.
LATERAL = 0.075


def unit_vectors(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """(n, 3) unit vectors for longitudes and latitudes in degrees."""
    lam = np.radians(lon)
    phi = np.radians(lat)
    cos_phi = np.cos(phi)
    out = np.empty((len(lon), 3))
    out[:, 0] = cos_phi * np.cos(lam)
    out[:, 1] = cos_phi * np.sin(lam)
    out[:, 2] = np.sin(phi)
    return out


def chord_of_km(km: FloatArray | float) -> FloatArray:
    """The chord of the unit sphere that subtends an arc of ``km`` (capped at the diameter)."""
    angle = np.minimum(np.asarray(km, dtype=float) / EARTH_RADIUS_KM, math.pi)
    return np.asarray(2.0 * np.sin(angle / 2.0))


def angle_between(u: FloatArray, v: FloatArray) -> FloatArray:
    """Angles (radians) between rows of unit vectors, accurate at every size."""
    cross = np.linalg.norm(np.cross(u, v), axis=1)
    return np.asarray(np.arctan2(cross, np.einsum("ij,ij->i", u, v)))


def search_bound_km(radius_km: FloatArray) -> FloatArray:
    """The sphere distance beyond which no ellipsoid distance can be within ``radius_km``."""
    return np.asarray(radius_km / LOW * (1 + 1e-12) + 1e-9)


def arc_distance_km(p: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Sphere distance (km) from points ``p`` to great-circle arcs ``a``–``b`` (unit vectors)."""
    normal = np.cross(a, b)
    norm = np.linalg.norm(normal, axis=1)
    ends = np.minimum(angle_between(p, a), angle_between(p, b))
    out = ends.copy()
    ok = norm > 1e-15
    if ok.any():
        n = normal[ok] / norm[ok, None]
        pp, aa, bb = p[ok], a[ok], b[ok]
        side = np.einsum("ij,ij->i", pp, n)
        foot = pp - side[:, None] * n
        # The foot lies on the arc when it is between a and b along the normal's orientation.
        within = (np.einsum("ij,ij->i", np.cross(aa, foot), n) >= 0) & (
            np.einsum("ij,ij->i", np.cross(foot, bb), n) >= 0
        )
        cross_track = np.abs(np.arcsin(np.clip(side, -1.0, 1.0)))
        out[ok] = np.where(within, np.minimum(cross_track, ends[ok]), ends[ok])
    return np.asarray(out * EARTH_RADIUS_KM)
