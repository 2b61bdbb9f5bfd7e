"""UCDP GED: the real Syria GED 19.1 CSV from ../shared/data, API pages, fetch and its cursor.

Spot-checked records (values read from the CSV by hand): 214797 (first line), 215936,
217846 (a headline spanning lines), 219264, 233200 (largest death toll) and 256413 (last line).
"""

import asyncio
import csv
import io
import json
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from allweather.connectors.base import FetchContext
from allweather.connectors.errors import SourceAuthError, SourceFormatError
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import get_connector
from allweather.connectors.ucdp_ged import connector as ucdp_connector
from allweather.connectors.ucdp_ged.connector import next_version, release_of
from allweather.domain.clock import FixedClock
from allweather.domain.events import EventPrecision, Rejection, RiskEvent
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.pipeline.ingest import Ingestor
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

GED = "ucdp_ged/ucdp_ged_v19_1_syria_2016_2019.csv"
FIXTURE = Path(__file__).parent / "fixtures" / "ged_syria_v19_1_sample.csv"
API = "https://ucdpapi.pcr.uu.se/api/gedevents"


def _events(items):
    return [i for i in items if isinstance(i, RiskEvent)]


@pytest.fixture(scope="module")
def ged() -> dict[str, RiskEvent]:
    items = parse_path("ucdp_ged", shared_file(GED))
    assert kinds(items) == {"RiskEvent": 16566}  # README: 16,566 events, none rejected
    return {e.source_id: e for e in _events(items)}


def test_counts_types_and_deaths_equal_the_source(ged):
    assert len(ged) == 16566  # ids are unique
    # README: type_of_violence 1 = 11,507, 2 = 4,577, 3 = 482.
    assert Counter(e.fine_type for e in ged.values()) == {
        FineType.BATTLE: 11507,
        FineType.ARMED_CLASH: 4577,
        FineType.VIOLENCE_AGAINST_CIVILIANS: 482,
    }
    assert sum(e.fatalities for e in ged.values()) == 112337  # sum of `best`
    assert {e.country_code for e in ged.values()} == {"SY"}
    days = [e.occurred_at for e in ged.values()]
    assert (min(days), max(days)) == (
        datetime(2016, 1, 1, tzinfo=UTC),
        datetime(2019, 11, 30, tzinfo=UTC),
    )


def test_first_record(ged):
    # 214797,…,1.0 (state-based),…,where_prec 1.0,Teir Maaleh village,Homs Governorate,
    # Ar Rastan district,34.802462,36.707602,…,2016-01-01,2016-01-01,2.0,2.0,0.0,0.0,4.0,4.0,4.0
    e = ged["214797"]
    assert e.occurred_at == datetime(2016, 1, 1, tzinfo=UTC)
    assert e.ended_at is None
    assert (e.geometry.x, e.geometry.y) == (36.707602, 34.802462)
    assert e.fine_type is FineType.BATTLE
    assert e.fatalities == 4
    assert (e.severity, e.severity_rule) == (SeverityGrade.III, "ucdp.deaths_3")
    assert e.precision is EventPrecision.EXACT
    assert e.place == "Teir Maaleh village, Ar Rastan district, Homs Governorate"
    assert e.title == "Government of Syria - Syrian insurgents — Teir Maaleh village"
    assert (
        e.details["headline"] == "14 shells hit Dahya al-Assad an clashes continue around Ter Ma’la"
    )
    assert (e.details["deaths_a"], e.details["deaths_b"], e.details["low"]) == (2, 2, 4)
    assert "candidate" not in e.details  # GED 19.1 is an annual release


def test_spot_checked_records(ged):
    one_sided = ged["215936"]  # IS - Civilians, Al Bab town, 2016-01-02, best 2
    assert one_sided.fine_type is FineType.VIOLENCE_AGAINST_CIVILIANS
    assert (one_sided.fatalities, one_sided.severity) == (2, SeverityGrade.IV)
    assert (one_sided.geometry.x, one_sided.geometry.y) == (37.51788, 36.369938)

    multiline = ged["217846"]  # a quoted field spans lines; Tall Rifaat town, where_prec 2
    assert multiline.fine_type is FineType.ARMED_CLASH
    assert multiline.occurred_at == datetime(2016, 2, 15, tzinfo=UTC)
    assert (multiline.geometry.x, multiline.geometry.y) == (37.097222, 36.473333)
    assert multiline.precision is EventPrecision.NEAR

    months = ged["219264"]  # IS - SDF, 2016-01-01 to 2016-04-01, best 16, where_prec 3
    assert months.ended_at == datetime(2016, 4, 1, tzinfo=UTC)
    assert (months.severity, months.severity_rule) == (SeverityGrade.II, "ucdp.deaths_10")
    assert months.precision is EventPrecision.ADMIN2

    country = ged["233200"]  # the year 2016 as one country-level event, best 8,179
    assert country.fatalities == 8179
    assert (country.severity, country.severity_rule) == (SeverityGrade.I, "ucdp.deaths_30")
    assert country.precision is EventPrecision.COUNTRY  # where_prec 6
    assert country.ended_at == datetime(2016, 12, 31, tzinfo=UTC)

    last = ged["256413"]  # last line: Hayt town, 2018-02-07..09, best 37
    assert (last.geometry.x, last.geometry.y) == (35.9107, 32.7512)
    assert (last.fatalities, last.severity) == (37, SeverityGrade.I)


