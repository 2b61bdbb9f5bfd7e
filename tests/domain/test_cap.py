"""CAP 1.2 rendering of warnings: element order as the OASIS schema sets it, the mappings
(level → severity and urgency, category, certainty, msgType and references), the Atom feed,
and a round trip through the platform's own CAP connector."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from allweather.connectors.base import Payload
from allweather.connectors.registry import get_connector
from allweather.domain.events import Retraction, RiskEvent
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import MofcomCategory, SeverityGrade
from allweather.domain.warnings.cap import (
    ATOM_NS,
    CAP_NS,
    ISO3166_VALUE_NAME,
    MAX_POLYGON_VERTICES,
    CapCircle,
    CapLink,
    CapReference,
    CapWarning,
    alert_xml,
    cap_time,
    earlier_publications,
    feed_xml,
    identifier,
    sender_of,
    site_areas,
)
from allweather.domain.warnings.model import Status

C = f"{{{CAP_NS}}}"
A = f"{{{ATOM_NS}}}"
T0 = datetime(2024, 8, 19, 1, 0, 0, tzinfo=UTC)
PUBLIC = "https://allweather.example.org/"
SENDER = "allweather@allweather.example.org"
GEOD = Geod(ellps="WGS84")

# OASIS CAP 1.2 §3.2 (and the XSD's xs:sequence): the order of each block's children.
ALERT_ORDER = [
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
]
ALERT_REQUIRED = {"identifier", "sender", "sent", "status", "msgType", "scope"}
INFO_ORDER = [
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
]
INFO_REQUIRED = {"category", "event", "urgency", "severity", "certainty"}
AREA_ORDER = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]
RESOURCE_ORDER = ["resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"]
# CAP dateTime: offset required, no "Z", no fractional seconds.
CAP_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def warning(**overrides: object) -> CapWarning:
    values: dict[str, object] = {
        "id": 42,
        "revision": 1,
        "status": Status.ACTIVE,
        "category": MofcomCategory.NATURAL.value,
        "level": WarningLevel.ORANGE,
        "title": Label(
            "【二级（橙色）预警】自然风险 · 肯尼亚 · 蒙内铁路", "[Orange] Natural · SGR"
        ),
        "key_points": Label("1. 内罗毕附近发生 5.8 级地震", "1. M5.8 earthquake near Nairobi"),
        "measures": Label("1. 清点人员", "1. Account for all staff"),
        "affected_area": Label("肯尼亚 · 项目 蒙内铁路（KE-SGR）", "Kenya · project SGR (KE-SGR)"),
        "issuer": Label("集团境外安全管理部", "Group overseas security department"),
        "started_at": T0 - timedelta(hours=2),
        "issued_at": T0,
        "updated_at": T0,
        "country_code": "KE",
        "project_code": "KE-SGR",
        "triggers": ("event",),
        "circles": (CapCircle(-1.2921, 36.8219, 30.0),),
    }
    values.update(overrides)
    return CapWarning(**values)


def parse(document: bytes) -> Element:
    root: Element = DET.fromstring(document)
    return root


def names(element: Element) -> list[str]:
    return [child.tag.rsplit("}", 1)[-1] for child in element]


def check_order(element: Element, order: list[str]) -> None:
    found = names(element)
    assert set(found) <= set(order), set(found) - set(order)
    positions = [order.index(n) for n in found]
    assert positions == sorted(positions), found


def one(element: Element, path: str) -> str:
    found = element.find(path)
    assert found is not None, path
    return found.text or ""


def parameters(info: Element) -> dict[str, str]:
    return {one(p, f"{C}valueName"): one(p, f"{C}value") for p in info.findall(f"{C}parameter")}


def read_back(document: bytes) -> list[object]:
    connector = get_connector("cap_alerts")
    return list(connector.parse(Payload.from_bytes("warning.xml", document)))


# ---------------------------------------------------------------------- structure


def test_the_alert_follows_the_cap_1_2_schema_order():
    w = warning(evidence=(CapLink("https://earthquake.usgs.gov/x", "M5.8 Nairobi"),))
    root = parse(alert_xml(w, sender=SENDER, public_url=PUBLIC))
    assert root.tag == f"{C}alert"
    check_order(root, ALERT_ORDER)
    assert set(names(root)) >= ALERT_REQUIRED
    infos = root.findall(f"{C}info")
    assert len(infos) == 2
    for info in infos:
        check_order(info, INFO_ORDER)
        assert set(names(info)) >= INFO_REQUIRED
        for area in info.findall(f"{C}area"):
            check_order(area, AREA_ORDER)
            assert names(area)[0] == "areaDesc"
        for resource in info.findall(f"{C}resource"):
            check_order(resource, RESOURCE_ORDER)
            assert {"resourceDesc", "mimeType"} <= set(names(resource))


def test_the_alert_header():
    root = parse(alert_xml(warning(), sender=SENDER, public_url=PUBLIC))
    assert one(root, f"{C}identifier") == "allweather-warning-42-r1"
    assert one(root, f"{C}sender") == SENDER
    assert one(root, f"{C}sent") == "2024-08-19T09:00:00+08:00"  # Beijing time, with offset
    assert one(root, f"{C}status") == "Actual"
    assert one(root, f"{C}msgType") == "Alert"
    assert one(root, f"{C}scope") == "Restricted"
    assert one(root, f"{C}restriction").startswith("仅限")
    assert one(root, f"{C}incidents") == "allweather-warning-42"
    assert root.find(f"{C}references") is None  # a first publication references nothing
    # No character CAP forbids in identifiers and senders.
    for name in ("identifier", "sender"):
        assert not re.search(r"[\s,<&]", one(root, f"{C}{name}"))


def test_times_have_an_offset_and_no_fractional_seconds():
    w = warning(updated_at=T0 + timedelta(microseconds=654321), lifted_at=None)
    root = parse(alert_xml(w))
    times = [one(root, f"{C}sent")]
    for info in root.findall(f"{C}info"):
        times += [one(info, f"{C}effective"), one(info, f"{C}onset")]
    assert all(CAP_DATETIME.match(t) for t in times), times
    assert cap_time(datetime(2024, 1, 1, 23, 30, 15, 999, tzinfo=UTC)) == (
        "2024-01-02T07:30:15+08:00"
    )


def test_two_info_blocks_chinese_first_with_the_art_64_fields():
    w = warning(evidence=(CapLink("https://earthquake.usgs.gov/x", "M5.8 Nairobi"),))
    zh, en = parse(alert_xml(w, public_url=PUBLIC)).findall(f"{C}info")
    assert (one(zh, f"{C}language"), one(en, f"{C}language")) == ("zh-CN", "en")
    for info, lang in ((zh, "zh"), (en, "en")):
        assert one(info, f"{C}headline") == w.title.text(lang)
        assert one(info, f"{C}description") == w.key_points.text(lang)
        assert one(info, f"{C}instruction") == w.measures.text(lang)
        assert one(info, f"{C}senderName") == w.issuer.text(lang)
        assert one(info, f"{C}area/{C}areaDesc") == w.affected_area.text(lang)
        assert one(info, f"{C}effective") == one(info, f"{C}onset") == cap_time(w.started_at)
        assert one(info, f"{C}web") == "https://allweather.example.org/api/v1/warnings/42"
        assert parameters(info) == {
            "预警级别": "二级（橙色）",
            "预警类别": "natural",
            "项目编号": "KE-SGR",
        }
        assert one(info, f"{C}resource/{C}uri") == "https://earthquake.usgs.gov/x"
        assert one(info, f"{C}resource/{C}mimeType") == "text/html"
    assert one(zh, f"{C}event") == "自然风险预警"
    assert one(en, f"{C}event") == "Natural risk warning"


def test_no_web_link_without_a_public_url():
    root = parse(alert_xml(warning()))
    assert root.find(f"{C}info/{C}web") is None
    assert one(root, f"{C}sender") == "allweather"


def test_the_area_has_circles_polygons_and_the_country_geocode():
    ring = ((-4.06, 39.64), (-4.06, 39.67), (-4.03, 39.67), (-4.06, 39.64))
    w = warning(polygons=(ring,))
    area = parse(alert_xml(w)).find(f"{C}info/{C}area")
    assert area is not None
    assert one(area, f"{C}circle") == "-1.2921,36.8219 30"  # lat,lon radius_km
    assert one(area, f"{C}polygon") == "-4.06,39.64 -4.06,39.67 -4.03,39.67 -4.06,39.64"
    assert one(area, f"{C}geocode/{C}valueName") == ISO3166_VALUE_NAME
    assert one(area, f"{C}geocode/{C}value") == "KE"
    bare = parse(alert_xml(warning(country_code=None, circles=()))).find(f"{C}info/{C}area")
    assert bare is not None
    assert names(bare) == ["areaDesc"]


# ---------------------------------------------------------------------- mappings


@pytest.mark.parametrize(
    ("level", "severity", "urgency", "label"),
    [
        (WarningLevel.RED, "Extreme", "Immediate", "一级（红色）"),
        (WarningLevel.ORANGE, "Severe", "Immediate", "二级（橙色）"),
        (WarningLevel.YELLOW, "Moderate", "Expected", "三级（黄色）"),
        (WarningLevel.BLUE, "Minor", "Expected", "四级（蓝色）"),
    ],
)
def test_level_maps_to_severity_urgency_and_the_chinese_level(level, severity, urgency, label):
    for info in parse(alert_xml(warning(level=level))).findall(f"{C}info"):
        assert one(info, f"{C}severity") == severity
        assert one(info, f"{C}urgency") == urgency
        assert parameters(info)["预警级别"] == label


@pytest.mark.parametrize(
    ("category", "cap"),
    [
        ("natural", "Geo"),
        ("political", "Security"),
        ("economic", "Safety"),
        ("policy", "Safety"),
        ("other", "Safety"),
        ("system", "Infra"),
    ],
)
def test_category_mapping(category, cap):
    root = parse(alert_xml(warning(category=category)))
    assert {one(i, f"{C}category") for i in root.findall(f"{C}info")} == {cap}
    assert parameters(root.findall(f"{C}info")[0])["预警类别"] == category


def test_certainty_is_observed_only_when_an_event_raised_it():
    observed = parse(alert_xml(warning(triggers=("score", "event"))))
    likely = parse(alert_xml(warning(triggers=("score", "surge"))))
    assert one(observed, f"{C}info/{C}certainty") == "Observed"
    assert one(likely, f"{C}info/{C}certainty") == "Likely"


def test_a_later_revision_is_an_update_referencing_the_earlier_publications():
    w = warning(
        revision=3,
        updated_at=T0 + timedelta(hours=5),
        earlier=(CapReference(1, T0), CapReference(2, T0 + timedelta(hours=1))),
    )
    root = parse(alert_xml(w, sender=SENDER))
    assert one(root, f"{C}identifier") == "allweather-warning-42-r3"
    assert one(root, f"{C}msgType") == "Update"
    assert one(root, f"{C}references").split() == [
        f"{SENDER},allweather-warning-42-r1,2024-08-19T09:00:00+08:00",
        f"{SENDER},allweather-warning-42-r2,2024-08-19T10:00:00+08:00",
    ]


def test_a_lifted_warning_is_a_cancel_with_all_clear():
    lifted_at = T0 + timedelta(days=1)
    w = warning(
        revision=2,
        status=Status.LIFTED,
        updated_at=lifted_at,
        lifted_at=lifted_at,
        earlier=(CapReference(1, T0),),
    )
    root = parse(alert_xml(w, sender=SENDER))
    assert one(root, f"{C}msgType") == "Cancel"
    assert one(root, f"{C}identifier") == "allweather-warning-42-r2"
    assert one(root, f"{C}references") == f"{SENDER},allweather-warning-42-r1,{cap_time(T0)}"
    assert one(root, f"{C}note") == "预警已解除 warning lifted"
    zh = root.findall(f"{C}info")[0]
    assert one(zh, f"{C}responseType") == "AllClear"
    assert one(zh, f"{C}urgency") == "Past"
    assert one(zh, f"{C}expires") == cap_time(lifted_at)
    assert one(zh, f"{C}headline").startswith("【解除】")


def test_a_lift_without_known_history_still_references_the_revision_before():
    w = warning(revision=4, status=Status.LIFTED, lifted_at=T0 + timedelta(days=1))
    root = parse(alert_xml(w, sender=SENDER))
    assert one(root, f"{C}references") == f"{SENDER},allweather-warning-42-r3,{cap_time(T0)}"


def test_an_unpublished_draft_is_a_cap_draft():
    root = parse(alert_xml(warning(status=Status.DRAFT, issued_at=None)))
    assert one(root, f"{C}status") == "Draft"
    assert one(root, f"{C}msgType") == "Alert"


def test_earlier_publications_come_from_publishing_steps_only():
    steps = [
        (1, "authored", T0),
        (1, "approved", T0 + timedelta(minutes=5)),
        (2, "issued", T0 + timedelta(minutes=10)),
        (2, "acknowledged", T0 + timedelta(minutes=20)),
        (3, "upgraded", T0 + timedelta(hours=1)),
        (3, "escalated", T0 + timedelta(hours=2)),
        (4, "lifted", T0 + timedelta(hours=3)),
    ]
    assert earlier_publications(4, steps) == (
        CapReference(2, T0 + timedelta(minutes=10)),
        CapReference(3, T0 + timedelta(hours=1)),
    )
    assert earlier_publications(2, steps) == ()  # a hand-written draft: its r2 is the Alert


def test_sender_and_identifier():
    assert sender_of("https://aw.example.org:8443/base/") == "allweather@aw.example.org"
    assert sender_of(None) == sender_of("") == "allweather"
    assert identifier(7, 12) == "allweather-warning-7-r12"


# ---------------------------------------------------------------------- sites as areas


def test_site_areas_points_lines_and_footprints():
    line = LineString([(39.63, -4.04), (38.57, -3.39), (36.82, -1.29)])
    port = Polygon([(39.64, -4.06), (39.67, -4.06), (39.67, -4.03), (39.64, -4.06)])
    circles, polygons = site_areas([Point(36.8219, -1.2921), line, port], reach_km=25.0)
    point_circle, line_circle = circles
    assert point_circle == CapCircle(-1.2921, 36.8219, 25.0)
    # The line's circle holds every vertex, with the reach beyond it.
    for lon, lat in line.coords:
        _, _, metres = GEOD.inv(line_circle.lon, line_circle.lat, lon, lat)
        assert metres / 1000 + 25.0 <= line_circle.radius_km
    assert polygons == (((-4.06, 39.64), (-4.06, 39.67), (-4.03, 39.67), (-4.06, 39.64)),)
    assert site_areas([Point(1, 2)]) == ((CapCircle(2.0, 1.0, 0.0),), ())


def test_a_large_footprint_becomes_its_bounding_circle():
    big = Point(36.8, -1.3).buffer(0.5, quad_segs=MAX_POLYGON_VERTICES)
    circles, polygons = site_areas([big], reach_km=10.0)
    assert polygons == ()
    (c,) = circles
    assert c.radius_km > 10.0 + 50.0  # half a degree is about 55 km at the equator
    assert c.lat == pytest.approx(-1.3, abs=1e-6)


# ---------------------------------------------------------------------- the Atom feed


def test_the_feed_is_atom_with_each_entry_embedding_its_alert():
    first = warning()
    second = warning(
        id=43, revision=2, earlier=(CapReference(1, T0),), updated_at=T0 + timedelta(hours=3)
    )
    root = parse(feed_xml([second, first], T0 + timedelta(days=1), public_url=PUBLIC))
    assert root.tag == f"{A}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{required}") is not None
    assert one(root, f"{A}updated") == cap_time(second.updated_at)  # the newest message
    entries = root.findall(f"{A}entry")
    assert len(entries) == 2
    alerts = []
    for entry in entries:
        assert entry.find(f"{A}id") is not None
        assert entry.find(f"{A}updated") is not None
        content = entry.find(f"{A}content")
        assert content is not None
        assert content.get("type") == "application/cap+xml"
        (alert,) = list(content)
        assert alert.tag == f"{C}alert"
        alerts.append(one(alert, f"{C}identifier"))
    assert alerts == ["allweather-warning-43-r2", "allweather-warning-42-r1"]
    link = entries[1].find(f"{A}link")
    assert link is not None
    assert link.get("href") == "https://allweather.example.org/api/v1/warnings/42/cap"
    # Entry ids are stable per revision and distinct.
    again = parse(feed_xml([second, first], T0, public_url=PUBLIC))
    ids = [one(e, f"{A}id") for e in entries]
    assert ids == [one(e, f"{A}id") for e in again.findall(f"{A}entry")]
    assert len(set(ids)) == 2


def test_an_empty_feed_is_dated_now():
    root = parse(feed_xml([], T0))
    assert one(root, f"{A}updated") == cap_time(T0)
    assert root.findall(f"{A}entry") == []


# ---------------------------------------------------------------------- round trip


@pytest.mark.parametrize(
    ("level", "grade"),
    [
        (WarningLevel.RED, SeverityGrade.I),
        (WarningLevel.ORANGE, SeverityGrade.II),
        (WarningLevel.YELLOW, SeverityGrade.III),
        (WarningLevel.BLUE, SeverityGrade.IV),
    ],
)
def test_the_cap_connector_reads_the_alert_back(level, grade):
    w = warning(level=level)
    (event,) = read_back(alert_xml(w, sender=SENDER, public_url=PUBLIC))
    assert isinstance(event, RiskEvent)
    assert event.severity is grade
    assert event.title == w.title.zh  # the first (zh-CN) info block is the primary one
    assert event.place == w.affected_area.zh
    assert event.language == "zh-CN"
    assert event.country_code == "KE"
    assert event.category is MofcomCategory.NATURAL
    assert event.source_id == f"{SENDER},allweather-warning-42-r1"
    assert event.occurred_at == w.started_at
    assert event.reported_at == w.updated_at
    assert event.url == "https://allweather.example.org/api/v1/warnings/42"
    assert event.details["other_headlines"] == {"en": w.title.en}
    # The 30 km circle around the Nairobi terminus comes back as its area.
    assert event.geometry is not None
    assert event.geometry.contains(Point(36.8219, -1.2921))
    assert event.geometry.contains(Point(36.8219, -1.2921 + 0.25))  # ~28 km north
    assert not event.geometry.contains(Point(36.8219, -1.2921 + 0.3))  # ~33 km north


def test_updates_keep_one_chain_and_the_lift_retracts_it():
    update = warning(revision=2, updated_at=T0 + timedelta(hours=1), earlier=(CapReference(1, T0),))
    (event,) = read_back(alert_xml(update, sender=SENDER))
    assert isinstance(event, RiskEvent)
    assert event.source_id == f"{SENDER},allweather-warning-42-r1"  # the chain's first message
    assert event.details["msg_type"] == "Update"
    lifted = replace(
        update,
        revision=3,
        status=Status.LIFTED,
        updated_at=T0 + timedelta(hours=2),
        lifted_at=T0 + timedelta(hours=2),
        earlier=(CapReference(1, T0), CapReference(2, T0 + timedelta(hours=1))),
    )
    retractions = read_back(alert_xml(lifted, sender=SENDER))
    assert retractions
    assert all(isinstance(r, Retraction) for r in retractions)
    assert {r.source_id for r in retractions} == {
        f"{SENDER},allweather-warning-42-r1",
        f"{SENDER},allweather-warning-42-r2",
    }


@pytest.mark.parametrize(
    ("category", "mofcom"),
    [("political", MofcomCategory.POLITICAL), ("natural", MofcomCategory.NATURAL)],
)
def test_the_connector_keeps_the_mofcom_category(category, mofcom):
    (event,) = read_back(alert_xml(warning(category=category)))
    assert isinstance(event, RiskEvent)
    assert event.category is mofcom


def test_the_connector_reads_every_entry_of_the_feed():
    first = warning()
    second = warning(id=43, level=WarningLevel.RED, country_code="PK", circles=())
    items = read_back(feed_xml([first, second], T0))
    events = [i for i in items if isinstance(i, RiskEvent)]
    assert [e.details["identifier"] for e in events] == [
        "allweather-warning-42-r1",
        "allweather-warning-43-r1",
    ]
    assert [e.severity for e in events] == [SeverityGrade.II, SeverityGrade.I]
    assert events[1].country_code == "PK"
