"""ACLED: the real acledR sample exports from ../shared/data, deletions, revisions and fetch.

Spot-checked records (values read from acled_old_deletion_dummy.csv by hand): UGA7752,
BOL3216, YEM71281, UKR56925, UKR57975 (485 fatalities, the most in the file), DRC24468
(an agreement: skipped) and UKR55581. ACLED's licence allows at most 200 records in tests:
fixtures/acled_2022_sample.csv holds 7; the full files are read from ../shared/data.
"""

import asyncio
import csv
import io
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allweather.connectors.base import FetchContext
from allweather.connectors.errors import SourceAuthError, SourceFormatError
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import get_connector
from allweather.domain.clock import FixedClock
from allweather.domain.events import EventPrecision, Rejection, Retraction, RiskEvent, Skipped
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.pipeline.ingest import Ingestor
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

ALL = "acled_sample_2022_acledR/acled_old_deletion_dummy.csv"
ARGENTINA = "acled_sample_2022_acledR/acled_old_dummy.csv"
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "acled_2022_sample.csv"
DELETED_JSON = FIXTURES / "acled_deleted_page.json"  # constructed, see fixtures/README.md
DELETED_CSV = FIXTURES / "acled_deleted.csv"  # constructed, see fixtures/README.md
NUMBER = 4  # acled_events.yml


def _events(items):
    return [i for i in items if isinstance(i, RiskEvent)]


@pytest.fixture(scope="module")
def world() -> list:
    return parse_path("acled_events", shared_file(ALL))


def test_world_sample_counts_equal_the_source(world):
    # 9,000 rows; the strategic developments without a risk signal are read and skipped:
    # Arrests 124, Other 124, Change to group/activity 92, Agreement 8.
    assert kinds(world) == {"RiskEvent": 8652, "Skipped": 348}
    assert Counter(i.reason for i in world if isinstance(i, Skipped)) == {
        "acled arrests": 124,
        "acled other": 124,
        "acled change to group/activity": 92,
        "acled agreement": 8,
    }
    events = _events(world)
    assert len({e.source_id for e in events}) == 8652
    assert Counter(e.fine_type for e in events) == {
        FineType.PROTEST: 4582 + 162,  # peaceful, with intervention
        FineType.EXPLOSION_REMOTE_VIOLENCE: 1137 + 53,  # + disrupted weapons use
        FineType.ARMED_CLASH: 932,
        FineType.VIOLENCE_AGAINST_CIVILIANS: 832 + 20 + 12,  # attack, sexual, excessive force
        FineType.RIOT: 307 + 222,
        FineType.CRIME_WAVE: 226,  # looting/property destruction
        FineType.KIDNAPPING: 127,  # abduction/forced disappearance
        FineType.BATTLE: 13 + 11 + 16,  # territory changes hands (by force or not)
    }
    # fatalities in the file: 0 → 7,675 rows, 1–2 → 967, 3–9 → 257, 10–29 → 88, ≥30 → 13
    assert Counter(e.severity for e in events) == {
        SeverityGrade.IV: 8294,
        SeverityGrade.III: 257,
        SeverityGrade.II: 88,
        SeverityGrade.I: 13,
    }
    assert len({e.country_code for e in events}) == 167
    assert None not in {e.country_code for e in events}


def test_geo_precision_maps_to_precision(world):
    events = _events(world)
    by_code = Counter((e.details["geo_precision"], e.precision) for e in events)
    assert by_code == {
        (1, EventPrecision.EXACT): 6720,
        (2, EventPrecision.NEAR): 1798,
        (3, EventPrecision.ADMIN1): 134,
    }


