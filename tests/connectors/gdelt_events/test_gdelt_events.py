"""GDELT: the real 2.0 15-minute export and the real 1.0 daily sample from ../shared/data."""

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime

import httpx
import pytest

from allweather.connectors.base import FetchContext
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.gdelt_events.connector import cameo_row
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import get_connector
from allweather.domain.clock import FixedClock
from allweather.domain.events import EventColumns, event_key
from tests.connectors.conftest import parse_bytes, parse_path, shared_file

EXPORT = "gdelt2/20240819130000.export.csv"
V1 = "gdelt/gdelt_v1_events_sample_2016-07-28_710rows.tsv"


def _one(items) -> EventColumns:
    assert len(items) == 1
    return items[0]


def _rows(path) -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def test_v2_export_keeps_exactly_the_risk_codes():
    path = shared_file(EXPORT)
    rows = _rows(path)[1:]  # the recorded file carries a header its repository added
    risk = [r for r in rows if cameo_row(r[26])]
    batch = _one(parse_path("gdelt_events", path))
    assert len(rows) == 1544
    assert len(batch) == len(risk) == 128
    assert batch.skipped == 1544 - 128
    assert batch.rejections == []
    assert batch.source_ids == [r[0] for r in risk]


def test_v2_export_first_event_field_by_field():
    batch = _one(parse_path("gdelt_events", shared_file(EXPORT)))
    # 1193447399: CAMEO 190, Goldstein -10, 1 source, ActionGeo Sudan (type 1, FIPS SU), DATEADDED 20240819130000
    assert batch.source_ids[0] == "1193447399"
    assert batch.ids[0] == event_key(6, 1193447399)
    assert batch.occurred_at[0] == int(datetime(2023, 8, 20, tzinfo=UTC).timestamp())
    assert batch.reported_at[0] == int(datetime(2024, 8, 19, 13, tzinfo=UTC).timestamp())
    assert (batch.fine_type[0], batch.country_code[0], batch.precision[0]) == (
        "armed_clash",
        "SD",
        "country",
    )
    assert (batch.lon[0], batch.lat[0]) == (30.0, 16.0)
    # One article only: however grave the act, GDELT's single story stays at IV.
    assert (batch.severity[0], batch.severity_rule[0]) == ("IV", "gdelt.default")
    assert batch.title[0] == "Use conventional military force — WORKER"
    details = json.loads(batch.details[0])
    assert details == {
        "cameo": "190",
        "quad": 4,
        "goldstein": -10,
        "mentions": 1,
        "sources": 1,
        "articles": 1,
        "tone": -3.87,
        "adm1": "SU",
        "feature": "SU",
    }


def test_fips_country_codes_become_iso():
    path = shared_file(EXPORT)
    batch = _one(parse_path("gdelt_events", path))
    by_id = dict(zip(batch.source_ids, batch.country_code, strict=True))
    fips = {r[0]: r[53] for r in _rows(path)[1:]}
    for source_id, iso in by_id.items():
        expected = {
            "CH": "CN",
            "UK": "GB",
            "GM": "DE",
            "RS": "RU",
            "IS": "IL",
            "UP": "UA",
            "US": "US",
            "IN": "IN",
        }.get(fips[source_id])
        if expected:
            assert iso == expected, source_id


def test_severity_rules_apply_in_order():
    batch = _one(parse_path("gdelt_events", shared_file(EXPORT)))
    rules = dict(zip(batch.source_ids, batch.severity_rule, strict=True))
    details = {sid: json.loads(d) for sid, d in zip(batch.source_ids, batch.details, strict=True)}
    for sid, rule in rules.items():
        d = details[sid]
        confirmed = d["sources"] >= 2 or d["articles"] >= 3
        widely = d["sources"] >= 3 and d["articles"] >= 10
        if d["goldstein"] <= -9 and widely:
            assert rule == "gdelt.lethal_widely", sid
        elif d["goldstein"] <= -9 and confirmed:
            assert rule == "gdelt.lethal", sid
        elif d["goldstein"] <= -5 and widely:
            assert rule == "gdelt.violent_widely", sid
        else:
            assert rule == "gdelt.default", sid
    assert set(rules.values()) >= {"gdelt.lethal", "gdelt.default"}


def test_v1_daily_file_with_57_and_58_column_rows():
    path = shared_file(V1)
    rows = _rows(path)
    assert {len(r) for r in rows} == {57, 58}
    batch = _one(parse_path("gdelt_events", path))
    risk = [r for r in rows if cameo_row(r[26])]
    assert len(batch) == len(risk)
    assert batch.skipped == len(rows) - len(risk)
    assert batch.rejections == []
    first = batch.source_ids.index(risk[0][0])
    assert batch.place[first] == (risk[0][50] or None)
    assert batch.reported_at[first] == int(datetime(2016, 7, 28, tzinfo=UTC).timestamp())


@pytest.fixture
def good_line():
    path = shared_file(EXPORT)
    return next(
        line
        for line in path.read_text(encoding="utf-8").splitlines()[1:]
        if cameo_row(line.split("\t")[26])
    )