def test_grades_follow_the_death_thresholds(ged):
    def expected(deaths: int) -> SeverityGrade:
        if deaths >= 30:
            return SeverityGrade.I
        if deaths >= 10:
            return SeverityGrade.II
        return SeverityGrade.III if deaths >= 3 else SeverityGrade.IV

    assert all(e.severity is expected(e.fatalities) for e in ged.values())
    assert Counter(e.severity for e in ged.values()) == {
        SeverityGrade.I: 468,
        SeverityGrade.II: 1536,
        SeverityGrade.III: 5793,
        SeverityGrade.IV: 8769,
    }


def test_where_prec_maps_to_precision(ged):
    # where_prec in the file: 1 = 9,010, 2 = 5,786, 3 = 334, 4 = 620, 5 = 562, 6 = 254.
    assert Counter(e.precision for e in ged.values()) == {
        EventPrecision.EXACT: 9010,
        EventPrecision.NEAR: 5786,
        EventPrecision.ADMIN2: 334,
        EventPrecision.ADMIN1: 620,
        EventPrecision.COUNTRY: 562 + 254,
    }


HEADER, *_ = FIXTURE.read_bytes().split(b"\n", 1)
GOOD_ROW = next(csv.DictReader(io.StringIO(FIXTURE.read_text(encoding="utf-8"))))


def _line(**changes: str) -> bytes:
    row = {**GOOD_ROW, **changes}
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row.values())
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (_line(id="900001", latitude="95.0"), "latitude", "outside [-90, 90]"),
        (_line(id="900002", best="many"), "best", "not a number"),
        (_line(id=""), "id", "id is missing"),
        (_line(id="900003", best="-1"), "best", "negative"),
        (_line(id="900004", type_of_violence="4"), "type_of_violence", "unknown"),
        (_line(id="900005", where_prec="9"), "where_prec", "unknown"),
        (_line(id="900006", date_start="2016-13-01"), "date_start", "not a date"),
        (_line(id="900007", date_end="2015-12-31"), "date_end", "before date_start"),
        (b"900009,2016.0,1.0,1.0\n", None, "4 fields, expected 41"),
        (_line(id="900010")[:60] + b"\n", None, "fields, expected 41"),
    ],
)
def test_malformed_lines_are_quarantined_and_the_rest_lands(bad, field, reason):
    last = _line(id="900099")
    items = parse_bytes("ucdp_ged", "ged.csv", HEADER + b"\n" + _line() + bad + last)
    assert [e.source_id for e in _events(items)] == ["214797", "900099"]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert len(rejected) == 1
    assert rejected[0].ref == "line 3"
    assert rejected[0].field == field
    assert reason in rejected[0].reason


def test_invalid_utf8_line_is_one_rejection():
    bad = _line(id="900008").replace(b"Teir Maaleh", b"Teir Ma\xffleh")
    items = parse_bytes("ucdp_ged", "ged.csv", HEADER + b"\n" + _line() + bad + _line(id="7"))
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert [(r.ref, r.field) for r in rejected] == [("line 3", None)]
    assert "invalid utf-8" in rejected[0].reason
    assert [e.source_id for e in _events(items)] == ["214797", "7"]


def test_a_quote_cut_off_at_the_end_is_rejected():
    cut = _line(id="900011").split(b'"', 2)
    truncated = cut[0] + b'"' + cut[1][:20]  # ends inside the quoted source_article
    items = parse_bytes("ucdp_ged", "ged.csv", HEADER + b"\n" + _line() + truncated)
    assert [e.source_id for e in _events(items)] == ["214797"]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert [(r.ref, r.field) for r in rejected] == [("line 3", None)]
    assert "unexpected end of data" in rejected[0].reason
    assert rejected[0].raw.startswith("900011,")


