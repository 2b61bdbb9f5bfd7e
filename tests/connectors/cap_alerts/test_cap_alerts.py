"""CAP: the real CAP 1.2 / 1.1 messages and the NWS Atom index in ../shared/data/feeds, the
severity rule, areas (lat,lon order, circles, the antimeridian), Update and Cancel through the
store, and malformed or hostile XML."""

from datetime import UTC, datetime

import pytest
from pyproj import Geod
from shapely.geometry import Point

from allweather.connectors.cap_alerts.connector import Info, circle, classify, polygon, severity
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import RecordError
from allweather.connectors.registry import get_connector
from allweather.domain.events import EventPrecision, Rejection, Retraction, RiskEvent, Skipped
from allweather.domain.taxonomy import EventClass, FineType, MofcomCategory, SeverityGrade
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

FEEDS = "feeds/"
NWS = FEEDS + "ibm_cap__nws_atom_feed_example.xml"
PACKAGE = "allweather.connectors.cap_alerts"
GEOD = Geod(ellps="WGS84")


def _one_event(name: str) -> RiskEvent:
    items = parse_path("cap_alerts", shared_file(FEEDS + name))
    assert kinds(items) == {"RiskEvent": 1}
    return items[0]


def _events(items):
    return [i for i in items if isinstance(i, RiskEvent)]


# ---------------------------------------------------------------------- real messages


def test_australia_bushfire_service_structure_fire_circle():
    event = _one_event("google_cap_library__australia.cap.xml")
    assert event.source_id == "webmaster@rfs.nsw.gov.au,tag:www.rfs.nsw.gov.au2011-10-06:40184"
    assert event.occurred_at == datetime(2011, 10, 5, 13, 4, tzinfo=UTC)  # effective +10:00
    assert event.ended_at == datetime(2011, 10, 6, 13, 4, tzinfo=UTC)  # expires
    # event "Fire", but eventCode structure_fire: a building fire, an accident disaster.
    assert (event.fine_type, event.event_class) == (FineType.OTHER, EventClass.ACCIDENT)
    assert (event.severity, event.severity_rule) == (SeverityGrade.IV, "cap.minor")
    assert (event.language, event.country_code) == ("en-AU", "AU")  # geocode AU-NSW
    assert event.precision is EventPrecision.EXACT
    # <circle>-35.3888,147.0598 25.0</circle>: latitude first; both <info> blocks give it.
    geometry = event.geometry
    assert geometry.geom_type == "Polygon"
    assert geometry.contains(Point(147.0598, -35.3888))
    assert event.details["areas"] == 2
    assert event.details["info_blocks"] == 2
    for lon, lat in list(geometry.exterior.coords)[:-1]:
        _, _, metres = GEOD.inv(147.0598, -35.3888, lon, lat)
        assert metres == pytest.approx(25_000, abs=1)


def test_canada_update_in_english_and_french():
    event = _one_event("google_cap_library__canada.cap.xml")
    # An Update: keyed by the first message of its chain (the earliest of <references>).
    assert event.source_id == "cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012"
    assert event.details["identifier"] == "2.49.0.1.124.6bddbc91.2012"
    assert event.details["msg_type"] == "Update"
    assert event.occurred_at == datetime(2012, 5, 2, 21, 45, 5, tzinfo=UTC)  # first message
    assert event.reported_at == datetime(2012, 5, 2, 23, 21, 4, tzinfo=UTC)  # this one's <sent>
    assert event.ended_at == datetime(2012, 5, 2, 23, 20, tzinfo=UTC)  # AllClear, effective
    assert (event.language, event.title) == ("en-CA", "severe thunderstorm watch")
    assert event.details["other_headlines"] == {"fr-CA": "veille d'orages violents"}
    assert event.fine_type is FineType.SEVERE_STORM  # SAME SVA
    assert (event.severity, event.country_code) == (SeverityGrade.IV, "CA")
    # Two areas sharing a border: merged into one valid polygon; lat,lon swapped to lon,lat.
    assert event.geometry.is_valid
    assert event.geometry.contains(Point(-82.7, 42.1))  # Essex County
    assert event.geometry.contains(Point(-81.9, 42.4))  # Chatham-Kent
    assert (-82.9314, 42.3481) in set(event.geometry.exterior.coords)
    assert event.place == "Windsor - Leamington - Essex County; Chatham-Kent - Rondeau Park"


