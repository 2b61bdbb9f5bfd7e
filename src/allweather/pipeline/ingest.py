"""Ingest: move a source's payloads through ``parse`` into the store, chunk by chunk.

Guarantees:
- idempotent: event keys derive from the source's ids, so a replay adds nothing;
- crash-safe: each chunk commits with the payload's progress, so a killed run resumes after its
  last committed chunk and ends with exactly the events of one clean run;
- nothing lost to one bad record: rejections go to quarantine with the reason, the rest lands.
"""

from __future__ import annotations

import gzip
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from allweather.connectors.base import Connector, FetchContext, Payload
from allweather.connectors.http import HttpClient
from allweather.domain.clock import Clock
from allweather.domain.events import (
    EventColumns,
    ListedEntity,
    Rejection,
    Retraction,
    RiskEvent,
    Skipped,
)
from allweather.errors import InputError
from allweather.pipeline.enrich import place_in_countries
from allweather.reference.countries import CountryCatalog, country_catalog
from allweather.store.base import Chunk, ChunkCounts, RunRecord, SourceStore

log = logging.getLogger("allweather.pipeline.ingest")

CHUNK_RECORDS = 2000  # records per transaction on the object path
# A list snapshot that would drop more than 20 % of what is listed, and more than 10 entries,
# is held back instead of delisting: a file truncated at a line boundary looks complete.
SNAPSHOT_GUARD = 0.8
SNAPSHOT_SLACK = 10


