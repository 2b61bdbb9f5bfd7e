"""Build the demo portfolio from AidData's GeoGCDF v2.0 project geometries (dev-time only).

Reads ``<shared>/data/aiddata_geogcdf_v2_osm_geojsons/geogcdf_v2_per_project_geojsons.zip``
(3,319 files ``geojsons/<id>.geojson``, one Feature each) straight from the zip and writes
``src/allweather/data/demo-portfolio.geojson.gz``: a gzipped FeatureCollection in the canonical
portfolio format (docs/portfolio-import.md), one Feature per site.

Licence: the project records are AidData's Geospatial Global Chinese Development Finance dataset
v2.0 (ODC-By 1.0); the geometries come from OpenStreetMap (ODbL 1.0). The output is an adapted
database of both: it carries the attribution "AidData GeoGCDF v2.0 / OpenStreetMap" on every
Feature and stays under the ODbL (share-alike) with the AidData attribution kept.

Geometry. AidData stored every location as a MultiPolygon: OSM ways and nodes were buffered by
1e-5 degrees (about 1.1 m), so a road is a ~2.2 m wide sliver and a node a ~3.8 m² circle. Each
polygon component is measured in local metres (equirectangular at its centroid) with width
w = 2·area/perimeter and elongation = (perimeter/2)/w (a circle is π, a square 4), and becomes:

- a point (its centroid) when it is tiny and compact: area < 50 m², elongation < 6;
- a line when it is a thin sliver: w < 10 m and elongation > 20, or w < 3 m (a single buffer
  width) and elongation > 6. The centreline is rebuilt from the ring vertices: the outline of a
  buffered polyline is a double cover of the line graph with a tight cluster of vertices (the
  join arc and its opposite corner) around every original vertex. Vertices closer than 1.5·w are
  clustered (single linkage), cluster centroids become the graph's nodes, each ring is walked
  and every step between two different clusters is an edge; shapely.line_merge joins the edges.
  Branching networks and rings (holes) work the same way. A rebuilt line is kept only when its
  Hausdorff distance to the polygon outline is < 3·w + 10 m and its length is 0.7–1.3 times
  half the outline (a thin real polygon with sparse vertices otherwise comes back as its own
  outline); failures stay polygons. Observed: median distance 1.7 m, 99th percentile 4 m.
- an area otherwise; areas over 1,000 km² are AidData's whole-admin-unit geocodes, marked
  precision "region".

Per project the parts make one site per kind: "corridor" (all lines), "footprint" (exact areas),
"region" (region-precision areas) and "points". Lines and areas are simplified with a tolerance
of 0.0004° (~45 m; for an area never more than a tenth of its size, so buildings keep their
shape), snapped to a 1e-5° grid (5 decimals) and kept valid; an area that vanishes on the grid
becomes a point.

Attributes. ``country`` is the AidData recipient (null for multi-country recipients), mapped to
an ISO alpha-2 code where the platform's catalog does not know the name. ``organization`` is the
first implementing agency that is a Chinese enterprise: its name carries a Chinese marker (China,
Chinese, a "Sino" word, CJK characters, a Chinese province or large city, or a known brand such as
CCCC, CRBC, PowerChina, Huawei, ZTE, CITIC, CAMC, CMEC, CNPC, Sinopec, COMPLANT, MCC, TBEA) and
no public-body marker (government, ministry, embassy, university, hospital, academy, bank, fund,
health bureau …; province, municipal, centre and department only count when no company word such
as Co., Ltd, Corporation, Group, Engineering or Construction is present). ``kind`` is "flagship"
when the amount is at least US$300 million (SASAC's priority-supervision threshold for overseas
investment), "livelihood" (小而美) for ODA-like flows in social and humanitarian sectors (see
``LIVELIHOOD_SECTORS``) under US$50 million or of unknown amount, else "general". Dates are the
actual date, else the planned one; an end date before the start date (a stale planned
completion next to an actual start) is dropped. Amounts are AidData's constant 2017 US dollars.

Run: python scripts/build_demo_portfolio.py [--shared ../shared] [--out PATH]
(needs shapely >= 2.0, numpy and pyproj, all runtime dependencies of the project).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPoint, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

ROOT = Path(__file__).resolve().parent.parent

try:
    from allweather.reference.countries import UnknownCountryError, country_catalog
except ModuleNotFoundError:  # a checkout without the package installed
    sys.path.insert(0, str(ROOT / "src"))
    from allweather.reference.countries import UnknownCountryError, country_catalog

ZIP_PATH = Path("data/aiddata_geogcdf_v2_osm_geojsons/geogcdf_v2_per_project_geojsons.zip")
DEFAULT_OUT = ROOT / "src" / "allweather" / "data" / "demo-portfolio.geojson.gz"
SOURCE = "AidData GeoGCDF v2.0 / OpenStreetMap"

# Local metres per degree (equirectangular; longitude scaled by cos(latitude)).
M_PER_DEG_LON = 111_320.0
M_PER_DEG_LAT = 110_570.0

POINT_MAX_AREA_M2 = 50.0
COMPACT_MAX_ELONGATION = 6.0  # circle π, square 4, a 1:4 rectangle 6.25
LINE_MAX_WIDTH_M = 10.0
LINE_MIN_ELONGATION = 20.0
BUFFER_MAX_WIDTH_M = 3.0  # AidData's 1e-5° buffer is ~2.2 m wide
SHORT_LINE_MIN_ELONGATION = 6.0
CLUSTER_RADIUS_WIDTHS = 1.5
HAUSDORFF_WIDTHS = 3.0
HAUSDORFF_SLACK_M = 10.0  # junctions of parallel tracks; far below the simplification tolerance
LENGTH_RATIO_RANGE = (0.7, 1.3)
DENSIFY_M = 50.0  # checks the middle of long rebuilt segments too
REGION_MIN_AREA_M2 = 1_000e6

SIMPLIFY_DEG = 0.0004
REGION_SIMPLIFY_DEG = 0.0004
AREA_SIMPLIFY_SHARE = 0.1  # an area's tolerance is at most this share of sqrt(area)
GRID_DEG = 1e-5
DECIMALS = 5

FLAGSHIP_MIN_USD = 300e6
LIVELIHOOD_MAX_USD = 50e6
LIVELIHOOD_FLOW_CLASS = "ODA-like"
LIVELIHOOD_SECTORS = frozenset(
    {
        "HEALTH",
        "EDUCATION",
        "WATER SUPPLY AND SANITATION",
        "POPULATION POLICIES/PROGRAMMES AND REPRODUCTIVE HEALTH",
        "OTHER SOCIAL INFRASTRUCTURE AND SERVICES",
        "AGRICULTURE, FORESTRY, FISHING",
        "DEVELOPMENTAL FOOD AID/FOOD SECURITY ASSISTANCE",
        "EMERGENCY RESPONSE",
        "RECONSTRUCTION RELIEF AND REHABILITATION",
        "DISASTER PREVENTION AND PREPAREDNESS",
    }
)

# AidData recipient names the country catalog does not know, and multi-country recipients.
RECIPIENT_ISO2: dict[str, str | None] = {
    "Cote d'Ivoire": "CI",
    "Curacao": "CW",
    "West Bank and Gaza Strip": "PS",
    "Africa, regional": None,
    "Multi-Region": None,
}

# Chinese enterprise brands and acronyms, then provinces and large cities, as whole words.
_CHINESE_BRANDS = (
    "china|chinese|cccc|crbc|crcc|crec|cscec|ccecc|camc|camce|cmec|cnpc|citic|huawei|zte|"
    "powerchina|hydrochina|sinohydro|sinopec|sinomach|sinopharm|sinosteel|sinoma|complant|"
    "nuctech|tbea|dongfang|gezhouba|norinco|avic|catic|ceiec|cntic|mcc|crrc|cnr|csr|chec|"
    "spic|ycih|sippr|petrochina|chinalco|tsingshan|hengyi|hailiang|goldwind|jinko|longping|"
    "zhongding|zhongyuan|qingjian|yanjian|tiesiju|huanqiu|chengda|huashi|taifu|conch|"
    "huadian|datang|huaneng|zhenhua|xinxing|hesteel|wison|huaxin|lenovo|wuhuan|zijin|"
    "hongshi|sumec|sany|neusoft|tongji|yankuang|xcmg|cgc|cgcoc|tsinghua|tongjiang|huayi|"
    "kibing|qilu|guangken|zonergy|tian di|cr[0-9]+|metallurgical construction"
)
_CHINESE_PLACES = (
    "anhui|beijing|chongqing|fujian|gansu|guangdong|guangxi|guizhou|hainan|hebei|"
    "heilongjiang|henan|hubei|hunan|jiangsu|jiangxi|jilin|liaoning|ningxia|qinghai|shaanxi|"
    "shandong|shanghai|shanxi|sichuan|tianjin|xinjiang|yunnan|zhejiang|tibet|shenzhen|"
    "guangzhou|harbin|shenyang|dalian|qingdao|wuhan|nantong|xiamen|ningbo|chengdu|kunming|"
    "hangzhou|nanjing|nanchang|changsha|zhengzhou|jinan|lanzhou|yangzhou|xuzhou|suzhou|"
    "anyang|hefei|fuzhou|nanning|urumqi|taiyuan|tangshan|weihai|xi.an|hu.nan|inner mongolia"
)
CHINESE_MARK = re.compile(
    rf"[\u4e00-\u9fff]|\bsino|\b(?:{_CHINESE_BRANDS}|{_CHINESE_PLACES})\d*\b",
    re.IGNORECASE,
)
PUBLIC_BODY_MARK = re.compile(
    r"government|ministry|embassy|consulate|liberation army|military|univ|college|school|"
    r"hospital|academy|\bbank\b|\bfund\b|health|commission|hanban|confucius|society|association|"
    r"federation|foundation|red cross|team|mission|office|council|committee|agency|"
    r"administration|district",
    re.IGNORECASE,
)
WEAK_PUBLIC_MARK = re.compile(
    r"\bprovince\b|municipal|people's|\bcent(?:er|re)\b|department", re.IGNORECASE
)
COMPANY_MARK = re.compile(
    r"\bco\b|co\.|ltd|limited|corporation|company|group|engineering|construction|design",
    re.IGNORECASE,
)

# Spot checks printed with the summary: AidData ids, and title words.
LANDMARK_IDS = {31777: "Kenya SGR", 37103: "Kenya SGR", 33726: "China-Laos Railway"}
LANDMARK_WORDS = ("Gwadar", "Hambantota")


@dataclass
class Parts:
    """A project's geometry split by kind (WGS84, not yet simplified)."""

    points: list[BaseGeometry] = field(default_factory=list)
    lines: list[BaseGeometry] = field(default_factory=list)
    areas: list[BaseGeometry] = field(default_factory=list)
    regions: list[BaseGeometry] = field(default_factory=list)