def test_tsunami_warning_update_keyed_by_its_first_message():
    event = _one_event("google_cap_library__wcatwc-warning.cap.xml")
    assert event.source_id == "PAAQ,PAAQ-1-lqw6d6"  # <references>PAAQ,PAAQ-1-lqw6d6,…
    assert (event.fine_type, event.severity, event.severity_rule) == (
        FineType.TSUNAMI,
        SeverityGrade.I,
        "cap.extreme",
    )
    assert event.occurred_at == datetime(2011, 9, 2, 10, 55, 55, tzinfo=UTC)
    assert event.magnitude == 7.1  # EventPreliminaryMagnitude
    assert event.geometry is None  # UGC zones only
    assert (event.precision, event.country_code) == (EventPrecision.ADMIN2, "US")
    assert event.details["geocodes"] == {"UGC": ["AKZ185", "AKZ187"]}
    assert event.details["incidents"] == ["lqw6d6"]


def test_cap_1_1_earthquake_zero_radius_circle_is_the_epicentre():
    event = _one_event("google_cap_library__earthquake.cap.xml")
    assert event.details["cap_version"] == "1.1"
    assert event.geometry == Point(-173.274, -16.053)  # <circle>-16.053,-173.274 0.0</circle>
    assert event.precision is EventPrecision.EXACT
    assert (event.fine_type, event.magnitude) == (FineType.EARTHQUAKE, 6.3)
    assert (event.severity, event.severity_rule) == (SeverityGrade.IV, "cap.unknown")
    assert event.language == "en-US"  # no <language>: CAP's default
    assert event.country_code is None  # open sea: the runner places it if it can
    assert event.occurred_at == datetime(2010, 8, 31, 5, 9, 25, tzinfo=UTC)  # <sent>


def test_cap_1_1_flash_flood_watch_is_discounted_for_possible():
    event = _one_event("google_cap_library__weather.cap.xml")
    assert event.fine_type is FineType.FLOOD
    # Severe, but certainty Possible (a watch): one grade lower.
    assert (event.severity, event.severity_rule) == (SeverityGrade.III, "cap.severe_possible")
    assert (event.geometry, event.precision, event.country_code) == (
        None,
        EventPrecision.ADMIN2,
        "US",
    )
    assert event.ended_at == datetime(2010, 8, 30, 18, 0, tzinfo=UTC)


def test_amber_alert_spec_example():
    event = _one_event("ibm_cap__cap_amber_alert_example.xml")
    assert event.source_id == "KARO@CLETS.DOJ.CA.GOV,KAR0-0306112239-SW"
    assert (event.fine_type, event.severity) == (FineType.KIDNAPPING, SeverityGrade.II)
    assert event.details["other_headlines"] == {
        "es-US": "Alerta Amber en el condado de Los Ángeles"
    }
    assert (event.language, event.country_code) == ("en-US", "US")  # SAME 006037


