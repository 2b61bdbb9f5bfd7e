"""Ingest guarantees: idempotent, crash-safe, nothing lost to a bad record, health and staleness."""

import asyncio
import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from allweather.cli import main
from allweather.connectors.gdelt_events.connector import cameo_row
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import get_connector
from allweather.domain.clock import FixedClock
from allweather.pipeline.health import assess
from allweather.pipeline.ingest import Ingestor
from allweather.pipeline.schedule import Scheduler
from tests.connectors.conftest import shared_file

USGS_CSV = "usgs_earthquakes/usgs_comcat_m5plus_world_2013-01-01_2023-11-04.csv"
GDELT = "gdelt2/20240819130000.export.csv"
USGS_FEED = "usgs_earthquakes/usgs_feed_significant_month_2020-06.geojson"


def test_ingesting_the_same_files_twice_adds_nothing(platform):
    ingestor = platform.ingestor()
    usgs, gdelt = get_connector("usgs_earthquakes"), get_connector("gdelt_events")
    first = ingestor.ingest_file(usgs, shared_file(USGS_CSV))
    assert (first.read, first.counts.new, first.skipped, first.counts.quarantined) == (
        18334,
        18330,
        4,
        0,
    )
    assert ingestor.ingest_file(gdelt, shared_file(GDELT)).counts.new == 128
    again = ingestor.ingest_file(usgs, shared_file(USGS_CSV))
    assert (again.counts.new, again.counts.updated, again.counts.unchanged) == (0, 0, 18330)
    assert ingestor.ingest_file(gdelt, shared_file(GDELT)).counts.new == 0
    assert platform.sources.count_events() == 18330 + 128
    assert again.exit_code == 0


def test_a_revised_record_updates_the_stored_event(platform, tmp_path):
    header = (
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
    )
    line = '2013-01-01T03:51:13.000Z,-20.809,-69.667,56.1,{mag},mb,,,,,us,usp000jxpn,{updated},"83 km SE of Iquique, Chile",earthquake\n'
    path = tmp_path / "quakes.csv"
    ingestor, usgs = platform.ingestor(), get_connector("usgs_earthquakes")
    path.write_text(header + line.format(mag="5.1", updated="2014-11-07T01:49:43.070Z"))
    assert ingestor.ingest_file(usgs, path).counts.new == 1
    path.write_text(header + line.format(mag="6.2", updated="2015-01-01T00:00:00.000Z"))
    report = ingestor.ingest_file(usgs, path)
    assert (report.counts.new, report.counts.updated) == (0, 1)
    (row,) = list(platform.sources.iter_events())
    assert (row["magnitude"], row["severity"]) == (6.2, "II")


def test_bad_records_are_quarantined_with_reason_and_the_rest_lands(platform, tmp_path):
    lines = shared_file(USGS_CSV).read_bytes().splitlines(keepends=True)

    def field(line: bytes, index: int, value: bytes) -> bytes:
        cells = line.split(b",")
        cells[index] = value
        return b",".join(cells)

    bad = [
        field(lines[1], 1, b"95.0"),  # latitude 95
        field(lines[2], 4, b"five"),  # non-numeric magnitude
        field(lines[3], 11, b""),  # missing id
        b"\xff\xfe not utf-8 at all\n",  # invalid UTF-8
        b"2013-01-05T00:00:00Z,1,2\n",  # wrong column count
    ]
    path = tmp_path / "mixed.csv"
    path.write_bytes(lines[0] + b"".join(bad) + b"".join(lines[4:50]))
    report = platform.ingestor().ingest_file(get_connector("usgs_earthquakes"), path)
    assert report.counts.quarantined == 5
    assert report.counts.new == 46
    assert report.exit_code == 1
    assert report.status == "partial"
    records = {q.ref: q for q in platform.sources.quarantined("usgs_earthquakes")}
    assert records["line 2"].field == "latitude"
    assert "95" in records["line 2"].raw
    assert records["line 3"].field == "mag"
    assert records["line 4"].field == "id"
    assert "invalid utf-8" in records["line 5"].reason
    assert "fields, expected" in records["line 6"].reason


