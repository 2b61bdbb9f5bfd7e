"""Matching in the pipeline: exposures land with their events, follow revisions, retractions,
site changes and reach overrides, and export from the CLI. Both backends."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from shapely.geometry import Point
from sqlalchemy import func, select

from allweather.cli import main
from allweather.connectors.registry import get_connector
from allweather.domain.events import Retraction
from allweather.domain.geo import geodesic_km
from allweather.domain.reach import ReachOverride
from allweather.store.base import Chunk
from allweather.store.tables import events, exposures, match_state
from tests.factories import make_project, make_site, make_update

HEADER = "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
# A real M5.0 at 0.1° south of Nairobi would be ~11 km from the SGR terminus (a made-up
# location for a real record layout; only the distance matters here).
QUAKE = (
    "2020-06-01T03:51:13.000Z,-1.3921,36.8219,10,{mag},mb,,,,,us,us7000abcd,{updated},"
    '"near Nairobi",earthquake\n'
)


def land(platform, tmp_path, mag="5.0", updated="2020-06-02T00:00:00Z"):
    path = tmp_path / "quake.csv"
    path.write_text(HEADER + QUAKE.format(mag=mag, updated=updated))
    return platform.ingestor().ingest_file(get_connector("usgs_earthquakes"), path)


def stored(platform) -> dict[str, dict]:
    """Exposures by site key."""
    return {r["site_key"]: r for r in platform.matching.iter_exposures()}


def portfolio(platform, *projects):
    platform.portfolio.apply_portfolio([make_update(p) for p in projects], [], platform.clock.now())
    return platform.rematch_if_due()


def test_exposures_land_with_their_events_and_replays_add_nothing(platform, tmp_path):
    portfolio(platform, make_project())
    land(platform, tmp_path)
    found = stored(platform)
    assert set(found) == {"terminus", "line"}  # the port at Mombasa is ~440 km away
    terminus = found["terminus"]
    assert terminus["distance_km"] == pytest.approx(
        geodesic_km(36.8219, -1.2921, 36.8219, -1.3921), abs=1e-5
    )
    assert terminus["bearing_deg"] == pytest.approx(180.0, abs=0.01)
    assert terminus["rule"].startswith("platform:earthquake/")
    assert terminus["project_code"] == "KE-SGR"
    before = platform.matching.count()
    land(platform, tmp_path)  # the same file again
    assert platform.matching.count() == before


def test_a_retraction_removes_the_exposures(platform, tmp_path):
    portfolio(platform, make_project())
    land(platform, tmp_path)
    assert platform.matching.count() == 2
    when = datetime(2021, 1, 1, tzinfo=UTC)
    chunk = Chunk(
        "usgs_earthquakes", 1, 0, retractions=[Retraction("usgs_earthquakes", "us7000abcd", when)]
    )
    platform.sources.commit_chunk(chunk, when)
    assert platform.matching.count() == 0


def test_exposures_fail_with_their_events_never_half_written(platform, tmp_path, monkeypatch):
    portfolio(platform, make_project())
    matcher = platform.matching.matcher()

    def broken(*_args, **_kwargs):
        raise RuntimeError("matcher down")

    monkeypatch.setattr(matcher, "match", broken)
    with pytest.raises(RuntimeError, match="matcher down"):
        land(platform, tmp_path)
    with platform.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(exposures)).scalar_one() == 0


def test_moving_a_site_rematches_the_stored_events(platform, tmp_path):
    portfolio(platform, make_project())
    land(platform, tmp_path)
    assert "terminus" in stored(platform)
    moved = make_project(sites=(make_site("terminus", geometry=Point(39.66, -4.05)),))
    report = portfolio(platform, moved)
    assert report is not None  # the change made a re-match due, and it ran
    assert "terminus" not in stored(platform)
    with platform.engine.connect() as conn:
        row = conn.execute(select(match_state)).one()
    assert row.generation == row.matched_generation
    # Back where it was: matched again, with the same distance.
    portfolio(platform, make_project())
    assert "terminus" in stored(platform)


def test_a_reach_override_rematches_and_its_removal_restores(platform, tmp_path):
    portfolio(platform, make_project())
    land(platform, tmp_path)
    now = platform.clock.now()
    platform.matching.set_override(
        ReachOverride("project", "KE-SGR", "earthquake", None, "point", "none", None, "test"), now
    )
    platform.rematch_if_due()
    assert set(stored(platform)) == {"line"}
    wider = ReachOverride("project", "KE-SGR", "earthquake", None, None, "radius", 500.0, "test")
    platform.matching.set_override(wider, now)
    platform.rematch_if_due()
    found = stored(platform)
    # 500 km now reaches the port at Mombasa; the terminus stays out: the point-kind override
    # is the more specific one.
    assert set(found) == {"line", "port"}
    assert found["port"]["rule"] == "project:KE-SGR:earthquake"
    for site_kind in ("point", "*"):
        key = {
            "scope": "project",
            "scope_code": "KE-SGR",
            "fine_type": "earthquake",
            "severity": "*",
            "site_kind": site_kind,
        }
        assert platform.matching.remove_override(key, now) == 1
    platform.rematch_if_due()
    assert set(stored(platform)) == {"terminus", "line"}


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLWEATHER_DATABASE_URL", raising=False)
    monkeypatch.setenv("ALLWEATHER_NOW", "2023-11-05T00:00:00Z")
    return CliRunner()


def test_cli_exports_exposures_and_answers_what_if_radii(cli, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "code,name,country,latitude,longitude\n"
        "KE-NBO,Nairobi depot,KE,-1.2921,36.8219\n"
        "KE-MSA,Mombasa port,KE,-4.05,39.66\n"
    )
    assert cli.invoke(main, ["projects", "import", str(sites)]).exit_code == 0
    quake = tmp_path / "quake.csv"
    quake.write_text(HEADER + QUAKE.format(mag="5.0", updated="2020-06-02T00:00:00Z"))
    assert cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(quake)]).exit_code == 0

    result = cli.invoke(main, ["exposures", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["project_code"], r["source"]) for r in rows] == [("KE-NBO", "usgs_earthquakes")]
    assert {"event_id", "source", "project_code", "site_id", "distance_km", "reach_km"} <= set(
        rows[0]
    )
    assert float(rows[0]["distance_km"]) == pytest.approx(11.06, abs=0.05)
    assert rows[0]["event_id"] == "usgs_earthquakes:us7000abcd"

    result = cli.invoke(main, ["exposures", "export", "--format", "jsonl", "--radius-km", "500"])
    assert result.exit_code == 0, result.output
    answer = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["project_code"] for r in answer) == ["KE-MSA", "KE-NBO"]
    msa = next(r for r in answer if r["project_code"] == "KE-MSA")
    assert msa["distance_km"] == pytest.approx(
        geodesic_km(39.66, -4.05, 36.8219, -1.3921), abs=1e-5
    )
    assert msa["reach_km"] == 500
    result = cli.invoke(main, ["exposures", "export", "--radius-km", "5"])
    assert list(csv.DictReader(io.StringIO(result.stdout))) == []


def test_cli_reach_set_show_unset(cli, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("code,name,country,latitude,longitude\nKE-MSA,Mombasa port,KE,-4.05,39.66\n")
    assert cli.invoke(main, ["projects", "import", str(sites)]).exit_code == 0
    quake = tmp_path / "quake.csv"
    quake.write_text(HEADER + QUAKE.format(mag="5.0", updated="2020-06-02T00:00:00Z"))
    cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(quake)])
    assert "KE-MSA" not in cli.invoke(main, ["exposures", "export"]).stdout
    result = cli.invoke(
        main,
        [
            "reach",
            "set",
            "--project",
            "KE-MSA",
            "--type",
            "earthquake",
            "--km",
            "600",
            "--reason",
            "port cranes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "重新匹配" in result.stderr
    assert "KE-MSA" in cli.invoke(main, ["exposures", "export"]).stdout
    shown = cli.invoke(main, ["reach", "show", "--format", "jsonl"]).stdout
    assert any(json.loads(line).get("scope_code") == "KE-MSA" for line in shown.splitlines())
    bad = cli.invoke(
        main,
        [
            "reach",
            "set",
            "--project",
            "KE-MSA",
            "--type",
            "earthquake",
            "--km",
            "-3",
            "--reason",
            "x",
        ],
    )
    assert bad.exit_code == 2
    assert "radius_km" in bad.output
    both = cli.invoke(
        main,
        [
            "reach",
            "set",
            "--project",
            "X",
            "--organization",
            "Y",
            "--type",
            "coup",
            "--country",
            "--reason",
            "x",
        ],
    )
    assert both.exit_code == 2
    assert (
        cli.invoke(
            main, ["reach", "unset", "--project", "KE-MSA", "--type", "earthquake"]
        ).exit_code
        == 0
    )
    assert "KE-MSA" not in cli.invoke(main, ["exposures", "export"]).stdout
    assert (
        cli.invoke(
            main, ["reach", "unset", "--project", "KE-MSA", "--type", "earthquake"]
        ).exit_code
        == 1
    )


def test_a_new_platform_matrix_rematches_and_a_bad_one_is_refused(cli, tmp_path, monkeypatch):
    from importlib import resources

    sites = tmp_path / "sites.csv"
    sites.write_text("code,name,country,latitude,longitude\nKE-MSA,Mombasa port,KE,-4.05,39.66\n")
    assert cli.invoke(main, ["projects", "import", str(sites)]).exit_code == 0
    quake = tmp_path / "quake.csv"
    quake.write_text(HEADER + QUAKE.format(mag="5.0", updated="2020-06-02T00:00:00Z"))
    cli.invoke(main, ["ingest", "usgs_earthquakes", "--file", str(quake)])
    assert "KE-MSA" not in cli.invoke(main, ["exposures", "export"]).stdout

    bundled = resources.files("allweather.data").joinpath("reach.yaml").read_text("utf-8")
    line = "    radius_km: {I: 300, II: 120, III: 50, IV: 20}\n"
    assert line in bundled  # the earthquake row this test widens
    wider = tmp_path / "reach.yaml"
    wider.write_text(bundled.replace(line, "    radius_km: {I: 900, II: 900, III: 900, IV: 900}\n"))
    monkeypatch.setenv("ALLWEATHER_REACH_FILE", str(wider))
    result = cli.invoke(main, ["exposures", "export"])
    assert "KE-MSA" in result.stdout  # the new matrix was noticed and every event re-matched

    bad = tmp_path / "bad.yaml"
    bad.write_text(bundled.replace(line, "    radius_km: {I: 900, II: 900, III: -5, IV: 900}\n"))
    monkeypatch.setenv("ALLWEATHER_REACH_FILE", str(bad))
    result = cli.invoke(main, ["exposures", "export"])
    assert result.exit_code == 2
    assert "types.earthquake.radius_km.III" in result.output


def test_bulk_events_get_exposures_as_they_land_and_replays_add_none(platform):
    from tests.connectors.conftest import shared_file

    gdelt = get_connector("gdelt_events")
    path = shared_file("gdelt2/20240819130000.export.csv")
    platform.ingestor().ingest_file(gdelt, path)
    located = next(
        r
        for r in platform.sources.iter_events()
        if r["precision"] in ("exact", "near") and r["lon"]
    )
    site = make_site("depot", geometry=Point(located["lon"], located["lat"]), country_code=None)
    platform.sources.delete_source_events(gdelt.spec.number)
    portfolio(platform, make_project(code="DEPOT", sites=(site,), country_code=None))
    platform.ingestor().ingest_file(gdelt, path)  # sites first, then the bulk path
    first = platform.matching.count()
    assert first > 0
    assert any(r["source_id"] == located["source_id"] for r in platform.matching.iter_exposures())
    platform.ingestor().ingest_file(gdelt, path)
    assert platform.matching.count() == first
    assert platform.matching.rematch(platform.clock.now()) == first  # the same answer from scratch
