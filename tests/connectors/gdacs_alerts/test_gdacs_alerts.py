"""GDACS: the real 2012–2016 archive (old schema) and a real 2019 feed (current schema) from
../shared/data, malformed and hostile XML, episodes updating one record, and the live fetch."""

import asyncio
import io
import time
from datetime import UTC, datetime

import httpx
import pytest

from allweather.connectors.base import FetchContext, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.http import HttpClient
from allweather.connectors.mapping import load_mapping
from allweather.connectors.registry import get_connector
from allweather.connectors.xmlstream import iter_records
from allweather.domain.clock import FixedClock
from allweather.domain.events import EventPrecision, Rejection, RiskEvent
from allweather.domain.taxonomy import FineType, SeverityGrade
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

ARCHIVE = "gdacs_rss/gdacs_rss_archive_orange_2012-04_2016-04.xml"
CURRENT = "gdacs_rss/gdacs_rss_2019-12-30_4items.xml"


def _events(items):
    return [i for i in items if isinstance(i, RiskEvent)]


def _by_id(items):
    return {e.source_id: e for e in _events(items)}


def test_archive_schema_counts_match_the_source():
    items = parse_path("gdacs_alerts", shared_file(ARCHIVE))
    assert kinds(items) == {"RiskEvent": 100}
    events = _events(items)
    assert len({e.source_id for e in events}) == 100
    # README: EQ 45 (44 "EQ" + 1 "EQx"), FL 29, TC 26; alert levels: 77 Orange, 23 Red.
    types = [e.fine_type for e in events]
    assert types.count(FineType.EARTHQUAKE) == 45
    assert types.count(FineType.FLOOD) == 29
    assert types.count(FineType.TROPICAL_CYCLONE) == 26
    grades = [(e.severity, e.severity_rule) for e in events]
    assert grades.count((SeverityGrade.II, "gdacs.orange")) == 77
    assert grades.count((SeverityGrade.I, "gdacs.red")) == 23


def test_archive_first_and_last_items():
    events = _events(parse_path("gdacs_alerts", shared_file(ARCHIVE)))
    first = events[0]  # <guid>FL4339</guid>, Orange flood alert in Pakistan
    assert first.source_id == "FL-4339"
    assert first.occurred_at == datetime(2016, 3, 12, tzinfo=UTC)  # gdacs:fromdate
    assert first.ended_at == datetime(2016, 3, 25, 23, 59, 59, tzinfo=UTC)  # gdacs:todate
    assert first.reported_at == datetime(2016, 3, 25, 23, 59, 59, tzinfo=UTC)  # pubDate
    assert (first.geometry.x, first.geometry.y) == (71.779, 33.054)
    assert (first.fine_type, first.severity) == (FineType.FLOOD, SeverityGrade.II)
    assert first.precision is EventPrecision.ADMIN1  # centre of a flooded region
    assert first.country_code == "PK"
    assert first.fatalities == 121  # "121 killed and 2400 displaced"
    assert first.details["displaced"] == 2400
    assert first.details["episode_id"] == 1
    assert first.details["glide"] == "FL-2016-000021-PAK"
    assert first.url == "http://www.gdacs.org/report.aspx?eventtype=FL&eventid=4339"

    last = events[-1]  # <guid>EQ1010636</guid>, M6.3, 2013-10-31 12:02:09
    assert last.source_id == "EQ-1010636"
    assert last.occurred_at == datetime(2013, 10, 31, 12, 2, 9, tzinfo=UTC)
    assert (last.geometry.x, last.geometry.y) == (121.44, 23.59)
    assert (last.magnitude, last.fine_type, last.severity) == (
        6.3,
        FineType.EARTHQUAKE,
        SeverityGrade.II,
    )
    assert last.precision is EventPrecision.EXACT
    assert last.country_code == "CN"  # as GDACS names it, though the epicentre is off Taiwan
    assert last.details["episode_id"] == 1019554
    assert last.details["population"] == {
        "value": 3113419,
        "unit": "Pop100",
        "text": "3113419 people within 100km",
    }


