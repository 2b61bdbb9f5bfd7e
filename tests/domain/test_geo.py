import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from allweather.domain.geo import (
    GeometryError,
    approx_distance_km,
    geodesic_km,
    parse_wkt,
    site_kind_of,
    validate_site_geometry,
)
from allweather.domain.portfolio import Project, Site, StaffCounts
from allweather.domain.vocabulary import SiteKind


@pytest.mark.parametrize(
    ("wkt", "kind"),
    [
        ("POINT (36.82 -1.29)", SiteKind.POINT),
        ("MULTIPOINT ((36.82 -1.29), (39.66 -4.05))", SiteKind.POINT),
        ("LINESTRING (39.66 -4.05, 36.82 -1.29)", SiteKind.LINE),
        ("MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))", SiteKind.LINE),
        (
            "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0), (0.2 0.2, 0.4 0.2, 0.4 0.4, 0.2 0.2))",
            SiteKind.AREA,
        ),
        ("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))", SiteKind.AREA),
    ],
)
def test_site_kind_follows_the_geometry(wkt, kind):
    assert site_kind_of(parse_wkt(wkt)) is kind


@pytest.mark.parametrize(
    ("wkt", "message"),
    [
        ("POLYGON((1 2, 3 4", "malformed WKT"),
        ("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))", "invalid geometry: Self-intersection"),
        ("POINT (36.8 91)", "latitude outside"),
        ("POINT (181 0)", "longitude outside"),
        ("POINT EMPTY", "empty"),
        ("GEOMETRYCOLLECTION (POINT (1 1))", "not a site geometry"),
        ("", "malformed WKT"),
    ],
)
def test_parse_wkt_says_what_is_wrong(wkt, message):
    with pytest.raises(GeometryError, match=message):
        parse_wkt(wkt)


def test_geodesic_distance_on_wgs84():
    # One degree of longitude on the equator is 111.319 km on the WGS84 ellipsoid.
    assert geodesic_km(0, 0, 1, 0) == pytest.approx(111.3195, abs=1e-3)
    # One degree of latitude at the equator is shorter: 110.574 km.
    assert geodesic_km(0, 0, 0, 1) == pytest.approx(110.574, abs=1e-3)


def test_approx_distance_is_zero_when_touching_and_geodesic_otherwise():
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    assert approx_distance_km(Point(0.5, 0.5), square) == 0.0
    assert approx_distance_km(Point(2, 0.5), square) == pytest.approx(geodesic_km(1, 0.5, 2, 0.5))


def test_three_dimensional_geometries_are_accepted_in_two_dimensions():
    validate_site_geometry(LineString([(0, 0, 5), (1, 1, 6)]))


def test_site_and_project_domain_types():
    site = Site("port", MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1)])]))
    assert site.kind is SiteKind.AREA
    assert StaffCounts(3, None, 2).total == 5
    assert StaffCounts().total is None
    project = Project("P1", "Gwadar Port", name_zh="瓜达尔港", sites=(site,))
    assert project.display_name("zh") == "瓜达尔港"
    assert project.display_name("en") == "Gwadar Port"
    assert Project("P2", "Only English").display_name("zh") == "Only English"