def test_not_a_ged_file_is_a_format_error():
    with pytest.raises(SourceFormatError):
        parse_bytes("ucdp_ged", "x.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(SourceFormatError):
        parse_bytes("ucdp_ged", "x.json", b'{"Result": 5}')
    with pytest.raises(SourceFormatError):
        parse_bytes("ucdp_ged", "x.json", b'{"TotalCount": 1')


def _typed(row: dict[str, str]) -> dict[str, object]:
    """A CSV row as the API returns it: numbers as JSON numbers, empty values as null."""

    def value(raw: str) -> object:
        if raw == "":
            return None
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number

    return {k: value(v) for k, v in row.items()}


def _fixture_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(FIXTURE.read_text(encoding="utf-8"))))


def _page(rows, next_url="", total=None) -> bytes:
    return json.dumps(
        {
            "TotalCount": len(rows) if total is None else total,
            "TotalPages": 1,
            "PreviousPageUrl": "",
            "NextPageUrl": next_url,
            "Result": [_typed(r) for r in rows],
        }
    ).encode()


def test_api_page_gives_the_same_events_as_the_csv():
    from_csv = _events(parse_path("ucdp_ged", FIXTURE))
    assert len(from_csv) == 10
    from_api = _events(parse_bytes("ucdp_ged", "gedevents_19.1_page0.json", _page(_fixture_rows())))
    assert from_api == from_csv


def test_api_page_rejects_one_bad_event_by_item_and_id():
    rows = _fixture_rows()[:3]
    rows[1] = {**rows[1], "latitude": "95"}
    items = parse_bytes("ucdp_ged", "page.json", _page(rows))
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert [(r.ref, r.field) for r in rejected] == [("item 2 (id 214804)", "latitude")]
    assert [e.source_id for e in _events(items)] == ["214797", "214808"]


def test_candidate_releases_are_marked_for_later_revision():
    content = FIXTURE.read_bytes()
    candidate = _events(parse_bytes("ucdp_ged", "GEDEvent_v25_0_3.csv", content))
    annual = _events(parse_bytes("ucdp_ged", "GEDEvent_v25_1.csv", content))
    assert {e.details["candidate"] for e in candidate} == {"25.0.3"}
    assert all("candidate" not in e.details for e in annual)
    names = ("ged251.csv", "ucdp_ged_v19_1_syria_2016_2019.csv", "gedevents_25.0.3_page2.json")
    assert [release_of(n) for n in names] == [None, "19.1", "25.0.3"]
    assert [next_version(v) for v in ("25.1", "25.0.3", "25.0.12")] == ["26.1", "25.0.4", "26.0.1"]


def test_zip_members_are_streamed_in_place(tmp_path):
    archive = tmp_path / "ged-v25_0_2.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(FIXTURE, "GEDEvent_v25_0_2.csv")
        zf.writestr("codebook.txt", "not data")
    connector = get_connector("ucdp_ged")
    payloads = list(connector.file_payloads(archive))
    assert [(p.name, p.content) for p in payloads] == [("GEDEvent_v25_0_2.csv", None)]
    events = _events(connector.parse(payloads[0]))
    assert [e.source_id for e in events] == [
        e.source_id for e in _events(parse_path("ucdp_ged", FIXTURE))
    ]
    assert events[0].details["candidate"] == "25.0.2"


def test_ingesting_twice_adds_nothing(sqlite_platform):
    ingestor = sqlite_platform.ingestor()
    connector = get_connector("ucdp_ged")
    first = ingestor.ingest_file(connector, FIXTURE)
    second = ingestor.ingest_file(connector, FIXTURE)
    assert (first.read, first.counts.new) == (10, 10)
    assert (second.counts.new, second.counts.updated, second.counts.unchanged) == (0, 0, 10)


# ---------------------------------------------------------------------------- fetch


async def _no_sleep(_: float) -> None:
    return None


def _http(handler) -> HttpClient:
    return HttpClient(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=_no_sleep
    )


class _Api:
    """The UCDP API offline: 25.1 in two pages, candidate 25.0.1 in one; others unpublished."""

    def __init__(self) -> None:
        rows = _fixture_rows()
        self.pages = {
            f"{API}/25.1?pagesize=1000&page=0": _page(
                rows[:6], f"{API}/25.1?pagesize=1000&page=1", 9
            ),
            f"{API}/25.1?pagesize=1000&page=1": _page(rows[6:9], "", 9),
            f"{API}/25.0.1?pagesize=1000&page=0": _page(rows[9:], ""),
        }
        self.asked: list[str] = []
        self.tokens: set[str | None] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(str(request.url))
        self.tokens.add(request.headers.get("x-ucdp-access-token"))
        content = self.pages.get(str(request.url))
        return httpx.Response(200, content=content) if content else httpx.Response(404)