def _risk_file(path: Path, rows: int) -> Path:
    lines = shared_file(GDELT).read_text(encoding="utf-8").splitlines()[1:]
    risk = [line for line in lines if cameo_row(line.split("\t")[26])]
    with path.open("w", encoding="utf-8") as out:
        for n in range(rows):
            out.write(f"{4_000_000_000 + n}\t{risk[n % len(risk)].split(chr(9), 1)[1]}\n")
    return path


def _cli(db: Path, path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ALLWEATHER_DATABASE_URL": f"sqlite:///{db}",
        "ALLWEATHER_NOW": "2024-08-20T00:00:00Z",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "allweather", "ingest", "gdelt_events", "--file", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _committed_chunks(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(
                "SELECT progress FROM source_state WHERE source = 'gdelt_events'"
            ).fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    return (
        max((int(v) for v in __import__("json").loads(row[0] or "{}").values()), default=0)
        if row
        else 0
    )


def _ids(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")]


def test_sigkill_mid_file_then_rerun_equals_one_clean_run(tmp_path):
    big = _risk_file(tmp_path / "big.export.CSV", 240_000)  # about 12 chunks of 20,000 rows
    clean_db, killed_db = tmp_path / "clean.db", tmp_path / "killed.db"
    clean = _cli(clean_db, big)
    assert clean.wait(timeout=120) == 0, clean.stderr.read() if clean.stderr else ""

    victim = _cli(killed_db, big)
    deadline = time.monotonic() + 60
    while _committed_chunks(killed_db) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    partial = len(_ids(killed_db))
    assert 0 < partial < 240_000, "the kill should land mid-file"

    rerun = _cli(killed_db, big)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert "resumed after" in stderr
    assert _ids(killed_db) == _ids(clean_db)
    assert len(_ids(clean_db)) == 240_000


def _week_feed() -> bytes:
    return shared_file(USGS_FEED).read_bytes()


async def _no_sleep(_: float) -> None:
    return None


def _http(handler) -> HttpClient:
    return HttpClient(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=_no_sleep
    )


def test_live_ingest_is_conditional_archives_raw_payloads_and_records_health(
    sqlite_platform, tmp_path
):
    feed = _week_feed()
    seen_headers: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=feed, headers={"ETag": '"v1"'})

    clock = FixedClock(datetime(2020, 6, 10, tzinfo=UTC))
    ingestor = Ingestor(sqlite_platform.sources, clock, tmp_path / "raw")
    usgs = get_connector("usgs_earthquakes")
    first = asyncio.run(ingestor.ingest_live(usgs, _http(handler), {}))
    second = asyncio.run(ingestor.ingest_live(usgs, _http(handler), {}))
    assert (first.status, first.counts.new) == ("ok", 6)
    assert second.status == "unchanged"
    assert seen_headers == [None, '"v1"']
    archived = list((tmp_path / "raw" / "usgs_earthquakes").rglob("*.gz"))
    assert len(archived) == 1
    assert gzip.decompress(archived[0].read_bytes()) == feed
    state = sqlite_platform.sources.state("usgs_earthquakes")
    assert state.etag == '"v1"'
    assert state.last_success_at == clock.now()


def test_a_failing_source_records_the_error_and_goes_stale(sqlite_platform):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    usgs = get_connector("usgs_earthquakes")
    start = datetime(2020, 6, 10, tzinfo=UTC)
    ok = Ingestor(sqlite_platform.sources, FixedClock(start))
    asyncio.run(
        ok.ingest_live(usgs, _http(lambda r: httpx.Response(200, content=_week_feed())), {})
    )
    later = FixedClock(start + timedelta(minutes=12))  # cadence 5 minutes: silent for > 2×
    report = asyncio.run(
        Ingestor(sqlite_platform.sources, later).ingest_live(usgs, _http(handler), {})
    )
    assert report.status == "failed"
    assert "503" in report.error
    state = sqlite_platform.sources.state("usgs_earthquakes")
    runs = sqlite_platform.sources.last_runs()
    health = assess(usgs.spec, state, runs["usgs_earthquakes"], later.now())
    assert health.stale
    assert health.status == "stale"
    assert "503" in (health.last_error or "")
    fresh = assess(usgs.spec, state, runs["usgs_earthquakes"], start + timedelta(minutes=9))
    assert not fresh.stale


def test_a_failed_commit_stops_the_run_and_marks_it_failed(sqlite_platform, tmp_path):
    class BrokenStore:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def commit_chunk(self, chunk, now):
            raise RuntimeError("disk full")

    ingestor = Ingestor(BrokenStore(sqlite_platform.sources), sqlite_platform.clock)
    with pytest.raises(RuntimeError, match="disk full"):
        ingestor.ingest_file(get_connector("gdelt_events"), shared_file(GDELT))
    (run,) = sqlite_platform.sources.runs("gdelt_events")
    assert run.status == "failed"
    assert "disk full" in run.error


def test_scheduler_runs_enabled_sources_when_due(sqlite_platform):
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        return httpx.Response(200, content=_week_feed())

    clock = FixedClock(datetime(2020, 6, 10, tzinfo=UTC))
    scheduler = Scheduler(
        Ingestor(sqlite_platform.sources, clock),
        sqlite_platform.sources,
        clock,
        lambda _: {},
        http_factory=lambda: _http(handler),
    )
    usgs = get_connector("usgs_earthquakes")
    assert usgs in scheduler.enabled()
    assert asyncio.run(scheduler.run([usgs], once=True, log=lambda _: None)) == 1
    assert asyncio.run(scheduler.run([usgs], once=True, log=lambda _: None)) == 0  # not due yet
    state = sqlite_platform.sources.state("usgs_earthquakes")
    state.enabled = False
    sqlite_platform.sources.save_state(state)
    assert usgs not in scheduler.enabled()
    assert calls == ["earthquake.usgs.gov"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLWEATHER_DATABASE_URL", raising=False)
    monkeypatch.setenv("ALLWEATHER_NOW", "2023-11-05T00:00:00Z")
    return CliRunner()


def test_cli_ingest_exit_codes_and_summary(cli, tmp_path):
    good = shared_file(USGS_FEED)
    result = cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(good)])
    assert result.exit_code == 0
    assert "read 6, new 6, updated 0, deleted 0, quarantined 0" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_bytes(shared_file(USGS_CSV).read_bytes()[:2000] + b"\n2013-01-05T00:00:00Z,1,2\n")
    result = cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(bad)])
    assert result.exit_code == 1
    assert "quarantined 2" in result.stderr
    assert cli.invoke(main, ["ingest", "no_such_source", "--file", str(good)]).exit_code == 2
    assert (
        cli.invoke(
            main, ["ingest", "usgs_earthquakes", "--file", str(tmp_path / "nope.csv")]
        ).exit_code
        == 2
    )
    unreadable = tmp_path / "x.csv"
    unreadable.write_text("not,a,usgs,file\n")
    result = cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(unreadable)])
    assert result.exit_code == 2
    assert "neither a USGS GeoJSON feed nor a ComCat CSV" in result.stderr


