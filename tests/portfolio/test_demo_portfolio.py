"""The bundled real portfolio (AidData GeoGCDF v2.0 + OpenStreetMap) on each backend."""

import pytest
from click.testing import CliRunner

from allweather.cli import main
from allweather.domain.geo import WGS84
from allweather.platform import demo_portfolio_path
from allweather.portfolio.readers import read_table


@pytest.fixture(scope="module")
def demo_table():
    return read_table(demo_portfolio_path())


def test_bundled_portfolio_imports_cleanly_and_twice_changes_nothing(platform, demo_table):
    first = platform.importer().run(demo_table)
    assert first.errors == []
    assert (first.rows_total, first.rows_rejected) == (3532, 0)
    counts = platform.portfolio.counts()
    assert (counts["projects"], counts["sites"]) == (3319, 3532)
    # AidData places a handful of projects far from their recipient country; they are flagged.
    assert 0 < len(first.warnings) < 20
    assert {w.code for w in first.warnings} == {"outside_country"}

    second = platform.importer().run(demo_table)
    assert second.changes.projects_unchanged == 3319
    assert (
        second.changes.sites_created,
        second.changes.sites_updated,
        second.changes.sites_removed,
    ) == (0, 0, 0)
    assert platform.portfolio.counts() == counts


def test_bundled_portfolio_keeps_real_footprints_and_corridors(sqlite_platform, demo_table):
    sqlite_platform.importer().run(demo_table)
    kinds = {}
    for project in sqlite_platform.portfolio.iter_projects():
        for site in project.sites:
            kinds[site.kind.value] = kinds.get(site.kind.value, 0) + 1
    assert set(kinds) == {"point", "area", "line"}
    assert kinds["line"] > 500
    assert kinds["area"] > 2000
    sgr = sqlite_platform.portfolio.get_project("GCDF-31777")  # Mombasa–Nairobi SGR
    corridor = next(s for s in sgr.sites if s.kind.value == "line")
    length_km = WGS84.geometry_length(corridor.geometry) / 1000
    assert 440 < length_km < 500  # the railway is about 470 km long
    assert sgr.country_code == "KE"
    assert sgr.kind.value == "flagship"
    assert sgr.source == "AidData GeoGCDF v2.0 / OpenStreetMap"


def test_demo_command_prepares_the_database_and_is_fast_the_second_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLWEATHER_DATABASE_URL", raising=False)
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "3319" in first.stderr
    assert "已导入 imported" in first.stderr
    second = runner.invoke(main, ["demo", "--no-serve"])
    assert second.exit_code == 0
    assert "已是最新 up to date" in second.stderr
    assert "3319" in second.stderr
