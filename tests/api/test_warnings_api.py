"""/api/v1/warnings: the list (filters, pagination, newest first), one warning with its history,
evidence, acknowledgements and deliveries, 404s, and the CAP 1.2 documents and Atom feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import defusedxml.ElementTree as DET
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import insert, select

from allweather.api.app import create_app
from allweather.connectors.base import Payload
from allweather.connectors.registry import get_connector
from allweather.domain.events import Retraction, RiskEvent
from allweather.domain.levels import WarningLevel
from allweather.domain.portfolio import Organization
from allweather.domain.warnings.model import Action
from allweather.pipeline.ingest import Ingestor
from allweather.platform import Platform
from allweather.settings import Settings
from allweather.store import warnings as ws
from allweather.store.tables import events, warning_evidence
from tests.conftest import NOW
from tests.factories import make_project, make_site, make_update

PUBLIC = "https://aw.example.org"
SENDER = "allweather@aw.example.org"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
ORG = Organization("CRBC", "China Road and Bridge Corporation", "中国路桥")
HEADER = "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
QUAKES = (
    '2024-08-19T09:51:13.000Z,-1.3921,36.8219,10,5.0,mb,,,,,us,us7000aaaa,2024-08-19T10:00:00Z,"a",earthquake\n'
    '2024-08-19T10:51:13.000Z,-1.3421,36.8219,10,5.8,mb,,,,,us,us7000bbbb,2024-08-19T11:00:00Z,"b",earthquake\n'
)


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _warning(conn: Any, **values: Any) -> int:
    row: dict[str, Any] = {
        "open_key": None,
        "scope": "project",
        "project_id": None,
        "source": None,
        "organization_id": None,
        "country_code": None,
        "category": "natural",
        "level": 3,
        "status": "active",
        "triggers": ["event"],
        "revision": 1,
        "started_at": NOW - timedelta(hours=6),
        "issued_at": NOW - timedelta(hours=5),
        "updated_at": NOW - timedelta(hours=5),
        "lifted_at": None,
        "title": _label("标题", "title"),
        "affected_area": _label("范围", "area"),
        "key_points": _label("1. 要点", "1. point"),
        "measures": _label("1. 措施", "1. measure"),
        "issuer": _label("集团境外安全管理部", "Group security department"),
        "decision_required": False,
        "rules_version": "test",
        "escalation_step": 0,
    }
    row.update(values)
    return ws.insert_warning(conn, row)


def _history(conn: Any, wid: int, *steps: tuple[int, Action, int, int | None, Any]) -> None:
    for revision, action, level, previous, at in steps:
        ws.add_history(
            conn,
            wid,
            revision,
            action,
            WarningLevel(level),
            None if previous is None else WarningLevel(previous),
            at,
            "system",
            {"zh": action.label.zh, "en": action.label.en},
        )


@pytest.fixture
def platform(engine, catalog, clock) -> Platform:
    """A platform with a public address, so CAP documents carry links and a sender host."""
    settings = Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)), public_url=PUBLIC
    )
    return Platform.assemble(settings, clock, engine, catalog)


@pytest.fixture
def ids(platform, tmp_path) -> dict[str, int]:
    """Four warnings: an upgraded natural one (with evidence, an acknowledgement and a delivery),
    a lifted political one elsewhere, a system one, and a hand-written draft."""
    gwadar = make_project(
        "PK-GWADAR",
        name="Gwadar Port",
        name_zh="瓜达尔港",
        country_code="PK",
        sites=(make_site("port", geometry=Point(62.33, 25.12), country_code="PK"),),
    )
    platform.portfolio.apply_portfolio(
        [make_update(make_project(organization_code="CRBC")), make_update(gwadar)],
        [ORG],
        NOW,
    )
    path = tmp_path / "quakes.csv"
    path.write_text(HEADER + QUAKES)
    # No after_chunk: the warning rules must not add warnings of their own.
    Ingestor(platform.sources, platform.clock, None, platform.catalog).ingest_file(
        get_connector("usgs_earthquakes"), path
    )
    out: dict[str, int] = {}
    with platform.engine.begin() as conn:
        sgr = ws.project_id(conn, "KE-SGR")
        pk = ws.project_id(conn, "PK-GWADAR")
        crbc = ws.organization_id(conn, "CRBC")
        out["natural"] = wid = _warning(
            conn,
            open_key=f"p:{sgr}:natural",
            project_id=sgr,
            organization_id=crbc,
            country_code="KE",
            level=2,
            revision=2,
            started_at=NOW - timedelta(hours=3),
            issued_at=NOW - timedelta(hours=2),
            updated_at=NOW - timedelta(hours=1),
            title=_label(
                "【二级（橙色）预警】自然风险 · 肯尼亚", "[Level 2 (orange) warning] Kenya"
            ),
            affected_area=_label("肯尼亚 · 项目 蒙内铁路", "Kenya · project SGR"),
            acknowledged_at=NOW - timedelta(minutes=50),
            decision_required=True,
        )
        _history(
            conn,
            wid,
            (1, Action.ISSUED, 3, None, NOW - timedelta(hours=2)),
            (2, Action.UPGRADED, 2, 3, NOW - timedelta(hours=1)),
            (2, Action.ACKNOWLEDGED, 2, None, NOW - timedelta(minutes=50)),
        )
        quakes = {r.source_id: r.id for r in conn.execute(select(events.c.source_id, events.c.id))}
        for source_id, distance in (("us7000aaaa", 11.1), ("us7000bbbb", 5.6)):
            conn.execute(
                insert(warning_evidence),
                {
                    "warning_id": wid,
                    "event_id": quakes[source_id],
                    "trigger": "event",
                    "site_id": None,
                    "distance_km": distance,
                    "reach_km": 50.0,
                    "proximity": "radius",
                    "added_at": NOW - timedelta(hours=1),
                    "revision": 2,
                },
            )
        ws.add_ack(
            conn,
            {
                "warning_id": wid,
                "revision": 2,
                "disposition": "relevant",
                "comment": "已通知项目部",
                "by": "li.ming",
                "at": NOW - timedelta(minutes=50),
                "triggers": ["event"],
            },
        )
        channel = ws.add_channel(
            conn,
            {
                "kind": "webhook",
                "target": "https://hooks.example.org/x",
                "min_level": 4,
                "ladder_step": 0,
                "system": False,
                "enabled": True,
                "created_at": NOW,
            },
        )
        ws.enqueue(
            conn,
            [
                {
                    "key": f"w{wid}.r2.upgraded.s0.c{channel}",
                    "channel_id": channel,
                    "warning_id": wid,
                    "mode": "live",
                    "level": 2,
                    "payload": {},
                    "created_at": NOW - timedelta(hours=1),
                    "due_at": NOW - timedelta(hours=1),
                    "attempts": 2,
                    "status": "failed",
                    "last_error": "HTTP 500",
                }
            ],
        )
        out["lifted"] = wid = _warning(
            conn,
            project_id=pk,
            country_code="PK",
            category="political",
            level=4,
            status="lifted",
            revision=2,
            triggers=["surge"],
            issued_at=NOW - timedelta(hours=5),
            updated_at=NOW - timedelta(minutes=30),
            lifted_at=NOW - timedelta(minutes=30),
        )
        _history(
            conn,
            wid,
            (1, Action.ISSUED, 4, None, NOW - timedelta(hours=5)),
            (2, Action.LIFTED, 4, 4, NOW - timedelta(minutes=30)),
        )
        out["system"] = wid = _warning(
            conn,
            open_key="s:usgs_earthquakes",
            scope="source",
            source="usgs_earthquakes",
            category="system",
            level=3,
            triggers=["stale_source"],
            issued_at=NOW - timedelta(minutes=10),
            updated_at=NOW - timedelta(minutes=10),
        )
        _history(conn, wid, (1, Action.ISSUED, 3, None, NOW - timedelta(minutes=10)))
        out["draft"] = _warning(
            conn,
            project_id=sgr,
            organization_id=crbc,
            country_code="KE",
            category="political",
            level=1,
            status="draft",
            triggers=["manual"],
            issued_at=None,
            updated_at=NOW - timedelta(hours=20),
        )
    return out


@pytest.fixture
def client(platform, ids) -> TestClient:
    return TestClient(create_app(platform))


def _ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


# ---------------------------------------------------------------------- the list


def test_active_warnings_newest_first_by_default(client, ids):
    body = client.get("/api/v1/warnings").json()
    assert _ids(body) == [ids["system"], ids["natural"]]
    assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)


def test_status_filter(client, ids):
    every = client.get("/api/v1/warnings", params={"status": "all"}).json()
    assert _ids(every) == [ids["system"], ids["lifted"], ids["natural"], ids["draft"]]
    lifted = client.get("/api/v1/warnings", params={"status": "lifted"}).json()
    assert _ids(lifted) == [ids["lifted"]]
    drafts = client.get("/api/v1/warnings", params={"status": "draft"}).json()
    assert _ids(drafts) == [ids["draft"]]


def test_project_and_organization_filters(client, ids):
    sgr = client.get("/api/v1/warnings", params={"project": "KE-SGR", "status": "all"}).json()
    assert _ids(sgr) == [ids["natural"], ids["draft"]]
    pk = client.get("/api/v1/warnings", params={"project": "PK-GWADAR"}).json()
    assert pk["items"] == []
    assert pk["total"] == 0
    org = client.get("/api/v1/warnings", params={"organization": "CRBC", "status": "all"}).json()
    assert _ids(org) == [ids["natural"], ids["draft"]]


@pytest.mark.parametrize(
    ("min_level", "expected"),
    [
        ("orange", ["natural", "draft"]),
        ("2", ["natural", "draft"]),
        ("红色", ["draft"]),
        ("1", ["draft"]),
        ("yellow", ["system", "natural", "draft"]),
        ("blue", ["system", "lifted", "natural", "draft"]),
    ],
)
def test_min_level_accepts_numbers_and_colours(client, ids, min_level, expected):
    body = client.get("/api/v1/warnings", params={"min_level": min_level, "status": "all"}).json()
    assert _ids(body) == [ids[name] for name in expected]


def test_pagination(client, ids):
    page = client.get(
        "/api/v1/warnings", params={"status": "all", "page_size": 3, "page": 2}
    ).json()
    assert _ids(page) == [ids["draft"]]
    assert (page["total"], page["pages"], page["page"], page["page_size"]) == (4, 2, 2, 3)
    beyond = client.get("/api/v1/warnings", params={"status": "all", "page": 9}).json()
    assert beyond["items"] == []
    assert beyond["total"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"min_level": "purple"}, "min_level"),
        ({"page": 0}, "page"),
    ],
)
def test_bad_filters_are_validation_errors(client, params, field):
    response = client.get("/api/v1/warnings", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["message"]


@pytest.mark.parametrize(
    ("params", "name"), [({"project": "NOPE"}, "NOPE"), ({"organization": "NOORG"}, "NOORG")]
)
def test_an_unknown_project_or_organization_is_a_404(client, params, name):
    response = client.get("/api/v1/warnings", params=params)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert name in error["message"]


def test_an_item_carries_labels_and_the_art_64_fields(client, ids):
    (item,) = [
        i for i in client.get("/api/v1/warnings").json()["items"] if i["id"] == ids["natural"]
    ]
    assert (item["revision"], item["status"]) == (2, "active")
    assert item["status_label"] == {"zh": "生效中", "en": "active"}
    assert (item["level"], item["level_colour"]) == (2, "orange")
    assert item["level_label"] == {"zh": "二级（橙色）", "en": "Level 2 (orange)"}
    assert item["category"] == "natural"
    assert item["category_label"] == {"zh": "自然风险", "en": "Natural risk"}
    assert (item["project"], item["organization"], item["country"]) == ("KE-SGR", "CRBC", "KE")
    assert item["triggers"] == [
        {"code": "event", "label": {"zh": "单一事件", "en": "single event"}}
    ]
    assert item["decision_required"] is True
    assert item["escalation_step"] == 0
    assert item["acknowledged_at"].startswith("2024-08-19T12:10:00")
    assert item["lifted_at"] is None
    art64 = item["art64"]
    assert set(art64) == {
        "category",
        "level",
        "started_at",
        "affected_area",
        "key_points",
        "measures",
        "issuer",
        "issued_at",
    }
    assert art64["category"] == item["category_label"]
    assert art64["level"] == {"zh": "二级（橙色） 严重", "en": "Level 2 (orange) Serious"}
    # 10:00 UTC is 18:00 in Beijing.
    assert art64["started_at"] == {
        "zh": "2024-08-19 18:00（北京时间）",
        "en": "2024-08-19 18:00 (Beijing time)",
    }
    assert art64["affected_area"] == {"zh": "肯尼亚 · 项目 蒙内铁路", "en": "Kenya · project SGR"}
    assert art64["issuer"]["zh"] == "集团境外安全管理部"
    assert art64["issued_at"]["zh"] == "2024-08-19 19:00（北京时间）"


def test_a_system_warning_and_a_draft(client, ids):
    every = {i["id"]: i for i in client.get("/api/v1/warnings?status=all").json()["items"]}
    system = every[ids["system"]]
    assert (system["project"], system["organization"], system["source"]) == (
        None,
        None,
        "usgs_earthquakes",
    )
    assert system["category_label"]["zh"] == "系统（数据源）"
    draft = every[ids["draft"]]
    assert draft["issued_at"] is None
    assert draft["art64"]["issued_at"] == {"zh": "未发布", "en": "not issued"}


# ---------------------------------------------------------------------- one warning


def test_the_detail_has_history_evidence_acknowledgements_and_deliveries(client, ids):
    wid = ids["natural"]
    body = client.get(f"/api/v1/warnings/{wid}").json()
    assert body["id"] == wid
    assert body["level_label"]["zh"] == "二级（橙色）"
    assert (body["project"], body["organization"]) == ("KE-SGR", "CRBC")
    assert [
        (h["revision"], h["action"], h["level"], h["previous_level"]) for h in body["history"]
    ] == [
        (1, "issued", 3, None),
        (2, "upgraded", 2, 3),
        (2, "acknowledged", 2, None),
    ]
    assert body["history"][1]["action_label"] == {"zh": "升级", "en": "upgraded"}
    assert body["history"][0]["actor"] == "system"
    evidence = body["evidence"]
    assert [e["event_id"] for e in evidence] == [  # nearest first
        "usgs_earthquakes:us7000bbbb",
        "usgs_earthquakes:us7000aaaa",
    ]
    assert evidence[0]["distance_km"] == 5.6
    assert evidence[0]["reach_km"] == 50.0
    assert evidence[0]["url"] == "https://earthquake.usgs.gov/earthquakes/eventpage/us7000bbbb"
    assert evidence[0]["trigger_label"] == {"zh": "单一事件", "en": "single event"}
    (ack,) = body["acknowledgements"]
    assert (ack["disposition"], ack["by"], ack["comment"]) == (
        "relevant",
        "li.ming",
        "已通知项目部",
    )
    assert ack["disposition_label"] == {"zh": "相关", "en": "relevant"}
    (delivery,) = body["deliveries"]
    assert delivery["key"] == f"w{wid}.r2.upgraded.s0.c{delivery['channel_id']}"
    assert (delivery["mode"], delivery["status"], delivery["attempts"]) == ("live", "failed", 2)
    assert delivery["last_error"] == "HTTP 500"
    assert delivery["sent_at"] is None


def test_a_warning_without_steps_has_empty_lists(client, ids):
    body = client.get(f"/api/v1/warnings/{ids['draft']}").json()
    assert body["status"] == "draft"
    assert (body["history"], body["evidence"], body["acknowledgements"], body["deliveries"]) == (
        [],
        [],
        [],
        [],
    )


@pytest.mark.parametrize("path", ["/api/v1/warnings/999999", "/api/v1/warnings/999999/cap"])
def test_a_missing_warning_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"error": {"code": "not_found", "message": "no warning 999999"}}


def test_a_non_numeric_id_is_a_validation_error(client):
    response = client.get("/api/v1/warnings/abc")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


# ---------------------------------------------------------------------- CAP


def _one(element: Any, path: str) -> str:
    found = element.find(path)
    assert found is not None, path
    return found.text or ""


def test_one_warning_as_a_cap_update(client, ids):
    wid = ids["natural"]
    response = client.get(f"/api/v1/warnings/{wid}/cap")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cap+xml")
    alert = DET.fromstring(response.content)
    assert alert.tag == f"{CAP}alert"
    assert _one(alert, f"{CAP}identifier") == f"allweather-warning-{wid}-r2"
    assert _one(alert, f"{CAP}sender") == SENDER
    assert _one(alert, f"{CAP}msgType") == "Update"
    # The acknowledgement kept revision 2: only r1 was published before.
    assert _one(alert, f"{CAP}references") == (
        f"{SENDER},allweather-warning-{wid}-r1,2024-08-19T19:00:00+08:00"
    )
    zh, en = alert.findall(f"{CAP}info")
    assert _one(zh, f"{CAP}severity") == "Severe"
    assert _one(zh, f"{CAP}certainty") == "Observed"
    assert _one(en, f"{CAP}headline") == "[Level 2 (orange) warning] Kenya"
    assert _one(zh, f"{CAP}web") == f"{PUBLIC}/api/v1/warnings/{wid}"
    area = zh.find(f"{CAP}area")
    assert area is not None
    circles = [c.text for c in area.findall(f"{CAP}circle")]
    assert "-1.2921,36.8219 50" in circles  # the terminus, with the evidence's 50 km reach
    assert len(circles) == 2  # the terminus and the railway line
    assert len(area.findall(f"{CAP}polygon")) == 1  # the port's footprint
    uris = [u.text for u in zh.findall(f"{CAP}resource/{CAP}uri")]
    assert "https://earthquake.usgs.gov/earthquakes/eventpage/us7000bbbb" in uris
    # The platform's own CAP connector reads it back.
    (event,) = get_connector("cap_alerts").parse(Payload.from_bytes("w.xml", response.content))
    assert isinstance(event, RiskEvent)
    assert event.source_id == f"{SENDER},allweather-warning-{wid}-r1"
    assert event.title == "【二级（橙色）预警】自然风险 · 肯尼亚"
    assert event.geometry is not None
    assert event.geometry.contains(Point(36.8219, -1.2921))


def test_a_lifted_warning_is_a_cap_cancel(client, ids):
    wid = ids["lifted"]
    alert = DET.fromstring(client.get(f"/api/v1/warnings/{wid}/cap").content)
    assert _one(alert, f"{CAP}identifier") == f"allweather-warning-{wid}-r2"
    assert _one(alert, f"{CAP}msgType") == "Cancel"
    items = list(
        get_connector("cap_alerts").parse(
            Payload.from_bytes("w.xml", client.get(f"/api/v1/warnings/{wid}/cap").content)
        )
    )
    assert [type(i) for i in items] == [Retraction]
    assert items[0].source_id == f"{SENDER},allweather-warning-{wid}-r1"


def test_a_draft_is_a_cap_draft(client, ids):
    alert = DET.fromstring(client.get(f"/api/v1/warnings/{ids['draft']}/cap").content)
    assert _one(alert, f"{CAP}status") == "Draft"
    assert _one(alert, f"{CAP}msgType") == "Alert"


def test_the_feed_lists_the_active_warnings(client, ids):
    response = client.get("/api/v1/warnings/cap")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = DET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    identifiers = [_one(e, f"{ATOM}content/{CAP}alert/{CAP}identifier") for e in entries]
    assert identifiers == [
        f"allweather-warning-{ids['system']}-r1",
        f"allweather-warning-{ids['natural']}-r2",
    ]
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links[1] == f"{PUBLIC}/api/v1/warnings/{ids['natural']}/cap"
    parsed = list(get_connector("cap_alerts").parse(Payload.from_bytes("f.xml", response.content)))
    found = [i for i in parsed if isinstance(i, RiskEvent)]
    assert [e.details["identifier"] for e in found] == identifiers
    assert found[0].details["categories"] == ["Infra"]


def test_an_empty_feed(platform):
    client = TestClient(create_app(platform))
    feed = DET.fromstring(client.get("/api/v1/warnings/cap").content)
    assert feed.findall(f"{ATOM}entry") == []
    assert _one(feed, f"{ATOM}updated") == "2024-08-19T21:00:00+08:00"  # the platform clock