def test_cli_sources_events_and_quarantine(cli, tmp_path, monkeypatch):
    cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(shared_file(USGS_FEED))])
    cli.invoke(main, ["ingest", "gdelt_events", "--file", str(shared_file(GDELT))])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(shared_file(USGS_CSV).read_bytes()[:500])
    cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(bad)])

    exported = cli.invoke(
        main, ["events", "export", "--format", "jsonl", "--source", "gdelt_events"]
    )
    assert exported.exit_code == 0
    assert len(exported.stdout.splitlines()) == 128
    csv_out = cli.invoke(main, ["events", "export", "--format", "csv"])
    assert csv_out.stdout.splitlines()[0].startswith("event_id,source,source_id,occurred_at")
    # 500 bytes of the ComCat CSV: the header, two whole records and a cut third.
    assert len(csv_out.stdout.splitlines()) == 1 + 128 + 6 + 2
    listed = cli.invoke(main, ["quarantine", "list", "--source", "usgs_earthquakes"])
    assert "line 4" in listed.stdout
    assert "fields, expected 22" in listed.stdout

    table = cli.invoke(main, ["sources"]).stdout
    assert "usgs_earthquakes" in table
    assert "gdelt_events" in table
    monkeypatch.setenv("ALLWEATHER_NOW", "2030-01-01T00:00:00Z")  # long silence
    stale = {
        line.split()[1]: line.split()[0]
        for line in cli.invoke(main, ["sources"]).stdout.splitlines()[1:]
    }
    assert stale["usgs_earthquakes"] == "STALE"