def test_live_runs_follow_both_chains_and_resume_from_the_cursor(sqlite_platform, tmp_path):
    api = _Api()
    clock = FixedClock(datetime(2025, 3, 1, tzinfo=UTC))
    ingestor = Ingestor(sqlite_platform.sources, clock, tmp_path / "raw")
    connector = get_connector("ucdp_ged")

    first = asyncio.run(ingestor.ingest_live(connector, _http(api), {"token": "t0ken"}))
    assert (first.status, first.payloads, first.counts.new) == ("ok", 3, 10)
    assert api.tokens == {"t0ken"}
    assert api.asked == [
        f"{API}/25.1?pagesize=1000&page=0",
        f"{API}/25.1?pagesize=1000&page=1",
        f"{API}/26.1?pagesize=1000&page=0",  # not published yet: the chain waits
        f"{API}/25.0.1?pagesize=1000&page=0",
        f"{API}/25.0.2?pagesize=1000&page=0",
    ]
    cursor = sqlite_platform.sources.state("ucdp_ged").cursor
    assert cursor == {
        "annual": {"version": "25.1", "page": 1, "next": ""},
        "candidate": {"version": "25.0.1", "page": 0, "next": ""},
    }
    stored = {row["source_id"]: row for row in sqlite_platform.sources.iter_events(number=3)}
    assert json.loads(stored["256413"]["details"])["candidate"] == "25.0.1"
    assert "candidate" not in json.loads(stored["214797"]["details"])

    api.asked.clear()
    second = asyncio.run(ingestor.ingest_live(connector, _http(api), {"token": "t0ken"}))
    assert (second.status, second.payloads) == ("unchanged", 0)
    assert api.asked == [f"{API}/26.1?pagesize=1000&page=0", f"{API}/25.0.2?pagesize=1000&page=0"]


def test_an_interrupted_version_resumes_at_its_next_page():
    api = _Api()
    cursor = {"annual": {"version": "25.1", "page": 0, "next": f"{API}/25.1?pagesize=1000&page=1"}}

    async def run():
        ctx = FetchContext(
            _http(api), FixedClock(datetime(2025, 3, 1, tzinfo=UTC)), cursor, secrets={"token": "x"}
        )
        return [p async for p in get_connector("ucdp_ged").fetch(ctx)]

    payloads = asyncio.run(run())
    assert api.asked[0] == f"{API}/25.1?pagesize=1000&page=1"
    assert [(p.meta["version"], p.meta["page"]) for p in payloads] == [("25.1", 1), ("25.0.1", 0)]


def _fetch(handler, secrets):
    async def run():
        ctx = FetchContext(
            _http(handler), FixedClock(datetime(2025, 3, 1, tzinfo=UTC)), {}, secrets=secrets
        )
        return [p async for p in get_connector("ucdp_ged").fetch(ctx)]

    return asyncio.run(run())


def test_no_token_or_a_refused_token_is_an_auth_error():
    asked: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(401)

    with pytest.raises(SourceAuthError, match="ALLWEATHER_UCDP_TOKEN"):
        _fetch(refuse, {})
    assert asked == []
    with pytest.raises(SourceAuthError, match="401"):
        _fetch(refuse, {"token": "expired"})


def test_the_token_never_follows_a_link_off_the_api():
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, content=_page(_fixture_rows()[:1], "https://evil.example/p1", 2))

    with pytest.raises(SourceFormatError, match="leaves the UCDP API"):
        _fetch(handler, {"token": "secret"})
    assert all(url.startswith(API) for url in asked)


def test_a_run_stops_at_its_page_budget_and_the_cursor_says_where(monkeypatch):
    monkeypatch.setattr(ucdp_connector, "MAX_PAGES_PER_RUN", 1)
    api = _Api()

    async def run():
        ctx = FetchContext(
            _http(api), FixedClock(datetime(2025, 3, 1, tzinfo=UTC)), {}, secrets={"token": "x"}
        )
        connector = get_connector("ucdp_ged")
        return [(p, connector.advance_cursor({}, p)) async for p in connector.fetch(ctx)]

    [(payload, cursor)] = asyncio.run(run())
    assert api.asked == [f"{API}/25.1?pagesize=1000&page=0"]
    assert cursor == {
        "annual": {"version": "25.1", "page": 0, "next": f"{API}/25.1?pagesize=1000&page=1"}
    }
