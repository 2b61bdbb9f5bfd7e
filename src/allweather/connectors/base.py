"""The code half of a connector: ``fetch`` (the only I/O) and a pure ``parse``."""

from __future__ import annotations

import gzip
import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from allweather.connectors.spec import SourceSpec
from allweather.domain.clock import Clock
from allweather.domain.events import (
    EventColumns,
    ListedEntity,
    Rejection,
    Retraction,
    RiskEvent,
    Skipped,
)

if TYPE_CHECKING:
    from allweather.connectors.http import HttpClient

# What parse yields, in order. EventColumns is the bulk form of many RiskEvents.
Parsed = RiskEvent | Retraction | Rejection | ListedEntity | Skipped | EventColumns

_FINGERPRINT_SLICE = 1 << 16


@dataclass(frozen=True)
class Payload:
    """One unit of raw input: a file, or one response of a source.

    ``fingerprint`` identifies the content, so an interrupted payload can resume where its last
    committed chunk ended. For files it is a hash of size, modification time and the first and
    last 64 KiB (hashing gigabytes up front would cost more than it protects); for fetched
    content it is the SHA-256 of the bytes.
    """

    name: str
    fingerprint: str
    path: Path | None = None
    content: bytes | None = None
    url: str | None = None
    fetched_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)  # connector-specific (e.g. file time)

    @classmethod
    def from_path(cls, path: Path, **meta: Any) -> Payload:
        stat = path.stat()
        digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(_FINGERPRINT_SLICE))
            if stat.st_size > _FINGERPRINT_SLICE:
                fh.seek(max(stat.st_size - _FINGERPRINT_SLICE, _FINGERPRINT_SLICE))
                digest.update(fh.read())
        return cls(name=path.name, fingerprint=digest.hexdigest(), path=path, meta=meta)

    @classmethod
    def from_bytes(cls, name: str, content: bytes, **fields: Any) -> Payload:
        return cls(
            name=name, fingerprint=hashlib.sha256(content).hexdigest(), content=content, **fields
        )

    def open(self) -> IO[bytes]:
        """A binary stream of the content; ``.gz`` names are decompressed on the fly."""
        if self.path is not None:
            raw: IO[bytes] = self.path.open("rb")
        elif self.content is not None:
            raw = io.BytesIO(self.content)
        else:  # pragma: no cover - constructors always set one
            raise ValueError(f"payload {self.name} has no content")
        if self.name.lower().endswith(".gz"):
            return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
        return raw

    def read(self) -> bytes:
        with self.open() as fh:
            return fh.read()


@dataclass
class FetchContext:
    """What ``fetch`` may use: the shared HTTP client, the source's state, the clock."""

    http: HttpClient
    clock: Clock
    cursor: dict[str, Any]
    etag: str | None = None
    last_modified: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None  # a backfill asked for: fetch from this instant, not the cursor


class Connector(ABC):
    """A source: its spec (set by the registry) plus fetch and parse.

    Subclasses implement ``parse`` and, when the default single conditional GET of
    ``spec.url`` is not enough, ``fetch``.
    """

    spec: SourceSpec

    def file_payloads(self, path: Path) -> Iterator[Payload]:
        """Offline input (``allweather ingest SOURCE --file PATH``): by default the file itself."""
        yield Payload.from_path(path)

    async def fetch(self, ctx: FetchContext) -> AsyncIterator[Payload]:
        """Live input. The default asks ``spec.url`` once, conditionally (ETag/Last-Modified).

        Yields nothing when the source answers "not modified".
        """
        if not self.spec.url:
            return
        payload = await ctx.http.get(self.spec.url, etag=ctx.etag, last_modified=ctx.last_modified)
        if payload is not None:
            yield payload

    @abstractmethod
    def parse(self, payload: Payload) -> Iterator[Parsed]:
        """Turn a payload into events (or entities), rejections and retractions.

        Pure: no I/O beyond reading ``payload``, and deterministic, so a resumed payload yields
        the same chunks again. Streams: never holds a whole large file in memory.
        """

    def advance_cursor(self, cursor: dict[str, Any], payload: Payload) -> dict[str, Any]:
        """The cursor after ``payload`` has fully landed (default: unchanged)."""
        return cursor