@dataclass
class IngestReport:
    """What one run did."""

    source: str
    run_id: int
    mode: str
    target: str | None
    started_at: datetime
    read: int = 0
    skipped: int = 0
    payloads: int = 0
    resumed_chunks: int = 0
    counts: ChunkCounts = field(default_factory=ChunkCounts)
    newest_event_at: datetime | None = None
    status: str = "ok"
    error: str | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when every record landed, 1 when some were quarantined or the run failed."""
        return 0 if self.status in ("ok", "unchanged") and not self.counts.quarantined else 1

    def line(self) -> str:
        c = self.counts
        resumed = (
            f", resumed after {self.resumed_chunks} committed chunks" if self.resumed_chunks else ""
        )
        return (
            f"{self.source}: read {self.read}, new {c.new}, updated {c.updated}, "
            f"deleted {c.deleted}, quarantined {c.quarantined}, skipped {self.skipped} "
            f"[{self.status}] in {self.seconds:.1f} s{resumed}"
        )


class _OrderedWriter:
    """Commits chunks on one background thread, in the order they were put.

    At most two chunks wait in the queue, so parsing cannot run far ahead of the database. A
    failed commit stops the writer; the error is raised by the next ``put`` or by ``close``.
    """

    def __init__(
        self,
        store: SourceStore,
        clock: Clock,
        counts: ChunkCounts,
        after_chunk: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.after_chunk = after_chunk
        self.clock = clock
        self.counts = counts
        self.error: BaseException | None = None
        self.queue: queue.Queue[Chunk | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain without writing once a commit has failed
            try:
                self.counts.add(self.store.commit_chunk(chunk, self.clock.now()))
                if self.after_chunk is not None:
                    self.after_chunk()  # e.g. re-score the projects the chunk reached
            except BaseException as err:  # noqa: BLE001 — handed to the parsing thread
                self.error = err

    def put(self, chunk: Chunk) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


class Ingestor:
    """Runs connectors against a store on the platform clock.

    Args:
        store: where events, runs and state go.
        clock: the platform clock (``ALLWEATHER_NOW`` aware).
        archive_dir: where fetched raw payloads are kept (None: not archived).
    """

    def __init__(
        self,
        store: SourceStore,
        clock: Clock,
        archive_dir: Path | None = None,
        catalog: CountryCatalog | None = None,
        after_chunk: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.after_chunk = after_chunk
        self.clock = clock
        self.archive_dir = archive_dir
        self.catalog = catalog or country_catalog()

    def ingest_file(self, connector: Connector, path: Path) -> IngestReport:
        """Offline: land a recorded file through the connector's parser.

        Raises:
            InputError: the file does not exist or cannot be read.
        """
        if not path.is_file():
            raise InputError(f"cannot read {path}: no such file")
        report = self._start(connector, "file", str(path))
        try:
            self._land_all(connector, report, connector.file_payloads(path))
        except BaseException as err:
            self._fail(report, err)
            self._finish(report)
            raise
        return self._finish(report)

    def ingest_payloads(
        self, connector: Connector, payloads: Iterable[Payload], mode: str
    ) -> IngestReport:
        """Land payloads produced elsewhere (the demo replay)."""
        report = self._start(connector, mode, None)
        try:
            self._land_all(connector, report, payloads)
        except BaseException as err:
            self._fail(report, err)
            self._finish(report)
            raise
        return self._finish(report)

    async def ingest_live(
        self,
        connector: Connector,
        http: HttpClient,
        secrets: dict[str, str],
        since: datetime | None = None,
    ) -> IngestReport:
        """Live: fetch from the source (conditionally), archive, parse, land; update the cursor."""
        spec = connector.spec
        state = self.store.state(spec.id)
        state.last_attempt_at = self.clock.now()
        report = self._start(connector, "live", spec.url)
        ctx = FetchContext(
            http, self.clock, dict(state.cursor), state.etag, state.last_modified, secrets, since
        )
        try:
            async for payload in connector.fetch(ctx):
                self._archive(spec.id, report.run_id, payload)
                self._land(connector, report, payload)
                state = self.store.state(spec.id)
                state.cursor = ctx.cursor = connector.advance_cursor(dict(state.cursor), payload)
                state.etag = payload.etag or state.etag
                state.last_modified = payload.last_modified or state.last_modified
                self.store.save_state(state)
        except Exception as err:  # noqa: BLE001 — any failure is recorded on the run and the state
            state = self.store.state(spec.id)
            state.last_attempt_at = self.clock.now()
            state.last_error = f"{type(err).__name__}: {err}"
            self.store.save_state(state)
            self._fail(report, err)
            return self._finish(report)
        if report.payloads == 0:
            report.status = "unchanged"
        state = self.store.state(spec.id)
        state.last_attempt_at = state.last_success_at = self.clock.now()
        state.last_error = None
        self.store.save_state(state)
        return self._finish(report)

    # ------------------------------------------------------------------ internals

    def _start(self, connector: Connector, mode: str, target: str | None) -> IngestReport:
        now = self.clock.now()
        run_id = self.store.start_run(connector.spec.id, mode, target, now)
        report = IngestReport(connector.spec.id, run_id, mode, target, now)
        report.seconds = time.perf_counter()  # replaced by the duration in _finish
        return report

    def _fail(self, report: IngestReport, err: BaseException) -> None:
        report.status = "failed"
        report.error = f"{type(err).__name__}: {err}"

    def _finish(self, report: IngestReport) -> IngestReport:
        report.seconds = time.perf_counter() - report.seconds
        if report.status == "ok" and report.counts.quarantined:
            report.status = "partial"
        c = report.counts
        self.store.finish_run(
            RunRecord(
                id=report.run_id,
                source=report.source,
                mode=report.mode,
                target=report.target,
                started_at=report.started_at,
                finished_at=self.clock.now(),
                status=report.status,
                records_read=report.read,
                records_new=c.new,
                records_updated=c.updated,
                records_deleted=c.deleted,
                records_quarantined=c.quarantined,
                records_skipped=report.skipped,
                newest_event_at=report.newest_event_at,
                error=report.error,
            )
        )
        if report.mode == "file" and report.status != "failed":
            state = self.store.state(report.source)
            state.last_attempt_at = state.last_success_at = self.clock.now()
            self.store.save_state(state)
        log.debug(
            "run finished",
            extra={"source": report.source, "run": report.run_id, "status": report.status},
        )
        return report

    def _land_all(
        self, connector: Connector, report: IngestReport, payloads: Iterable[Payload]
    ) -> None:
        for payload in payloads:
            self._land(connector, report, payload)

    def _land(self, connector: Connector, report: IngestReport, payload: Payload) -> None:
        """Parse one payload and commit it chunk by chunk, skipping chunks already committed.

        Parsing runs here while a writer thread commits the previous chunk (both release the
        GIL for their heavy parts), in order, each chunk with its progress marker.
        """
        spec = connector.spec
        report.payloads += 1
        already = self.store.state(spec.id).progress.get(payload.fingerprint, 0)
        seen_entities: set[str] = set()
        index = 0
        buffer = Chunk(spec.id, spec.number, report.run_id)
        size = 0
        writer = _OrderedWriter(self.store, self.clock, report.counts, self.after_chunk)

        def flush(chunk: Chunk) -> None:
            nonlocal index
            index += 1
            if index <= already:  # committed before a crash: parsed again only to move on
                report.resumed_chunks += 1
                return
            chunk.progress = (payload.fingerprint, index)
            place_in_countries(chunk, self.catalog)
            writer.put(chunk)

        try:
            for item in connector.parse(payload):
                if isinstance(item, EventColumns):
                    if size:
                        flush(buffer)
                        buffer, size = Chunk(spec.id, spec.number, report.run_id), 0
                    report.read += len(item) + len(item.rejections) + item.skipped
                    report.skipped += item.skipped
                    if len(item):
                        self._saw(report, datetime.fromtimestamp(max(item.occurred_at), UTC))
                    flush(Chunk(spec.id, spec.number, report.run_id, columns=[item]))
                    continue
                if isinstance(item, Skipped):
                    report.read += item.count
                    report.skipped += item.count
                    continue
                report.read += 1
                size += 1
                if isinstance(item, RiskEvent):
                    buffer.events.append(item)
                    self._saw(report, item.occurred_at)
                elif isinstance(item, Rejection):
                    buffer.rejections.append(item)
                    if item.source_id:  # unreadable, but still on the list: not delisted
                        seen_entities.add(item.source_id)
                elif isinstance(item, Retraction):
                    buffer.retractions.append(item)
                elif isinstance(item, ListedEntity):
                    buffer.entities.append(item)
                    seen_entities.add(item.source_id)
                if size >= CHUNK_RECORDS:
                    flush(buffer)
                    buffer, size = Chunk(spec.id, spec.number, report.run_id), 0
            if size:
                flush(buffer)
        except Exception:
            if size:  # records read before the payload broke still land
                flush(buffer)
            raise
        finally:
            writer.close()  # waits for every queued chunk; re-raises a failed commit
        if spec.output == "entities" and seen_entities:
            self._delist(spec.id, seen_entities, report)
        state = self.store.state(spec.id)
        state.progress = {k: v for k, v in state.progress.items() if k != payload.fingerprint}
        self.store.save_state(state)

    def _delist(self, source: str, seen: set[str], report: IngestReport) -> None:
        """A list file is a snapshot: whoever it no longer names has been delisted — unless the
        snapshot looks cut short (see SNAPSHOT_GUARD), when nothing is delisted and the run
        says why."""
        listed = self.store.listed_count(source)
        if len(seen) < SNAPSHOT_GUARD * listed and listed - len(seen) > SNAPSHOT_SLACK:
            report.status = "partial"
            report.error = (
                f"snapshot of {len(seen)} entries against {listed} listed: "
                "delisting held back — a truncated file?"
            )
            return
        now = self.clock.now()
        report.counts.deleted += self.store.delist_missing(source, seen, report.run_id, now)

    @staticmethod
    def _saw(report: IngestReport, moment: datetime) -> None:
        if report.newest_event_at is None or moment > report.newest_event_at:
            report.newest_event_at = moment

    def _archive(self, source: str, run_id: int, payload: Payload) -> None:
        """Keep the raw bytes of a fetched payload (gzip) under the archive directory."""
        if self.archive_dir is None or payload.content is None:
            return
        now = self.clock.now()
        folder = self.archive_dir / source / now.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in payload.name)[:80]
        path = folder / f"{now:%H%M%S}-{payload.fingerprint[:12]}-{safe}.gz"
        path.write_bytes(gzip.compress(payload.content))
        self.store.record_payload(
            source, run_id, payload.fingerprint, str(path), len(payload.content), payload.url, now
        )