def test_archive_red_alerts_countries_and_quirks():
    events = _by_id(parse_path("gdacs_alerts", shared_file(ARCHIVE)))
    nepal = events["EQ-1052901"]  # Red, M7.8, 2015-04-25 06:11:26, Nepal
    assert (nepal.severity, nepal.severity_rule, nepal.magnitude) == (
        SeverityGrade.I,
        "gdacs.red",
        7.8,
    )
    assert nepal.country_code == "NP"
    assert nepal.occurred_at == datetime(2015, 4, 25, 6, 11, 26, tzinfo=UTC)
    # "EQx" is an earthquake too (the 2014-04-03 Iquique aftershock, also EQ-1028836).
    assert events["EQx-1028861"].fine_type is FineType.EARTHQUAKE
    assert events["EQx-1028861"].country_code == "CL"
    # A region and its country resolves to the country.
    assert events["EQ-1082314"].country_code == "PH"  # "Luzon, Philippines"
    # Several countries: left to the runner, which places the point; all kept in details.
    assert events["TC-1000217"].country_code is None  # "Japan, China"
    assert events["TC-1000217"].details["countries"] == ["JP", "CN"]
    # Unresolvable names (a misspelling, an empty country offshore): placed by the runner.
    assert events["FL-4297"].country_code is None  # "Guatamala"
    assert events["EQ-1028836"].country_code is None  # no country given
    assert events["TC-40957"].details["event_name"] == "KROSA-13"


def test_current_schema_items():
    items = parse_path("gdacs_alerts", shared_file(CURRENT))
    assert kinds(items) == {"RiskEvent": 4}
    events = _by_id(items)
    assert [e.fine_type for e in events.values()] == [
        FineType.TROPICAL_CYCLONE,
        FineType.EARTHQUAKE,
        FineType.DROUGHT,
        FineType.DROUGHT,
    ]
    calvinia = events["TC-1000643"]
    assert (calvinia.severity, calvinia.severity_rule) == (SeverityGrade.IV, "gdacs.green")
    assert calvinia.country_code == "MU"  # gdacs:iso3 MUS
    assert (calvinia.geometry.x, calvinia.geometry.y) == (59.8, -19.4)
    assert calvinia.geometry.geom_type == "Point"  # the bbox is a map window: details only
    # <gdacs:bbox>lonmin lonmax latmin latmax</…> → [west, south, east, north]
    assert calvinia.details["bbox"] == [
        55.0780533046962,
        -46.7828750315965,
        81.0780533046962,
        -20.7828750315965,
    ]
    assert calvinia.details["alert_score"] == 1
    assert calvinia.details["is_current"] is True
    quake = events["EQ-1199929"]
    assert (quake.magnitude, quake.country_code, quake.geometry.y) == (5.5, "ZA", -44.5653)
    assert quake.details["alert_score"] == 0.01
    assert quake.reported_at == datetime(2019, 12, 28, 15, 36, 35, tzinfo=UTC)
    drought = events["DR-1013682"]  # iso3 BGR, but "Bulgaria, Iraq, Iran, Turkey"
    assert drought.country_code is None
    assert drought.details["countries"] == ["BG", "IQ", "IR", "TR"]
    assert drought.occurred_at == datetime(2019, 10, 21, tzinfo=UTC)
    assert drought.ended_at == datetime(2019, 12, 30, 1, 27, tzinfo=UTC)
    assert drought.precision is EventPrecision.ADMIN1
    assert events["DR-1013588"].country_code == "AU"


def test_every_gdacs_event_type_is_mapped():
    types = load_mapping("allweather.connectors.gdacs_alerts", "event_types.csv")
    for code in ("EQ", "TC", "FL", "VO", "DR", "WF", "TS"):
        row = types.get(code)
        assert row is not None, code
        EventPrecision(row["precision"])
        assert row["reason"]
    levels = load_mapping("allweather.connectors.gdacs_alerts", "severity.csv")
    assert {k: r["grade"] for k, r in levels.rows.items()} == {
        "red": "I",
        "orange": "II",
        "green": "IV",
    }


# ---------------------------------------------------------------------- malformed input

