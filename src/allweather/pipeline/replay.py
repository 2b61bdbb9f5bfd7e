"""Replay: recorded real events streamed into the platform as if live, on the platform clock.

The demo replays the bundled recordings (USGS, UCDP, GDACS, GDELT) on an accelerated clock, so
a newcomer sees events arrive with no network. Every event goes through the same enrich and
store path as a live run — idempotent, so replaying twice adds nothing — and lands when the
platform clock passes the moment it happened. Events older than the replay's start land at
once, as history.
"""

from __future__ import annotations

import bisect
import csv
import logging
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from allweather.connectors.base import Connector
from allweather.connectors.registry import all_connectors
from allweather.domain.clock import Clock
from allweather.domain.events import EventColumns, RiskEvent
from allweather.pipeline.enrich import place_in_countries
from allweather.reference.countries import CountryCatalog
from allweather.store.base import Chunk, RunRecord, SourceStore

log = logging.getLogger("allweather.pipeline.replay")

CHUNK = 2000


@dataclass(frozen=True)
class Recording:
    """A bundled recording of one source (data/replay/manifest.csv)."""

    source: str
    path: Path
    attribution: str


def bundled_recordings() -> list[Recording]:
    """The recordings shipped with the platform whose connector is registered."""
    folder = Path(str(resources.files("allweather.data").joinpath("replay")))
    known = {c.spec.id for c in all_connectors()}
    with (folder / "manifest.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Recording(r["source"], folder / r["file"], r["attribution"])
        for r in rows
        if r["source"] in known and (folder / r["file"]).exists()
    ]


@dataclass
class _Stream:
    connector: Connector
    run_id: int
    events: list[RiskEvent] = field(default_factory=list)  # sorted by occurred_at
    times: list[float] = field(default_factory=list)
    next: int = 0
    landed: int = 0


class Replayer:
    """Lands recorded events as the clock passes them.

    Args:
        store: the source store.
        clock: the platform clock (a ``ReplayClock`` in the demo).
        catalog: countries, for events that have coordinates but no country.
    """

    def __init__(self, store: SourceStore, clock: Clock, catalog: CountryCatalog) -> None:
        self.store = store
        self.clock = clock
        self.catalog = catalog
        self.streams: list[_Stream] = []
        self.started = clock.now()

    def load(self, recordings: list[Recording], connectors: dict[str, Connector]) -> int:
        """Parse every recording into memory (they are small) and open a replay run each."""
        total = 0
        for recording in recordings:
            connector = connectors[recording.source]
            events: list[RiskEvent] = []
            for payload in connector.file_payloads(recording.path):
                for item in connector.parse(payload):
                    if isinstance(item, RiskEvent):
                        events.append(item)
                    elif isinstance(item, EventColumns):
                        events.extend(item.events())
            events.sort(key=lambda e: e.occurred_at)
            run_id = self.store.start_run(
                recording.source, "replay", recording.path.name, self.clock.now()
            )
            self.streams.append(
                _Stream(connector, run_id, events, [e.occurred_at.timestamp() for e in events])
            )
            total += len(events)
        return total

    def step(self) -> int:
        """Land every event the clock has passed since the last step; returns how many."""
        now = self.clock.now().timestamp()
        landed = 0
        for stream in self.streams:
            end = bisect.bisect_right(stream.times, now)
            while stream.next < end:
                batch = stream.events[stream.next : min(end, stream.next + CHUNK)]
                spec = stream.connector.spec
                chunk = Chunk(spec.id, spec.number, stream.run_id, events=list(batch))
                place_in_countries(chunk, self.catalog)
                self.store.commit_chunk(chunk, self.clock.now())
                stream.next += len(batch)
                stream.landed += len(batch)
                landed += len(batch)
        return landed

    def finished(self) -> bool:
        return all(stream.next >= len(stream.events) for stream in self.streams)

    def close(self) -> None:
        """Record each replay run's outcome (what has landed so far)."""
        for stream in self.streams:
            newest = stream.events[stream.next - 1].occurred_at if stream.next else None
            self.store.finish_run(
                RunRecord(
                    id=stream.run_id,
                    source=stream.connector.spec.id,
                    mode="replay",
                    target=None,
                    started_at=self.started,
                    finished_at=self.clock.now(),
                    status="ok",
                    records_read=stream.landed,
                    records_new=stream.landed,
                    records_updated=0,
                    records_deleted=0,
                    records_quarantined=0,
                    records_skipped=0,
                    newest_event_at=newest,
                    error=None,
                )
            )

    def run(self, stop: threading.Event, tick: float = 1.0) -> None:
        """Step every ``tick`` real seconds until ``stop`` is set or everything has landed."""
        try:
            while not stop.is_set():
                landed = self.step()
                if landed:
                    log.debug(
                        "replayed", extra={"events": landed, "clock": self.clock.now().isoformat()}
                    )
                if self.finished():
                    break
                stop.wait(tick)
        finally:
            self.close()
