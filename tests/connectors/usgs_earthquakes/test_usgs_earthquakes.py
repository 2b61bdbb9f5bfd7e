"""USGS: real ComCat CSV and real GeoJSON summary feeds from ../shared/data."""

from datetime import UTC, datetime

import pytest

from allweather.connectors.errors import SourceFormatError
from allweather.domain.events import EventPrecision, Rejection, RiskEvent, Skipped
from allweather.domain.taxonomy import FineType, SeverityGrade
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

CSV = "usgs_earthquakes/usgs_comcat_m5plus_world_2013-01-01_2023-11-04.csv"
WEEK = "usgs_earthquakes/usgs_feed_all_week_2023-04-07.geojson"
SIGNIFICANT = "usgs_earthquakes/usgs_feed_significant_month_2020-06.geojson"


def _events(items):
    return [i for i in items if isinstance(i, RiskEvent)]


def test_comcat_csv_counts_and_first_record():
    items = parse_path("usgs_earthquakes", shared_file(CSV))
    # 18,334 rows: 18,275 earthquakes + 55 volcanic eruptions kept; 4 nuclear explosions skipped.
    assert kinds(items) == {"RiskEvent": 18330, "Skipped": 4}
    events = _events(items)
    assert sum(e.fine_type is FineType.VOLCANO for e in events) == 55
    first = events[0]  # 2013-01-01T03:51:13.000Z,-20.809,-69.667,56.1,5.1,mb,…,usp000jxpn
    assert first.source_id == "usp000jxpn"
    assert first.occurred_at == datetime(2013, 1, 1, 3, 51, 13, tzinfo=UTC)
    assert (first.geometry.x, first.geometry.y) == (-69.667, -20.809)
    assert first.magnitude == 5.1
    assert first.details["depth_km"] == 56.1
    assert first.place == "83 km SE of Iquique, Chile"
    assert first.reported_at == datetime(2014, 11, 7, 1, 49, 43, 70000, tzinfo=UTC)
    assert (first.severity, first.severity_rule) == (SeverityGrade.III, "usgs.magnitude_5")
    assert first.precision is EventPrecision.EXACT


def test_magnitude_grades_follow_the_national_plan_thresholds():
    events = _events(parse_path("usgs_earthquakes", shared_file(CSV)))
    for event in events:
        m = event.magnitude
        expected = SeverityGrade.I if m >= 7 else SeverityGrade.II if m >= 6 else SeverityGrade.III
        assert event.severity is expected, event
    # The 2023-02-06 Türkiye M7.8 is in the catalogue: grade Ⅰ.
    turkiye = [
        e for e in events if e.magnitude == 7.8 and e.occurred_at.date().isoformat() == "2023-02-06"
    ]
    assert len(turkiye) == 1
    assert turkiye[0].severity is SeverityGrade.I


def test_geojson_week_feed_skips_small_and_man_made_events():
    items = parse_path("usgs_earthquakes", shared_file(WEEK))
    assert len(items) == 2389  # metadata.count of the feed
    events = _events(items)
    assert len(events) == 150  # earthquakes of M4.0 and above
    assert all(e.magnitude >= 4.0 and e.fine_type is FineType.EARTHQUAKE for e in events)
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(skipped) == 2239


def test_pager_alert_sets_severity_when_present():
    events = _events(parse_path("usgs_earthquakes", shared_file(SIGNIFICANT)))
    assert len(events) == 6
    tobelo = next(e for e in events if e.source_id == "us6000a5r3")  # M6.4, PAGER green
    assert (tobelo.severity, tobelo.severity_rule) == (SeverityGrade.IV, "usgs.pager_green")
    assert tobelo.details["tsunami"] == 1
    assert tobelo.details["alert"] == "green"


HEADER = b"time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
GOOD = b'2013-01-01T03:51:13.000Z,-20.809,-69.667,56.1,5.1,mb,64,109.1,,,us,usp000jxpn,2014-11-07T01:49:43.070Z,"83 km SE of Iquique, Chile",earthquake\n'


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (
            b"2013-01-02T00:00:00Z,95.0,10,10,5.5,mb,,,,,us,bad1,,Nowhere,earthquake\n",
            "latitude",
            "outside [-90, 90]",
        ),
        (
            b"2013-01-02T00:00:00Z,10,10,10,five,mb,,,,,us,bad2,,Nowhere,earthquake\n",
            "mag",
            "not a number",
        ),
        (
            b"2013-01-02T00:00:00Z,10,10,10,5.5,mb,,,,,us,,,Nowhere,earthquake\n",
            "id",
            "id is missing",
        ),
        (
            b"2013-01-02T00:00:00Z,10,10,10,5.5,mb,us,bad3,,Nowhere,earthquake\n",
            None,
            "fields, expected 15",
        ),
        (
            b"2013-01-02T00:00:00Z,10,10,10,5.5,mb,,,,,us,bad4,,Caf\xe9 \xff,earthquake\n",
            None,
            "invalid utf-8",
        ),
        (b"yesterday,10,10,10,5.5,mb,,,,,us,bad5,,Nowhere,earthquake\n", "time", "not a date"),
    ],
)
def test_malformed_lines_are_quarantined_and_the_rest_lands(line, field, reason):
    items = parse_bytes(
        "usgs_earthquakes",
        "quakes.csv",
        HEADER + GOOD + line + GOOD.replace(b"usp000jxpn", b"usp000zzzz"),
    )
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert [e.source_id for e in _events(items)] == ["usp000jxpn", "usp000zzzz"]
    assert len(rejected) == 1
    assert rejected[0].ref == "line 3"
    assert rejected[0].field == field
    assert reason in rejected[0].reason


def test_truncated_last_line_is_quarantined():
    items = parse_bytes("usgs_earthquakes", "quakes.csv", HEADER + GOOD + GOOD[:40])
    assert kinds(items) == {"RiskEvent": 1, "Rejection": 1}


def test_not_a_usgs_file_is_a_format_error():
    with pytest.raises(SourceFormatError):
        parse_bytes("usgs_earthquakes", "x.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(SourceFormatError):
        parse_bytes("usgs_earthquakes", "x.geojson", b'{"type": "Feature"')
