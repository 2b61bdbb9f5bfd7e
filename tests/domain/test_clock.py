from datetime import UTC, datetime, timedelta, timezone

import pytest

from allweather.domain.clock import FixedClock, ReplayClock, SystemClock, parse_instant
from allweather.errors import ConfigError
from allweather.settings import load_settings


@pytest.mark.parametrize(
    "text",
    [
        "2024-08-19T13:00:00Z",
        "2024-08-19T13:00:00+00:00",
        "2024-08-19T21:00:00+08:00",
        "2024-08-19 13:00",
    ],
)
def test_parse_instant_returns_aware_utc(text):
    assert parse_instant(text) == datetime(2024, 8, 19, 13, 0, tzinfo=UTC)
    assert parse_instant(text).tzinfo is UTC


def test_parse_instant_rejects_non_iso_text():
    with pytest.raises(ValueError, match="not an ISO 8601 instant"):
        parse_instant("19/08/2024")


def test_fixed_clock_converts_offsets_to_utc():
    beijing = timezone(timedelta(hours=8))
    clock = FixedClock(datetime(2024, 1, 1, 8, 0, tzinfo=beijing))
    assert clock.now() == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)


class _SteppingClock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


def test_replay_clock_runs_history_at_the_chosen_speed():
    real = _SteppingClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    replay = ReplayClock(start=datetime(2016, 1, 1, tzinfo=UTC), speed=3600, real=real)
    assert replay.now() == datetime(2016, 1, 1, tzinfo=UTC)
    real.at += timedelta(seconds=10)  # ten real seconds = ten platform hours
    assert replay.now() == datetime(2016, 1, 1, 10, 0, tzinfo=UTC)


def test_replay_clock_rejects_non_positive_speed():
    with pytest.raises(ValueError, match="positive"):
        ReplayClock(start=datetime(2016, 1, 1, tzinfo=UTC), speed=0)


def test_system_clock_is_aware_utc():
    assert SystemClock().now().tzinfo is UTC


def test_allweather_now_pins_the_platform_clock(monkeypatch):
    monkeypatch.setenv("ALLWEATHER_NOW", "2019-06-01T00:00:00Z")
    clock = load_settings().clock()
    assert isinstance(clock, FixedClock)
    assert clock.now() == datetime(2019, 6, 1, tzinfo=UTC)


def test_allweather_now_with_speed_replays(monkeypatch):
    monkeypatch.setenv("ALLWEATHER_NOW", "2019-06-01T00:00:00Z")
    monkeypatch.setenv("ALLWEATHER_CLOCK_SPEED", "60")
    clock = load_settings().clock()
    assert isinstance(clock, ReplayClock)
    assert clock.now() - datetime(2019, 6, 1, tzinfo=UTC) < timedelta(minutes=5)


def test_unset_now_means_real_time(monkeypatch):
    monkeypatch.delenv("ALLWEATHER_NOW", raising=False)
    assert isinstance(load_settings().clock(), SystemClock)


def test_bad_allweather_now_names_the_variable(monkeypatch):
    monkeypatch.setenv("ALLWEATHER_NOW", "yesterday")
    with pytest.raises(ConfigError, match="ALLWEATHER_NOW"):
        load_settings()


def test_bad_port_names_the_variable(monkeypatch):
    monkeypatch.setenv("ALLWEATHER_PORT", "99999")
    with pytest.raises(ConfigError, match="ALLWEATHER_PORT"):
        load_settings()


def test_replay_clock_restart_begins_again_at_start():
    real = _SteppingClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    replay = ReplayClock(start=datetime(2016, 1, 1, tzinfo=UTC), speed=3600, real=real)
    real.at += timedelta(seconds=5)
    replay.restart()
    assert replay.now() == datetime(2016, 1, 1, tzinfo=UTC)