@dataclass
class Stats:
    """Counters for the summary."""

    components: Counter[str] = field(default_factory=Counter)
    line_fallbacks: Counter[str] = field(default_factory=Counter)
    sites: Counter[tuple[str, str]] = field(default_factory=Counter)
    unique_components: int = 0


# --- geometry: classify and rebuild ---------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A local equirectangular frame in metres around a reference point."""

    lon0: float
    lat0: float
    kx: float
    ky: float

    @classmethod
    def around(cls, geom: BaseGeometry) -> Frame:
        c = geom.centroid
        return cls(c.x, c.y, M_PER_DEG_LON * math.cos(math.radians(c.y)), M_PER_DEG_LAT)

    def to_metres(self, xy: np.ndarray) -> np.ndarray:
        return (xy - (self.lon0, self.lat0)) * (self.kx, self.ky)

    def to_degrees(self, xy: np.ndarray) -> np.ndarray:
        return xy / (self.kx, self.ky) + (self.lon0, self.lat0)


def _rings(polygon: Polygon) -> list[np.ndarray]:
    """The polygon's rings as vertex arrays without the closing vertex."""
    return [np.asarray(r.coords)[:-1, :2] for r in (polygon.exterior, *polygon.interiors)]


def _clusters(points: np.ndarray, radius: float) -> np.ndarray:
    """Single-linkage cluster labels (0..k-1) of points closer than ``radius``."""
    geoms = shapely.points(points)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=radius)
    keep = left < right
    left, right = left[keep], right[keep]
    labels = np.arange(len(points))
    while True:  # min-label propagation with pointer jumping
        lowest = np.minimum(labels[left], labels[right])
        updated = labels.copy()
        np.minimum.at(updated, left, lowest)
        np.minimum.at(updated, right, lowest)
        while not np.array_equal(jumped := updated[updated], updated):
            updated = jumped
        if np.array_equal(updated, labels):
            break
        labels = updated
    return np.unique(labels, return_inverse=True)[1]