def test_spot_checked_records(world):
    events = {e.source_id: e for e in _events(world)}
    # UGA7752,2022-02-23,…,Riots,Mob violence,Rioters (Uganda),…,Civilians (Uganda),…,800.0,
    # Eastern Africa,Uganda,Northern,Oyam,Oyam,Minakulu,2.44,32.3894,2.0,…,1.0,,1646077433.0
    mob = events["UGA7752"]
    assert mob.occurred_at == datetime(2022, 2, 23, tzinfo=UTC)
    assert (mob.geometry.x, mob.geometry.y) == (32.3894, 2.44)
    assert (mob.fine_type, mob.fatalities) == (FineType.RIOT, 1)
    assert (mob.severity, mob.severity_rule) == (SeverityGrade.IV, "acled.fatalities_0")
    assert mob.precision is EventPrecision.NEAR
    assert mob.country_code == "UG"
    assert mob.reported_at == datetime(2022, 2, 28, 19, 43, 53, tzinfo=UTC)  # 1646077433
    assert mob.place == "Minakulu, Oyam, Northern"
    assert mob.title == "Mob violence: Rioters (Uganda) vs Civilians (Uganda)"
    assert mob.details["notes"].startswith("On 23 February 2022, a group of locals intercepted")

    protest = events["BOL3216"]  # Peaceful protest, Villa Yapacani, -17.4,-63.8333, geo 1
    assert (protest.fine_type, protest.severity) == (FineType.PROTEST, SeverityGrade.IV)
    assert (protest.geometry.x, protest.geometry.y) == (-63.8333, -17.4)
    assert protest.precision is EventPrecision.EXACT

    clash = events["YEM71281"]  # Armed clash, Aden - Enma, 2022-02-06, 1 fatality
    assert (clash.fine_type, clash.country_code) == (FineType.ARMED_CLASH, "YE")

    abduction = events["UKR56925"]  # Abduction/forced disappearance, Zmiivka, 2022-04-30
    assert abduction.fine_type is FineType.KIDNAPPING
    assert abduction.occurred_at == datetime(2022, 4, 30, tzinfo=UTC)

    battle = events["UKR57975"]  # Armed clash, Bilohorivka, 2022-05-11, 485 fatalities, geo 3
    assert battle.fatalities == 485
    assert (battle.severity, battle.severity_rule) == (SeverityGrade.I, "acled.fatalities_30")
    assert battle.precision is EventPrecision.ADMIN1
    assert (battle.geometry.x, battle.geometry.y) == (38.2467, 48.9259)

    assert "DRC24468" not in events  # Strategic developments / Agreement: skipped


def test_protests_without_fatalities_are_grade_iv(world):
    protests = [e for e in _events(world) if e.details["event_type"] == "Protests"]
    assert len(protests) == 4756
    assert {e.severity for e in protests if e.fatalities == 0} == {SeverityGrade.IV}
    # The 7 lethal protest events are all state violence against protesters.
    lethal = [e for e in protests if e.fatalities > 0]
    assert len(lethal) == 7
    assert {e.details["sub_event_type"] for e in lethal} == {"Excessive force against protesters"}
    assert {e.fine_type for e in lethal} == {FineType.VIOLENCE_AGAINST_CIVILIANS}


def test_argentina_sample():
    items = parse_path("acled_events", shared_file(ARGENTINA))
    assert kinds(items) == {"RiskEvent": 326}
    events = _events(items)
    assert Counter(e.fine_type for e in events) == {
        FineType.PROTEST: 282,
        FineType.RIOT: 42,
        FineType.CRIME_WAVE: 2,
    }
    assert {e.country_code for e in events} == {"AR"}
    assert {e.severity for e in events} == {SeverityGrade.IV}  # at most 1 fatality
    first = events[0]  # ARG10607, Comodoro Rivadavia, -45.8644,-67.4997, 1657041386.0
    assert (first.source_id, first.occurred_at) == ("ARG10607", datetime(2022, 6, 30, tzinfo=UTC))
    assert (first.geometry.x, first.geometry.y) == (-67.4997, -45.8644)
    assert first.reported_at == datetime.fromtimestamp(1657041386, UTC)


# ---------------------------------------------------------------------------- malformed

HEADER = SAMPLE.read_bytes().split(b"\n", 1)[0] + b"\n"
GOOD_ROW = next(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))


