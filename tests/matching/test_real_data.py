"""The matcher against brute force on real data: the bundled GeoGCDF footprints, corridors and
points of the demo portfolio, and real USGS and UCDP events, at several radii."""

from __future__ import annotations

import csv
import gzip
import io
import json
from importlib import resources

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from allweather.matching import SiteIndex
from tests.matching import reference

DATA = resources.files("allweather.data")


def _portfolio() -> list[shapely.Geometry]:
    with gzip.open(io.BytesIO(DATA.joinpath("demo-portfolio.geojson.gz").read_bytes())) as f:
        features = json.load(f)["features"]
    return [shape(f["geometry"]) for f in features]


def _events(name: str) -> np.ndarray:
    with gzip.open(io.BytesIO(DATA.joinpath("replay", name).read_bytes()), "rt") as f:
        rows = list(csv.DictReader(f))
    return np.array([(float(r["longitude"]), float(r["latitude"])) for r in rows])


@pytest.fixture(scope="module")
def sites() -> list[shapely.Geometry]:
    """A deterministic slice of each kind: points, area footprints (some with holes) and line
    corridors of modest vertex count, so the brute force stays affordable."""
    geoms = _portfolio()
    rng = np.random.default_rng(7)
    points = [g for g in geoms if g.geom_type in ("Point", "MultiPoint")]
    areas = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    holes = [g for g in areas if any(len(p.interiors) for p in shapely.get_parts(g))]
    lines = [
        g
        for g in geoms
        if g.geom_type in ("LineString", "MultiLineString")
        and len(shapely.get_coordinates(g)) < 400
    ]

    def pick(items: list[shapely.Geometry], n: int) -> list[shapely.Geometry]:
        chosen = rng.choice(len(items), min(n, len(items)), replace=False)
        return [items[i] for i in sorted(chosen)]

    chosen = pick(points, 400) + pick(areas, 120) + holes[:10] + pick(lines, 25)
    assert {g.geom_type for g in chosen} >= {"Point", "Polygon", "LineString"}
    return chosen


@pytest.fixture(scope="module")
def events() -> np.ndarray:
    rng = np.random.default_rng(11)
    usgs = _events("usgs_comcat_m5plus_2013-2023.csv.gz")
    ucdp = _events("ucdp_ged_v19_1_syria_2016-2019.csv.gz")
    return np.vstack(
        [
            usgs[rng.choice(len(usgs), 1500, replace=False)],
            ucdp[rng.choice(len(ucdp), 300, replace=False)],
        ]
    )


@pytest.mark.parametrize("radius_km", [10.0, 75.0, 400.0])
def test_pairs_equal_brute_force_geodesics(sites, events, radius_km):
    index = SiteIndex(sites)
    found = index.match_points(events[:, 0], events[:, 1], radius_km)
    got = {
        (int(e), int(s)): float(d)
        for e, s, d in zip(found.event, found.site, found.distance_km, strict=True)
    }
    expected = reference.pairs_within(sites, events, radius_km)
    assert len(expected) >= 10  # the slice must actually exercise the matcher
    kinds = {sites[s].geom_type for _, s in expected}
    if radius_km >= 75:
        assert {"Point", "Polygon", "LineString"} <= kinds | {"MultiPolygon"}
    assert set(got) == set(expected)
    worst = max(abs(got[k] - expected[k]) for k in expected)
    assert worst < 1e-6  # km: a millimetre


def test_every_event_inside_a_footprint_is_at_distance_zero(sites):
    areas = [g for g in sites if g.geom_type == "Polygon"]
    inner = np.array([shapely.get_coordinates(g.representative_point())[0] for g in areas])
    found = SiteIndex(areas).match_points(inner[:, 0], inner[:, 1], 0.0)
    own = {(int(e), int(s)) for e, s in zip(found.event, found.site, strict=True)}
    assert {(i, i) for i in range(len(areas))} <= own
    assert np.all(found.distance_km == 0)
    assert np.all(np.isnan(found.bearing_deg))