def test_nws_atom_index_counts_and_spot_checks():
    items = parse_path("cap_alerts", shared_file(NWS))
    # 163 entries: 144 hazards kept; 19 "Air Quality Alert" entries read and skipped.
    assert kinds(items) == {"RiskEvent": 144, "Skipped": 19}
    events = _events(items)
    assert len({e.source_id for e in events}) == 144
    assert sum(e.geometry is not None for e in events) == 99  # non-empty <cap:polygon>
    assert all(e.country_code == "US" for e in events)  # FIPS6 / UGC geocodes
    grades = [(e.severity.value, e.severity_rule) for e in events]
    assert grades.count(("II", "cap.severe")) == 37
    assert grades.count(("III", "cap.severe_possible")) == 2
    assert grades.count(("IV", "cap.moderate_possible")) == 19  # fire weather watches

    first = events[0]
    assert first.source_id.endswith(
        "HighWindWarning.125AB660BDF0AK.AFGNPWNSB.e9d4afdcacb3b7015f58bccc1db60d46"
    )
    assert first.occurred_at == datetime(2018, 8, 15, 22, 52, tzinfo=UTC)  # effective -08:00
    assert first.ended_at == datetime(2018, 8, 16, 15, 0, tzinfo=UTC)
    assert (first.fine_type, first.severity) == (FineType.SEVERE_STORM, SeverityGrade.II)
    assert (first.place, first.precision) == ("Eastern Beaufort Sea Coast", EventPrecision.ADMIN2)
    assert first.details["geocodes"] == {"FIPS6": ["002185"], "UGC": ["AKZ204"]}

    last = events[-1]
    assert last.source_id.endswith(
        "RedFlagWarning.125AB65EC220WY.RIWRFWRIW.cfb69c7ae6e3f415b99ba359427d83e9"
    )
    assert (last.fine_type, last.severity) == (FineType.WILDFIRE, SeverityGrade.II)
    assert last.details["geocodes"]["UGC"] == ["WYZ277", "WYZ278", "WYZ279", "WYZ414"]

    # <cap:polygon>31.62,-86.35 31.59,-86.5 …</cap:polygon>: latitude first in CAP.
    drawn = next(e for e in events if e.geometry is not None)
    assert "SpecialWeatherStatement.125AB652C5C4AL" in drawn.source_id
    assert list(drawn.geometry.exterior.coords)[:3] == [
        (-86.35, 31.62),
        (-86.5, 31.59),
        (-86.8, 31.96),
    ]
    assert drawn.precision is EventPrecision.EXACT


def test_a_news_feed_is_read_as_entries_without_cap():
    items = parse_path("cap_alerts", shared_file(FEEDS + "rbren_rss-parser__guardian.rss"))
    assert kinds(items) == {"Skipped": 55}


# ---------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("given", "certainty", "grade", "rule"),
    [
        ("Extreme", "Observed", "I", "cap.extreme"),
        ("Extreme", "Possible", "II", "cap.extreme_possible"),
        ("Severe", "Very Likely", "II", "cap.severe"),
        ("Severe", "Possible", "III", "cap.severe_possible"),
        ("Moderate", "Likely", "III", "cap.moderate"),
        ("Moderate", "Possible", "IV", "cap.moderate_possible"),
        ("Minor", "Possible", "IV", "cap.minor_possible"),
        ("Extreme", "Unlikely", "IV", "cap.extreme_unlikely"),
        ("Unknown", "Unknown", "IV", "cap.unknown"),
    ],
)
def test_severity_is_cap_severity_discounted_by_certainty(given, certainty, grade, rule):
    assert severity(Info(severity=given, certainty=certainty)) == (SeverityGrade(grade), rule)


@pytest.mark.parametrize(
    ("info", "fine_type", "rule"),
    [
        (Info(event="Flood Warning", categories=["Met"]), FineType.FLOOD, "keyword:flood"),
        (
            Info(event="Wind Chill Advisory", categories=["Met"]),
            FineType.EXTREME_TEMPERATURE,
            "keyword:wind chill",
        ),
        (Info(event="Wildfire", categories=["Fire"]), FineType.WILDFIRE, "keyword:wildfire"),
        (
            Info(event="Special Weather Statement", categories=["Met"]),
            FineType.SEVERE_STORM,
            "category:Met",
        ),
        (
            Info(event="Something", categories=["Health"]),
            FineType.EPIDEMIC_OUTBREAK,
            "category:Health",
        ),
        (
            Info(event="Alert", categories=["Met"], event_codes=[("SAME", "TOR")]),
            FineType.SEVERE_STORM,
            "code:TOR",
        ),
        # A SAME code only counts under the SAME scheme.
        (
            Info(event="Alert", categories=["Geo"], event_codes=[("other", "TOR")]),
            FineType.OTHER,
            "category:Geo",
        ),
    ],
)
def test_event_type_by_code_then_name_then_category(info, fine_type, rule):
    kind = classify(info)
    assert (kind.fine_type, kind.rule) == (fine_type, rule)


