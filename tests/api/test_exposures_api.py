"""/api/v1/exposures: paginated, newest event first, per project, 404 for an unknown one."""

import pytest
from fastapi.testclient import TestClient

from allweather.api.app import create_app
from allweather.connectors.registry import get_connector
from tests.factories import make_project, make_update

HEADER = "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
ROWS = (
    '2020-06-01T03:51:13.000Z,-1.3921,36.8219,10,5.0,mb,,,,,us,us7000aaaa,2020-06-02T00:00:00Z,"a",earthquake\n'
    '2020-07-01T03:51:13.000Z,-1.3421,36.8219,10,5.0,mb,,,,,us,us7000bbbb,2020-07-02T00:00:00Z,"b",earthquake\n'
)


@pytest.fixture
def client(platform, tmp_path):
    platform.portfolio.apply_portfolio([make_update(make_project())], [], platform.clock.now())
    platform.rematch_if_due()
    path = tmp_path / "q.csv"
    path.write_text(HEADER + ROWS)
    platform.ingestor().ingest_file(get_connector("usgs_earthquakes"), path)
    return TestClient(create_app(platform))


def test_exposures_are_listed_newest_event_first_nearest_site_first(client):
    body = client.get("/api/v1/exposures", params={"project": "KE-SGR"}).json()
    assert body["total"] == 4  # two quakes, each reaching the terminus and the line
    first, second = body["items"][:2]
    assert first["event_id"] == "usgs_earthquakes:us7000bbbb"
    assert first["distance_km"] <= second["distance_km"]
    assert {"distance_km", "bearing_deg", "reach_km", "rule", "precision", "note"} <= set(first)
    page = client.get("/api/v1/exposures", params={"page_size": 3, "page": 2}).json()
    assert len(page["items"]) == 1
    assert page["pages"] == 2


def test_an_unknown_project_is_a_404(client):
    response = client.get("/api/v1/exposures", params={"project": "NOPE"})
    assert response.status_code == 404
    assert "NOPE" in response.json()["error"]["message"]
