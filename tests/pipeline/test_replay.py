"""The demo replay: recorded events land as the platform clock passes them, idempotently."""

from datetime import UTC, datetime, timedelta

from allweather.connectors.registry import all_connectors
from allweather.pipeline.replay import Recording, Replayer, bundled_recordings


class SteppingClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _connectors():
    return {c.spec.id: c for c in all_connectors()}


def test_bundled_recordings_are_real_files_of_registered_sources():
    recordings = bundled_recordings()
    assert {r.source for r in recordings} == {
        "usgs_earthquakes",
        "ucdp_ged",
        "gdacs_alerts",
        "gdelt_events",
    }
    assert all(r.path.stat().st_size > 1_000 for r in recordings)
    assert all(r.attribution for r in recordings)


def test_events_land_when_the_clock_passes_them_and_replaying_again_adds_nothing(sqlite_platform):
    usgs = next(r for r in bundled_recordings() if r.source == "usgs_earthquakes")
    clock = SteppingClock(datetime(2016, 1, 1, tzinfo=UTC))
    replayer = Replayer(sqlite_platform.sources, clock, sqlite_platform.catalog)
    assert replayer.load([usgs], _connectors()) == 18330
    history = replayer.step()
    before = sum(1 for e in replayer.streams[0].events if e.occurred_at <= clock.now())
    assert history == before == sqlite_platform.sources.count_events()
    clock.at += timedelta(days=31)
    january = replayer.step()
    expected = sum(
        1
        for e in replayer.streams[0].events
        if clock.now() - timedelta(days=31) < e.occurred_at <= clock.now()
    )
    assert january == expected > 0
    assert replayer.step() == 0  # nothing new until the clock moves
    assert not replayer.finished()
    countries = {row["country_code"] for row in sqlite_platform.sources.iter_events()}
    assert "JP" in countries
    assert None in countries

    again = Replayer(sqlite_platform.sources, clock, sqlite_platform.catalog)
    again.load([usgs], _connectors())
    again.step()
    assert sqlite_platform.sources.count_events() == history + january
    replayer.close()
    (run, *_) = sqlite_platform.sources.runs("usgs_earthquakes")
    assert run.mode == "replay"


def test_replay_runs_to_the_end_on_a_fast_clock(sqlite_platform, tmp_path):
    gdelt = next(r for r in bundled_recordings() if r.source == "gdelt_events")
    clock = SteppingClock(datetime(2030, 1, 1, tzinfo=UTC))
    replayer = Replayer(sqlite_platform.sources, clock, sqlite_platform.catalog)
    replayer.load([gdelt], _connectors())
    import threading

    replayer.run(threading.Event(), tick=0)
    assert replayer.finished()
    assert sqlite_platform.sources.count_events() == 128


def test_a_recording_is_parsed_by_its_connector(tmp_path, sqlite_platform):
    path = tmp_path / "quakes.csv"
    path.write_text(
        "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type\n"
        '2016-01-05T00:00:00Z,35.7,139.7,10,6.1,mww,,,,,us,demo1,,"Tokyo, Japan",earthquake\n'
    )
    clock = SteppingClock(datetime(2016, 1, 6, tzinfo=UTC))
    replayer = Replayer(sqlite_platform.sources, clock, sqlite_platform.catalog)
    replayer.load([Recording("usgs_earthquakes", path, "test")], _connectors())
    assert replayer.step() == 1
    (row,) = list(sqlite_platform.sources.iter_events())
    assert (row["country_code"], row["severity"]) == ("JP", "II")