def test_geo_without_a_named_event_is_still_a_natural_disaster():
    kind = classify(Info(event="Ground movement", categories=["Geo"]))
    assert (kind.category, kind.event_class) == (
        MofcomCategory.NATURAL,
        EventClass.NATURAL_DISASTER,
    )


def test_every_mapping_row_is_usable():
    for name in ("categories.csv", "event_codes.csv", "event_keywords.csv"):
        for key, row in load_mapping(PACKAGE, name).rows.items():
            assert row["reason"], (name, key)
            if row["fine_type"]:
                FineType(row["fine_type"])
            if row["category_override"]:
                MofcomCategory(row["category_override"])
            if row["event_class"]:
                EventClass(row["event_class"])
    categories = load_mapping(PACKAGE, "categories.csv").rows
    assert set(categories) == {
        "Geo", "Met", "Safety", "Security", "Rescue", "Fire",
        "Health", "Env", "Transport", "Infra", "CBRNE", "Other",
    }  # fmt: skip
    for row in load_mapping(PACKAGE, "certainty.csv").rows.values():
        assert int(row["shift"]) in (0, 1, 3)
    for row in load_mapping(PACKAGE, "geocodes.csv").rows.values():
        EventPrecision(row["precision"])


# ---------------------------------------------------------------------- areas


def test_circle_is_a_geodesic_polygon_within_a_thousandth_of_the_radius():
    shape = circle("30.0,100.0 50")[0]
    coords = list(shape.exterior.coords)
    assert len(coords) == 73
    for (x1, y1), (x2, y2) in zip(coords, coords[1:], strict=False):
        _, _, rim = GEOD.inv(100.0, 30.0, x1, y1)
        assert rim == pytest.approx(50_000, abs=1)
        mid_lon, mid_lat = (x1 + x2) / 2, (y1 + y2) / 2
        _, _, chord = GEOD.inv(100.0, 30.0, mid_lon, mid_lat)
        assert 50_000 * 0.999 < chord < 50_000


def test_shapes_across_the_antimeridian_are_split():
    parts = circle("-17.0,179.9 100")
    assert len(parts) == 2
    assert all(p.bounds[0] >= -180 and p.bounds[2] <= 180 for p in parts)
    assert any(p.contains(Point(179.95, -17)) for p in parts)
    assert any(p.contains(Point(-179.5, -17)) for p in parts)
    drawn = polygon("-17,179 -17,-179 -19,-179 -19,179 -17,179")
    assert len(drawn) == 2
    assert sum(p.area for p in drawn) == pytest.approx(4.0)


def test_a_circle_around_a_pole_becomes_the_polar_cap():
    (cap,) = circle("89.9,0 50")
    assert cap.bounds[1] < 89.9
    assert (cap.bounds[0], cap.bounds[2], cap.bounds[3]) == (-180, 180, 90)


def test_a_bow_tie_polygon_is_repaired():
    parts = polygon("0,0 1,1 0,1 1,0 0,0")
    assert len(parts) == 2  # the two triangles of the bow tie
    assert all(p.is_valid for p in parts)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("95.0,10 1,1 0,1 95.0,10", "outside [-90, 90]"),
        ("10,west 1,1 0,1 10,west", "not a number"),
        ("10 10 1 1 0 1", "is not 'lat,lon'"),
        ("10,10 10,10", "distinct points"),
    ],
)
def test_bad_polygons_are_record_errors(value, message):
    with pytest.raises(RecordError) as caught:
        polygon(value)
    assert caught.value.field == "polygon"
    assert message in str(caught.value)