ITEM = """<item>
  <title>Orange earthquake alert in Nepal</title>
  <link>http://www.gdacs.org/report.aspx?eventtype=EQ&amp;eventid={id}</link>
  <pubDate>Sun, 26 Apr 2015 07:09:10 GMT</pubDate>
  <gdacs:fromdate>{fromdate}</gdacs:fromdate>
  <gdacs:todate>Sun, 26 Apr 2015 07:09:10 GMT</gdacs:todate>
  <guid isPermaLink="false">{type}{id}</guid>
  <geo:Point><geo:lat>{lat}</geo:lat><geo:long>85.9971</geo:long></geo:Point>
  <gdacs:bbox>{bbox}</gdacs:bbox>
  <gdacs:eventtype>{type}</gdacs:eventtype>
  <gdacs:alertlevel>{level}</gdacs:alertlevel>
  <gdacs:eventid>{id}</gdacs:eventid>
  <gdacs:episodeid>1077832</gdacs:episodeid>
  <gdacs:severity unit="M" value="{magnitude}">Magnitude 6.7M, Depth:15km</gdacs:severity>
  <gdacs:country>Nepal</gdacs:country>
</item>
"""
GOOD = {
    "id": "1053015",
    "type": "EQ",
    "level": "Red",
    "lat": "27.782",
    "fromdate": "Sun, 26 Apr 2015 07:09:10 GMT",
    "magnitude": "6.7",
    "bbox": "81.9971 89.9971 23.782 31.782",
}
HEAD = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
    b'xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#" xmlns:gdacs="http://www.gdacs.org">'
    b"<channel><title>GDACS</title>\n"
)
TAIL = b"</channel></rss>\n"


def _item(**changes: str) -> bytes:
    return ITEM.format(**{**GOOD, **changes}).encode("utf-8")


def _feed(*items: bytes) -> bytes:
    return HEAD + b"".join(items) + TAIL


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (_item(id="3", lat="95.0"), "geo:lat", "outside [-90, 90]"),
        (_item(id=""), "gdacs:eventid", "gdacs:eventid is missing"),
        (_item(id="twelve"), "gdacs:eventid", "not a number"),
        (_item(id="3", magnitude="big"), "gdacs:severity@value", "not a number"),
        (_item(id="3", level="Purple"), "gdacs:alertlevel", "unknown GDACS alert level"),
        (_item(id="3", type="XX"), "gdacs:eventtype", "unknown GDACS event type 'XX'"),
        (_item(id="3", fromdate="last Sunday"), "gdacs:fromdate", "not a date"),
        (_item(id="3", bbox="81.9 89.9 north 31.7"), "gdacs:bbox", "not a number"),
        (_item(id="3").replace(b"in Nepal", b"in N\xe9pal \xff"), "title", "invalid UTF-8"),
    ],
)
def test_a_malformed_item_is_rejected_and_the_others_land(bad, field, reason):
    items = parse_bytes(
        "gdacs_alerts", "rss.xml", _feed(_item(id="1"), bad, _item(id="2", type="TC"))
    )
    assert [e.source_id for e in _events(items)] == ["EQ-1", "TC-2"]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert rejected.ref.startswith("item 2")
    assert rejected.field == field
    assert reason in rejected.reason
    # The record as read, for quarantine, with GDACS's own prefixes.
    assert rejected.raw.startswith("<item ")
    assert "<gdacs:country>Nepal</gdacs:country>" in rejected.raw


def test_truncated_xml_keeps_the_items_before_the_break():
    whole = _feed(_item(id="1"), _item(id="2"), _item(id="3"))
    cut = whole[: whole.index(b"<gdacs:eventid>3")]
    items = parse_bytes("gdacs_alerts", "rss.xml", cut)
    assert [type(i).__name__ for i in items] == ["RiskEvent", "RiskEvent", "Rejection"]
    assert [e.source_id for e in _events(items)] == ["EQ-1", "EQ-2"]
    broken = items[-1]
    assert broken.ref == "item 3"
    assert "the XML breaks here" in broken.reason
    assert "<gdacs:alertlevel>Red</gdacs:alertlevel>" in broken.raw  # the partial item


def test_truncated_real_archive_lands_every_complete_item(sqlite_platform, tmp_path):
    content = shared_file(ARCHIVE).read_bytes()
    cut = content[: len(content) // 2]
    complete = cut.count(b"</item>")
    path = tmp_path / "partial.xml"
    path.write_bytes(cut)
    report = sqlite_platform.ingestor().ingest_file(get_connector("gdacs_alerts"), path)
    assert (report.counts.new, report.counts.quarantined) == (complete, 1)
    assert report.status == "partial"
    assert report.exit_code == 1
    (held,) = sqlite_platform.sources.quarantined("gdacs_alerts")
    assert held.ref == f"item {complete + 1}"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<html><body>502 Bad Gateway</body></html>",
        b'<?xml version="1.0"?><rss><channel><item><title>cut',  # broken before any item
        b'{"features": []}',
    ],
)
def test_not_a_feed_is_a_format_error(content):
    with pytest.raises(SourceFormatError):
        parse_bytes("gdacs_alerts", "rss.xml", content)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><item><title>&lol9;</title></item></channel></rss>