def _line(**changes: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow({**GOOD_ROW, **changes}.values())
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (_line(event_id_cnty="BAD1", latitude="95"), "latitude", "outside [-90, 90]"),
        (_line(event_id_cnty="BAD2", fatalities="several"), "fatalities", "not a number"),
        (_line(event_id_cnty="BAD3", fatalities="-2"), "fatalities", "not a count"),
        (_line(event_id_cnty=""), "event_id_cnty", "event_id_cnty is missing"),
        (_line(event_id_cnty="BAD4", sub_event_type="Picnic"), "sub_event_type", "unknown"),
        (_line(event_id_cnty="BAD5", event_type="Protests"), "event_type", "does not match"),
        (_line(event_id_cnty="BAD6", event_date="2022-02-30"), "event_date", "not a date"),
        (_line(event_id_cnty="BAD7", timestamp="16460"), "timestamp", "not a Unix time"),
        (_line(event_id_cnty="BAD8", geo_precision="4"), "geo_precision", "unknown"),
        (b"BAD9,2022-02-23,2022.0\n", None, "3 fields, expected 31"),
        (_line(event_id_cnty="BAD10")[:120] + b"\n", None, "fields, expected 31"),
    ],
)
def test_malformed_lines_are_quarantined_and_the_rest_lands(bad, field, reason):
    items = parse_bytes(
        "acled_events", "export.csv", HEADER + _line() + bad + _line(event_id_cnty="UGA1")
    )
    assert [e.source_id for e in _events(items)] == ["UGA7752", "UGA1"]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert len(rejected) == 1
    assert (rejected[0].ref, rejected[0].field) == ("line 3", field)
    assert reason in rejected[0].reason


def test_invalid_utf8_and_a_cut_off_quote_are_rejected_by_line():
    bad = _line(event_id_cnty="BAD1").replace(b"Minakulu", b"Minak\xfflu")
    cut = _line(event_id_cnty="BAD2")
    cut = cut[: cut.index(b'"On 23') + 20]  # the file ends inside the quoted notes
    items = parse_bytes("acled_events", "export.csv", HEADER + _line() + bad + cut)
    assert [e.source_id for e in _events(items)] == ["UGA7752"]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert [r.ref for r in rejected] == ["line 3", "line 4"]
    assert "invalid utf-8" in rejected[0].reason
    assert "unexpected end of data" in rejected[1].reason
    assert rejected[1].raw.startswith("BAD2,")


def test_not_an_acled_file_is_a_format_error():
    with pytest.raises(SourceFormatError):
        parse_bytes("acled_events", "x.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(SourceFormatError):
        parse_bytes("acled_events", "x.json", b'{"status": 403, "success": false, "error": {}}')


# ---------------------------------------------------------------------------- deletions


def test_deletions_payloads_become_retractions():
    expected = [
        Retraction(
            "acled_events", "ARG10607", datetime(2022, 8, 1, 0, tzinfo=UTC), "deleted by ACLED"
        ),
        Retraction(
            "acled_events", "ARG10626", datetime(2022, 8, 1, 1, tzinfo=UTC), "deleted by ACLED"
        ),
        Retraction(
            "acled_events", "ARG10299", datetime(2022, 8, 1, 2, tzinfo=UTC), "deleted by ACLED"
        ),
    ]
    assert parse_path("acled_events", DELETED_JSON) == expected
    assert parse_path("acled_events", DELETED_CSV) == expected
    bad = parse_bytes(
        "acled_events", "d.csv", b"event_id_cnty,deleted_timestamp\n,1659312000\nX1,soon\n"
    )
    assert [(r.ref, r.field) for r in bad] == [
        ("line 2", "event_id_cnty"),
        ("line 3", "deleted_timestamp"),
    ]


def _stored(platform) -> dict[str, dict]:
    return {row["source_id"]: row for row in platform.sources.iter_events(number=NUMBER)}


def test_a_deletions_file_marks_stored_events_deleted(sqlite_platform):
    # The deletions fixture is constructed (API shape, real ids of acled_old_dummy.csv).
    ingestor = sqlite_platform.ingestor()
    connector = get_connector("acled_events")
    landed = ingestor.ingest_file(connector, shared_file(ARGENTINA))
    assert (landed.counts.new, landed.counts.deleted) == (326, 0)
    deletions = ingestor.ingest_file(connector, DELETED_JSON)
    assert (deletions.read, deletions.counts.deleted, deletions.counts.new) == (3, 3, 0)
    stored = _stored(sqlite_platform)
    deleted = {sid: row["deleted_at"] for sid, row in stored.items() if row["deleted_at"]}
    assert set(deleted) == {"ARG10607", "ARG10626", "ARG10299"}
    assert sqlite_platform.sources.count_events(NUMBER, include_deleted=False) == 323
    again = ingestor.ingest_file(connector, DELETED_CSV)  # already deleted: nothing changes
    assert again.counts.deleted == 0


def test_a_revised_event_updates_the_stored_one(sqlite_platform, tmp_path):
    ingestor = sqlite_platform.ingestor()
    connector = get_connector("acled_events")
    ingestor.ingest_file(connector, shared_file(ARGENTINA))
    # ARG10607 as ACLED would re-publish it: 2 fatalities instead of 0, a newer timestamp.
    text = shared_file(ARGENTINA).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    original = next(r for r in rows if r["event_id_cnty"] == "ARG10607")
    assert (original["fatalities"], original["timestamp"]) == ("0.0", "1657041386.0")
    revised = {**original, "fatalities": "2.0", "timestamp": "1658000000.0"}
    path = tmp_path / "acled_revision.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(original))
        writer.writeheader()
        writer.writerow(revised)
    report = ingestor.ingest_file(connector, path)
    assert (report.counts.new, report.counts.updated, report.counts.unchanged) == (0, 1, 0)
    row = _stored(sqlite_platform)["ARG10607"]
    assert row["fatalities"] == 2
    assert int(row["reported_at"].timestamp()) == 1658000000
    assert sqlite_platform.sources.count_events(NUMBER) == 326


# ---------------------------------------------------------------------------- fetch


async def _no_sleep(_: float) -> None:
    return None


def _http(handler) -> HttpClient:
    return HttpClient(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=_no_sleep
    )


def _sample_rows() -> list[dict[str, str]]:
    """The fixture events as the API sends them (strings, as acled/read returns)."""
    return list(csv.DictReader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))


