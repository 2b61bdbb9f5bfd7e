"""``SiteIndex``: every site geometry, ready to answer "which sites lie within r km of here?".

Sites are points, lines (each segment a WGS84 geodesic) or polygons with holes. Candidates come
from a 3-D cell grid (``grid.py``) and the sphere (``sphere.py``), which only discard pairs that
provably cannot match; every pair kept is measured exactly on the ellipsoid (``geodesic.py``).
The result therefore equals a brute-force geodesic computation, and is fast because the
brute force is only ever run on a handful of candidates per event.

Polygons: a point inside (decided in longitude/latitude, as GeoJSON defines polygons) or on
the boundary is at distance 0; outside, the distance is to the nearest ring segment, holes
included. Lines and rings crossing 180° are fine: a segment from 179° to -179° is the 2°
geodesic between its ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from allweather.matching.geodesic import point_distances, segment_distances
from allweather.matching.grid import CellGrid, IntArray
from allweather.matching.sphere import (
    EARTH_RADIUS_KM,
    LATERAL,
    LOW,
    FloatArray,
    angle_between,
    arc_distance_km,
    chord_of_km,
    search_bound_km,
    unit_vectors,
)

# Query radii are grouped into tiers growing by this factor; each tier has its own grid, with
# cells about as wide as the tier's radius.
_TIER_BASE_KM = 5.0
_TIER_FACTOR = 1.5
_BRUTE_KM = 5000.0  # beyond this search radius every item is a candidate
_PIECE_KM = 25.0  # runs of short segments, and pieces of long ones, are at most this long
_BATCH = 250_000  # events are matched this many at a time, two batches at once,
_BATCHES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="match")
_CANDIDATES = 2_000_000  # in slices of about this many candidate pairs, to bound memory
# A dot product of unit vectors is good to a few 1e-16, which is 0.1 m of arc: cosine tests
# keep that much slack, so coincident points are never lost to rounding.
_ROUND = 1e-15
_ROUND_KM = 1e-6  # the same allowance for sphere distances: a millimetre


@dataclass(frozen=True)
class Pairs:
    """Matched (event, site) pairs with exact distances, sorted by event then site.

    ``bearing_deg`` is the azimuth from the site's nearest point to the event (NaN when the
    event is inside a polygon site).
    """

    event: IntArray
    site: IntArray
    distance_km: FloatArray
    bearing_deg: FloatArray

    def __len__(self) -> int:
        return len(self.event)

    @staticmethod
    def empty() -> Pairs:
        return Pairs(
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.zeros(0),
        )

    @staticmethod
    def concat(parts: Sequence[Pairs]) -> Pairs:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Pairs.empty()
        return Pairs(
            np.concatenate([p.event for p in parts]),
            np.concatenate([p.site for p in parts]),
            np.concatenate([p.distance_km for p in parts]),
            np.concatenate([p.bearing_deg for p in parts]),
        )


class SiteIndex:
    """Site geometries (WGS84 longitude/latitude), indexed for exact radius matching."""

    def __init__(self, geometries: Sequence[BaseGeometry]) -> None:
        self.size = len(geometries)
        geoms = np.asarray(geometries, dtype=object)
        # Points (MultiPoint members too), each with its owning site.
        kinds = shapely.get_type_id(geoms) if self.size else np.zeros(0, dtype=int)
        point_like = np.isin(kinds, (0, 4))
        parts, owners = shapely.get_parts(geoms[point_like], return_index=True)
        coords = shapely.get_coordinates(parts)
        self.point_owner = np.flatnonzero(point_like)[owners].astype(np.int64)
        self.point_lon = coords[:, 0].copy()
        self.point_lat = coords[:, 1].copy()
        self.point_xyz = unit_vectors(self.point_lon, self.point_lat)
        self.single_points = len(np.unique(self.point_owner)) == len(self.point_owner)
        # Segments: every line part and every polygon ring, vertex to vertex.
        self._build_segments(geoms, kinds)
        # Polygons: containment, from a cap that holds the whole polygon.
        polygonal = np.flatnonzero(np.isin(kinds, (3, 6)))
        self.polygon_owner = polygonal.astype(np.int64)
        self.polygons = geoms[polygonal]
        shapely.prepare(self.polygons)
        self.polygon_centre, self.polygon_kappa = _caps(self.polygons)
        self._grids: dict[tuple[str, int], CellGrid] = {}

    @classmethod
    def build(cls, geometries: Sequence[BaseGeometry]) -> SiteIndex:
        return cls(geometries)

    # ------------------------------------------------------------------ building

    def _build_segments(self, geoms: np.ndarray, kinds: np.ndarray) -> None:
        lines = geoms[np.isin(kinds, (1, 2, 5))]
        line_owner = np.flatnonzero(np.isin(kinds, (1, 2, 5)))
        polys = geoms[np.isin(kinds, (3, 6))]
        poly_owner = np.flatnonzero(np.isin(kinds, (3, 6)))
        rings, ring_owner = [], []
        if len(lines):
            parts, idx = shapely.get_parts(lines, return_index=True)
            rings.append(parts)
            ring_owner.append(line_owner[idx])
        if len(polys):
            parts, idx = shapely.get_parts(polys, return_index=True)
            ring_parts, ring_idx = shapely.get_rings(parts, return_index=True)
            rings.append(ring_parts)
            ring_owner.append(poly_owner[idx][ring_idx])
        if rings:
            all_rings = np.concatenate(rings)
            owner_of_ring = np.concatenate(ring_owner).astype(np.int64)
            coords, ring_of_vertex = shapely.get_coordinates(all_rings, return_index=True)
        else:
            coords = np.zeros((0, 2))
            ring_of_vertex = np.zeros(0, dtype=np.int64)
            owner_of_ring = np.zeros(0, dtype=np.int64)
        same = ring_of_vertex[1:] == ring_of_vertex[:-1]
        start = np.flatnonzero(same)
        self.seg_a = coords[start]
        self.seg_b = coords[start + 1]
        self.seg_owner = owner_of_ring[ring_of_vertex[start]]
        a = unit_vectors(self.seg_a[:, 0], self.seg_a[:, 1])
        b = unit_vectors(self.seg_b[:, 0], self.seg_b[:, 1])
        self.seg_a_xyz, self.seg_b_xyz = a, b
        self.seg_km = angle_between(a, b) * EARTH_RADIUS_KM
        # How far the ellipsoid geodesic may stray from the great-circle arc (sphere.LATERAL).
        self.seg_slack_km = self.seg_km * LATERAL
        ring = ring_of_vertex[start]
        self._build_pieces(a, b, ring)

    def _build_pieces(self, a: FloatArray, b: FloatArray, ring: IntArray) -> None:
        """Index items over the segments: a run of consecutive short segments of one ring or
        line up to ``_PIECE_KM`` long, or one piece of a long segment split along its arc.
        Each item covers segments ``piece_lo … piece_hi - 1`` and has a cap (centre, radius)
        that holds them, ellipsoid slack included."""
        n = len(a)
        if not n:
            self.piece_xyz = np.zeros((0, 3))
            self.piece_kappa_km = np.zeros(0)
            self.piece_lo = self.piece_hi = np.zeros(0, dtype=np.int64)
            return
        long = self.seg_km > _PIECE_KM
        # Runs: cumulative length within each ring, in buckets of _PIECE_KM; a long segment
        # moves the bucket on by at least one, so every run is contiguous and short.
        ring_start = np.r_[True, ring[1:] != ring[:-1]]
        cum = np.cumsum(self.seg_km) - self.seg_km
        cum -= np.maximum.accumulate(np.where(ring_start, cum, 0.0))
        bucket = np.floor(cum / _PIECE_KM).astype(np.int64)
        new_run = (
            ring_start | np.r_[True, bucket[1:] != bucket[:-1]] | long | np.r_[True, long[:-1]]
        )
        run_lo = np.flatnonzero(new_run)
        run_hi = np.append(run_lo[1:], n)
        run_is_long = long[run_lo]
        # Short runs: cap around their vertices (an arc between two points of a cap stays in it).
        short_lo, short_hi = run_lo[~run_is_long], run_hi[~run_is_long]
        counts = short_hi - short_lo
        segs = np.repeat(short_lo, counts) + (
            np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        run_of = np.repeat(np.arange(len(short_lo)), counts)
        sums = np.zeros((len(short_lo), 3))
        np.add.at(sums, run_of, a[segs] + b[segs])
        norms = np.linalg.norm(sums, axis=1)
        centre = sums / np.where(norms > 0, norms, 1.0)[:, None]
        centre[norms == 0] = a[short_lo[norms == 0]]
        reach = (
            np.maximum(
                angle_between(centre[run_of], a[segs]), angle_between(centre[run_of], b[segs])
            )
            * EARTH_RADIUS_KM
            + self.seg_slack_km[segs]
        )
        short_kappa = np.zeros(len(short_lo))
        np.maximum.at(short_kappa, run_of, reach)
        # Long segments: pieces of at most _PIECE_KM along their great circle.
        long_seg = run_lo[run_is_long]
        pieces = np.ceil(self.seg_km[long_seg] / _PIECE_KM).astype(np.int64)
        piece_seg = np.repeat(long_seg, pieces)
        rank = np.arange(len(piece_seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        of = np.repeat(pieces, pieces)
        p0 = _slerp(a[piece_seg], b[piece_seg], rank / of)
        p1 = _slerp(a[piece_seg], b[piece_seg], (rank + 1) / of)
        mid = p0 + p1
        mid_norm = np.linalg.norm(mid, axis=1)
        mid = mid / np.where(mid_norm > 0, mid_norm, 1.0)[:, None]
        long_kappa = angle_between(p0, mid) * EARTH_RADIUS_KM + self.seg_slack_km[piece_seg]
        self.piece_xyz = np.concatenate([centre, mid])
        self.piece_kappa_km = np.concatenate([short_kappa, long_kappa])
        self.piece_lo = np.concatenate([short_lo, piece_seg]).astype(np.int64)
        self.piece_hi = np.concatenate([short_hi, piece_seg + 1]).astype(np.int64)

    def _grid(self, what: str, tier: int) -> CellGrid:
        key = (what, tier)
        grid = self._grids.get(key)
        if grid is None:
            reach = float(chord_of_km(_tier_km(tier)))
            if what == "points":
                centres, kappa = self.point_xyz, np.zeros(len(self.point_xyz))
            elif what == "pieces":
                centres, kappa = self.piece_xyz, chord_of_km(self.piece_kappa_km)
            else:
                centres, kappa, reach = self.polygon_centre, self.polygon_kappa, 0.0
            # Cells as wide as the item-plus-query reach of most items: about three a side.
            typical = reach + (float(np.quantile(kappa, 0.9)) if len(kappa) else 0.0)
            grid = CellGrid(centres, kappa, reach, max(typical, 1e-6))
            self._grids[key] = grid
        return grid

    # ------------------------------------------------------------------ matching

    def match_points(
        self, lon: FloatArray, lat: FloatArray, radius_km: FloatArray | float
    ) -> Pairs:
        """Every (event, site) whose WGS84 geodesic distance is at most the event's radius.

        Raises:
            ValueError: for coordinates outside WGS84 ranges or negative / non-finite radii.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        radius = np.broadcast_to(np.asarray(radius_km, dtype=float), lon.shape).copy()
        _check_events(lon, lat, radius)

        def batch(start: int) -> Pairs:
            s = slice(start, start + _BATCH)
            found = self._match_batch(lon[s], lat[s], radius[s])
            return Pairs(found.event + start, found.site, found.distance_km, found.bearing_deg)

        starts = range(0, len(lon), _BATCH)
        if len(starts) == 1:
            return batch(0)
        # Batches on two threads: numpy and pyproj release the GIL for their heavy parts.
        return Pairs.concat(list(_BATCHES.map(batch, starts)))

    def _match_batch(self, lon: FloatArray, lat: FloatArray, radius: FloatArray) -> Pairs:
        xyz = unit_vectors(lon, lat)
        bound = search_bound_km(radius)
        tiers = _tiers_of(bound)
        found: list[Pairs] = []
        for tier, members in self._slices(tiers, xyz):
            sub = (lon[members], lat[members], xyz[members], radius[members], bound[members])
            for part in (self._near_points(int(tier), *sub), self._near_segments(int(tier), *sub)):
                if len(part):
                    found.append(
                        Pairs(members[part.event], part.site, part.distance_km, part.bearing_deg)
                    )
            inside = self._inside_polygons(lon[members], lat[members], xyz[members])
            if len(inside):
                found.append(
                    Pairs(
                        members[inside.event], inside.site, inside.distance_km, inside.bearing_deg
                    )
                )
        if self.single_points and not len(self.seg_a) and not len(self.polygons):
            # Points alone give one row per pair, sorted within each tier's slices.
            pairs = Pairs.concat(found)
            if len(np.unique(tiers)) > 1:
                order = np.argsort(pairs.event * self.size + pairs.site, kind="stable")
                pairs = Pairs(
                    pairs.event[order],
                    pairs.site[order],
                    pairs.distance_km[order],
                    pairs.bearing_deg[order],
                )
            return pairs
        return _nearest_per_pair(Pairs.concat(found), self.size)

    def _slices(self, tiers: IntArray, xyz: FloatArray) -> Iterator[tuple[int, IntArray]]:
        """Events by tier, in slices of at most about ``_CANDIDATES`` candidate pairs."""
        for tier in np.unique(tiers):
            members = np.flatnonzero(tiers == tier)
            if tier < 0:
                items = len(self.point_xyz) + len(self.piece_xyz) + len(self.polygons)
                load = np.full(len(members), max(items, 1), dtype=np.int64)
            else:
                load = np.zeros(len(members), dtype=np.int64)
                for what, count in (
                    ("points", len(self.point_xyz)),
                    ("pieces", len(self.piece_xyz)),
                ):
                    if count:
                        load += self._grid(what, int(tier)).counts(xyz[members])
            cut = np.cumsum(load) // _CANDIDATES
            for part in np.unique(cut):
                yield int(tier), members[cut == part]

    def _candidates(
        self, what: str, tier: int, xyz: FloatArray, count: int
    ) -> tuple[IntArray, IntArray]:
        if tier < 0:  # brute force: every item against every event
            q = np.repeat(np.arange(len(xyz), dtype=np.int64), count)
            return q, np.tile(np.arange(count, dtype=np.int64), len(xyz))
        return self._grid(what, tier).candidates(xyz)

    def _near_points(
        self,
        tier: int,
        lon: FloatArray,
        lat: FloatArray,
        xyz: FloatArray,
        radius: FloatArray,
        bound: FloatArray,
    ) -> Pairs:
        if not len(self.point_lon):
            return Pairs.empty()
        q, item = self._candidates("points", tier, xyz, len(self.point_lon))
        keep = _cosines(xyz, q, self.point_xyz, item) >= np.cos(bound / EARTH_RADIUS_KM)[q] - _ROUND
        q, item = q[keep], item[keep]
        km, az = point_distances(self.point_lon[item], self.point_lat[item], lon[q], lat[q])
        keep = km <= radius[q]
        return Pairs(q[keep], self.point_owner[item[keep]], km[keep], az[keep])

    def _near_segments(
        self,
        tier: int,
        lon: FloatArray,
        lat: FloatArray,
        xyz: FloatArray,
        radius: FloatArray,
        bound: FloatArray,
    ) -> Pairs:
        if not len(self.seg_a):
            return Pairs.empty()
        q, piece = self._candidates("pieces", tier, xyz, len(self.piece_xyz))
        reach = np.minimum((bound[q] + self.piece_kappa_km[piece]) / EARTH_RADIUS_KM, math.pi)
        keep = _cosines(xyz, q, self.piece_xyz, piece) >= np.cos(reach) - _ROUND
        q, piece = q[keep], piece[keep]
        counts = self.piece_hi[piece] - self.piece_lo[piece]
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        seg = np.repeat(self.piece_lo[piece], counts) + offsets
        q = np.repeat(q, counts)
        # Sphere distance to the segment's arc bounds the ellipsoid distance to the segment.
        sphere = arc_distance_km(xyz[q], self.seg_a_xyz[seg], self.seg_b_xyz[seg])
        lower = LOW * np.maximum(sphere - self.seg_slack_km[seg] - _ROUND_KM, 0.0)
        keep = lower <= radius[q]
        q, seg, sphere, lower = q[keep], seg[keep], sphere[keep], lower[keep]
        if not len(q):
            return Pairs.empty()
        # Per (event, site): measure the segment nearest on the sphere, then only the segments
        # whose lower bound does not exceed that exact distance.
        owner = self.seg_owner[seg]
        group = q * self.size + owner
        order = np.lexsort((sphere, group))
        q, seg, lower, owner, group = q[order], seg[order], lower[order], owner[order], group[order]
        head = np.r_[True, group[1:] != group[:-1]]
        first = np.flatnonzero(head)
        km1, az1 = self._measure(seg[first], lon[q[first]], lat[q[first]], xyz[q[first]])
        best = np.repeat(km1, np.diff(np.append(first, len(group))))
        again = np.flatnonzero(
            ~head
            & (lower <= best)
            & (seg != np.repeat(seg[first], np.diff(np.append(first, len(group)))))
        )
        km2, az2 = self._measure(seg[again], lon[q[again]], lat[q[again]], xyz[q[again]])
        found = _nearest_per_pair(
            Pairs(
                np.concatenate([q[first], q[again]]),
                np.concatenate([owner[first], owner[again]]),
                np.concatenate([km1, km2]),
                np.concatenate([az1, az2]),
            ),
            self.size,
        )
        keep = found.distance_km <= radius[found.event]
        return Pairs(
            found.event[keep], found.site[keep], found.distance_km[keep], found.bearing_deg[keep]
        )

    def _measure(
        self, seg: IntArray, lon: FloatArray, lat: FloatArray, xyz: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        return segment_distances(
            self.seg_a[seg, 0],
            self.seg_a[seg, 1],
            self.seg_b[seg, 0],
            self.seg_b[seg, 1],
            lon,
            lat,
            _along_fraction(xyz, self.seg_a_xyz[seg], self.seg_b_xyz[seg]),
        )

    def _inside_polygons(self, lon: FloatArray, lat: FloatArray, xyz: FloatArray) -> Pairs:
        """Events inside (or on) polygon sites: distance 0. One grid serves every radius."""
        if not len(self.polygons):
            return Pairs.empty()
        q, poly = self._candidates("polygons", 0, xyz, len(self.polygons))
        chord = np.linalg.norm(xyz[q] - self.polygon_centre[poly], axis=1)
        keep = chord <= self.polygon_kappa[poly]
        q, poly = q[keep], poly[keep]
        inside = shapely.intersects_xy(self.polygons[poly], lon[q], lat[q])
        q, poly = q[inside], poly[inside]
        return Pairs(q, self.polygon_owner[poly], np.zeros(len(q)), np.full(len(q), np.nan))


# ---------------------------------------------------------------------- helpers


def _tier_km(tier: int) -> float:
    return _TIER_BASE_KM * _TIER_FACTOR**tier


def _tiers_of(bound_km: FloatArray) -> IntArray:
    """The grid tier for each search radius: the smallest tier at least as large, or -1 (all)."""
    tiers = np.ceil(
        np.log(np.maximum(bound_km, 1e-9) / _TIER_BASE_KM) / math.log(_TIER_FACTOR) - 1e-9
    )
    tiers = np.maximum(tiers, 0).astype(np.int64)
    return np.where(bound_km > _BRUTE_KM, -1, tiers)


def _slerp(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    """Points a fraction ``t`` of the way along great-circle arcs a→b."""
    omega = angle_between(a, b)
    sin_omega = np.sin(omega)
    out = a * (1 - t)[:, None] + b * t[:, None]  # tiny arcs: linear is exact enough
    big = sin_omega > 1e-12
    w0 = np.sin((1 - t[big]) * omega[big]) / sin_omega[big]
    w1 = np.sin(t[big] * omega[big]) / sin_omega[big]
    out[big] = a[big] * w0[:, None] + b[big] * w1[:, None]
    norms = np.linalg.norm(out, axis=1)
    return np.asarray(out / np.where(norms > 0, norms, 1.0)[:, None])


def _along_fraction(p: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Where along a→b (0..1) the sphere puts the foot of the perpendicular from p: the start
    of the ellipsoid search."""
    total = angle_between(a, b)
    normal = np.cross(a, b)
    norms = np.linalg.norm(normal, axis=1)
    out = np.zeros(len(p))
    ok = norms > 1e-15
    n = normal[ok] / norms[ok, None]
    foot = p[ok] - np.einsum("ij,ij->i", p[ok], n)[:, None] * n
    along = np.arctan2(
        np.einsum("ij,ij->i", np.cross(a[ok], foot), n), np.einsum("ij,ij->i", a[ok], foot)
    )
    out[ok] = along / np.maximum(total[ok], 1e-300)
    return np.clip(out, 0.0, 1.0)


def _caps(polygons: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """A centre and a chord radius per polygon whose cap holds the polygon, interior included."""
    if not len(polygons):
        return np.zeros((0, 3)), np.zeros(0)
    dense = shapely.segmentize(polygons, 0.25)  # edges are straight in lon/lat: follow them
    coords, which = shapely.get_coordinates(dense, return_index=True)
    xyz = unit_vectors(coords[:, 0], coords[:, 1])
    sums = np.zeros((len(polygons), 3))
    np.add.at(sums, which, xyz)
    norms = np.linalg.norm(sums, axis=1)
    centre = np.where(norms[:, None] > 1e-9, sums / np.maximum(norms, 1e-300)[:, None], xyz[0])
    chord = np.linalg.norm(xyz - centre[which], axis=1)
    kappa = np.zeros(len(polygons))
    np.maximum.at(kappa, which, chord)
    # Between densified vertices 0.25° apart a lon/lat edge strays from the great circle by
    # under 0.1 km; 1 km covers it. A cap past a hemisphere holds everything.
    kappa = kappa + float(chord_of_km(1.0))
    kappa[norms <= 1e-9] = 2.0
    return centre, kappa


def _cosines(xyz: FloatArray, q: IntArray, other: FloatArray, item: IntArray) -> FloatArray:
    """Cosines of the angles between query ``q`` and item ``item`` vectors, row by row."""
    a, b = xyz[q], other[item]
    return np.asarray(a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2])


def _nearest_per_pair(pairs: Pairs, n_sites: int) -> Pairs:
    """One row per (event, site): the smallest distance, sorted by event then site."""
    if not len(pairs):
        return pairs
    key = pairs.event * n_sites + pairs.site
    order = np.lexsort((pairs.distance_km, key))
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    pick = order[first]
    return Pairs(
        pairs.event[pick], pairs.site[pick], pairs.distance_km[pick], pairs.bearing_deg[pick]
    )


def _check_events(lon: FloatArray, lat: FloatArray, radius: FloatArray) -> None:
    if lon.shape != lat.shape or lon.ndim != 1:
        raise ValueError("longitude and latitude must be equal-length 1-D arrays")
    bad = ~np.isfinite(lon) | (lon < -180) | (lon > 180)
    if bad.any():
        raise ValueError(f"event {int(np.flatnonzero(bad)[0])}: longitude outside [-180, 180]")
    bad = ~np.isfinite(lat) | (lat < -90) | (lat > 90)
    if bad.any():
        raise ValueError(f"event {int(np.flatnonzero(bad)[0])}: latitude outside [-90, 90]")
    bad = ~np.isfinite(radius) | (radius < 0)
    if bad.any():
        raise ValueError(f"event {int(np.flatnonzero(bad)[0])}: radius must be a finite number ≥ 0")
