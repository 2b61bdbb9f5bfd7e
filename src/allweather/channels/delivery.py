"""What a send returns, and the one interface every channel kind implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self

from allweather.channels.kinds import ChannelKind
from allweather.channels.targets import ChannelTarget
from allweather.domain.notification import Notification


@dataclass(frozen=True)
class Delivery:
    """A message the provider accepted.

    Args:
        kind: the channel kind.
        target: the masked target (``ChannelTarget.masked()``), safe to store and show.
        status: the HTTP status, or None where the transport has none (SMTP through apprise).
        response: the start of the provider's answer, for the delivery log.
        latency_s: seconds from the request to the answer.
    """

    kind: ChannelKind
    target: str
    status: int | None
    response: str
    latency_s: float


class Sender(Protocol):
    """Delivers notifications to one target. Blocking; call it from a worker thread.

    Usable as a context manager that closes it. The senders here subclass this protocol to
    inherit ``__enter__``/``__exit__``.
    """

    target: ChannelTarget

    def send(self, note: Notification) -> Delivery:
        """Deliver ``note`` once (no retries here: the dispatcher decides).

        Raises:
            DeliveryError: with ``retryable`` and, when throttled, ``retry_after_s``.
        """
        ...

    def close(self) -> None:
        """Release the connection pool, if any."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
