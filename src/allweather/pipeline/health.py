"""Source health: is each source alive, fresh and delivering what it should?

A source is **stale** when its last successful run is older than twice its cadence — silence is
never mistaken for safety. Volume outside the spec's expectation is flagged, not failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from allweather.connectors.spec import SourceSpec
from allweather.store.base import RunRecord, SourceState

STALE_FACTOR = 2


@dataclass(frozen=True)
class SourceHealth:
    source: str
    title: str
    title_zh: str
    enabled: bool
    cadence: timedelta
    last_success_at: datetime | None
    last_status: str | None
    last_read: int | None
    last_quarantined: int | None
    newest_event_at: datetime | None
    lag: timedelta | None  # now minus the newest event of the last run
    silent_for: timedelta | None  # now minus the last success
    stale: bool
    volume: str  # ok, low, high, or - when unknown
    last_error: str | None

    @property
    def status(self) -> str:
        """One word for the table: stale, failing, idle (never run, not enabled) or ok."""
        if self.stale:
            return "stale"
        if self.last_status == "failed":
            return "failing"
        if self.last_success_at is None:
            return "idle"
        return "ok"


def assess(
    spec: SourceSpec, state: SourceState | None, last_run: RunRecord | None, now: datetime
) -> SourceHealth:
    """The health of one source from its spec, state and newest run."""
    enabled = spec.enabled if state is None or state.enabled is None else state.enabled
    last_success = state.last_success_at if state else None
    silent_for = now - last_success if last_success else None
    watched = enabled or last_success is not None
    stale = watched and (silent_for is None or silent_for > STALE_FACTOR * spec.cadence)
    volume = "-"
    if last_run is not None and last_run.status in ("ok", "partial"):
        landed = last_run.records_read - last_run.records_skipped
        expected = spec.expected_per_run
        volume = "low" if landed < expected.min else "high" if landed > expected.max else "ok"
    newest = last_run.newest_event_at if last_run else None
    return SourceHealth(
        source=spec.id,
        title=spec.title,
        title_zh=spec.title_zh,
        enabled=enabled,
        cadence=spec.cadence,
        last_success_at=last_success,
        last_status=last_run.status if last_run else None,
        last_read=last_run.records_read if last_run else None,
        last_quarantined=last_run.records_quarantined if last_run else None,
        newest_event_at=newest,
        lag=now - newest if newest else None,
        silent_for=silent_for,
        stale=stale,
        volume=volume,
        last_error=state.last_error if state else None,
    )