def _max_distance(points: np.ndarray, target: BaseGeometry) -> float:
    """The largest distance from any of ``points`` to ``target`` (both in metres)."""
    coords = [shapely.get_coordinates(part) for part in shapely.get_parts(target)]
    segments = shapely.linestrings(np.vstack([np.stack([c[:-1], c[1:]], axis=1) for c in coords]))
    _, distances = shapely.STRtree(segments).query_nearest(
        shapely.points(points), return_distance=True, all_matches=False
    )
    return float(distances.max())


def rebuild_centreline(polygon: Polygon, width: float) -> tuple[BaseGeometry | None, str]:
    """The centreline of a buffered polyline (WGS84), or None and why it failed.

    Args:
        polygon: one component of AidData's buffered geometry, in WGS84.
        width: its width 2·area/perimeter in metres.
    """
    frame = Frame.around(polygon)
    rings = [frame.to_metres(r) for r in _rings(polygon)]
    vertices = np.vstack(rings)
    labels = _clusters(vertices, CLUSTER_RADIUS_WIDTHS * width)
    count = int(labels.max()) + 1
    nodes = np.zeros((count, 2))
    np.add.at(nodes, labels, vertices)
    nodes /= np.bincount(labels, minlength=count)[:, None]
    steps: list[np.ndarray] = []
    start = 0
    for ring in rings:
        here = labels[start : start + len(ring)]
        start += len(ring)
        after = np.roll(here, -1)
        moved = here != after
        steps.append(np.sort(np.stack([here[moved], after[moved]], axis=1), axis=1))
    edges = np.unique(np.vstack(steps), axis=0)
    if len(edges) == 0:
        return None, "degenerate"
    lines = shapely.line_merge(shapely.multilinestrings(shapely.linestrings(nodes[edges])))
    outline_m = shapely.transform(polygon.boundary, frame.to_metres)
    half_outline = outline_m.length / 2
    if not LENGTH_RATIO_RANGE[0] <= lines.length / half_outline <= LENGTH_RATIO_RANGE[1]:
        return None, "length"
    hausdorff = max(
        _max_distance(shapely.get_coordinates(shapely.segmentize(lines, DENSIFY_M)), outline_m),
        _max_distance(shapely.get_coordinates(outline_m), lines),
    )
    if hausdorff >= HAUSDORFF_WIDTHS * width + HAUSDORFF_SLACK_M:
        return None, "hausdorff"
    return shapely.transform(lines, frame.to_degrees), "ok"


