"""Matcher benchmark: events against sites within 50 km, ours against the do-it-yourself peers.

One run, the same data for every method (deterministic, seed fixed, built from bundled real
data rather than uniform noise):

- 10,000 point sites: the bundled portfolio's site anchors (representative points), resampled
  with a few km of jitter;
- 200 line corridors of 100-1,500 km (uniform), walked from portfolio sites along geodesics
  with gentle heading changes, a vertex every 5-20 km (like simplified OSM railways); each
  segment is a WGS84 geodesic;
- 1,000,000 events: 50 % GDELT (ActionGeo), 30 % UCDP GED (Syria), 20 % USGS ComCat locations
  from the bundled replay files, resampled with a few km of jitter and shuffled;
- a 50 km radius for every event.

Methods, each producing the same output as ours (every (event, site) pair within the radius,
sorted by (event, site), with the exact WGS84 geodesic distance and the bearing from the
site's nearest point to the event):

- **ours**: ``allweather.matching.SiteIndex``;
- **geopandas**: ``sjoin(predicate="intersects")`` of event points against the sites buffered
  by a conservative radius in degrees, then the exact refine below;
- **STRtree**: shapely ``STRtree.query(predicate="dwithin")`` with a conservative per-event
  radius in degrees, then the same exact refine.

The degree radii are provably conservative (see ``degree_bound``), events near the
antimeridian are also queried shifted by 360°, and the corridor filters add the largest
distance of a geodesic segment from its straight lon/lat chord, so the peers miss no pair.
The exact refine is pyproj ``Geod.inv`` for point sites; for corridors it is the minimum over
the corridor's segments of the point-to-geodesic-segment distance, found by a 60-iteration
golden-section search over the along-segment distance (``Geod.fwd`` then ``Geod.inv``,
vectorized over all candidates). Segments that cannot hold the nearest point are skipped
first, by two rigorous bounds: a planar lon/lat filter and the triangle inequality
(``(d(A) + d(B) - length) / 2`` is a lower bound for the whole segment AB).

Figures: events/s = events / matching seconds (index build reported separately; the median of
3 runs, but one run for a peer on corridors, which takes over a minute); peak memory is the
growth of the peak RSS (VmHWM, the counter behind ``ru_maxrss``) above the loaded-data
baseline, each method in a fresh subprocess; latency is 1,000 one-event calls against the
index of all 10,200 sites after 20 untimed warm-up calls (ours, and STRtree + refine for
reference).
Methods run as ``python bench/matching.py METHOD KIND WORKDIR``, the data in WORKDIR/data.npz.

The issue's goals: >= 2,000,000 events/s for point sites and >= 900,000 events/s for corridors
(on the 2-core bench machine), each >= 3x geopandas; one event matched in <= 5 ms at p99.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import importlib
import importlib.util
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod

SEED = 20240819
N_SITES = 10_000
N_CORRIDORS = 200
N_EVENTS = 1_000_000
MIX = (("gdelt", 0.5), ("ucdp", 0.3), ("usgs", 0.2))
JITTER_M = 3_000.0  # Rayleigh scale of the resampling jitter (mean ~3.8 km)
CORRIDOR_KM = (100.0, 1_500.0)
STEP_KM = (5.0, 20.0)
TURN_DEG = 8.0  # standard deviation of the heading change at each vertex
RADIUS_KM = 50.0
PEER_EVENTS = 1_000_000  # the peers run on this many events (a fixed subset if < N_EVENTS)
OURS_REPEATS = 3
PEER_REPEATS = {"points": 3, "corridors": 1}  # a corridor run of a peer takes over a minute
LATENCY_CALLS = 1_000
LATENCY_WARMUP = 20
GOALS = {"points_ev_s": 2_000_000, "corridors_ev_s": 900_000, "x_geopandas": 3.0, "p99_ms": 5.0}

GEOD = Geod(ellps="WGS84")
_A_KM = 6378.137
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
# Smallest length of a degree of latitude (the meridional radius of curvature a(1-e²) at the
# equator) and length of a degree of longitude at the equator (a; N >= a at every latitude).
KM_PER_DEG_LAT_MIN = _A_KM * (1 - _E2) * math.pi / 180
KM_PER_DEG_EQUATOR = _A_KM * math.pi / 180
QUAD_SEGS = 8  # buffer polygons have their vertices on the circle: widen by 1/cos(pi/4q)
BUFFER_WIDEN = 1 / math.cos(math.pi / (4 * QUAD_SEGS))
GOLDEN_ITERATIONS = 60
_INVPHI = (math.sqrt(5) - 1) / 2
REFINE_CHUNK = 2_000_000  # (candidate, segment) rows per chunk of the corridor refine

DATA = Path(str(resources.files("allweather.data")))


# --- data -------------------------------------------------------------------------------------


def _jitter(lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator) -> tuple[Any, Any]:
    az = rng.uniform(-180.0, 180.0, lon.size)
    dist = rng.rayleigh(JITTER_M, lon.size)
    out_lon, out_lat, _ = GEOD.fwd(lon, lat, az, dist)
    return np.asarray(out_lon, dtype=np.float64), np.asarray(out_lat, dtype=np.float64)


def portfolio_anchors() -> tuple[np.ndarray, np.ndarray]:
    """Representative point of every site of the bundled real portfolio."""
    with gzip.open(DATA / "demo-portfolio.geojson.gz", "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    geometries = shapely.from_geojson(
        [json.dumps(f["geometry"]) for f in features if f["geometry"]]
    )
    anchors = shapely.point_on_surface(geometries)
    return shapely.get_x(anchors), shapely.get_y(anchors)


def event_sources() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(lon, lat) of every located event in the bundled replay files."""
    import pandas as pd

    replay = DATA / "replay"
    out = {}
    for name, file in (
        ("usgs", "usgs_comcat_m5plus_2013-2023.csv.gz"),
        ("ucdp", "ucdp_ged_v19_1_syria_2016-2019.csv.gz"),
    ):
        frame = pd.read_csv(replay / file, usecols=["longitude", "latitude"]).dropna()
        out[name] = (frame["longitude"].to_numpy(float), frame["latitude"].to_numpy(float))
    # GDELT 2.0 export: tab-separated, no header, 61 columns; ActionGeo_Lat 56, ActionGeo_Long 57.
    gdelt = pd.read_csv(
        replay / "gdelt_20240819130000.export.CSV.gz",
        sep="\t",
        header=None,
        usecols=[56, 57],
        quoting=3,
        dtype=str,
        keep_default_na=False,
    )
    gdelt = gdelt[(gdelt[56] != "") & (gdelt[57] != "")]
    out["gdelt"] = (gdelt[57].to_numpy(float), gdelt[56].to_numpy(float))
    return out


