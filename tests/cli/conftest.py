"""The CLI tests' shared set-up: a working directory with a two-project portfolio imported."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from allweather.cli import main
from tests.factories import write_csv


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLWEATHER_DATABASE_URL", raising=False)
    monkeypatch.setenv("ALLWEATHER_NOW", "2024-08-19T13:00:00Z")
    runner = CliRunner()
    portfolio = write_csv(
        tmp_path / "p.csv",
        "code,name,country,latitude,longitude",
        "KE-1,Nairobi depot,KE,-1.29,36.82",
        "NO-1,Oslo office,NO,59.91,10.75",
    )
    assert runner.invoke(main, ["projects", "import", str(portfolio)]).exit_code == 0
    return runner
