"""/api/v1/events, /map/events (relative to the platform clock) and /sources."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from allweather.api.app import create_app
from allweather.connectors.registry import get_connector
from tests.conftest import NOW
from tests.connectors.conftest import shared_file

GDELT = "gdelt2/20240819130000.export.csv"


@pytest.fixture
def client(sqlite_platform):
    sqlite_platform.ingestor().ingest_file(get_connector("gdelt_events"), shared_file(GDELT))
    return TestClient(create_app(sqlite_platform))


def test_events_are_listed_newest_first_with_filters(client, sqlite_platform):
    body = client.get("/api/v1/events", params={"page_size": 10}).json()
    assert body["total"] == 128
    times = [e["occurred_at"] for e in body["items"]]
    assert times == sorted(times, reverse=True)
    first = body["items"][0]
    assert first["event_id"].startswith("gdelt_events:")
    assert first["category"] in {"political", "policy", "economic", "other", "natural"}
    protests = client.get("/api/v1/events", params={"country": "US", "page_size": 500}).json()
    assert protests["total"] == sum(
        1 for r in sqlite_platform.sources.iter_events() if r["country_code"] == "US"
    )
    assert client.get("/api/v1/events", params={"source": "nope"}).status_code == 404
    bad = client.get("/api/v1/events", params={"min_severity": "V"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "min_severity"


def test_map_events_follow_the_platform_clock(client, sqlite_platform):
    body = client.get("/api/v1/map/events", params={"days": 30}).json()
    expected = [
        r
        for r in sqlite_platform.sources.iter_events()
        if NOW - timedelta(days=30) <= r["occurred_at"] <= NOW and r["lon"] is not None
    ]
    assert len(body["features"]) == len(expected) > 0
    assert body["now"] == NOW.isoformat()
    one = body["features"][0]
    assert one["geometry"]["type"] == "Point"
    assert one["properties"]["severity"] in {
        "I",
        "II",
        "III",
        "IV",
    }
    year = client.get("/api/v1/map/events", params={"days": 400}).json()
    assert len(year["features"]) > len(body["features"])


def test_sources_report_health(client):
    sources = {s["source"]: s for s in client.get("/api/v1/sources").json()}
    assert sources["gdelt_events"]["last_read"] == 1544
    assert sources["gdelt_events"]["status"] == "ok"
    assert sources["usgs_earthquakes"]["status"] == "stale"  # enabled, never succeeded
    assert sources["usgs_earthquakes"]["title_zh"] == "美国地质调查局地震信息"