@dataclass(frozen=True)
class Component:
    """One classified polygon component: kind is point, line, area or region."""

    kind: str
    geometry: BaseGeometry
    fallback: str | None = None  # why a line candidate stayed a polygon


def classify(polygon: Polygon) -> Component:
    """Turn one component of AidData's MultiPolygon into a point, a line or an area."""
    frame = Frame.around(polygon)
    local = shapely.transform(polygon, frame.to_metres)
    area, perimeter = local.area, local.length
    width = 2 * area / perimeter
    elongation = perimeter / 2 / width
    if area < POINT_MAX_AREA_M2 and elongation < COMPACT_MAX_ELONGATION:
        return Component("point", polygon.centroid)
    thin = width < LINE_MAX_WIDTH_M and elongation > LINE_MIN_ELONGATION
    short = width < BUFFER_MAX_WIDTH_M and elongation > SHORT_LINE_MIN_ELONGATION
    fallback = None
    if thin or short:
        lines, outcome = rebuild_centreline(polygon, width)
        if lines is not None:
            return Component("line", lines)
        fallback = outcome
    kind = "region" if area > REGION_MIN_AREA_M2 else "area"
    return Component(kind, polygon, fallback)


def split(geometry: BaseGeometry, cache: dict[bytes, Component], stats: Stats) -> Parts:
    """Classify every component of a project's MultiPolygon (identical ones only once)."""
    parts = Parts()
    for polygon in shapely.get_parts(geometry):
        key = shapely.to_wkb(polygon)
        if key not in cache:
            cache[key] = classify(polygon)
            stats.unique_components += 1
        component = cache[key]
        stats.components[component.kind] += 1
        if component.fallback:
            stats.line_fallbacks[component.fallback] += 1
        elif component.kind == "line":
            stats.line_fallbacks["accepted"] += 1
        target = {
            "point": parts.points,
            "line": parts.lines,
            "area": parts.areas,
            "region": parts.regions,
        }[component.kind]
        target.append(component.geometry)
    return parts


# --- geometry: simplify, snap, validate -----------------------------------------------------


def _single(geom: BaseGeometry) -> BaseGeometry:
    """A one-part Multi* geometry as its single part."""
    parts = shapely.get_parts(geom)
    single: BaseGeometry = parts[0] if len(parts) == 1 else geom
    return single