def _answer(data) -> bytes:
    return json.dumps({"status": 200, "success": True, "count": len(data), "data": data}).encode()


class _Acled:
    """ACLED offline: events in pages of 3, then one deletion of an event just fetched."""

    def __init__(self, rows, deleted) -> None:
        self.rows, self.deleted = rows, deleted
        self.asked: list[tuple[str, dict[str, str], str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        self.asked.append((request.url.path, query, request.headers.get("Authorization")))
        page, limit = int(query["page"]), int(query["limit"])
        if request.url.path.endswith("/deleted/read"):
            since, data = int(query["deleted_timestamp"]), self.deleted
            data = [d for d in data if int(d["deleted_timestamp"]) >= since]
        else:
            since = int(query["timestamp"])
            data = [r for r in self.rows if float(r["timestamp"]) >= since]
        return httpx.Response(200, content=_answer(data[(page - 1) * limit : page * limit]))


def test_live_runs_page_through_changes_and_deletions_and_keep_a_cursor(
    sqlite_platform, tmp_path, monkeypatch
):
    connector = get_connector("acled_events")
    monkeypatch.setattr(connector, "page_limit", 3)
    rows = _sample_rows()  # 7 events, 1 of them an agreement (skipped)
    newest = max(int(float(r["timestamp"])) for r in rows)  # 1653401104 (UKR57975)
    acled = _Acled(rows, [{"event_id_cnty": "UGA7752", "deleted_timestamp": "1660000000"}])
    clock = FixedClock(datetime(2022, 8, 1, tzinfo=UTC))
    ingestor = Ingestor(sqlite_platform.sources, clock, tmp_path / "raw")
    secrets = {"token": "oauth-token"}

    report = asyncio.run(ingestor.ingest_live(connector, _http(acled), secrets))
    assert (report.status, report.counts.new) == ("ok", 0)  # nothing changed in the last 30 days
    first_window = str(int(datetime(2022, 7, 2, tzinfo=UTC).timestamp()))
    asked = [
        (path, q["page"], q.get("timestamp") or q.get("deleted_timestamp"))
        for path, q, _ in acled.asked
    ]
    assert asked == [
        ("/api/acled/read", "1", first_window),
        ("/api/deleted/read", "1", first_window),
    ]
    assert sqlite_platform.sources.state("acled_events").cursor == {
        "timestamp": int(first_window),
        "deleted_timestamp": 1660000000,
    }

    # Move the cursor back to 2022-01-01 and sweep the seven events.
    since = datetime(2022, 1, 1, tzinfo=UTC)
    state = sqlite_platform.sources.state("acled_events")
    state.cursor = {
        "timestamp": int(since.timestamp()),
        "deleted_timestamp": int(since.timestamp()),
    }
    sqlite_platform.sources.save_state(state)
    acled.asked.clear()
    report = asyncio.run(ingestor.ingest_live(connector, _http(acled), secrets))
    assert (report.status, report.payloads) == ("ok", 4)  # events pages 1-3, deletions page 1
    assert (report.read, report.skipped, report.counts.new, report.counts.deleted) == (8, 1, 6, 1)
    assert {auth for _, _, auth in acled.asked} == {"Bearer oauth-token"}
    assert [(path, q["page"]) for path, q, _ in acled.asked] == [
        ("/api/acled/read", "1"),
        ("/api/acled/read", "2"),
        ("/api/acled/read", "3"),  # 1 event: fewer than the limit, the last page
        ("/api/deleted/read", "1"),
    ]
    assert all(
        q["_format"] == "json" and q["timestamp_where"] == ">=" for p, q, _ in acled.asked[:3]
    )
    assert sqlite_platform.sources.state("acled_events").cursor == {
        "timestamp": newest,
        "deleted_timestamp": 1660000000,
    }
    assert _stored(sqlite_platform)["UGA7752"]["deleted_at"] is not None

    acled.asked.clear()
    asyncio.run(ingestor.ingest_live(connector, _http(acled), secrets))
    assert [q.get("timestamp") or q.get("deleted_timestamp") for _, q, _ in acled.asked] == [
        str(newest),  # ≥ the newest timestamp seen: UKR57975 comes again, unchanged
        "1660000000",
    ]


def _fetch(handler, secrets, cursor=None):
    async def run():
        ctx = FetchContext(
            _http(handler),
            FixedClock(datetime(2022, 8, 1, tzinfo=UTC)),
            cursor or {},
            secrets=secrets,
        )
        return [p async for p in get_connector("acled_events").fetch(ctx)]

    return asyncio.run(run())


def test_legacy_key_route_keeps_the_key_out_of_stored_urls():
    acled = _Acled(_sample_rows(), [])
    payloads = _fetch(
        acled,
        {"email": "analyst@example.org", "key": "k3y"},
        {"timestamp": 0, "deleted_timestamp": 0},
    )
    path, query, auth = acled.asked[0]
    assert (urlsplit(str(payloads[0].url)).netloc, path) == ("api.acleddata.com", "/acled/read")
    assert (query["email"], query["key"], auth) == ("analyst@example.org", "k3y", None)
    assert all("k3y" not in p.url and "analyst" not in p.url for p in payloads)


def test_missing_or_refused_credentials_are_auth_errors():
    asked: list[str] = []

    def unauthorized(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(401)

    def refused_in_body(request: httpx.Request) -> httpx.Response:
        body = {
            "status": 403,
            "success": False,
            "error": [{"status": 403, "message": "Access denied"}],
        }
        return httpx.Response(200, content=json.dumps(body).encode())

    with pytest.raises(SourceAuthError, match="ALLWEATHER_ACLED_TOKEN"):
        _fetch(unauthorized, {"email": "only-the-email@example.org"})
    assert asked == []
    with pytest.raises(SourceAuthError, match="401"):
        _fetch(unauthorized, {"token": "expired"})
    with pytest.raises(SourceAuthError, match="Access denied"):
        _fetch(refused_in_body, {"token": "revoked"})


def test_an_interrupted_sweep_keeps_the_cursor_and_repeats(sqlite_platform, tmp_path, monkeypatch):
    connector = get_connector("acled_events")
    monkeypatch.setattr(connector, "page_limit", 3)
    acled = _Acled(_sample_rows(), [])

    def flaky(request: httpx.Request) -> httpx.Response:
        if "page=2" in str(request.url):
            return httpx.Response(503)
        return acled(request)

    sqlite_platform.sources.save_state(
        replace(sqlite_platform.sources.state("acled_events"), cursor={"timestamp": 1640995200})
    )
    ingestor = Ingestor(sqlite_platform.sources, FixedClock(datetime(2022, 8, 1, tzinfo=UTC)))
    report = asyncio.run(ingestor.ingest_live(connector, _http(flaky), {"token": "t"}))
    assert report.status == "failed"
    assert report.counts.new == 3  # page 1 landed
    # Pages may shift while ACLED publishes, so the sweep starts over rather than resuming.
    assert sqlite_platform.sources.state("acled_events").cursor == {"timestamp": 1640995200}
