"""UCDP GED: the annual Georeferenced Event Dataset and the monthly Candidate releases.

Files are GED CSV (plain, ``.gz``, or the ``.zip`` UCDP distributes), streamed line by line.
Live, the UCDP API serves each release version as JSON pages of 1,000 events; ``fetch`` follows
the annual and the candidate chain of versions with a cursor each (docs/sources/ucdp_ged.md).

Fine type from ``type_of_violence`` (violence_types.csv), location precision from
``where_prec`` (precision.csv), severity from the best estimate of deaths (severity.csv).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from allweather.connectors.base import Connector, FetchContext, Parsed, Payload
from allweather.connectors.errors import SourceAuthError, SourceFormatError, SourceUnavailableError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    CsvRecords,
    RecordError,
    buffered,
    instant,
    integer,
    place_label,
    point,
    precision,
    reject,
    required,
    text,
)
from allweather.connectors.registry import register
from allweather.domain.events import Rejection, RiskEvent
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.reference.countries import UnknownCountryError, country_catalog

SOURCE = "ucdp_ged"
_PACKAGE = __package__ or "allweather.connectors.ucdp_ged"
API = "https://ucdpapi.pcr.uu.se/api/gedevents"
TOKEN_HEADER = "x-ucdp-access-token"  # noqa: S105 — a header name, not a secret
PAGE_SIZE = 1000  # the API's maximum
MAX_PAGES_PER_RUN = 100  # UCDP allows 5,000 requests a day; an annual GED is ~400 pages
# Where each chain starts when the cursor is empty: GED 25.1 covers 1989–2024, the 2025
# candidates follow it.
FIRST_VERSION = {"annual": "25.1", "candidate": "25.0.1"}
REQUIRED_COLUMNS = frozenset(
    {"id", "type_of_violence", "best", "latitude", "longitude", "date_start", "where_prec"}
)
HEADLINE_LIMIT = 1000
_ANNUAL = re.compile(r"^(\d{2})\.1$")
_CANDIDATE = re.compile(r"^(\d{2})\.0\.(\d{1,2})$")
# Release in a file name: GEDEvent_v25_1.csv, GEDEvent_v25_0_3.csv, ucdp_ged_v19_1_syria….csv,
# or a saved API page named as fetch names it (gedevents_25.0.3_page0.json).
_RELEASE_IN_NAME = re.compile(
    r"(?:^|[^a-z0-9])(?:v|gedevents_)(\d{2})[._](\d{1,2})(?:[._](\d{1,2}))?(?![0-9])", re.I
)


def severity(deaths: int) -> tuple[SeverityGrade, str]:
    """The grade for a death count and the severity.csv rule that set it."""
    for name, row in load_mapping(_PACKAGE, "severity.csv").rows.items():
        if deaths >= int(row["min_deaths"]):
            return SeverityGrade(row["grade"]), f"ucdp.{name}"
    raise RecordError("best", f"best {deaths} is below every severity threshold")


def release_of(name: str) -> str | None:
    """The UCDP release a file name carries (``25.1``, ``25.0.3``), if any."""
    match = _RELEASE_IN_NAME.search(name)
    if not match:
        return None
    return ".".join(part for part in match.groups() if part is not None)


def is_candidate(release: str | None) -> bool:
    return bool(release and _CANDIDATE.match(release))


def next_version(version: str) -> str:
    """The release after ``version`` in its chain: 25.1 → 26.1; 25.0.12 → 26.0.1."""
    if match := _ANNUAL.match(version):
        return f"{int(match.group(1)) + 1}.1"
    if match := _CANDIDATE.match(version):
        year, month = int(match.group(1)), int(match.group(2))
        return f"{year + 1}.0.1" if month >= 12 else f"{year}.0.{month + 1}"
    raise ValueError(f"{version!r} is neither an annual (25.1) nor a candidate (25.0.3) version")


@lru_cache(maxsize=1024)
def _country(name: str) -> str | None:
    """ISO alpha-2 for a UCDP country name; None leaves it to placement by coordinates."""
    row = load_mapping(_PACKAGE, "countries.csv").get(name)
    if row is not None:
        return row["iso2"]
    try:
        return country_catalog().resolve(name).iso2
    except UnknownCountryError:
        return None


def _count(value: object, field: str) -> int | None:
    """A whole number of at least 0 (ids, deaths); None when empty."""
    result = integer(value, field)
    if result is not None and result < 0:
        raise RecordError(field, f"{field} {result} is negative")
    return result


def _required_count(value: object, field: str) -> int:
    result = _count(required(value, field), field)
    if result is None:  # pragma: no cover - required() has refused empty values
        raise RecordError(field, f"{field} is missing")
    return result


@register(SOURCE)
class UcdpGed(Connector):
    """UCDP GED and Candidate events (CSV files, API JSON pages)."""

    # ------------------------------------------------------------------ input

    def file_payloads(self, path: Path) -> Iterator[Payload]:
        """A ``.zip`` (as UCDP distributes GED) yields each CSV member, read in place."""
        if path.suffix.lower() != ".zip":
            yield Payload.from_path(path)
            return
        whole = Payload.from_path(path)
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        for member in members:
            yield Payload(
                name=member,
                fingerprint=hashlib.sha256(f"{whole.fingerprint}:{member}".encode()).hexdigest(),
                path=path,
                meta={"member": member, "version": release_of(member) or release_of(path.name)},
            )

    async def fetch(self, ctx: FetchContext) -> AsyncIterator[Payload]:
        """Pages of the annual chain, then of the candidate chain, at most MAX_PAGES_PER_RUN.

        Raises:
            SourceAuthError: no token configured, or the API refuses it.
        """
        token = ctx.secrets.get("token")
        if not token:
            raise SourceAuthError(
                f"the UCDP API needs an access token: set {self.spec.secrets['token']}"
            )
        budget = [MAX_PAGES_PER_RUN]  # shared by both chains
        for chain in ("annual", "candidate"):
            async for payload in self._chain(ctx, chain, token, budget):
                yield payload

    async def _chain(
        self, ctx: FetchContext, chain: str, token: str, budget: list[int]
    ) -> AsyncIterator[Payload]:
        state: Mapping[str, Any] = ctx.cursor.get(chain) or {}
        url = str(state.get("next") or "")
        if url:  # resume an unfinished version at its next page (a release never changes)
            version, page, probing = str(state["version"]), int(state.get("page", -1)) + 1, False
        else:  # first run, or the last version is complete: ask for the next one
            last = state.get("version")
            version = next_version(str(last)) if last else FIRST_VERSION[chain]
            url, page, probing = self._page_url(version), 0, True
        headers = {TOKEN_HEADER: token}
        while budget[0] > 0:
            try:
                response = await ctx.http.get(url, headers=headers)
            except SourceUnavailableError:
                if probing:  # unpublished versions answer 404; a real outage retries next run
                    return
                raise
            if response is None:
                return
            content = response.read()
            events, following = self._page_info(content, url)
            if probing and events == 0:  # some unpublished versions answer with no events
                return
            probing = False
            budget[0] -= 1
            yield Payload.from_bytes(
                f"gedevents_{version}_page{page}.json",
                content,
                url=url,
                fetched_at=response.fetched_at,
                meta={"chain": chain, "version": version, "page": page, "next": following},
            )
            if following:
                url, page = following, page + 1
            else:  # this version is complete: ask for the next one
                version, page, probing = next_version(version), 0, True
                url = self._page_url(version)

    @staticmethod
    def _page_url(version: str) -> str:
        return f"{API}/{version}?pagesize={PAGE_SIZE}&page=0"

    @staticmethod
    def _page_info(content: bytes, url: str) -> tuple[int, str]:
        """Events on one API page and its checked NextPageUrl ("" on the last page)."""
        try:
            document = json.loads(content)
            events = len(document["Result"])
            following = str(document.get("NextPageUrl") or "")
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise SourceFormatError(f"{url}: not a UCDP API page ({err})") from err
        if following and not following.startswith(f"{API}/"):
            # The token goes with every request: never follow a link off the API.
            raise SourceFormatError(f"{url}: NextPageUrl {following!r} leaves the UCDP API")
        return events, following

    def advance_cursor(self, cursor: dict[str, Any], payload: Payload) -> dict[str, Any]:
        chain = payload.meta.get("chain")
        if chain is None:
            return cursor
        meta = payload.meta
        return {
            **cursor,
            chain: {"version": meta["version"], "page": meta["page"], "next": meta["next"]},
        }

    # ------------------------------------------------------------------ parse

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        version = payload.meta.get("version") or release_of(payload.name)
        with self._open(payload) as raw:
            stream = buffered(raw)
            head = stream.peek(2048)[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
            if head.startswith(b"{"):
                yield from self._json(stream.read(), payload.name, version)
            else:
                yield from self._csv(stream, payload.name, version)

    @staticmethod
    @contextmanager
    def _open(payload: Payload) -> Iterator[IO[bytes]]:
        member = payload.meta.get("member")
        if member and payload.path is not None:
            with zipfile.ZipFile(payload.path) as archive, archive.open(member) as raw:
                yield raw
        else:
            with payload.open() as raw:
                yield raw

    # API pages hold at most 1,000 events: read whole.
    def _json(self, content: bytes, name: str, version: str | None) -> Iterator[Parsed]:
        try:
            results = json.loads(content)["Result"]
        except (ValueError, KeyError, TypeError) as err:
            raise SourceFormatError(f"{name}: not a UCDP API page ({err})") from err
        if not isinstance(results, list):
            raise SourceFormatError(f"{name}: Result is not a list")
        for index, item in enumerate(results, start=1):
            ref = f"item {index}"
            try:
                if not isinstance(item, dict):
                    raise RecordError(None, "event is not an object")
                ref = f"item {index} (id {item.get('id')})"
                yield self._event(item, version)
            except RecordError as err:
                yield reject(ref, json.dumps(item, ensure_ascii=False), err)

    # GED CSV is large (~400,000 events, 41–49 columns): streamed line by line.
    def _csv(self, stream: IO[bytes], name: str, version: str | None) -> Iterator[Parsed]:
        records = CsvRecords(stream, name, "GED CSV")
        missing = REQUIRED_COLUMNS - set(records.header)
        if missing:
            raise SourceFormatError(f"{name}: not a UCDP GED CSV, no columns {sorted(missing)}")
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            ref, raw, row = record
            try:
                yield self._event(row, version)
            except RecordError as err:
                yield reject(ref, raw, err)

    def _event(self, row: Mapping[str, Any], version: str | None) -> RiskEvent:
        source_id = _required_count(row.get("id"), "id")
        kind = _required_count(row.get("type_of_violence"), "type_of_violence")
        violence = load_mapping(_PACKAGE, "violence_types.csv").get(str(kind))
        if violence is None:
            raise RecordError("type_of_violence", f"unknown type_of_violence {kind}")
        best = _required_count(row.get("best"), "best")
        location = point(row.get("longitude"), row.get("latitude"))
        if location is None:
            raise RecordError("latitude", "latitude and longitude are missing")
        started = instant(row.get("date_start"), "date_start")
        ended = instant(row.get("date_end"), "date_end") if text(row.get("date_end")) else None
        if ended is not None and ended < started:
            raise RecordError("date_end", f"date_end {ended.date()} is before date_start")
        grade, rule = severity(best)
        dyad = text(row.get("dyad_name")) or text(row.get("conflict_name"))
        where = text(row.get("where_coordinates"))
        country = text(row.get("country"))
        return RiskEvent(
            source=SOURCE,
            source_id=str(source_id),
            occurred_at=started,
            ended_at=ended if ended is not None and ended > started else None,
            fine_type=FineType(violence["fine_type"]),
            severity=grade,
            severity_rule=rule,
            title=" — ".join(part for part in (dyad, where) if part) or None,
            country_code=_country(country) if country else None,
            geometry=location,
            precision=precision(_PACKAGE, row.get("where_prec"), "where_prec"),
            place=place_label(where, row.get("adm_2"), row.get("adm_1")),
            language="en",
            fatalities=best,
            details=self._details(row, violence["label"], version),
        )

    @staticmethod
    def _details(row: Mapping[str, Any], violence: str, version: str | None) -> dict[str, Any]:
        headline = text(row.get("source_headline"))
        details: dict[str, Any] = {
            "type_of_violence": violence,
            "conflict_name": text(row.get("conflict_name")),
            "dyad_name": text(row.get("dyad_name")),
            "side_a": text(row.get("side_a")),
            "side_b": text(row.get("side_b")),
            "headline": html.unescape(headline)[:HEADLINE_LIMIT] if headline else None,
            "code_status": text(row.get("code_status")),
            "candidate": version if is_candidate(version) else None,
        }
        for field in (
            "low",
            "high",
            "deaths_a",
            "deaths_b",
            "deaths_civilians",
            "deaths_unknown",
            "where_prec",
            "date_prec",
            "event_clarity",
            "number_of_sources",
            "conflict_new_id",
            "dyad_new_id",
        ):
            details[field] = _count(row.get(field), field)
        return {k: v for k, v in details.items() if v is not None}