def walk_corridors(
    start_lon: np.ndarray, start_lat: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """Geodesic walks from the given starts: each an (n, 2) lon/lat vertex array."""
    corridors: list[np.ndarray] = []
    while len(corridors) < N_CORRIDORS:
        pick = rng.integers(0, start_lon.size)
        total = rng.uniform(*CORRIDOR_KM) * 1000
        lon, lat = float(start_lon[pick]), float(start_lat[pick])
        heading = rng.uniform(-180.0, 180.0)
        vertices, walked = [(lon, lat)], 0.0
        while walked < total:
            step = min(rng.uniform(*STEP_KM) * 1000, total - walked)
            lon, lat, back = GEOD.fwd(lon, lat, heading, step)
            heading = back + 180.0 + rng.normal(0.0, TURN_DEG)  # forward azimuth, then a turn
            vertices.append((lon, lat))
            walked += step
        line = np.array(vertices)
        if np.abs(np.diff(line[:, 0])).max() < 180 and np.abs(line[:, 1]).max() < 85:
            corridors.append(line)  # no antimeridian crossing, clear of the poles
    return corridors


def build_data(path: Path) -> dict[str, Any]:
    """Generate the benchmark data into ``path`` (npz); return a description of it."""
    rng = np.random.default_rng(SEED)
    anchor_lon, anchor_lat = portfolio_anchors()
    pick = rng.integers(0, anchor_lon.size, N_SITES)
    site_lon, site_lat = _jitter(anchor_lon[pick], anchor_lat[pick], rng)
    corridors = walk_corridors(anchor_lon, anchor_lat, rng)
    lengths = [GEOD.line_length(c[:, 0], c[:, 1]) / 1000 for c in corridors]
    sources = event_sources()
    lons, lats = [], []
    for name, share in MIX:
        src_lon, src_lat = sources[name]
        take = rng.integers(0, src_lon.size, round(N_EVENTS * share))
        lons.append(src_lon[take])
        lats.append(src_lat[take])
    order = rng.permutation(N_EVENTS)
    ev_lon, ev_lat = _jitter(np.concatenate(lons)[order], np.concatenate(lats)[order], rng)
    peer_events = np.sort(rng.choice(N_EVENTS, min(PEER_EVENTS, N_EVENTS), replace=False))
    latency_events = rng.choice(N_EVENTS, LATENCY_WARMUP + LATENCY_CALLS, replace=False)
    np.savez(
        path,
        ev_lon=ev_lon,
        ev_lat=ev_lat,
        site_lon=site_lon,
        site_lat=site_lat,
        corridor_xy=np.concatenate(corridors),
        corridor_offsets=np.cumsum([0] + [len(c) for c in corridors]),
        peer_events=peer_events,
        latency_events=latency_events,
    )
    return {
        "sites": N_SITES,
        "portfolio_anchors": int(anchor_lon.size),
        "corridors": len(corridors),
        "corridor_km_total": round(float(sum(lengths))),
        "corridor_km_min_max": [round(min(lengths), 1), round(max(lengths), 1)],
        "corridor_vertices": int(sum(len(c) for c in corridors)),
        "events": N_EVENTS,
        "event_mix": dict(MIX),
        "event_source_rows": {name: int(src[0].size) for name, src in sources.items()},
        "radius_km": RADIUS_KM,
        "peer_events": int(peer_events.size),
    }


def load_geometries(data: Any, kind: str) -> np.ndarray:
    """The site geometries of one benchmark: ``points``, ``corridors`` or ``all`` (both)."""
    parts = []
    if kind in ("points", "all"):
        parts.append(shapely.points(data["site_lon"], data["site_lat"]))
    if kind in ("corridors", "all"):
        offsets = data["corridor_offsets"]
        index = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
        parts.append(shapely.linestrings(data["corridor_xy"], indices=index))
    return np.concatenate(parts)


# --- the peers' shared, exact refine ------------------------------------------------------------


def degree_bound(radius_km: float, lat: np.ndarray) -> np.ndarray:
    """A planar lon/lat distance (degrees) that every point within ``radius_km`` stays inside.

    A path of length <= r from latitude φ never leaves |lat| <= φm = |φ| + r / (a(1-e²)·π/180),
    and along it ds >= k·sqrt(dφ² + dλ²) with k = min(a(1-e²), a·cos φm)·π/180 (the meridional
    radius M >= a(1-e²), the prime-vertical radius N >= a). So the planar distance is <= r / k.
    Near the poles the bound covers the whole map.
    """
    lat_max = np.minimum(np.abs(lat) + radius_km / KM_PER_DEG_LAT_MIN, 90.0)
    per_deg = np.minimum(KM_PER_DEG_LAT_MIN, KM_PER_DEG_EQUATOR * np.cos(np.radians(lat_max)))
    return np.minimum(radius_km / np.maximum(per_deg, 1e-9), 540.0)


def with_antimeridian_copies(
    lon: np.ndarray, lat: np.ndarray, bound: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Events plus, near the antimeridian, copies shifted by ∓360° (event ids repeat)."""
    ids = np.arange(lon.size)
    east = np.flatnonzero(lon + bound > 180.0)
    west = np.flatnonzero(lon - bound < -180.0)
    all_ids = np.concatenate([ids, east, west])
    all_lon = np.concatenate([lon, lon[east] - 360.0, lon[west] + 360.0])
    return all_ids, all_lon, lat[all_ids], bound[all_ids]


def _wrap(dlon: np.ndarray) -> np.ndarray:
    return (dlon + 180.0) % 360.0 - 180.0


@dataclass
class Exact:
    """The exact refine of candidate (event, site) pairs, shared by both peers."""

    is_line: np.ndarray
    site_lon: np.ndarray  # point sites (NaN for lines)
    site_lat: np.ndarray
    seg_first: np.ndarray  # line sites: their segments (0 for points)
    seg_count: np.ndarray
    ax: np.ndarray  # segments: start, end, forward azimuth at the start, length (m)
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    az: np.ndarray
    length: np.ndarray
    max_abs_lat: np.ndarray  # per site
    chord_margin: float  # degrees: how far a geodesic segment strays from its lon/lat chord

    @classmethod
    def build(cls, geometries: np.ndarray) -> Exact:
        types = shapely.get_type_id(geometries)
        if not np.isin(types, (0, 1)).all():
            raise ValueError("the peers take Point and LineString sites only")
        is_line = types == 1
        n = geometries.size
        site_lon = np.full(n, np.nan)
        site_lat = np.full(n, np.nan)
        site_lon[~is_line] = shapely.get_x(geometries[~is_line])
        site_lat[~is_line] = shapely.get_y(geometries[~is_line])
        max_abs_lat = np.abs(site_lat)
        lines = np.flatnonzero(is_line)
        coords, owner = shapely.get_coordinates(geometries[lines], return_index=True)
        same = owner[1:] == owner[:-1]  # consecutive vertices of one line: a segment
        start = np.flatnonzero(same)
        seg_count = np.zeros(n, dtype=np.int64)
        seg_count[lines] = np.bincount(owner[start], minlength=lines.size)
        seg_first = np.zeros(n, dtype=np.int64)
        seg_first[lines] = np.concatenate([[0], np.cumsum(seg_count[lines])[:-1]])
        if lines.size:
            max_abs_lat[lines] = np.maximum.reduceat(
                np.abs(coords[:, 1]), np.flatnonzero(np.r_[True, ~same])
            )
        ax, ay = coords[start, 0], coords[start, 1]
        bx, by = coords[start + 1, 0], coords[start + 1, 1]
        az, _, length = GEOD.inv(ax, ay, bx, by)
        exact = cls(
            is_line, site_lon, site_lat, seg_first, seg_count, ax, ay, bx, by,
            np.asarray(az), np.asarray(length), max_abs_lat, 0.0,
        )  # fmt: skip
        exact.chord_margin = exact._chord_margin()
        return exact

    def _chord_margin(self) -> float:
        """Twice the largest planar distance of a geodesic segment's points from its chord."""
        if not self.ax.size:
            return 0.0
        worst = 0.0
        for t in np.linspace(0.1, 0.9, 9):
            x, y, _ = GEOD.fwd(self.ax, self.ay, self.az, self.length * t)
            d = _planar_to_chord(np.asarray(x), np.asarray(y), self.ax, self.ay, self.bx, self.by)
            worst = max(worst, float(d.max()))
        return 2 * worst + 1e-9

    def site_bound(self, radius_km: float) -> np.ndarray:
        """Per-site degree radius (for buffering the sites): covers every point within reach."""
        bound = degree_bound(radius_km, self.max_abs_lat)
        return np.where(self.is_line, bound + self.chord_margin, bound)

    def refine(
        self, lon: np.ndarray, lat: np.ndarray, ev: np.ndarray, site: np.ndarray, radius_km: float
    ) -> dict[str, np.ndarray]:
        """Exact pairs from candidates: unique, sorted by (event, site), within the radius."""
        key = np.unique(ev.astype(np.int64) * self.is_line.size + site)
        ev, site = np.divmod(key, self.is_line.size)
        line = self.is_line[site]
        radius_m = radius_km * 1000.0
        parts = [self._refine_points(lon, lat, ev[~line], site[~line], radius_m)]
        parts.append(self._refine_lines(lon, lat, ev[line], site[line], radius_m, radius_km))
        event, site_out, dist, bearing = (np.concatenate(col) for col in zip(*parts, strict=True))
        order = np.lexsort((site_out, event))
        return {
            "event": event[order],
            "site": site_out[order],
            "distance_km": dist[order] / 1000.0,
            "bearing_deg": bearing[order],
        }

    def _refine_points(
        self, lon: np.ndarray, lat: np.ndarray, ev: np.ndarray, site: np.ndarray, radius_m: float
    ) -> tuple[np.ndarray, ...]:
        az, _, dist = GEOD.inv(self.site_lon[site], self.site_lat[site], lon[ev], lat[ev])
        keep = np.asarray(dist) <= radius_m
        return ev[keep], site[keep], np.asarray(dist)[keep], np.asarray(az)[keep] % 360.0

    def _refine_lines(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        ev: np.ndarray,
        site: np.ndarray,
        radius_m: float,
        radius_km: float,
    ) -> tuple[np.ndarray, ...]:
        counts = self.seg_count[site]
        cuts = np.searchsorted(
            np.cumsum(counts), np.arange(REFINE_CHUNK, counts.sum(), REFINE_CHUNK)
        )
        parts = [
            self._refine_lines_chunk(lon, lat, e, s, radius_m, radius_km)
            for e, s in zip(np.split(ev, cuts), np.split(site, cuts), strict=True)
        ]
        return tuple(np.concatenate(col) for col in zip(*parts, strict=True))

    def _refine_lines_chunk(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        ev: np.ndarray,
        site: np.ndarray,
        radius_m: float,
        radius_km: float,
    ) -> tuple[np.ndarray, ...]:
        # 1. every segment of every candidate corridor; keep those whose chord is within the
        #    planar bound (the nearest point, if within the radius, lies on one of them).
        counts = self.seg_count[site]
        pair = np.repeat(np.arange(ev.size), counts)
        seg = self.seg_first[site][pair] + (
            np.arange(pair.size) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        e = ev[pair]
        ex = self.ax[seg] + _wrap(lon[e] - self.ax[seg])
        ey = lat[e]
        bound = degree_bound(radius_km, ey) + self.chord_margin
        near = _planar_to_chord(ex, ey, self.ax[seg], self.ay[seg], self.bx[seg], self.by[seg])
        keep = near <= bound
        pair, seg, e = pair[keep], seg[keep], e[keep]
        # 2. the triangle inequality: every point X of AB has d(X) >= d(A) - |AX| and
        #    d(X) >= d(B) - |XB|, so (d(A) + d(B) - length) / 2 bounds the whole segment below;
        #    skip segments that cannot beat the nearest vertex (or the radius).
        _, _, d_a = GEOD.inv(self.ax[seg], self.ay[seg], lon[e], lat[e])
        _, _, d_b = GEOD.inv(self.bx[seg], self.by[seg], lon[e], lat[e])
        vertex = np.minimum(d_a, d_b)
        best_vertex = np.full(ev.size, np.inf)
        np.minimum.at(best_vertex, pair, vertex)
        lower = (d_a + d_b - self.length[seg]) / 2
        keep = lower <= np.minimum(best_vertex[pair], radius_m)
        pair, seg, e = pair[keep], seg[keep], e[keep]
        # 3. golden-section search along each remaining segment.
        dist, along = _nearest_on_segments(
            self.ax[seg], self.ay[seg], self.az[seg], self.length[seg], lon[e], lat[e],
            np.asarray(d_a)[keep], np.asarray(d_b)[keep],
        )  # fmt: skip
        # 4. per candidate: the nearest segment; keep those within the radius.
        order = np.lexsort((dist, pair))
        first = order[np.r_[True, pair[order][1:] != pair[order][:-1]]] if order.size else order
        first = first[dist[first] <= radius_m]
        seg, e = seg[first], ev[pair[first]]
        x, y, _ = GEOD.fwd(self.ax[seg], self.ay[seg], self.az[seg], along[first])
        bearing, _, _ = GEOD.inv(x, y, lon[e], lat[e])
        return e, site[pair[first]], dist[first], np.asarray(bearing) % 360.0


def _planar_to_chord(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Planar (lon/lat degrees) distance from points to segments AB."""
    dx, dy = bx - ax, by - ay
    span = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / span, 0.0, 1.0)
    t = np.where(span > 0, t, 0.0)
    return np.hypot(px - ax - t * dx, py - ay - t * dy)


def _nearest_on_segments(
    ax: np.ndarray,
    ay: np.ndarray,
    az: np.ndarray,
    length: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    d_a: np.ndarray,
    d_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (m) from each event to its geodesic segment, and where along it.

    Golden-section search on the along-segment distance s in [0, length], GOLDEN_ITERATIONS
    iterations (the bracket shrinks to 0.618^60 ≈ 3e-13 of the segment); the distance from a
    point to the points of a segment this short (≤ 20 km) is unimodal in s. The endpoints
    (d_a, d_b) are candidates too.
    """

    def at(s: np.ndarray) -> np.ndarray:
        x, y, _ = GEOD.fwd(ax, ay, az, s)
        return np.asarray(GEOD.inv(x, y, ex, ey)[2])

    a, b = np.zeros_like(length), length.copy()
    c, d = b - _INVPHI * (b - a), a + _INVPHI * (b - a)
    fc, fd = at(c), at(d)
    for _ in range(GOLDEN_ITERATIONS):
        left = fc < fd  # the minimum is in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        x = np.where(left, b - _INVPHI * (b - a), a + _INVPHI * (b - a))
        fx = at(x)
        c, fc, d, fd = (
            np.where(left, x, d),
            np.where(left, fx, fd),
            np.where(left, c, x),
            np.where(left, fc, fx),
        )
    candidates = np.stack([d_a, d_b, fc, fd])
    where = np.stack([np.zeros_like(length), length, c, d])
    best = candidates.argmin(axis=0)
    cols = np.arange(length.size)
    return candidates[best, cols], where[best, cols]


# --- methods (each run in a fresh process) -------------------------------------------------------


class Ours:
    name = "ours"

    def __init__(self, geometries: np.ndarray) -> None:
        from allweather.matching import SiteIndex

        self.index = SiteIndex.build(list(geometries))

    def match(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        pairs = self.index.match_points(lon, lat, RADIUS_KM)
        return {
            "event": np.asarray(pairs.event),
            "site": np.asarray(pairs.site),
            "distance_km": np.asarray(pairs.distance_km),
            "bearing_deg": np.asarray(pairs.bearing_deg),
        }


class GeoPandasPeer:
    """``sjoin(predicate="intersects")`` against conservatively buffered sites, exact refine."""

    name = "geopandas"

    def __init__(self, geometries: np.ndarray) -> None:
        import geopandas as gpd

        self.gpd = gpd
        self.exact = Exact.build(geometries)
        bound = self.exact.site_bound(RADIUS_KM) * BUFFER_WIDEN
        buffered = shapely.buffer(geometries, bound, quad_segs=QUAD_SEGS)
        self.sites = gpd.GeoDataFrame(
            {"site": np.arange(geometries.size)}, geometry=buffered, crs="EPSG:4326"
        )
        _ = self.sites.sindex  # built now, not inside the first join

    def match(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        bound = degree_bound(RADIUS_KM, lat) + self.exact.chord_margin
        ids, x, y, _ = with_antimeridian_copies(lon, lat, bound)
        events = self.gpd.GeoDataFrame(
            {"event": ids}, geometry=self.gpd.points_from_xy(x, y), crs="EPSG:4326"
        )
        joined = self.gpd.sjoin(events, self.sites, how="inner", predicate="intersects")
        ev = joined["event"].to_numpy(np.int64)
        site = joined["site"].to_numpy(np.int64)
        return self.exact.refine(lon, lat, ev, site, RADIUS_KM)


class StrtreePeer:
    """shapely ``STRtree.query(predicate="dwithin")``, per-event degree radius, exact refine."""

    name = "strtree"

    def __init__(self, geometries: np.ndarray) -> None:
        self.exact = Exact.build(geometries)
        self.tree = shapely.STRtree(geometries)
        self.margin = self.exact.chord_margin

    def match(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        bound = degree_bound(RADIUS_KM, lat) + self.margin
        ids, x, y, b = with_antimeridian_copies(lon, lat, bound)
        hit, site = self.tree.query(shapely.points(x, y), predicate="dwithin", distance=b)
        return self.exact.refine(lon, lat, ids[hit], site, RADIUS_KM)


METHODS = {m.name: m for m in (Ours, GeoPandasPeer, StrtreePeer)}
IMPORTS = {"ours": "allweather.matching", "geopandas": "geopandas", "strtree": "shapely"}
LABELS = {"ours": "ours", "geopandas": "geopandas", "strtree": "STRtree"}


def _peak_rss_mb() -> float:
    """This process's peak RSS: the kernel's high-water mark behind ``ru_maxrss``.

    Read as VmHWM from /proc/self/status where there is one: ``getrusage`` also folds in the
    peak of the process image before ``exec`` (the parent's RSS at fork), which would hide the
    child's own growth.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset_peak_rss() -> float:
    """Reset the peak-RSS mark to the current RSS (Linux); return the new baseline in MB.

    Without the reset (no /proc/self/clear_refs) the baseline is the peak so far, so loading
    the data could hide part of the method's growth (under-reported then, never over).
    """
    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _peak_rss_mb()


def worker(method: str, kind: str, workdir: Path) -> None:
    """One method on one benchmark, in this (fresh) process; figures and pairs to workdir."""
    data = np.load(workdir / "data.npz")
    geometries = load_geometries(data, kind)
    lon, lat = data["ev_lon"], data["ev_lat"]
    out = workdir / f"{method}-{kind}"
    cls = METHODS[method]
    if kind == "all":
        _latency(cls, geometries, lon, lat, data["latency_events"], out)
        return
    if method != "ours":
        lon, lat = lon[data["peer_events"]], lat[data["peer_events"]]
    importlib.import_module(IMPORTS[method])  # imports are not part of build time or memory
    baseline = _reset_peak_rss()
    start = time.perf_counter()
    matcher = cls(geometries)
    build = time.perf_counter() - start
    times = []
    pairs: dict[str, np.ndarray] = {}
    for _ in range(OURS_REPEATS if method == "ours" else PEER_REPEATS[kind]):
        pairs = {}  # one result alive at a time
        start = time.perf_counter()
        pairs = matcher.match(lon, lat)
        times.append(time.perf_counter() - start)
    figures = {
        "events": int(lon.size),
        "build_s": build,
        "match_s": statistics.median(times),
        "match_runs_s": times,
        "pairs": int(pairs["event"].size),
        "peak_rss_growth_mb": _peak_rss_mb() - baseline,
        "baseline_rss_mb": baseline,
    }
    figures["events_per_s"] = lon.size / figures["match_s"]
    np.savez(out.with_suffix(".npz"), **pairs)
    out.with_suffix(".json").write_text(json.dumps(figures))


def _latency(
    cls: Any, geometries: np.ndarray, lon: np.ndarray, lat: np.ndarray, picks: np.ndarray, out: Path
) -> None:
    importlib.import_module(IMPORTS[cls.name])
    matcher = cls(geometries)
    singles = [(lon[i : i + 1].copy(), lat[i : i + 1].copy()) for i in picks]
    times = []
    for x, y in singles:
        start = time.perf_counter()
        matcher.match(x, y)
        times.append(time.perf_counter() - start)
    ms = np.array(times[LATENCY_WARMUP:]) * 1000
    figures = {
        "calls": int(ms.size),
        "sites": int(geometries.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }
    out.with_suffix(".json").write_text(json.dumps(figures))


# --- the run ---------------------------------------------------------------------------------


def _spawn(method: str, kind: str, workdir: Path) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), method, kind, str(workdir)], check=True
    )
    return dict(json.loads((workdir / f"{method}-{kind}.json").read_text()))


def _compare(ours: Any, peer: Any, subset: np.ndarray, n_sites: int) -> dict[str, Any]:
    """Ours (restricted to the peer's events) against a peer: same pairs, distance agreement."""
    mine = np.isin(ours["event"], subset)
    ours_key = np.searchsorted(subset, ours["event"][mine]) * n_sites + ours["site"][mine]
    peer_key = peer["event"] * n_sites + peer["site"]
    same = bool(np.array_equal(ours_key, peer_key))
    result: dict[str, Any] = {
        "same_pairs": same,
        "pairs": int(peer_key.size),
        "only_ours": int(np.setdiff1d(ours_key, peer_key).size),
        "only_peer": int(np.setdiff1d(peer_key, ours_key).size),
    }
    if same:
        d_ours = ours["distance_km"][mine]
        diff_m = np.abs(d_ours - peer["distance_km"]) * 1000
        result["max_distance_diff_m"] = float(diff_m.max(initial=0))
        far = d_ours > 0.1  # bearings compared 100 m or more from the site
        diff = np.abs(_wrap(ours["bearing_deg"][mine][far] - peer["bearing_deg"][far]))
        result["max_bearing_diff_deg"] = float(np.nan_to_num(diff, nan=360.0).max(initial=0))
    return result


def run(workdir: Path) -> tuple[dict[str, Any], list[str], bool]:
    """Run the matcher benchmarks; return (results, report lines, goals met)."""
    start = time.perf_counter()
    results: dict[str, Any] = {"data": build_data(workdir / "data.npz"), "goals": GOALS}
    subset = np.load(workdir / "data.npz")["peer_events"]
    have_ours = importlib.util.find_spec("allweather.matching") is not None
    methods = [m for m in METHODS if have_ours or m != "ours"]
    ref = "ours" if have_ours else "strtree"  # what the peers' pairs are checked against
    d = results["data"]
    lines = [
        f"data: {d['sites']:,} point sites (from {d['portfolio_anchors']:,} portfolio anchors), "
        f"{d['corridors']} corridors {d['corridor_km_min_max'][0]:.0f}-"
        f"{d['corridor_km_min_max'][1]:.0f} km ({d['corridor_vertices']:,} vertices), "
        f"{d['events']:,} events (50% GDELT / 30% UCDP / 20% USGS), radius {RADIUS_KM:.0f} km"
    ]
    if subset.size < N_EVENTS:
        lines.append(
            f"  peers run on a fixed random subset of {subset.size:,} events (throughput per "
            "event, so the ratios hold)"
        )
    if not have_ours:
        lines.append("  allweather.matching is not available: peers only")
    goals: dict[str, bool] = {}
    for kind in ("points", "corridors"):
        figures = {m: _spawn(m, kind, workdir) for m in methods}
        pairs = {m: np.load(workdir / f"{m}-{kind}.npz") for m in methods}
        n_sites = N_SITES if kind == "points" else d["corridors"]
        positions = subset if have_ours else np.arange(subset.size)
        figures["pairs_per_event"] = figures[ref]["pairs"] / figures[ref]["events"]
        for peer in (m for m in methods if m != ref):
            figures[peer]["check"] = _compare(pairs[ref], pairs[peer], positions, n_sites)
            if have_ours:
                figures[peer]["x_ours"] = (
                    figures["ours"]["events_per_s"] / (figures[peer]["events_per_s"])
                )
        results[kind] = figures
        rates = " · ".join(
            f"{LABELS[m]} {figures[m]['events_per_s'] / 1e6:.2f}M ev/s"
            + (f" ({figures[m]['x_ours']:.1f}×)" if "x_ours" in figures[m] else "")
            for m in methods
        )
        rss = " / ".join(f"{LABELS[m]} {figures[m]['peak_rss_growth_mb']:.0f} MB" for m in methods)
        builds = " · ".join(f"{LABELS[m]} {figures[m]['build_s']:.2f} s" for m in methods)
        lines.append(f"{kind:10} {rates} · peak RSS {rss}")
        lines.append(
            f"{'':10} index build {builds} · {figures['pairs_per_event']:.2f} matched pairs/event"
        )
        same = True
        for peer in (m for m in methods if m != ref):
            check = figures[peer]["check"]
            if check["same_pairs"]:
                verdict = (
                    f"identical {check['pairs']:,} pairs, distances within "
                    f"{check['max_distance_diff_m']:.2g} m, bearings within "
                    f"{check['max_bearing_diff_deg']:.2g}°"
                    + (" — DISTANCES DIFFER BY > 1 m" if check["max_distance_diff_m"] > 1 else "")
                )
            else:
                verdict = (
                    f"DIFFERENT: {check['only_ours']:,} pairs only in {LABELS[ref]}, "
                    f"{check['only_peer']:,} only in {LABELS[peer]}"
                )
            lines.append(f"{'':10} {LABELS[peer]} vs {LABELS[ref]}: {verdict}")
            same &= check["same_pairs"] and check.get("max_distance_diff_m", 0) <= 1.0
        if have_ours:
            goals[f"{kind}: same pairs as both peers"] = same
            goals[f"{kind}: >= {GOALS[f'{kind}_ev_s'] / 1e6:.1f}M ev/s"] = (
                figures["ours"]["events_per_s"] >= GOALS[f"{kind}_ev_s"]
            )
            goals[f"{kind}: >= {GOALS['x_geopandas']:.0f}× geopandas"] = (
                figures["geopandas"]["x_ours"] >= GOALS["x_geopandas"]
            )
    latency = {m: _spawn(m, "all", workdir) for m in methods if m != "geopandas"}
    results["latency"] = latency
    lines.append(
        f"latency    {LATENCY_CALLS:,} one-event calls against all {N_SITES + d['corridors']:,} "
        "sites: "
        + " · ".join(
            f"{LABELS[m]} p50 {f['p50_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms"
            for m, f in latency.items()
        )
    )
    if have_ours:
        goals[f"p99 <= {GOALS['p99_ms']:.0f} ms"] = latency["ours"]["p99_ms"] <= GOALS["p99_ms"]
    results["goals_met"] = goals
    met = have_ours and all(goals.values())
    results["seconds"] = time.perf_counter() - start
    missed = [goal for goal, ok in goals.items() if not ok] or (
        [] if have_ours else ["no matcher to measure"]
    )
    lines.append(
        "  goals: "
        + ("met" if met else "MISSED " + "; ".join(missed))
        + f" (bench {results['seconds']:.0f} s; peak RSS = growth of VmHWM/ru_maxrss above the"
        " loaded data, a fresh process per method)"
    )
    return results, lines, met


if __name__ == "__main__":
    worker(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
