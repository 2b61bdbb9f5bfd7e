"""ACLED: political violence and protest events, their revisions and their deletions.

Files are ACLED CSV exports (events, or deletions: ``event_id_cnty,deleted_timestamp``),
streamed line by line. Live, ``fetch`` pages through the API's ``acled/read`` (events changed
since the cursor) and then ``deleted/read`` (events deleted since the deletion cursor); each
page is one JSON payload (``{status, success, count, data}``).

``event_id_cnty`` is the stable id and ``timestamp`` (ACLED's last change) the ``reported_at``:
a revised event updates the stored one, a deletion becomes a ``Retraction``. Fine type from the
sub-event type (event_types.csv), location precision from ``geo_precision`` (precision.csv),
severity from fatalities (severity.csv); docs/sources/acled_events.md.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import IO, Any
from urllib.parse import urlencode

from allweather.connectors.base import Connector, FetchContext, Parsed, Payload
from allweather.connectors.errors import SourceAuthError, SourceFormatError, SourceUnavailableError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    CsvRecords,
    RecordError,
    buffered,
    instant,
    integer,
    number,
    place_label,
    point,
    precision,
    reject,
    required,
    text,
)
from allweather.connectors.registry import register
from allweather.domain.events import Rejection, Retraction, RiskEvent, Skipped
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.reference.countries import UnknownCountryError, country_catalog

SOURCE = "acled_events"
_PACKAGE = __package__ or "allweather.connectors.acled_events"
API = "https://acleddata.com/api"  # OAuth bearer token
LEGACY_API = "https://api.acleddata.com"  # email + key as query parameters
PAGE_LIMIT = 5000  # the API's default and largest page
MAX_PAGES = 1000  # a sweep longer than this means the server ignores paging
FIRST_WINDOW = timedelta(days=30)  # an empty cursor asks for the last 30 days of changes
EARLIEST = datetime(1997, 1, 1, tzinfo=UTC)  # ACLED's coverage starts in 1997
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
EVENT_COLUMNS = frozenset(
    (
        "event_id_cnty",
        "event_date",
        "event_type",
        "sub_event_type",
        "latitude",
        "longitude",
        "fatalities",
    )
)
DELETION_COLUMNS = frozenset({"event_id_cnty", "deleted_timestamp"})
NOTES_LIMIT = 2000
_SWEEPS = (  # what fetch asks for, in order: (kind, endpoint, cursor field)
    ("events", "acled/read", "timestamp"),
    ("deleted", "deleted/read", "deleted_timestamp"),
)


@lru_cache(maxsize=1)
def _sub_event_types() -> dict[str, dict[str, str]]:
    """event_types.csv keyed by lower-cased sub-event type (ACLED's capitalisation varies)."""
    table = load_mapping(_PACKAGE, "event_types.csv")
    return {key.lower(): row for key, row in table.rows.items()}


@lru_cache(maxsize=1)
def _numeric_countries() -> dict[int, str]:
    return {int(c.numeric): c.iso2 for c in country_catalog() if c.numeric}


@lru_cache(maxsize=1024)
def _country_by_name(name: str) -> str | None:
    try:
        return country_catalog().resolve(name).iso2
    except UnknownCountryError:
        return None


def severity(fatalities: int) -> tuple[SeverityGrade, str]:
    """The grade for a fatality count and the severity.csv rule that set it."""
    for name, row in load_mapping(_PACKAGE, "severity.csv").rows.items():
        if fatalities >= int(row["min_fatalities"]):
            return SeverityGrade(row["grade"]), f"acled.{name}"
    raise RecordError("fatalities", f"fatalities {fatalities} below every severity threshold")


def unix_time(value: object, field: str) -> datetime | None:
    """ACLED's ``timestamp`` / ``deleted_timestamp``: Unix seconds, None when empty."""
    seconds = number(value, field)
    if seconds is None:
        return None
    if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
        raise RecordError(field, f"{field} {text(value)!r} is not a Unix time since 1997")
    return datetime.fromtimestamp(seconds, UTC)


def event_day(value: object) -> datetime:
    """``event_date``: ISO (API, acledR) or ``23 February 2022`` (the export tool)."""
    raw = required(value, "event_date")
    try:
        return datetime.strptime(raw, "%d %B %Y").replace(tzinfo=UTC)
    except ValueError:
        return instant(raw, "event_date")


def _count(value: object, field: str) -> int:
    result = integer(required(value, field), field)
    if result is None or result < 0:
        raise RecordError(field, f"{field} {text(value)!r} is not a count")
    return result


def _code(value: object, field: str) -> int | str | None:
    """A numeric code as int ("5.0" → 5); the API's text labels (inter1 "Rioters") as text."""
    try:
        return integer(value, field)
    except RecordError:
        return text(value)  # descriptive fields never cost a record


@register(SOURCE)
class AcledEvents(Connector):
    """ACLED events and deletions (API JSON pages, CSV exports)."""

    page_limit = PAGE_LIMIT

    # ------------------------------------------------------------------ fetch

    async def fetch(self, ctx: FetchContext) -> AsyncIterator[Payload]:
        """Changed events since the cursor, then deletions since the deletion cursor.

        Raises:
            SourceAuthError: no credentials configured, or ACLED refuses them.
        """
        auth = self._auth(ctx)
        for kind, endpoint, field in _SWEEPS:
            if ctx.since is not None:
                since = int(ctx.since.timestamp())
            elif field in ctx.cursor:
                since = int(ctx.cursor[field])
            else:
                since = int((ctx.clock.now() - FIRST_WINDOW).timestamp())
            async for payload in self._sweep(ctx, auth, kind, endpoint, field, since):
                yield payload

    async def _sweep(
        self,
        ctx: FetchContext,
        auth: tuple[str, dict[str, str], dict[str, str]],
        kind: str,
        endpoint: str,
        field: str,
        since: int,
    ) -> AsyncIterator[Payload]:
        """Every page of one query; the last one carries the newest ``field`` value seen."""
        base, credentials, headers = auth
        url = f"{base}/{endpoint}"
        query = {field: str(since), "limit": str(self.page_limit)}
        if kind == "events":
            query["timestamp_where"] = ">="  # ≥: events sharing the last timestamp come again
        if base == API:
            query["_format"] = "json"
        newest = since
        for page in range(1, MAX_PAGES + 1):
            query["page"] = str(page)
            response = await ctx.http.get(url, params={**query, **credentials}, headers=headers)
            if response is None:
                return
            content = response.read()
            rows = self._page_rows(content, url)
            newest = max([newest, *(self._seconds(row, field) for row in rows)])
            last = len(rows) < self.page_limit
            yield Payload.from_bytes(
                f"acled_{kind}_{since}_page{page}.json",
                content,
                url=f"{url}?{urlencode(query)}",  # never the credentials
                fetched_at=response.fetched_at,
                meta={"field": field, "newest": newest, "last": last},
            )
            if last:
                return
        raise SourceFormatError(f"{url}: more than {MAX_PAGES} pages")

    def _auth(self, ctx: FetchContext) -> tuple[str, dict[str, str], dict[str, str]]:
        """API base, credential query parameters and headers: OAuth token, else email + key."""
        token = ctx.secrets.get("token")
        if token:
            return API, {}, {"Authorization": f"Bearer {token}"}
        email, key = ctx.secrets.get("email"), ctx.secrets.get("key")
        if email and key:
            return LEGACY_API, {"email": email, "key": key}, {}
        names = self.spec.secrets
        raise SourceAuthError(
            f"ACLED needs {names['token']} (OAuth access token), "
            f"or {names['email']} and {names['key']}"
        )

    @staticmethod
    def _page_rows(content: bytes, url: str) -> list[Any]:
        """The ``data`` of one API page; ACLED reports refusals inside a 200 answer too."""
        try:
            document = json.loads(content)
        except ValueError as err:
            raise SourceFormatError(f"{url}: not JSON ({err})") from err
        if not isinstance(document, dict):
            raise SourceFormatError(f"{url}: not an ACLED API answer")
        if document.get("success") is False or document.get("error"):
            error = document.get("error")
            detail = error[0] if isinstance(error, list) and error else error
            status = document.get("status")
            if isinstance(detail, dict):
                status = detail.get("status", status)
                detail = detail.get("message", detail)
            if str(status) in ("401", "403"):
                raise SourceAuthError(f"{url}: ACLED refused the credentials ({detail})")
            raise SourceUnavailableError(f"{url}: ACLED API error {status}: {detail}")
        data = document.get("data")
        if not isinstance(data, list):
            raise SourceFormatError(f"{url}: no data list in the ACLED answer")
        return data

    @staticmethod
    def _seconds(row: object, field: str) -> int:
        """A row's ``field`` as Unix seconds; 0 for a bad record (parse rejects it)."""
        try:
            moment = unix_time(row.get(field), field) if isinstance(row, dict) else None
        except RecordError:
            moment = None
        return int(moment.timestamp()) if moment else 0

    def advance_cursor(self, cursor: dict[str, Any], payload: Payload) -> dict[str, Any]:
        """A sweep's cursor moves only when its last page has landed (pages may shift)."""
        field = payload.meta.get("field")
        if field is None or not payload.meta.get("last"):
            return cursor
        return {**cursor, field: max(int(cursor.get(field, 0)), int(payload.meta["newest"]))}

    # ------------------------------------------------------------------ parse

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        with payload.open() as raw:
            stream = buffered(raw)
            head = stream.peek(2048)[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
            if head.startswith(b"{"):
                yield from self._json(stream.read(), payload.name)
            else:
                yield from self._csv(stream, payload.name)

    # API pages hold at most 5,000 events: read whole.
    def _json(self, content: bytes, name: str) -> Iterator[Parsed]:
        try:
            document = json.loads(content)
        except ValueError as err:
            raise SourceFormatError(f"{name}: not JSON ({err})") from err
        if not isinstance(document, dict) or document.get("success") is False:
            raise SourceFormatError(f"{name}: not a successful ACLED API answer")
        data = document.get("data")
        if not isinstance(data, list):
            raise SourceFormatError(f"{name}: no data list in the ACLED answer")
        for index, item in enumerate(data, start=1):
            ref = f"item {index}"
            try:
                if not isinstance(item, dict):
                    raise RecordError(None, "record is not an object")
                ref = f"item {index} ({item.get('event_id_cnty')})"
                if "deleted_timestamp" in item and "event_type" not in item:
                    yield self._retraction(item)
                else:
                    yield self._event(item)
            except RecordError as err:
                yield reject(ref, json.dumps(item, ensure_ascii=False), err)

    # CSV exports can hold millions of events: streamed line by line.
    def _csv(self, stream: IO[bytes], name: str) -> Iterator[Parsed]:
        records = CsvRecords(stream, name, "ACLED CSV")
        columns = set(records.header)
        deletions = columns >= DELETION_COLUMNS and "event_type" not in columns
        if not deletions and not columns >= EVENT_COLUMNS:
            missing = sorted(EVENT_COLUMNS - columns)
            raise SourceFormatError(f"{name}: not an ACLED export, no columns {missing}")
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            ref, raw, row = record
            try:
                yield self._retraction(row) if deletions else self._event(row)
            except RecordError as err:
                yield reject(ref, raw, err)

    @staticmethod
    def _retraction(row: Mapping[str, Any]) -> Retraction:
        deleted = unix_time(
            required(row.get("deleted_timestamp"), "deleted_timestamp"), "deleted_timestamp"
        )
        return Retraction(
            source=SOURCE,
            source_id=required(row.get("event_id_cnty"), "event_id_cnty"),
            reported_at=deleted,
            reason="deleted by ACLED",
        )

    def _event(self, row: Mapping[str, Any]) -> RiskEvent | Skipped:
        source_id = required(row.get("event_id_cnty"), "event_id_cnty")
        event_type = required(row.get("event_type"), "event_type")
        sub_event_type = required(row.get("sub_event_type"), "sub_event_type")
        kind = _sub_event_types().get(sub_event_type.lower())
        if kind is None:
            raise RecordError("sub_event_type", f"unknown sub_event_type {sub_event_type!r}")
        if kind["event_type"].lower() != event_type.lower():
            raise RecordError(
                "event_type",
                f"event_type {event_type!r} does not match sub_event_type {sub_event_type!r} "
                f"({kind['event_type']})",
            )
        if not kind["fine_type"]:
            return Skipped(1, f"acled {sub_event_type.lower()}")
        occurred = event_day(row.get("event_date"))
        fatalities = _count(row.get("fatalities"), "fatalities")
        location = point(row.get("longitude"), row.get("latitude"))
        if location is None:
            raise RecordError("latitude", "latitude and longitude are missing")
        grade, rule = severity(fatalities)
        actor1, actor2 = text(row.get("actor1")), text(row.get("actor2"))
        title = f"{sub_event_type}: {actor1}" if actor1 else sub_event_type
        return RiskEvent(
            source=SOURCE,
            source_id=source_id,
            occurred_at=occurred,
            reported_at=unix_time(row.get("timestamp"), "timestamp"),
            fine_type=FineType(kind["fine_type"]),
            severity=grade,
            severity_rule=rule,
            title=f"{title} vs {actor2}" if actor2 else title,
            country_code=self._country(row),
            geometry=location,
            precision=precision(_PACKAGE, row.get("geo_precision"), "geo_precision"),
            place=place_label(row.get("location"), row.get("admin2"), row.get("admin1")),
            language="en",
            fatalities=fatalities,
            details=self._details(row),
        )

    @staticmethod
    def _country(row: Mapping[str, Any]) -> str | None:
        """By ISO numeric code (``iso``), then ISO alpha-3, then name; else left to placement."""
        code = _code(row.get("iso"), "iso")
        if isinstance(code, int) and code:  # ACLED codes Kosovo 0
            placed = _numeric_countries().get(code)
            if placed:
                return placed
        for value in (row.get("iso3"), row.get("country")):
            name = text(value)
            if name and (placed := _country_by_name(name)):
                return placed
        return None

    @staticmethod
    def _details(row: Mapping[str, Any]) -> dict[str, Any]:
        details: dict[str, Any] = {
            field: text(row.get(field))
            for field in (
                "event_type",
                "sub_event_type",
                "disorder_type",
                "actor1",
                "assoc_actor_1",
                "actor2",
                "assoc_actor_2",
                "civilian_targeting",
                "admin1",
                "admin2",
                "admin3",
                "location",
                "source",
                "source_scale",
                "tags",
            )
        }
        for field in ("inter1", "inter2", "interaction", "time_precision", "geo_precision"):
            details[field] = _code(row.get(field), field)
        notes = text(row.get("notes"))
        details["notes"] = notes[:NOTES_LIMIT] if notes else None
        return {k: v for k, v in details.items() if v is not None}
