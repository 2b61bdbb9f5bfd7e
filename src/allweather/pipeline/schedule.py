"""``allweather run``: every enabled source on its own cadence, until stopped.

Time is the platform clock, so a replayed clock (``ALLWEATHER_NOW`` with a speed) runs the
schedule faster too. Sources run one after another in this process; each run is independent,
and a failing source records its error and is tried again at its next due time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from allweather.connectors.base import Connector
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import all_connectors
from allweather.domain.clock import Clock
from allweather.pipeline.ingest import Ingestor
from allweather.store.base import SourceStore

TICK_SECONDS = 1.0  # longest real sleep, so a stop request is honoured promptly
PERIODIC = timedelta(minutes=1)  # platform time between periodic passes (warnings, escalation)


class StopSignal(Protocol):
    """Anything with ``is_set`` (an asyncio or a threading Event)."""

    def is_set(self) -> bool: ...


class Scheduler:
    def __init__(
        self,
        ingestor: Ingestor,
        store: SourceStore,
        clock: Clock,
        secrets_for: Callable[[str], dict[str, str]],
        http_factory: Callable[[], HttpClient] | None = None,
        periodic: Callable[[], object] | None = None,
    ) -> None:
        self.periodic = periodic
        self._last_periodic: datetime | None = None
        self.ingestor = ingestor
        self.store = store
        self.clock = clock
        self.secrets_for = secrets_for
        self.http_factory = http_factory or (lambda: HttpClient(now=clock.now))

    def enabled(self) -> list[Connector]:
        """Connectors enabled by their spec or by `allweather sources enable`."""
        chosen = []
        for connector in all_connectors():
            state = self.store.state(connector.spec.id)
            enabled = connector.spec.enabled if state.enabled is None else state.enabled
            if enabled and connector.spec.url:
                chosen.append(connector)
        return chosen

    def _run_periodic(self) -> None:
        """The periodic pass (warnings re-checked, escalations), once per ``PERIODIC``."""
        if self.periodic is None:
            return
        now = self.clock.now()
        if self._last_periodic is None or now - self._last_periodic >= PERIODIC:
            self._last_periodic = now
            self.periodic()

    def due(self, connector: Connector, now: datetime) -> bool:
        last = self.store.state(connector.spec.id).last_attempt_at
        return last is None or now - last >= connector.spec.cadence

    async def run(
        self,
        connectors: list[Connector] | None = None,
        once: bool = False,
        log: Callable[[str], None] = print,
        stop: StopSignal | None = None,
    ) -> int:
        """Run until ``stop`` is set (or one pass with ``once``); returns the runs made."""
        chosen = connectors if connectors is not None else self.enabled()
        runs = 0
        http = self.http_factory()
        try:
            while stop is None or not stop.is_set():
                for connector in chosen:
                    if stop is not None and stop.is_set():
                        break
                    if self.due(connector, self.clock.now()):
                        report = await self.ingestor.ingest_live(
                            connector, http, self.secrets_for(connector.spec.id)
                        )
                        runs += 1
                        log(report.line() + (f" — {report.error}" if report.error else ""))
                self._run_periodic()
                if once:
                    break
                await asyncio.sleep(TICK_SECONDS)
        finally:
            await http.aclose()
        return runs
