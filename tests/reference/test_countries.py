import re

import pytest
import shapely
from shapely.geometry import Point

from allweather.reference.countries import UnknownCountryError


@pytest.mark.parametrize(
    ("text", "iso2"),
    [
        ("KE", "KE"),
        ("ken", "KE"),
        ("Kenya", "KE"),
        ("肯尼亚", "KE"),
        ("老挝", "LA"),
        ("Lao People's Democratic Republic", "LA"),
        ("Laos", "LA"),
        ("Dem. Rep. Congo", "CD"),
        ("刚果（金）", "CD"),
        ("刚果(布)", "CG"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("巴基斯坦", "PK"),
        ("Kosovo", "XK"),
        ("Côte d'Ivoire", "CI"),
        ("Türkiye", "TR"),
        ("  sri lanka ", "LK"),
    ],
)
def test_resolve_by_code_or_name_in_either_language(catalog, text, iso2):
    assert catalog.resolve(text).iso2 == iso2


def test_unknown_country_is_an_error(catalog):
    with pytest.raises(UnknownCountryError, match="Atlantis"):
        catalog.resolve("Atlantis")


def test_every_country_has_a_chinese_and_an_english_name(catalog):
    countries = catalog.all()
    assert len(countries) >= 249
    for c in countries:
        assert re.search(r"[\u4e00-\u9fff]", c.name_zh), c
        assert c.name_en
        assert len(c.iso3) == 3


@pytest.mark.parametrize(
    ("lon", "lat", "iso2"),
    [
        (36.8219, -1.2921, "KE"),
        (102.6, 17.97, "LA"),
        (62.33, 25.11, "PK"),
        (80.63, 7.29, "LK"),
        (178.44, -18.14, "FJ"),
        (-179.9, 65.9, "RU"),
    ],
)
def test_place_puts_points_in_their_country(catalog, lon, lat, iso2):
    placement = catalog.place(Point(lon, lat))
    assert placement.iso2 == iso2
    assert placement.distance_km == 0


def test_place_takes_the_nearest_country_for_a_site_just_offshore(catalog):
    placement = catalog.place(Point(39.8, -4.1))  # ~10 km off Mombasa in the Indian Ocean
    assert placement.iso2 == "KE"
    assert 0 < placement.distance_km < 50


def test_place_gives_no_country_in_the_open_ocean(catalog):
    assert catalog.place(Point(-140, -30)).iso2 is None


def test_distance_outside_a_declared_country(catalog):
    kampala = Point(32.58, 0.35)
    assert catalog.distance_outside_km(kampala, "UG") == 0
    assert 100 < catalog.distance_outside_km(kampala, "KE") < 200


def test_resolve_iso_numeric_codes(catalog):
    assert catalog.resolve("004").iso2 == "AF"
    assert catalog.resolve("4").iso2 == "AF"
    assert catalog.resolve("404").iso2 == "KE"


def test_no_country_wraps_around_the_globe_at_the_antimeridian(catalog):
    # A ring crossing ±180° drawn naively spans every longitude at its latitude; only
    # Antarctica legitimately does.
    codes, boundaries, _ = catalog._boundaries
    wide = {
        code
        for code, boundary in zip(codes, boundaries, strict=True)
        for part in shapely.get_parts(boundary)
        if part.bounds[2] - part.bounds[0] > 180
    }
    assert wide == {"AQ"}


@pytest.mark.parametrize(
    ("lon", "lat", "iso2"),
    [(179.9, -17.0, "FJ"), (-179.9, -16.5, "FJ"), (-175.0, 66.5, "RU"), (-173.8, -15.9, None)],
)
def test_places_either_side_of_the_antimeridian(catalog, lon, lat, iso2):
    assert catalog.place(Point(lon, lat)).iso2 == iso2
