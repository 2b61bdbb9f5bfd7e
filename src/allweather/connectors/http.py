"""The one HTTP client connectors fetch through: timeouts, retries with backoff, conditional GET."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from allweather import __version__
from allweather.connectors.base import Payload
from allweather.connectors.errors import (
    SourceAuthError,
    SourceNotFoundError,
    SourceUnavailableError,
)

log = logging.getLogger("allweather.connectors.http")

USER_AGENT = f"Allweather/{__version__} (+https://github.com/allweather; risk early warning)"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpClient:
    """Async GET with timeouts, bounded retries and exponential backoff with jitter.

    Args:
        client: an httpx client to use (tests inject one with a mock transport).
        attempts: tries per request, the first included.
        backoff: base delay in seconds; attempt n waits about backoff * 2**(n-1).
        sleep: the waiting function (tests pass a no-op).
        now: the clock for ``fetched_at``.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        attempts: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
        )
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep
        self._now = now

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Payload | None:
        """GET ``url``; None when the server says 304 Not Modified.

        Raises:
            SourceAuthError: 401 or 403.
            SourceNotFoundError: 404 or 410 (not retried: e.g. a release not yet published).
            SourceUnavailableError: network failure, timeout or a retryable status after all
                attempts, or any other error status.
        """
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        last_problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self._client.get(url, params=params, headers=request_headers)
            except httpx.TransportError as err:
                last_problem = f"{type(err).__name__}: {err}"
            else:
                if response.status_code == 304:
                    return None
                if response.status_code in (401, 403):
                    raise SourceAuthError(
                        f"{url}: HTTP {response.status_code}; check the credentials"
                    )
                if response.status_code in (404, 410):
                    raise SourceNotFoundError(f"{url}: HTTP {response.status_code}")
                if response.is_success:
                    return Payload.from_bytes(
                        url.rsplit("/", 1)[-1] or url,
                        response.content,
                        url=str(response.url),
                        fetched_at=self._now() if self._now else None,
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                    )
                last_problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
                retry_after = _retry_after(response)
                if retry_after is not None and attempt < self.attempts:
                    await self._sleep(retry_after)
                    continue
            if attempt < self.attempts:
                delay = self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4)  # noqa: S311
                log.info(
                    "retrying", extra={"url": url, "attempt": attempt, "delay": round(delay, 2)}
                )
                await self._sleep(delay)
        raise SourceUnavailableError(f"{url}: {last_problem} after {self.attempts} attempts")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.isdigit():
        return min(float(value), 300.0)
    try:
        moment = parsedate_to_datetime(value)
        date_header = parsedate_to_datetime(response.headers.get("Date", value))
    except (TypeError, ValueError):
        return None
    return max(0.0, min((moment - date_header).total_seconds(), 300.0))
