"""The CLI contract: exit codes 0/1/2, data on stdout, messages on stderr."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from allweather.cli import main
from allweather.store.database import head_revision
from tests.factories import write_csv


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLWEATHER_DATABASE_URL", raising=False)
    monkeypatch.setenv("ALLWEATHER_NOW", "2024-08-19T13:00:00Z")
    return CliRunner()


def test_import_exit_codes(runner, tmp_path):
    good = write_csv(tmp_path / "good.csv", "code,name,latitude,longitude", "P1,Port,-4.05,39.66")
    mixed = write_csv(
        tmp_path / "mixed.csv",
        "code,name,latitude,longitude",
        "P2,Port,-4.05,39.66",
        "P3,Bad,91,39",
    )
    result = runner.invoke(main, ["projects", "import", str(good)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["projects", "import", str(mixed)])
    assert result.exit_code == 1
    assert "row 3, column latitude" in result.stderr
    result = runner.invoke(main, ["projects", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    result = runner.invoke(main, ["projects", "import"])
    assert result.exit_code == 2  # bad usage
    result = runner.invoke(main, ["projects", "import", str(good), "--strict", "--report", "json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["rows_landed"] == 1
    assert report["changes"]["projects_unchanged"] == 1


def test_strict_import_exit_code_and_nothing_landed(runner, tmp_path):
    mixed = write_csv(
        tmp_path / "mixed.csv",
        "code,name,latitude,longitude",
        "P2,Port,-4.05,39.66",
        "P3,Bad,91,39",
    )
    result = runner.invoke(main, ["projects", "import", str(mixed), "--strict"])
    assert result.exit_code == 1
    result = runner.invoke(main, ["projects", "export", "--format", "csv"])
    assert result.exit_code == 0
    assert list(csv.DictReader(io.StringIO(result.stdout))) == []


def test_export_writes_data_to_stdout_and_messages_to_stderr(runner, tmp_path):
    good = write_csv(
        tmp_path / "good.csv", "code,name,name_zh,latitude,longitude", "P1,Port,港口,-4.05,39.66"
    )
    runner.invoke(main, ["projects", "import", str(good)])
    result = runner.invoke(main, ["projects", "export", "--format", "geojson"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["features"][0]["properties"]["name_zh"] == "港口"
    assert "exported 1" in result.stderr
    out = tmp_path / "out.csv"
    result = runner.invoke(main, ["projects", "export", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("code,name,")
    result = runner.invoke(main, ["projects", "export", "--format", "xml"])
    assert result.exit_code == 2


def test_bad_settings_exit_2_naming_the_variable(runner, monkeypatch):
    monkeypatch.setenv("ALLWEATHER_NOW", "not-a-time")
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "ALLWEATHER_NOW" in result.stderr
    monkeypatch.setenv("ALLWEATHER_NOW", "2024-01-01T00:00:00Z")
    monkeypatch.setenv("ALLWEATHER_DATABASE_URL", "mysql://x@y/z")
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "unsupported database" in result.stderr


def test_db_upgrade_and_status(runner, tmp_path):
    result = runner.invoke(main, ["db", "status"])
    assert result.exit_code == 1
    assert "current=-" in result.stdout
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert (tmp_path / "var" / "allweather.db").exists()
    result = runner.invoke(main, ["db", "status"])
    assert result.exit_code == 0
    assert f"current={head_revision()}" in result.stdout


def test_every_command_has_help(runner):
    for args in (
        ["--help"],
        ["demo", "--help"],
        ["serve", "--help"],
        ["db", "upgrade", "--help"],
        ["projects", "import", "--help"],
        ["projects", "export", "--help"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output, args


def test_unreachable_database_is_a_clear_error(runner, monkeypatch):
    monkeypatch.setenv("ALLWEATHER_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "cannot use the database" in result.stderr
