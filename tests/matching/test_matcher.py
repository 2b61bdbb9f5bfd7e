"""The reach matrix applied: which sites an event reaches, under which rule, and how imprecise
locations widen or flag the match."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point, Polygon

from allweather.domain.geo import geodesic_km
from allweather.domain.reach import ReachMatrix, ReachOverride
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import SiteKind
from allweather.matching.matcher import EventBatch, MatchSite, PortfolioMatcher

MATRIX = ReachMatrix.default()
# Gwadar port (PK), a corridor running north from it, Karachi (PK), and Kabul (AF).
GWADAR = MatchSite(1, 10, "P-GWADAR", "COPHC", "PK", Point(62.33, 25.12))
ROAD = MatchSite(2, 11, "P-ROAD", "CRBC", "PK", LineString([(62.40, 25.20), (62.60, 26.50)]))
KARACHI = MatchSite(
    3, 12, "P-KHI", "CRBC", "PK", Polygon([(66.9, 24.8), (67.1, 24.8), (67.1, 25.0), (66.9, 25.0)])
)
KABUL = MatchSite(4, 13, "P-KBL", "MCC", "AF", Point(69.17, 34.53))
SITES = [GWADAR, ROAD, KARACHI, KABUL]


def batch(*events: dict) -> EventBatch:
    b = EventBatch()
    for i, e in enumerate(events):
        b.ids.append(100 + i)
        b.fine_type.append(e["type"])
        b.severity.append(e.get("severity", "III"))
        b.precision.append(e.get("precision", "exact"))
        b.country_code.append(e.get("country"))
        b.lon.append(e.get("lon"))
        b.lat.append(e.get("lat"))
        b.geometry.append(e.get("geometry"))
    return b


def by_site(rows: list[dict]) -> dict[int, dict]:
    return {r["site_id"]: r for r in rows}


def test_an_earthquake_reaches_sites_within_its_radius_with_distance_bearing_and_rule():
    radius = MATRIX.reach(FineType.EARTHQUAKE, SeverityGrade.III, SiteKind.POINT).radius_km
    # 0.3° north of Gwadar: about 33 km, well inside; Karachi is ~460 km away.
    rows = PortfolioMatcher(SITES, MATRIX).match(
        batch({"type": "earthquake", "lon": 62.33, "lat": 25.42, "country": "PK"}), 0
    )
    found = by_site(rows)
    assert 1 in found
    assert 3 not in found
    assert 4 not in found
    row = found[1]
    assert row["distance_km"] == pytest.approx(geodesic_km(62.33, 25.12, 62.33, 25.42), abs=1e-6)
    assert row["distance_km"] < radius
    assert row["bearing_deg"] == pytest.approx(0.0, abs=0.01)  # due north of the site
    assert row["reach_kind"] == "radius"
    assert row["reach_km"] == radius
    assert row["rule"] == "platform:earthquake/III/point"
    assert row["precision"] == "exact"
    assert row["note"] is None
    assert row["matrix_version"] == MATRIX.version
    assert row["project_id"] == 10


def test_line_corridors_get_their_own_radius():
    point_r = MATRIX.reach(FineType.KIDNAPPING, SeverityGrade.III, SiteKind.POINT).radius_km
    line_r = MATRIX.reach(FineType.KIDNAPPING, SeverityGrade.III, SiteKind.LINE).radius_km
    assert line_r > point_r
    # A kidnapping east of the road, farther than the point radius, nearer than the line one.
    lon = 62.5 + (point_r + line_r) / 2 / 100.0  # ~100 km per degree of longitude here
    rows = PortfolioMatcher([ROAD], MATRIX).match(
        batch({"type": "kidnapping", "lon": lon, "lat": 25.85, "country": "PK"}), 0
    )
    (row,) = rows
    assert point_r < row["distance_km"] <= line_r
    assert row["rule"] == "platform:kidnapping/III/line"


def test_a_coup_reaches_every_site_of_its_country_and_no_other():
    rows = PortfolioMatcher(SITES, MATRIX).match(
        batch({"type": "coup", "severity": "I", "lon": 73.05, "lat": 33.68, "country": "PK"}), 0
    )
    found = by_site(rows)
    assert set(found) == {1, 2, 3}
    assert all(r["reach_kind"] == "country" and r["reach_km"] is None for r in rows)
    # Located precisely (Islamabad): the distance is still given, for the reader.
    assert found[1]["distance_km"] == pytest.approx(
        geodesic_km(62.33, 25.12, 73.05, 33.68), rel=1e-3
    )


def test_admin1_precision_widens_the_radius_and_says_so():
    widen = MATRIX.precision_rule("admin1").widen_km
    radius = MATRIX.reach(FineType.BATTLE, SeverityGrade.IV, SiteKind.POINT).radius_km
    # 1.2° north of Kabul: ~133 km, beyond the radius but within radius + widening.
    event = {"type": "battle", "severity": "IV", "lon": 69.17, "lat": 35.73, "country": "AF"}
    exact = PortfolioMatcher([KABUL], MATRIX).match(batch(event), 0)
    assert exact == []
    (row,) = PortfolioMatcher([KABUL], MATRIX).match(batch({**event, "precision": "admin1"}), 0)
    assert radius < row["distance_km"] <= radius + widen
    assert row["reach_km"] == radius + widen
    assert "150" in row["note"]
    assert "一级行政区" in row["note"]


def test_an_event_known_only_to_its_country_reaches_every_site_there_flagged():
    event = {"type": "battle", "precision": "country", "lon": 69.0, "lat": 34.0, "country": "PK"}
    rows = PortfolioMatcher(SITES, MATRIX).match(batch(event), 0)
    assert {r["site_id"] for r in rows} == {1, 2, 3}
    assert all(r["distance_km"] is None and r["reach_kind"] == "country" for r in rows)
    assert all("位置仅知国家" in r["note"] for r in rows)
    assert all(r["rule"].startswith("precision:country") for r in rows)


def test_an_event_with_no_usable_place_reaches_nothing():
    event = {"type": "battle", "precision": "unknown", "lon": 62.33, "lat": 25.12, "country": "PK"}
    assert PortfolioMatcher(SITES, MATRIX).match(batch(event), 0) == []


def test_project_override_beats_organization_override_beats_platform():
    far = {
        "type": "protest",
        "severity": "IV",
        "lon": 62.33,
        "lat": 26.12,
        "country": "PK",
    }  # ~111 km N
    assert PortfolioMatcher([GWADAR], MATRIX).match(batch(far), 0) == []
    org = MATRIX.with_overrides(
        [ReachOverride("organization", "COPHC", "protest", None, None, "radius", 120, "port city")]
    )
    (row,) = PortfolioMatcher([GWADAR], org).match(batch(far), 0)
    assert row["rule"] == "organization:COPHC:protest"
    assert row["reach_km"] == 120
    both = org.with_overrides(
        [ReachOverride("project", "P-GWADAR", "protest", "IV", None, "none", None, "walled site")]
    )
    assert PortfolioMatcher([GWADAR], both).match(batch(far), 0) == []
    # The override touches only its own scope.
    other = MatchSite(9, 19, "P-OTHER", "OTHER", "PK", Point(62.33, 25.12))
    assert [r["site_id"] for r in PortfolioMatcher([GWADAR, other], org).match(batch(far), 0)] == [
        1
    ]


def test_an_event_area_reaches_sites_it_covers_at_zero_and_near_ones_by_distance():
    # A flood polygon covering Karachi's footprint and ending 0.5° west of Gwadar.
    flood = Polygon([(62.83, 24.5), (68.0, 24.5), (68.0, 26.0), (62.83, 26.0)])
    anchor = flood.representative_point()
    event = {
        "type": "flood",
        "severity": "II",
        "lon": anchor.x,
        "lat": anchor.y,
        "country": "PK",
        "geometry": flood,
    }
    rows = by_site(PortfolioMatcher(SITES, MATRIX).match(batch(event), 0))
    assert rows[3]["distance_km"] == 0.0
    radius = MATRIX.reach(FineType.FLOOD, SeverityGrade.II, SiteKind.POINT).radius_km
    expected = geodesic_km(62.33, 25.12, 62.83, 25.12)
    assert expected < radius
    assert rows[1]["distance_km"] == pytest.approx(expected, abs=0.05)
    assert 4 not in rows


def test_an_event_area_crossing_a_site_with_no_vertex_inside_the_other_is_at_zero():
    # A plus sign: a long thin footprint east-west, a long thin flood band north-south; every
    # vertex of each lies ~50 km outside the other, beyond the flood's radius.
    site = MatchSite(
        5,
        15,
        "P-PLUS",
        None,
        "PK",
        Polygon([(64.5, 27.0), (65.5, 27.0), (65.5, 27.02), (64.5, 27.02)]),
    )
    band = Polygon([(65.0, 26.5), (65.02, 26.5), (65.02, 27.5), (65.0, 27.5)])
    event = {
        "type": "flood",
        "severity": "IV",
        "lon": 65.01,
        "lat": 26.6,
        "country": "PK",
        "geometry": band,
    }
    radius = MATRIX.reach(FineType.FLOOD, SeverityGrade.IV, SiteKind.AREA).radius_km
    assert radius < 45  # the vertices really are out of reach
    (row,) = PortfolioMatcher([site], MATRIX).match(batch(event), 0)
    assert row["distance_km"] == 0.0
