"""The /api/v1 contract: pagination, filters, GeoJSON layers, JSON errors naming the field."""

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from allweather.api.app import create_app
from allweather.store.database import head_revision
from tests.conftest import NOW
from tests.factories import make_project, make_site, make_update


@pytest.fixture
def client(sqlite_platform):
    projects = [
        make_update(make_project(f"KE-{i:02d}", name=f"Kenya project {i}")) for i in range(12)
    ]
    fiji = make_project(
        "FJ-1",
        country_code="FJ",
        sites=(make_site("1", geometry=Point(179.9, -17.0), country_code="FJ"),),
    )
    sqlite_platform.portfolio.apply_portfolio([*projects, make_update(fiji)], [], NOW)
    return TestClient(create_app(sqlite_platform))


def test_health_reports_schema_clock_and_counts(client):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["schema"] == head_revision()
    assert body["now"] == "2024-08-19T13:00:00+00:00"  # the pinned platform clock
    assert body["counts"]["projects"] == 13
    assert body["counts"]["sites"] == 37


def test_projects_are_paginated_and_filtered(client):
    body = client.get(
        "/api/v1/projects", params={"page": 2, "page_size": 5, "country": "KE"}
    ).json()
    assert (body["total"], body["pages"], body["page"]) == (12, 3, 2)
    assert [p["code"] for p in body["items"]] == [f"KE-{i:02d}" for i in range(5, 10)]
    assert body["items"][0]["site_count"] == 3
    fiji = client.get("/api/v1/projects", params={"q": "fj"}).json()
    assert [p["code"] for p in fiji["items"]] == ["FJ-1"]
    flagship = client.get("/api/v1/projects", params={"kind": "flagship"}).json()
    assert flagship["total"] == 13


def test_project_detail_has_labels_and_geojson_sites(client):
    body = client.get("/api/v1/projects/KE-03").json()
    assert body["kind_label"] == {"zh": "重大标志性工程", "en": "Flagship project"}
    assert body["staff"]["total"] == 2125
    assert [s["kind"] for s in body["sites"]] == ["line", "area", "point"]
    assert shape(body["sites"][2]["geometry"]).equals(Point(36.8219, -1.2921))
    assert "contacts" not in body  # sensitive until roles exist


def test_errors_are_json_with_a_code_and_the_field(client):
    missing = client.get("/api/v1/projects/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "not_found", "message": "no project with code 'NOPE'"}
    }
    invalid = client.get("/api/v1/projects", params={"page": 0, "kind": "castle"})
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "validation_error"
    assert {f["field"] for f in error["fields"]} == {"page", "kind"}
    unknown_route = client.get("/api/v1/nothing-here")
    assert unknown_route.status_code == 404
    assert unknown_route.json()["error"]["code"] == "not_found"


def test_site_layer_filters_by_bbox_across_the_antimeridian(client):
    kenya = client.get("/api/v1/map/sites", params={"bbox": "36,-5,40,0"}).json()
    assert kenya["type"] == "FeatureCollection"
    assert kenya["total"] == 36
    pacific = client.get("/api/v1/map/sites", params={"bbox": "170,-20,-170,-10"}).json()
    assert [f["properties"]["code"] for f in pacific["features"]] == ["FJ-1"]
    bad = client.get("/api/v1/map/sites", params={"bbox": "1,2,3"})
    assert bad.status_code == 422
    assert "bbox" in bad.json()["error"]["message"]


def test_site_layer_simplifies_by_zoom(client):
    detailed = client.get("/api/v1/map/sites", params={"page_size": 1}).json()["features"][0]
    coarse = client.get("/api/v1/map/sites", params={"page_size": 1, "zoom": 1}).json()["features"][
        0
    ]
    assert len(coarse["geometry"]["coordinates"]) < len(detailed["geometry"]["coordinates"])


def test_project_layer_has_one_pin_per_project(client):
    body = client.get("/api/v1/map/projects").json()
    assert body["total"] == 13
    assert len(body["features"]) == 13
    assert all(f["geometry"]["type"] == "Point" for f in body["features"])


def test_countries_with_names_in_both_languages(client):
    body = client.get("/api/v1/countries", params={"with_projects": True}).json()
    assert {c["iso2"]: (c["name_zh"], c["projects"]) for c in body["items"]} == {
        "FJ": ("斐济", 1),
        "KE": ("肯尼亚", 12),
    }


def test_vocabularies_carry_both_labels(client):
    body = {v["name"]: v["values"] for v in client.get("/api/v1/vocabularies").json()}
    assert {"code": 1, "zh": "一级（红色）", "en": "Level 1 (red)", "colour": "#d7191c"} in body[
        "WarningLevel"
    ]
    terror = next(v for v in body["FineType"] if v["code"] == "terrorist_attack")
    assert terror["category"] == "political"


def test_openapi_document_is_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/projects" in spec["paths"]
    assert "/api/v1/map/sites" in spec["paths"]


def test_index_page_is_chinese_first_with_an_english_switch(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "全天候" in page.text
    assert 'href="?lang=en"' in page.text
    assert "/static/vendor/maplibre-gl/maplibre-gl.js" in page.text
    english = client.get("/", params={"lang": "en"})
    assert '<html lang="en">' in english.text
    assert "Map overview" in english.text


def test_static_assets_are_served_locally(client):
    for path in (
        "/static/vendor/maplibre-gl/maplibre-gl.js",
        "/static/app/map.js",
        "/static/basemap/countries.geojson",
    ):
        assert client.get(path).status_code == 200, path