def _with(line: str, index: int, value: str) -> str:
    cells = line.split("\t")
    cells[index] = value
    return "\t".join(cells)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ((56, "95.0"), "lat", "latitude outside"),
        ((30, "severe"), "goldstein", "not a number"),
        ((0, ""), "id", "GLOBALEVENTID missing"),
        ((1, "20241345"), "sqldate", "not a YYYYMMDD date"),
        ((57, ""), "lat", "one coordinate without the other"),
    ],
)
def test_bad_values_are_quarantined_and_neighbours_land(good_line, change, field, reason):
    bad = (
        _with(_with(good_line, 0, "900000002"), *change) if change[0] else _with(good_line, *change)
    )
    lines = [_with(good_line, 0, "900000001"), bad, _with(good_line, 0, "900000003")]
    batch = _one(parse_bytes("gdelt_events", "x.export.CSV", ("\n".join(lines) + "\n").encode()))
    assert batch.source_ids == ["900000001", "900000003"]
    assert len(batch.rejections) == 1
    rejection = batch.rejections[0]
    assert (rejection.field, reason in rejection.reason) == (field, True)
    assert "code=" in rejection.raw  # the record is kept with its fields


def test_wrong_column_count_truncated_line_and_invalid_utf8(good_line):
    lines = [
        _with(good_line, 0, "900000001").encode(),
        "\t".join(_with(good_line, 0, "900000002").split("\t")[:40]).encode(),  # truncated row
        _with(_with(good_line, 0, "900000003"), 52, "Caf\udcff").encode("utf-8", "surrogateescape"),
        _with(good_line, 0, "900000004").encode(),
        _with(good_line, 0, "900000005").encode()[:25],  # file cut mid-line
    ]
    batches = parse_bytes("gdelt_events", "x.export.CSV", b"\n".join(lines))
    ids = [sid for b in batches for sid in b.source_ids]
    rejections = [r for b in batches for r in b.rejections]
    assert ids == ["900000001", "900000004"]
    cut = lines[-1].count(b"\t") + 1
    reasons = sorted(r.reason for r in rejections)
    assert reasons == sorted(
        ["40 fields, expected 61", f"{cut} fields, expected 61", "invalid utf-8 in geo_name"]
    )
    assert {r.ref for r in rejections} >= {"GLOBALEVENTID 900000002"}


def test_zip_payloads_and_format_errors(tmp_path):
    path = tmp_path / "20240819130000.export.CSV.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(shared_file(EXPORT), "20240819130000.export.CSV")
    batches = parse_path("gdelt_events", path)
    assert sum(len(b) for b in batches) == 128
    with pytest.raises(SourceFormatError, match="columns"):
        parse_bytes("gdelt_events", "x.csv", b"a\tb\tc\n")


def _zip_of(path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(path, "20240819130000.export.CSV")
    return buffer.getvalue()


async def _no_sleep(_: float) -> None:
    return None


def test_live_fetch_follows_lastupdate_and_the_cursor():
    zipped = _zip_of(shared_file(EXPORT))
    requested: list[str] = []
    base = "http://data.gdeltproject.org/gdeltv2/"

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        if request.url.path.endswith("lastupdate.txt"):
            return httpx.Response(
                200,
                text=(
                    f"1 a {base}20240819130000.export.CSV.zip\n"
                    f"2 b {base}20240819130000.mentions.CSV.zip\n"
                    f"3 c {base}20240819130000.gkg.csv.zip\n"
                ),
            )
        return httpx.Response(200, content=zipped)

    connector = get_connector("gdelt_events")

    async def run(cursor):
        http = HttpClient(
            client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=_no_sleep
        )
        ctx = FetchContext(http, FixedClock(datetime(2024, 8, 19, 13, 5, tzinfo=UTC)), cursor)
        payloads = [p async for p in connector.fetch(ctx)]
        await http.aclose()
        return payloads

    payloads = asyncio.run(run({}))
    assert [p.name for p in payloads] == ["20240819130000.export.CSV"]
    assert requested == [base + "lastupdate.txt", base + "20240819130000.export.CSV.zip"]
    cursor = connector.advance_cursor({}, payloads[0])
    assert cursor == {"last_export": "20240819130000"}
    requested.clear()
    assert asyncio.run(run(cursor)) == []  # nothing new: the export is not downloaded again
    assert requested == [base + "lastupdate.txt"]


def test_backfill_reads_the_master_file_list_from_since():
    zipped = _zip_of(shared_file(EXPORT))
    base = "http://data.gdeltproject.org/gdeltv2/"
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.path.rsplit("/", 1)[-1])
        if request.url.path.endswith("masterfilelist.txt"):
            return httpx.Response(
                200,
                text="".join(
                    f"1 x {base}{stamp}.export.CSV.zip\n1 y {base}{stamp}.mentions.CSV.zip\n"
                    for stamp in ("20240819120000", "20240819121500", "20240819123000")
                ),
            )
        return httpx.Response(200, content=zipped)

    async def run():
        http = HttpClient(
            client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=_no_sleep
        )
        ctx = FetchContext(
            http,
            FixedClock(datetime(2024, 8, 20, tzinfo=UTC)),
            {},
            since=datetime(2024, 8, 19, 12, 10, tzinfo=UTC),
        )
        payloads = [p async for p in get_connector("gdelt_events").fetch(ctx)]
        await http.aclose()
        return payloads

    payloads = asyncio.run(run())
    assert [p.meta["stamp"] for p in payloads] == ["20240819121500", "20240819123000"]
    assert requested == [
        "masterfilelist.txt",
        "20240819121500.export.CSV.zip",
        "20240819123000.export.CSV.zip",
    ]