def _points(points: Iterable[BaseGeometry]) -> BaseGeometry | None:
    snapped = dict.fromkeys(
        (round(p.x, DECIMALS), round(p.y, DECIMALS)) for p in points if not p.is_empty
    )
    if not snapped:
        return None
    return _single(MultiPoint(list(snapped)))


def _corridor(lines: list[BaseGeometry]) -> BaseGeometry | None:
    merged = shapely.multilinestrings([part for line in lines for part in shapely.get_parts(line)])
    simplified = shapely.simplify(merged, SIMPLIFY_DEG, preserve_topology=True)
    snapped = shapely.set_precision(simplified, GRID_DEG)
    return None if snapped.is_empty else _single(shapely.line_merge(snapped))


def _areas(
    polygons: list[BaseGeometry], tolerance: float, leftovers: list[BaseGeometry]
) -> BaseGeometry | None:
    """Simplified, snapped, unioned areas; areas that vanish on the grid go to ``leftovers``."""
    kept: list[BaseGeometry] = []
    for polygon in polygons:
        own = min(tolerance, AREA_SIMPLIFY_SHARE * math.sqrt(polygon.area))
        simplified = shapely.simplify(polygon, own, preserve_topology=True)
        if shapely.set_precision(simplified, GRID_DEG).is_empty:
            leftovers.append(polygon.representative_point())
        else:
            kept.append(simplified)
    if not kept:
        return None
    snapped = shapely.set_precision(shapely.union_all(kept), GRID_DEG)
    polygonal = [p for p in shapely.get_parts(snapped) if p.geom_type == "Polygon"]
    if not polygonal:
        leftovers.extend(p.representative_point() for p in kept)
        return None
    return _single(shapely.multipolygons([orient(p, sign=1.0) for p in polygonal]))


def sites(parts: Parts) -> Iterator[tuple[str, str, BaseGeometry]]:
    """The project's sites as (key, precision, geometry), each valid and 2D."""
    leftovers: list[BaseGeometry] = []
    corridor = _corridor(parts.lines) if parts.lines else None
    if parts.lines and corridor is None:
        leftovers.extend(line.centroid for line in parts.lines)
    footprint = _areas(parts.areas, SIMPLIFY_DEG, leftovers)
    region = _areas(parts.regions, REGION_SIMPLIFY_DEG, leftovers)
    points = _points([*parts.points, *leftovers])
    for key, precision, geom in (
        ("corridor", "exact", corridor),
        ("footprint", "exact", footprint),
        ("region", "region", region),
        ("points", "exact", points),
    ):
        if geom is None:
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (
            geom.is_valid
            and not geom.is_empty
            and not geom.has_z
            and -180 <= minx <= maxx <= 180
            and -90 <= miny <= maxy <= 90
            and maxx - minx < 180  # nothing crosses the antimeridian
        ):
            raise ValueError(f"{key}: invalid output geometry {shapely.to_wkt(geom)[:120]}")
        yield key, precision, geom


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    return [_rounded(v) for v in value]


def geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates written to 5 decimals."""
    data = mapping(geom)
    return {"type": data["type"], "coordinates": _rounded(data["coordinates"])}


# --- attributes -----------------------------------------------------------------------------


def is_chinese_enterprise(name: str) -> bool:
    """Whether an implementing agency's name reads as a Chinese enterprise (see module doc)."""
    if not CHINESE_MARK.search(name) or PUBLIC_BODY_MARK.search(name):
        return False
    return not (WEAK_PUBLIC_MARK.search(name) and not COMPANY_MARK.search(name))


def organization(agencies: str | None) -> str | None:
    for name in (agencies or "").split("|"):
        if name.strip() and is_chinese_enterprise(name):
            return " ".join(name.split())
    return None


def country(recipient: str) -> str | None:
    """The recipient as a name or code the platform's country catalog resolves."""
    value = RECIPIENT_ISO2.get(recipient, recipient)
    if value is not None:
        try:
            country_catalog().resolve(value)
        except UnknownCountryError as err:
            raise SystemExit(f"recipient {recipient!r}: add it to RECIPIENT_ISO2") from err
    return value


def kind(amount: float | None, flow_class: str | None, sector: str | None) -> str:
    if amount is not None and amount >= FLAGSHIP_MIN_USD:
        return "flagship"
    if (
        flow_class == LIVELIHOOD_FLOW_CLASS
        and sector in LIVELIHOOD_SECTORS
        and (amount is None or amount < LIVELIHOOD_MAX_USD)
    ):
        return "livelihood"
    return "general"