"""


def test_billion_laughs_is_refused_without_expanding():
    started = time.perf_counter()
    with pytest.raises(SourceFormatError, match="unsafe XML refused"):
        parse_bytes("gdacs_alerts", "rss.xml", BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0


def test_external_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss><channel><item><title>&x;</title></item></channel></rss>"
    ).encode()
    with pytest.raises(SourceFormatError, match="unsafe XML refused") as caught:
        parse_bytes("gdacs_alerts", "rss.xml", doc)
    assert "TOP-SECRET" not in str(caught.value)


class _CountingReader(io.RawIOBase):
    """A stream that records how much has been read from it."""

    def __init__(self, content: bytes) -> None:
        self._data = io.BytesIO(content)
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.consumed += len(chunk)
        return len(chunk)


def test_items_are_streamed_not_read_whole():
    big = _feed(*[_item(id=str(n)) for n in range(1, 5001)])  # about 4 MB
    source = _CountingReader(big)
    records = iter_records(
        io.BufferedReader(source), "big.xml", lambda t: t == "item", lambda t: None
    )
    first = next(records)
    assert first.findtext("{http://www.gdacs.org}eventid") == "1"
    assert source.consumed < len(big) / 20  # the first item came long before the end
    assert sum(1 for _ in records) == 4999


def test_a_new_episode_updates_the_same_event(sqlite_platform, tmp_path):
    ingestor, gdacs = sqlite_platform.ingestor(), get_connector("gdacs_alerts")
    first, later = tmp_path / "a.xml", tmp_path / "b.xml"
    first.write_bytes(_feed(_item(id="7", type="TC", level="Orange")))
    later.write_bytes(
        _feed(
            _item(id="7", type="TC", level="Red")
            .replace(b"1077832", b"1077999")
            .replace(b"<pubDate>Sun, 26 Apr", b"<pubDate>Mon, 27 Apr")
        )
    )
    assert ingestor.ingest_file(gdacs, first).counts.new == 1
    report = ingestor.ingest_file(gdacs, later)
    assert (report.counts.new, report.counts.updated) == (0, 1)
    (row,) = list(sqlite_platform.sources.iter_events())
    assert (row["source_id"], row["severity"], row["severity_rule"]) == ("TC-7", "I", "gdacs.red")
    assert '"episode_id": 1077999' in row["details"]


def test_fetch_is_a_conditional_get_of_the_feed():
    content = shared_file(CURRENT).read_bytes()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-None-Match") == '"feed-v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=content, headers={"ETag": '"feed-v1"'})

    async def no_op(_: float) -> None:
        return None

    connector = get_connector("gdacs_alerts")

    async def fetch(etag: str | None) -> list[Payload]:
        http = HttpClient(
            client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=no_op
        )
        ctx = FetchContext(http, FixedClock(datetime(2019, 12, 30, 2, tzinfo=UTC)), {}, etag=etag)
        payloads = [p async for p in connector.fetch(ctx)]
        await http.aclose()
        return payloads

    (payload,) = asyncio.run(fetch(None))
    assert str(seen[0].url) == "https://www.gdacs.org/xml/rss.xml"
    assert payload.etag == '"feed-v1"'
    assert len(_events(connector.parse(payload))) == 4
    assert asyncio.run(fetch(payload.etag)) == []  # 304 Not Modified: nothing to parse
    assert seen[1].headers["If-None-Match"] == '"feed-v1"'


def test_a_declared_single_byte_encoding_is_honoured():
    latin = _feed(_item(id="1").replace(b"in Nepal", "in Népal".encode("latin-1")))
    latin = latin.replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"')
    (event,) = parse_bytes("gdacs_alerts", "rss.xml", latin)
    assert event.title == "Orange earthquake alert in Népal"


def test_an_unknown_declared_encoding_is_a_format_error():
    feed = _feed(_item(id="1")).replace(b'encoding="utf-8"', b'encoding="x-klingon"')
    with pytest.raises(SourceFormatError, match="unknown XML encoding"):
        parse_bytes("gdacs_alerts", "rss.xml", feed)