# ---------------------------------------------------------------------- messages in a feed

ALERT = """<entry><id>urn:test:{identifier}</id><content type="text/xml">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{sent}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>en-US</language>
    <category>Met</category>
    <event>{event}</event>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>{certainty}</certainty>
    <headline>{headline}</headline>
    <area>
      <areaDesc>Test County</areaDesc>
      {shape}
      <geocode><valueName>FIPS6</valueName><value>001001</value></geocode>
    </area>
  </info>
</alert></content></entry>
"""
DEFAULTS = {
    "identifier": "A-1",
    "sender": "w-nws.webmaster@noaa.gov",
    "sent": "2018-08-15T14:52:00-08:00",
    "status": "Actual",
    "msg_type": "Alert",
    "references": "",
    "event": "Flash Flood Warning",
    "severity": "Severe",
    "certainty": "Observed",
    "headline": "Flash Flood Warning for Test County",
    "shape": "<polygon>31.62,-86.35 31.59,-86.5 31.96,-86.8 31.62,-86.35</polygon>",
}


def _alert(**changes: str) -> bytes:
    return ALERT.format(**{**DEFAULTS, **changes}).encode("utf-8")


def _feed(*entries: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>test</title>\n" + b"".join(entries) + b"</feed>\n"
    )


def test_alerts_embedded_in_feed_entries_are_read_once():
    items = parse_bytes("cap_alerts", "feed.xml", _feed(_alert(), _alert(identifier="A-2")))
    assert [e.source_id for e in _events(items)] == [
        "w-nws.webmaster@noaa.gov,A-1",
        "w-nws.webmaster@noaa.gov,A-2",
    ]
    assert len(items) == 2  # the wrapping entries are not records of their own


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (
            _alert(
                identifier="A-2",
                shape="<polygon>95.0,-86.35 31.59,-86.5 31.96,-86.8 95.0,-86.35</polygon>",
            ),
            "polygon",
            "outside [-90, 90]",
        ),
        (
            _alert(
                identifier="A-2",
                shape="<polygon>31.62,-86.35 31.59,x 31.96,-86.8 31.62,-86.35</polygon>",
            ),
            "polygon",
            "not a number",
        ),
        (
            _alert(identifier="A-2", shape="<circle>31.62,-86.35 ten</circle>"),
            "circle",
            "not a number",
        ),
        (
            _alert(identifier="A-2", shape="<circle>31.62,-86.35 -5</circle>"),
            "circle",
            "is not in 0..20000",
        ),
        (_alert(identifier=""), "identifier", "identifier is missing"),
        (_alert(identifier="A-2", sent="yesterday"), "sent", "not a date"),
        (_alert(identifier="A-2", severity="Catastrophic"), "severity", "not a CAP severity"),
        (_alert(identifier="A-2", certainty="Maybe"), "certainty", "not a CAP certainty"),
        (_alert(identifier="A-2", msg_type="Shout"), "msgType", "not a CAP msgType"),
        (_alert(identifier="A-2", msg_type="Cancel"), "references", "must reference"),
        (
            _alert(
                identifier="A-2", msg_type="Update", references="<references>nonsense</references>"
            ),
            "references",
            "not sender,identifier,sent",
        ),
        (
            _alert(identifier="A-2").replace(b"for Test County", b"for T\xe9st \xff"),
            "headline",
            "invalid UTF-8",
        ),
    ],
)
def test_a_malformed_alert_is_rejected_and_the_others_land(bad, field, reason):
    items = parse_bytes("cap_alerts", "feed.xml", _feed(_alert(), bad, _alert(identifier="A-3")))
    assert [e.details["identifier"] for e in _events(items)] == ["A-1", "A-3"]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert rejected.ref.startswith("alert 2")
    assert rejected.field == field
    assert reason in rejected.reason
    assert rejected.raw.startswith("<cap:alert ")