def _date(*values: Any) -> date | None:
    """The first value that is a date ("2014-12-12 00:00:00"); None and "None" are skipped."""
    for value in values:
        if isinstance(value, str) and value[:10] not in ("", "None", "nan"):
            return date.fromisoformat(value[:10])
    return None


def _amount(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def project_properties(props: dict[str, Any]) -> dict[str, Any]:
    """Canonical project-level columns from one AidData project record."""
    amount = _amount(props.get("Amount (Constant USD2017)"))
    start = _date(
        props.get("Actual Implementation Start Date (MM/DD/YYYY)"),
        props.get("Planned Implementation Start Date (MM/DD/YYYY)"),
    )
    end = _date(
        props.get("Actual Completion Date (MM/DD/YYYY)"),
        props.get("Planned Completion Date (MM/DD/YYYY)"),
    )
    if start and end and end < start:
        end = None
    sector = props.get("AidData Sector Name")
    return {
        "code": f"GCDF-{props['id']}",
        "name": " ".join(str(props["Title"]).split()),
        "organization": organization(props.get("Implementing Agencies")),
        "country": country(props["Recipient"]),
        "sector": sector,
        "kind": kind(amount, props.get("Flow Class"), sector),
        "status": props.get("Status"),
        "value_usd": None if amount is None else round(amount),
        "start_date": start.isoformat() if start else None,
        "end_date": end.isoformat() if end else None,
    }


# --- main -----------------------------------------------------------------------------------


def read_projects(zip_path: Path) -> Iterator[tuple[dict[str, Any], BaseGeometry]]:
    """(properties, geometry) of every project file in the zip, by project id."""
    with zipfile.ZipFile(zip_path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".geojson")]
        for name in sorted(names, key=lambda n: int(Path(n).stem)):
            collection = json.loads(archive.read(name))
            (feature,) = collection["features"]
            yield feature["properties"], shape(feature["geometry"])


def _landmarks(features: list[dict[str, Any]]) -> Iterator[str]:
    geod = Geod(ellps="WGS84")
    for feature in features:
        props = feature["properties"]
        pid = int(props["code"].removeprefix("GCDF-"))
        label = LANDMARK_IDS.get(pid) or next(
            (w for w in LANDMARK_WORDS if w.lower() in props["name"].lower()), None
        )
        if label is None:
            continue
        geom = shape(feature["geometry"])
        length = (
            f" {geod.geometry_length(geom) / 1000:,.0f} km" if props["site"] == "corridor" else ""
        )
        yield f"  {label:<18} {props['code']:<11} {props['site']:<9} {geom.geom_type}{length}"


def build(zip_path: Path, out: Path) -> None:
    started = time.perf_counter()
    stats = Stats()
    cache: dict[bytes, Component] = {}
    features: list[dict[str, Any]] = []
    projects_in = 0
    projects_out: set[str] = set()
    for props, geometry in read_projects(zip_path):
        projects_in += 1
        base = project_properties(props)
        for key, precision, geom in sites(split(geometry, cache, stats)):
            stats.sites[(key, precision)] += 1
            projects_out.add(base["code"])
            properties = {**base, "site": key, "precision": precision, "source": SOURCE}
            features.append(
                {"type": "Feature", "properties": properties, "geometry": geojson_geometry(geom)}
            )
    text = json.dumps(
        {"type": "FeatureCollection", "features": features},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(text.encode("utf-8"))

    kinds = Counter({f["properties"]["code"]: f["properties"]["kind"] for f in features}.values())
    print(f"projects in {projects_in}, out {len(projects_out)}; sites {len(features)}")
    print("sites: " + ", ".join(f"{k}/{p} {n}" for (k, p), n in sorted(stats.sites.items())))
    print(
        f"components: {sum(stats.components.values())} ({stats.unique_components} distinct): "
        + ", ".join(f"{k} {n}" for k, n in sorted(stats.components.items()))
    )
    print(
        "line rebuilds: "
        + ", ".join(f"{k} {n}" for k, n in sorted(stats.line_fallbacks.items()))
        + " (non-ok ones stay polygons)"
    )
    print("project kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print(f"wrote {out} ({out.stat().st_size:,} bytes; {len(text):,} bytes uncompressed)")
    print("spot checks:")
    for line in _landmarks(features):
        print(line)
    print(f"elapsed {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    build(args.shared / ZIP_PATH, args.out)


if __name__ == "__main__":
    main()
