"""The platform's one clock.

Everything that asks "what time is it?" — decay, warning windows, report periods, source
staleness — asks a ``Clock``. ``ALLWEATHER_NOW`` pins it (tests, what-if runs), and a replay
clock runs history forward at a chosen speed, so the same code serves live and replayed time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# Beijing time: how users read every time the platform shows, sends or files.
BEIJING = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Source of the current instant, always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one instant (``ALLWEATHER_NOW``)."""

    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", ensure_utc(self.at))

    def now(self) -> datetime:
        return self.at


@dataclass
class ReplayClock:
    """History replayed as if live: starts at ``start`` and runs ``speed`` times real time.

    Args:
        start: the instant the replay begins at.
        speed: seconds of platform time per real second (1 = real time, 3600 = an hour a second).
        real: the underlying real clock (injectable for tests).
    """

    start: datetime
    speed: float = 1.0
    real: Clock = field(default_factory=SystemClock)
    _real_start: datetime = field(init=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("replay speed must be positive")
        self.start = ensure_utc(self.start)
        self._real_start = self.real.now()

    def restart(self) -> None:
        """Begin again at ``start`` from this real moment (after slow set-up work)."""
        self._real_start = self.real.now()

    def now(self) -> datetime:
        elapsed = (self.real.now() - self._real_start).total_seconds()
        return self.start + timedelta(seconds=elapsed * self.speed)


def ensure_utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant (``2024-08-19T13:00:00Z``, a date, or with an offset) to UTC.

    Raises:
        ValueError: with the offending text, when it is not ISO 8601.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValueError(
            f"{text!r} is not an ISO 8601 instant (e.g. 2024-08-19T13:00:00Z)"
        ) from err
    return ensure_utc(moment)