def test_tests_exercises_acks_and_unmapped_events_are_skipped():
    items = parse_bytes(
        "cap_alerts",
        "feed.xml",
        _feed(
            _alert(identifier="T-1", status="Test"),
            _alert(identifier="E-1", status="Exercise"),
            _alert(identifier="K-1", msg_type="Ack"),
            _alert(identifier="Q-1", event="Air Quality Alert"),
            _alert(identifier="A-1"),
        ),
    )
    assert kinds(items) == {"Skipped": 4, "RiskEvent": 1}
    assert [i.reason for i in items if isinstance(i, Skipped)][:2] == [
        "CAP status Test: not a real alert",
        "CAP status Exercise: not a real alert",
    ]


def test_the_same_language_infos_give_the_most_severe_grade_and_other_languages_only_headlines():
    message = _alert(severity="Moderate").replace(
        b"</info>",
        b"</info><info><language>en-US</language><category>Met</category>"
        b"<event>Flash Flood Warning</event><urgency>Immediate</urgency>"
        b"<severity>Extreme</severity><certainty>Observed</certainty>"
        b"<area><areaDesc>Next County</areaDesc><circle>40.0,-100.0 10</circle></area></info>"
        b"<info><language>es-US</language><category>Met</category><event>Inundacion</event>"
        b"<urgency>Immediate</urgency><severity>Minor</severity><certainty>Observed</certainty>"
        b"<headline>Aviso de inundacion</headline><area><areaDesc>Otro</areaDesc>"
        b"<circle>10.0,10.0 10</circle></area></info>",
        1,
    )
    (event,) = parse_bytes("cap_alerts", "feed.xml", _feed(message))
    assert (event.severity, event.severity_rule) == (SeverityGrade.I, "cap.extreme")
    assert event.geometry.geom_type == "MultiPolygon"  # two disjoint areas of the en-US infos
    assert event.geometry.contains(Point(-100.0, 40.0))
    assert not event.geometry.intersects(Point(10.0, 10.0))  # the es-US area is a translation
    assert event.details["other_headlines"] == {"es-US": "Aviso de inundacion"}


