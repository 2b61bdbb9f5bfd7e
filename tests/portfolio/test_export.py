"""Export writes the canonical columns and re-imports to the same portfolio."""

import csv
import io
import json

import shapely
from shapely.geometry import LineString, shape

from allweather.portfolio.columns import CANONICAL
from allweather.portfolio.exporter import write_csv, write_geojson
from tests.conftest import NOW
from tests.factories import make_project, make_site, make_update


def _seed(platform):
    platform.portfolio.apply_portfolio(
        [
            make_update(make_project(organization_code=None), contacts_provided=True),
            make_update(
                make_project(
                    "LA-RAIL",
                    name="China–Laos Railway",
                    name_zh="中老铁路",
                    country_code="LA",
                    contacts=(),
                    sites=(
                        make_site(
                            "1",
                            geometry=LineString([(102.6, 17.97), (101.4, 20.0)]),
                            country_code="LA",
                        ),
                    ),
                )
            ),
        ],
        [],
        NOW,
    )


def test_csv_has_the_canonical_columns_and_one_row_per_site(platform):
    _seed(platform)
    out = io.StringIO()
    assert write_csv(platform.portfolio.iter_projects(), out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(CANONICAL)
    terminus = next(r for r in rows if r["code"] == "KE-SGR" and r["site"] == "terminus")
    assert (terminus["latitude"], terminus["longitude"], terminus["wkt"]) == (
        "-1.2921",
        "36.8219",
        "",
    )
    line = next(r for r in rows if r["site"] == "line")
    assert line["wkt"].startswith("LINESTRING")
    assert line["latitude"] == ""
    assert terminus["name_zh"] == "蒙内铁路"
    assert terminus["value_usd"] == "3800000000"
    assert terminus["contact_name"] == "Li Ming"


def test_csv_export_round_trips_through_import(platform, tmp_path):
    _seed(platform)
    first = tmp_path / "first.csv"
    with first.open("w", encoding="utf-8", newline="") as fh:
        write_csv(platform.portfolio.iter_projects(), fh)
    before = list(platform.portfolio.iter_projects())
    report = platform.import_file(first)
    assert report.exit_code == 0
    assert report.changes.projects_unchanged == 2
    assert report.changes.sites_updated == 0
    after = list(platform.portfolio.iter_projects())
    assert [(p.code, p.name, p.kind, p.staff, p.contacts) for p in after] == [
        (p.code, p.name, p.kind, p.staff, p.contacts) for p in before
    ]
    for a, b in zip(after, before, strict=True):
        for sa, sb in zip(a.sites, b.sites, strict=True):
            assert shapely.equals_exact(sa.geometry, sb.geometry, tolerance=0)


def test_geojson_export_is_a_feature_collection_that_reimports(platform, tmp_path):
    _seed(platform)
    path = tmp_path / "portfolio.geojson"
    with path.open("w", encoding="utf-8") as fh:
        assert write_geojson(platform.portfolio.iter_projects(), fh) == 4
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    assert len(document["features"]) == 4
    kinds = {
        f["properties"]["site"]: shape(f["geometry"]).geom_type
        for f in document["features"]
        if f["properties"]["code"] == "KE-SGR"
    }
    assert kinds == {"line": "LineString", "port": "Polygon", "terminus": "Point"}
    report = platform.import_file(path)
    assert report.exit_code == 0
    assert report.changes.projects_unchanged == 2
