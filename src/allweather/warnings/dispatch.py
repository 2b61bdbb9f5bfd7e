"""Deliver the outbox: at least once, in order per channel, within the providers' limits.

Two clocks meet here. Whether a message is *due* (a digest period, quiet hours) follows the
platform clock, like every other decision. Leases, retry back-off and rate-limit windows follow
the wall clock: they are about a real provider answering now, even in a replay.

A row is claimed by setting a lease (``locked_until``), so several dispatchers can share the
outbox; a crashed one's lease runs out and another picks the row up. A send that succeeded
but whose bookkeeping was lost is sent again under the same idempotency key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from allweather.channels import (
    ChannelConfig,
    ChannelKind,
    DeliveryError,
    Sender,
    parse_target,
    sender_for,
)
from allweather.domain.clock import Clock
from allweather.domain.notification import Notification
from allweather.domain.warnings.texts import digest
from allweather.store import warnings as ws
from allweather.store.tables import channels, outbox

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
CLAIM_LIMIT = 500
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 600.0


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures: 5 s doubling, at most 10 min."""
    return float(min(BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class DispatchReport:
    sent: int = 0  # messages the providers accepted
    items: int = 0  # outbox rows those messages carried
    failed: int = 0  # attempts that failed (retried later unless permanent)
    given_up: int = 0  # rows marked failed for good
    deferred: int = 0  # rows held back by a rate limit
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"dispatch: {self.sent} message(s) sent carrying {self.items} notification(s), "
            f"{self.failed} failed attempt(s), {self.given_up} given up, {self.deferred} deferred"
        )


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        config: ChannelConfig,
        clock: Clock,
        wall: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.wall = wall
        self._senders: dict[int, tuple[Any, Sender]] = {}
        self.wake_event = threading.Event()

    def wake(self) -> None:
        """Tell a serving dispatcher there is something to send (called after a commit)."""
        self.wake_event.set()

    def close(self) -> None:
        for _, sender in self._senders.values():
            sender.close()
        self._senders.clear()

    # ------------------------------------------------------------------ one pass

    def run_once(self) -> DispatchReport:
        """Send everything due now; returns what happened."""
        report = DispatchReport()
        claimed = self._claim()
        by_channel: dict[int, list[Any]] = defaultdict(list)
        for row in claimed:
            by_channel[int(row.channel_id)].append(row)
        for channel_id, rows in by_channel.items():
            self._channel(channel_id, rows, report)
        return report

    def _claim(self) -> list[Any]:
        now, wall = self.clock.now(), self.wall()
        with self.engine.begin() as conn:
            query = (
                select(outbox)
                .where(
                    outbox.c.status == "pending",
                    outbox.c.due_at <= now,
                    or_(outbox.c.locked_until.is_(None), outbox.c.locked_until < wall),
                )
                .order_by(outbox.c.id)
                .limit(CLAIM_LIMIT)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(conn.execute(query))
            if rows:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([r.id for r in rows]))
                    .values(locked_until=wall + LEASE)
                )
        return rows

    def _sender(self, channel: Any) -> Sender:
        held = self._senders.get(int(channel.id))
        stamp = (channel.kind, channel.target, channel.secret)
        if held is not None and held[0] == stamp:
            return held[1]
        if held is not None:
            held[1].close()
        target = parse_target(channel.kind, channel.target, channel.secret)
        sender = sender_for(target, self.config)
        self._senders[int(channel.id)] = (stamp, sender)
        return sender

    def _capacity(self, channel: Any) -> int | None:
        """How many more messages the channel's provider limits allow now (None: no limit)."""
        limits = ChannelKind(channel.kind).rate_limits
        if not limits:
            return None
        wall = self.wall()
        with self.engine.connect() as conn:
            return min(
                limit.max_messages
                - ws.sent_since(conn, int(channel.id), wall - timedelta(seconds=limit.window_s))
                for limit in limits
            )

    def _channel(self, channel_id: int, rows: list[Any], report: DispatchReport) -> None:
        with self.engine.connect() as conn:
            channel = conn.execute(select(channels).where(channels.c.id == channel_id)).one()
        if not channel.enabled:
            self._release(rows, defer_s=None)
            return
        live = [r for r in rows if r.mode == "live"]
        digests = [r for r in rows if r.mode != "live"]
        capacity = self._capacity(channel)
        batches: list[list[Any]] = []
        if capacity is None or len(live) + (1 if digests else 0) <= capacity:
            batches = [[r] for r in live] + ([digests] if digests else [])
        elif capacity >= 1:
            # A burst over the limit: the first messages go alone, the rest as one digest.
            alone = live[: capacity - 1]
            batches = [[r] for r in alone] + [live[capacity - 1 :] + digests]
        else:
            limits = ChannelKind(channel.kind).rate_limits
            wait = min(limit.window_s / limit.max_messages for limit in limits)
            report.deferred += len(rows)
            self._release(rows, defer_s=wait)
            return
        try:
            sender = self._sender(channel)
        except ValueError as err:  # the stored target no longer parses: nothing can help
            for batch in batches:
                self._failed(
                    channel, batch, _message(batch, self.clock.now()), err, report, permanent=True
                )
            return
        for batch in batches:
            note = _message(batch, self.clock.now())
            started = time.perf_counter()
            try:
                sender.send(note)
            except DeliveryError as err:
                self._failed(channel, batch, note, err, report, permanent=not err.retryable)
                continue
            except Exception as err:  # a bug or an unexpected transport error: retry later
                log.exception("channel %s: unexpected error", channel_id)
                self._failed(channel, batch, note, err, report, permanent=False)
                continue
            latency = (time.perf_counter() - started) * 1000
            self._sent(channel, batch, note, latency, report)

    # ------------------------------------------------------------------ bookkeeping

    def _sent(
        self,
        channel: Any,
        batch: list[Any],
        note: Notification,
        latency_ms: float,
        report: DispatchReport,
    ) -> None:
        wall = self.wall()
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in batch]))
                .values(
                    status="sent" if len(batch) == 1 else "digested",
                    sent_at=wall,
                    sent_as=note.key,
                    attempts=outbox.c.attempts + 1,
                    locked_until=None,
                    last_error=None,
                )
            )
            ws.log_delivery(
                conn,
                channel_id=int(channel.id),
                key=note.key,
                items=len(batch),
                attempt=max(int(r.attempts) for r in batch) + 1,
                at=wall,
                ok=True,
                latency_ms=latency_ms,
                detail=None,
            )
        report.sent += 1
        report.items += len(batch)

    def _failed(
        self,
        channel: Any,
        batch: list[Any],
        note: Notification,
        err: Exception,
        report: DispatchReport,
        permanent: bool,
    ) -> None:
        wall = self.wall()
        attempts = max(int(r.attempts) for r in batch) + 1
        wait = backoff(attempts)
        retry_after = getattr(err, "retry_after_s", None)
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        detail = str(err)[:500]
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in batch]))
                .values(
                    status="failed" if permanent else "pending",
                    attempts=outbox.c.attempts + 1,
                    locked_until=None if permanent else wall + timedelta(seconds=wait),
                    last_error=detail,
                )
            )
            ws.log_delivery(
                conn,
                channel_id=int(channel.id),
                key=note.key,
                items=len(batch),
                attempt=attempts,
                at=wall,
                ok=False,
                latency_ms=0.0,
                detail=detail,
            )
        report.failed += 1
        if permanent:
            report.given_up += len(batch)
        report.errors.append(f"channel {channel.id} ({channel.kind}): {detail}")

    def _release(self, rows: list[Any], defer_s: float | None) -> None:
        until = None if defer_s is None else self.wall() + timedelta(seconds=defer_s)
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(locked_until=until)
            )

    # ------------------------------------------------------------------ serving

    def serve(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        """Deliver until ``stop`` is set; a ``wake()`` starts the next pass at once."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # keep serving: the database may come back
                log.exception("dispatch pass failed")
                report = DispatchReport()
            if report.sent or report.failed:
                continue  # more may be waiting
            self.wake_event.wait(poll_s)
            self.wake_event.clear()


def _message(batch: list[Any], now: datetime) -> Notification:
    """The message for a batch: the stored notification, or a digest of several."""
    notes = [Notification.from_dict(r.payload) for r in batch]
    if len(notes) == 1:
        return notes[0]
    ids = sorted(int(r.id) for r in batch)
    return digest(notes, f"digest.c{batch[0].channel_id}.{ids[0]}-{ids[-1]}.{len(ids)}", now)


def start_dispatcher(
    dispatcher: Dispatcher, poll_s: float = 1.0
) -> tuple[threading.Thread, threading.Event]:
    """Run ``dispatcher.serve`` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=dispatcher.serve, args=(stop, poll_s), name="allweather-dispatch", daemon=True
    )
    thread.start()
    return thread, stop