def test_update_revises_and_cancel_retracts_the_stored_event(sqlite_platform, tmp_path):
    ingestor, cap = sqlite_platform.ingestor(), get_connector("cap_alerts")
    chain = "w-nws.webmaster@noaa.gov,A-1,2018-08-15T14:52:00-08:00"
    steps = [
        _alert(),
        _alert(
            identifier="A-2",
            sent="2018-08-15T15:30:00-08:00",
            msg_type="Update",
            severity="Extreme",
            references=f"<references>{chain}</references>",
        ),
        _alert(
            identifier="A-3",
            sent="2018-08-15T16:00:00-08:00",
            msg_type="Cancel",
            references=(
                f"<references>{chain} "
                "w-nws.webmaster@noaa.gov,A-2,2018-08-15T15:30:00-08:00</references>"
            ),
        ),
    ]
    reports = []
    for number, step in enumerate(steps):
        path = tmp_path / f"step{number}.xml"
        path.write_bytes(_feed(step))
        reports.append(ingestor.ingest_file(cap, path))
    assert [(r.counts.new, r.counts.updated, r.counts.deleted) for r in reports] == [
        (1, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]
    (row,) = list(sqlite_platform.sources.iter_events())
    assert (row["source_id"], row["severity"]) == ("w-nws.webmaster@noaa.gov,A-1", "I")
    assert row["deleted_at"] is not None
    assert sqlite_platform.sources.count_events(include_deleted=False) == 0


def test_cancel_yields_a_retraction_per_referenced_message():
    refs = (
        "<references>s,B-2,2020-01-01T01:00:00Z s,B-1,2020-01-01T00:00:00Z "
        "s,B-2,2020-01-01T01:00:00Z</references>"
    )
    items = parse_bytes(
        "cap_alerts",
        "cancel.xml",
        _feed(_alert(sender="s", identifier="B-3", msg_type="Cancel", references=refs)),
    )
    assert items == [
        Retraction(
            "cap_alerts", "s,B-2", datetime(2018, 8, 15, 22, 52, tzinfo=UTC), "cancelled by s,B-3"
        ),
        Retraction(
            "cap_alerts", "s,B-1", datetime(2018, 8, 15, 22, 52, tzinfo=UTC), "cancelled by s,B-3"
        ),
    ]


def test_an_update_is_keyed_by_the_earliest_reference_whatever_the_order():
    refs = "<references>s,B-2,2020-01-01T01:00:00Z s,B-1,2020-01-01T00:00:00Z</references>"
    (event,) = parse_bytes(
        "cap_alerts",
        "u.xml",
        _feed(
            _alert(
                sender="s",
                identifier="B-3",
                sent="2020-01-01T02:00:00Z",
                msg_type="Update",
                references=refs,
            )
        ),
    )
    assert event.source_id == "s,B-1"
    assert event.occurred_at == datetime(2020, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------- broken and hostile XML


def test_invalid_utf8_in_one_real_entry_costs_only_that_entry():
    content = shared_file(NWS).read_bytes()
    marker = b"Loose objects may be blown away."  # the summary of the first entry
    assert content.count(marker) == 1
    items = parse_bytes("cap_alerts", "nws.xml", content.replace(marker, b"Loose \xff\xfe objects"))
    assert kinds(items) == {"RiskEvent": 143, "Skipped": 19, "Rejection": 1}
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert rejected.field == "summary"
    assert rejected.ref.startswith("entry 1 (https://alerts.weather.gov/")


def test_a_truncated_real_feed_yields_every_complete_entry_then_a_rejection():
    content = shared_file(NWS).read_bytes()
    cut = content[: len(content) * 2 // 3]
    items = parse_bytes("cap_alerts", "nws.xml", cut)
    assert len(items) == cut.count(b"</entry>") + 1
    assert isinstance(items[-1], Rejection)
    assert "the XML breaks here" in items[-1].reason


def _billion_laughs() -> bytes:
    levels = [b'<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">'.encode() for n in range(1, 10)
    ]
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE alert [' + b"\n".join(levels) + b"]>\n"
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier>'
        b"</alert>"
    )


def test_billion_laughs_is_refused_before_expanding():
    with pytest.raises(SourceFormatError, match="unsafe XML refused"):
        parse_bytes("cap_alerts", "alert.xml", _billion_laughs())


@pytest.mark.parametrize(
    "content",
    [
        b"<html><head><title>Not found</title></head></html>",
        b'<alert xmlns="urn:example:not-cap"><identifier>x</identifier></alert>',
        b'<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x',
    ],
)
def test_foreign_or_broken_documents_are_format_errors(content):
    with pytest.raises(SourceFormatError):
        parse_bytes("cap_alerts", "alert.xml", content)


def test_a_chinese_alert_in_gb2312_reads_like_any_other():
    feed = _feed(_alert(event="暴雨蓝色预警", headline="暴雨蓝色预警：未来24小时有大雨")).decode(
        "utf-8"
    )
    content = feed.replace('encoding="UTF-8"', 'encoding="GB2312"').encode("gb2312")
    (event,) = parse_bytes("cap_alerts", "cma.xml", content)
    assert event.title == "暴雨蓝色预警：未来24小时有大雨"
    assert event.details["event"] == "暴雨蓝色预警"


def test_a_real_gb2312_news_feed_is_read_not_refused():
    items = parse_path("cap_alerts", shared_file(FEEDS + "rbren_rss-parser__encoding-gb2312.xml"))
    assert kinds(items) == {"Skipped": 20}  # 20 news items, none with CAP content