def test_older_revisions_never_overwrite_and_retractions_stick(platform, tmp_path):
    header = (
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
    )
    line = '2013-01-01T03:51:13.000Z,-20.809,-69.667,56.1,{mag},mb,,,,,us,usp000jxpn,{updated},"Iquique",earthquake\n'
    ingestor, usgs = platform.ingestor(), get_connector("usgs_earthquakes")

    def land(mag: str, updated: str):
        path = tmp_path / "q.csv"
        path.write_text(header + line.format(mag=mag, updated=updated))
        return ingestor.ingest_file(usgs, path).counts

    land("6.2", "2015-01-01T00:00:00Z")
    older = land("5.1", "2014-01-01T00:00:00Z")  # an old export ingested again
    assert (older.updated, older.unchanged) == (0, 1)
    assert next(platform.sources.iter_events())["magnitude"] == 6.2

    from allweather.domain.events import Retraction
    from allweather.store.base import Chunk

    retraction = Retraction("usgs_earthquakes", "usp000jxpn", datetime(2016, 1, 1, tzinfo=UTC))
    platform.sources.commit_chunk(
        Chunk("usgs_earthquakes", 1, 0, retractions=[retraction]), datetime(2016, 1, 1, tzinfo=UTC)
    )
    assert land("6.2", "2015-01-01T00:00:00Z").updated == 0  # the same old record: stays retracted
    assert next(platform.sources.iter_events())["deleted_at"] is not None
    assert land("6.3", "2017-01-01T00:00:00Z").updated == 1  # republished later: back
    row = next(platform.sources.iter_events())
    assert (row["deleted_at"], row["magnitude"]) == (None, 6.3)


def test_cli_since_is_for_live_backfills_only(cli, tmp_path):
    result = cli.invoke(
        main, ["ingest", "gdelt_events", "--file", str(shared_file(GDELT)), "--since", "2024-08-01"]
    )
    assert result.exit_code == 2
    assert "cannot be used with --file" in result.output
    result = cli.invoke(main, ["ingest", "gdelt_events", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "--since" in result.output


OFAC = "sanctions_lists/ofac_sdn_2023_with_header.csv"


def test_a_truncated_list_delists_nothing_and_says_why(sqlite_platform, tmp_path):
    ingestor, ofac = sqlite_platform.ingestor(), get_connector("ofac_sdn")
    full = shared_file(OFAC)
    assert ingestor.ingest_file(ofac, full).counts.new == 11443
    half = tmp_path / "sdn.csv"
    lines = full.read_bytes().splitlines(keepends=True)
    half.write_bytes(b"".join(lines[: len(lines) // 2]))  # cut at a line: looks complete
    report = ingestor.ingest_file(ofac, half)
    assert report.counts.deleted == 0
    assert report.status == "partial"
    assert "delisting held back" in report.error
    assert report.exit_code == 1
    assert sqlite_platform.sources.listed_count("ofac_sdn") == 11443


def test_an_unreadable_entry_that_is_still_listed_is_not_delisted(sqlite_platform, tmp_path):
    ingestor, ofac = sqlite_platform.ingestor(), get_connector("ofac_sdn")
    lines = shared_file(OFAC).read_bytes().splitlines(keepends=True)
    first = tmp_path / "a.csv"
    first.write_bytes(b"".join(lines[:21]))  # header + 20 entries
    ingestor.ingest_file(ofac, first)
    broken = lines[5].split(b",")
    entry = broken[0].decode()
    second = tmp_path / "b.csv"
    second.write_bytes(b"".join(lines[:5]) + b",".join(broken[:4]) + b"\n" + b"".join(lines[6:21]))
    report = ingestor.ingest_file(ofac, second)
    assert report.counts.quarantined == 1
    assert report.counts.deleted == 0
    assert entry in {e["source_id"] for e in sqlite_platform.sources.listed("ofac_sdn")}


def test_records_read_before_a_payload_breaks_still_land(sqlite_platform, tmp_path):
    xml = shared_file("gdacs_rss/gdacs_rss_archive_orange_2012-04_2016-04.xml").read_bytes()
    cut = tmp_path / "gdacs.xml"
    cut.write_bytes(xml[: len(xml) // 2])  # the file ends mid-item
    report = sqlite_platform.ingestor().ingest_file(get_connector("gdacs_alerts"), cut)
    assert report.counts.new > 0
    assert report.counts.quarantined >= 1
    assert sqlite_platform.sources.count_events() == report.counts.new
