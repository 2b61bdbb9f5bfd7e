"""The HTTP senders' common part: one POST per message and the reading of the answer.

Retry classification (DeliveryError.retryable):

- connection errors, timeouts, HTTP 5xx, 408 and 425: retryable;
- HTTP 429 and the providers' throttling codes: retryable, with ``retry_after_s``;
- any other 4xx, 3xx (a redirect is a misconfigured URL) and every other non-zero result code
  of a robot: not retryable, because the same request will be refused again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from allweather import __version__
from allweather.channels.config import ChannelConfig
from allweather.channels.delivery import Delivery, Sender
from allweather.channels.errors import DeliveryError
from allweather.channels.kinds import ChannelKind
from allweather.channels.targets import ChannelTarget
from allweather.domain.notification import Notification

USER_AGENT = f"Allweather/{__version__}"
JSON_UTF8 = "application/json; charset=utf-8"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_RETRY_STATUSES = frozenset({408, 425})
_SNIPPET = 300


@dataclass(frozen=True)
class Post:
    """One request to make: where, what and with which headers."""

    url: httpx.URL
    body: bytes
    headers: dict[str, str]


def json_bytes(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON with Chinese left readable (no \\u escapes), as the robots' docs show."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class HttpSender(Sender):
    """Posts one JSON body per notification to ``target`` through its own ``httpx.Client``.

    Args:
        target: where to deliver.
        config: for the timeout.
        now: wall-clock seconds since the epoch for signature timestamps. Always real time,
            never the platform clock: a replayed or pinned clock would make every signature
            stale to the provider.
    """

    kind: ClassVar[ChannelKind]

    def __init__(
        self,
        target: ChannelTarget,
        config: ChannelConfig,
        now: Callable[[], float] = time.time,
    ) -> None:
        if target.kind is not self.kind:
            raise ValueError(f"{type(self).__name__} cannot send to a {target.kind} target")
        self.target = target
        self._now = now
        self._timeout_s = config.timeout_s
        self._client = httpx.Client(
            timeout=config.timeout_s,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def build(self, note: Notification) -> Post:
        """The request that delivers ``note``."""
        raise NotImplementedError

    def send(self, note: Notification) -> Delivery:
        """Deliver ``note`` once; raise ``DeliveryError`` when the provider did not accept it."""
        post = self.build(note)
        started = time.monotonic()
        try:
            response = self._client.post(post.url, content=post.body, headers=post.headers)
        except httpx.TimeoutException as err:
            raise DeliveryError(
                f"{self._where()}: no answer within {self._timeout_s:g} s ({type(err).__name__})",
                retryable=True,
            ) from err
        except httpx.RequestError as err:
            raise DeliveryError(
                f"{self._where()}: connection failed ({type(err).__name__}: {err})",
                retryable=True,
            ) from err
        latency = time.monotonic() - started
        self._check(response)
        return Delivery(
            kind=self.kind,
            target=self.target.masked(),
            status=response.status_code,
            response=_snippet(response),
            latency_s=latency,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def check_result(self, response: httpx.Response) -> None:
        """Refuse a 2xx/4xx answer whose body says the message was not accepted."""

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429:
            raise self.throttled(response, f"HTTP 429 {_snippet(response)}")
        if status >= 500 or status in _RETRY_STATUSES:
            raise DeliveryError(
                f"{self._where()}: HTTP {status} {_snippet(response)}".rstrip(),
                retryable=True,
                retry_after_s=self._retry_after(response),
                status=status,
            )
        self.check_result(response)
        if not 200 <= status < 300:
            raise self.refused(response, f"HTTP {status} {_snippet(response)}".rstrip())

    def throttled(self, response: httpx.Response, why: str) -> DeliveryError:
        """The provider throttled us: retry after its Retry-After, else its usual block time."""
        wait = self._retry_after(response)
        return DeliveryError(
            f"{self._where()}: throttled, {why}",
            retryable=True,
            retry_after_s=self.kind.throttle_s if wait is None else wait,
            status=response.status_code,
        )

    def refused(self, response: httpx.Response, why: str) -> DeliveryError:
        """The provider refused the message for good."""
        return DeliveryError(
            f"{self._where()}: refused, {why}", retryable=False, status=response.status_code
        )

    def _where(self) -> str:
        return f"{self.kind.label.both()} {self.target.masked()}"

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(when.timestamp() - self._now(), 0.0)


class RobotSender(HttpSender):
    """A chat robot: HTTP 200 with a JSON result code, 0 meaning accepted."""

    throttle_codes: ClassVar[frozenset[int]] = frozenset()
    transient_codes: ClassVar[frozenset[int]] = frozenset()

    def result_code(self, payload: dict[str, Any]) -> tuple[int, str] | None:
        """``(code, message)`` of the provider's answer, None when it has none."""
        raise NotImplementedError

    def check_result(self, response: httpx.Response) -> None:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        result = self.result_code(payload) if isinstance(payload, dict) else None
        if result is None:
            # A relay or proxy answered instead of the robot: whether it delivered is unknown,
            # and retrying blindly could post twice.
            raise self.refused(response, f"answer without a result code: {_snippet(response)}")
        code, message = result
        if code == 0:
            return
        why = f"code {code} {message}".rstrip()
        if code in self.throttle_codes:
            raise self.throttled(response, why)
        if code in self.transient_codes:
            raise DeliveryError(
                f"{self._where()}: provider busy, {why}",
                retryable=True,
                status=response.status_code,
            )
        raise self.refused(response, why)


def header_value(text: str) -> str:
    """``text`` safe for an HTTP or mail header: percent-encoded unless printable ASCII."""
    if text.isascii() and text.isprintable():
        return text
    return quote(text, safe="")


def int_code(value: object) -> int | None:
    """A result code as an int (providers send numbers, some relays strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _snippet(response: httpx.Response) -> str:
    text = response.text.replace("\r", " ").replace("\n", " ").strip()
    return text[:_SNIPPET]
