"""WHO Disease Outbreak News: the DON API (JSON, live) and the recorded DON texts (CSV, files).

One DON is one event, keyed by WHO's own URL slug (the API's ``UrlName``), so the live API and
the recorded texts land on the same events. Disease and country come from the title (API), the
link slug, then the opening text (extract.py); severity from the disease's base grade, raised by
a declared PHEIC or the deaths the DON states (diseases.csv, severity.csv; docs/sources/who_don.md).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from allweather.connectors.base import Connector, FetchContext, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    LineDecoder,
    RecordError,
    buffered,
    instant,
    reject,
    required,
    text,
)
from allweather.connectors.registry import register
from allweather.connectors.who_don import extract
from allweather.connectors.who_don.extract import Disease, Places
from allweather.domain.events import EventPrecision, Rejection, RiskEvent, Skipped
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.reference.countries import country_catalog

SOURCE = "who_don"
ITEM_URL = "https://www.who.int/emergencies/disease-outbreak-news/item/"
PAGE_SIZE = 100  # $top of one API request
MAX_PAGES = 40  # a catch-up or backfill stops here (4,000 DONs: the whole archive)
CURSOR_KEY = "newest_published"

CSV_HEADER = ["Date", "Description", "Link", "ID"]
_DATASET_ID = re.compile(r"^DON\d{4,}$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The API's text fields in page order; the first two are the situation, the rest background.
_SITUATION_FIELDS = ("Summary", "Overview")
_BACKGROUND_FIELDS = {
    "Epidemiology": "Epidemiology",
    "Response": "Public health response",
    "Assessment": "WHO risk assessment",
    "Advice": "WHO advice",
    "FurtherInformation": "Further information",
}


@dataclass(frozen=True)
class Don:
    """One DON as read from either format, before interpretation."""

    source_id: str
    url: str
    published: date
    text: str  # plain text, one block per line
    slug: str = ""  # words of the link slug
    title: str | None = None  # WHO's title (API only)
    reported_at: datetime | None = None
    ids: Mapping[str, str] = field(default_factory=dict)  # other identifiers, kept in details


# ----------------------------------------------------------------------------- links


def link_identity(link: str) -> tuple[str, str, str]:
    """(source_id, url, slug) of a DON link.

    WHO item links give their slug (the API's UrlName). The pre-2020 form
    ``/csr/don/<slug>/en/`` became ``/emergencies/disease-outbreak-news/item/<slug>-en``.
    DONs the recorded dataset links on ReliefWeb keep ReliefWeb's path, prefixed ``reliefweb/``.

    Raises:
        RecordError: not a link to a DON.
    """
    parts = urlsplit(link.strip())
    host = parts.netloc.lower()
    path = unquote(parts.path)
    if parts.scheme in ("http", "https") and (host == "who.int" or host.endswith(".who.int")):
        item = re.fullmatch(r"/emergencies/disease-outbreak-news/item/([^/]+)/?", path)
        if item:
            slug = item.group(1)
            return slug, ITEM_URL + slug, slug
        old = re.fullmatch(r"/csr/don/([^/]+)/(?:en/?)?", path)
        if old:
            slug = f"{old.group(1)}-en"
            return slug, ITEM_URL + slug, slug
    if parts.scheme in ("http", "https") and host.endswith("reliefweb.int"):
        report = re.fullmatch(r"/report/([^/]+)/([^/]+)/?", path)
        if report:
            return f"reliefweb/{report.group(1)}/{report.group(2)}", link.strip(), report.group(2)
    raise RecordError("Link", f"Link {link!r} is not a WHO DON or ReliefWeb report link")


def _day(value: object, field_name: str, *, exact: bool = False) -> date:
    """The calendar day of a date or an instant, as written (WHO dates DONs in Geneva).

    ``exact``: the value must be a bare YYYY-MM-DD date.
    """
    raw = required(value, field_name)
    head = raw if exact else raw[:10]
    if not _ISO_DAY.match(head):
        raise RecordError(field_name, f"{field_name} {raw!r} is not a date")
    try:
        return date.fromisoformat(head)
    except ValueError as err:
        raise RecordError(field_name, f"{field_name} {raw!r} is not a valid date: {err}") from None


# ----------------------------------------------------------------------------- interpretation


def severity(
    disease: Disease | None, pheic: extract.Pheic | None, deaths: extract.Deaths | None
) -> tuple[SeverityGrade, str]:
    """The grade and the rule that set it: the disease's base grade, raised by text signals."""
    signals = load_mapping(extract.PACKAGE, "severity.csv")
    if disease is None:
        row = signals.rows["unclassified"]
        grade, rule = SeverityGrade(row["grade"]), "who_don.unclassified"
    else:
        grade, rule = disease.grade, f"who_don.disease.{disease.key}"
    raised: list[str] = []
    if pheic is not None:
        raised.append(pheic.signal)
    if deaths is not None:
        for name in ("deaths_1000", "deaths_100", "deaths_10"):
            if deaths.count >= int(signals.rows[name]["threshold"]):
                raised.append(name)
                break
    for name in raised:
        candidate = SeverityGrade(signals.rows[name]["grade"])
        if candidate.is_more_severe_than(grade):
            grade, rule = candidate, f"who_don.{name}"
    return grade, rule


def _title_places(place: str) -> Places:
    """Places of a title's place part; "Mayotte (France)" is Mayotte, not two countries."""
    places = extract.find_places(place, prose=False)
    sovereign = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", place)
    if sovereign and len(places.codes) == 2:
        inner = extract.place_code(sovereign.group(2))
        if inner == places.codes[1]:
            return Places(places.codes[:1], places.regional)
    return places


def interpret(don: Don) -> RiskEvent:
    """A DON → its event: disease, countries, severity, title."""
    sections = extract.sections(don.text)
    disease_part, place_part = extract.split_title(don.title) if don.title else (None, None)

    disease: Disease | None = None
    disease_from = None
    for origin, source_text in (
        ("title", disease_part),
        ("link", don.slug),
        ("topic", sections.topic),
        ("text", sections.lead),
        ("text", sections.situation),
    ):
        found = extract.find_disease(source_text)
        if found is not None and (disease is None or (disease.fallback and not found.fallback)):
            disease, disease_from = found, origin
            if not found.fallback:
                break

    places = Places()
    country_from = None
    if place_part:
        places, country_from = _title_places(place_part), "title"
    if not places.found and don.title:
        places, country_from = extract.find_places(don.title), "title"
    if not places.found and don.slug:
        places, country_from = extract.find_places(don.slug, prose=False), "link"
    if not places.found:
        places, country_from = extract.find_places(sections.lead), "text"
    country = _text_country(places) if country_from == "text" else places.country

    pheic = extract.pheic_status(sections.full)
    deaths = extract.stated_deaths(sections.situation, don.published.year)
    grade, rule = severity(disease, pheic, deaths)

    known = country_catalog().get(country) if country else None
    country_name = known.name_en if known else country
    derived = don.title is None
    title = don.title or " – ".join(
        part
        for part in (
            disease.name if disease else "Disease Outbreak News",
            country_name or ("Multi-country" if len(places.codes) > 1 or places.regional else None),
        )
        if part
    )
    details: dict[str, Any] = {
        "disease": disease.name if disease else None,
        "disease_key": disease.key if disease else None,
        "icd10": disease.icd10 if disease else None,
        "disease_from": disease_from if disease else None,
        "countries": list(places.codes),
        "regional": places.regional or None,
        "country_from": country_from if places.found else None,
        "title_derived": derived or None,
        "pheic": pheic.phrase if pheic else None,
        "deaths_stated": deaths.count if deaths else None,
        "deaths_phrase": deaths.phrase if deaths else None,
        **don.ids,
    }
    return RiskEvent(
        source=SOURCE,
        source_id=don.source_id,
        occurred_at=datetime(
            don.published.year, don.published.month, don.published.day, tzinfo=UTC
        ),
        reported_at=don.reported_at,
        fine_type=FineType.EPIDEMIC_OUTBREAK,
        severity=grade,
        severity_rule=rule,
        title=title,
        country_code=country,
        precision=EventPrecision.COUNTRY if country else EventPrecision.UNKNOWN,
        place=place_part or country_name,
        url=don.url,
        language="en",
        details={k: v for k, v in details.items() if v is not None},
    )


def _text_country(places: Places) -> str | None:
    """From running text: the country named first, if it also has most of the mentions.

    Measured on the recorded DONs against the dataset's country tables: the first-named country
    alone disagrees with the dataset for 8.7% of the DONs compared (labs, neighbours, travellers'
    origins named first) and picks one country of a multi-country DON 243 times; requiring it to
    hold more than half of the mentions brings that to 5.6% and 75 (docs/sources/who_don.md).
    """
    if not places.mentions:
        return None
    first = places.mentions[0]
    share = places.mentions.count(first) / len(places.mentions)
    return first if share > 0.5 else None


# ----------------------------------------------------------------------------- the connector


class _RecordLines(LineDecoder):
    """``LineDecoder`` that keeps an undecodable line in place (with U+FFFD) instead of blanking it.

    Blanking a line is harmless inside a quoted multi-line Description, but on a record's first
    line it ends the record early and the rest of its lines are read as records of their own.
    The bad line is still reported in ``bad``; the parser rejects the whole record for it.
    """

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.line += 1
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError as err:
                shown = raw.decode(self.encoding, errors="replace")
                self.bad.append(
                    reject(
                        f"line {self.line}",
                        shown.rstrip("\r\n"),
                        RecordError(
                            None, f"invalid {self.encoding}: {err.reason} at byte {err.start}"
                        ),
                    )
                )
                yield shown


@register(SOURCE)
class WhoDon(Connector):
    """WHO Disease Outbreak News."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        with payload.open() as raw:
            stream = buffered(raw)
            head = stream.peek(512)[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
            if head[:1] in (b"{", b"["):
                yield from self._api(stream.read(), payload.meta.get("since"))
            elif head.replace(b'"', b"").startswith(b"Date,Description,Link,ID"):
                yield from self._csv(stream)
            else:
                raise SourceFormatError(
                    f"{payload.name}: neither a WHO DON API response nor a DON text CSV"
                )

    # --------------------------------------------------------------------- recorded CSV

    def _csv(self, stream: IO[bytes]) -> Iterator[Parsed]:
        lines = _RecordLines(stream)
        reader = csv.reader(lines)
        header = [name.lstrip("\ufeff") for name in next(reader, None) or []]
        if header != CSV_HEADER:
            raise SourceFormatError(f"DON CSV header {header}, expected {CSV_HEADER}")
        yield from lines.drain()
        seen: dict[str, str] = {}
        while True:
            first = lines.line + 1
            try:
                record = next(reader, None)
            except csv.Error as err:
                yield reject(f"line {first}", "", RecordError(None, f"unreadable CSV: {err}"))
                break
            if record is None:
                break
            bad = lines.drain()
            if not record:
                yield from bad
                continue
            ref = _ref(first, record)
            raw = _raw(record)
            if bad:
                yield _bad_bytes(ref, raw, record, first, bad)
                continue
            if len(record) != len(CSV_HEADER):
                yield reject(
                    ref,
                    raw,
                    RecordError(None, f"{len(record)} fields, expected {len(CSV_HEADER)}"),
                )
                continue
            row = dict(zip(CSV_HEADER, record, strict=True))
            try:
                don = self._csv_don(row)
            except RecordError as err:
                yield reject(ref, raw, err)
                continue
            if don.source_id in seen:
                yield Skipped(1, f"repeats {seen[don.source_id]} (same DON link)")
                continue
            seen[don.source_id] = don.ids.get("dataset_id", ref)
            yield interpret(don)
        yield from lines.drain()

    @staticmethod
    def _csv_don(row: dict[str, str]) -> Don:
        dataset_id = required(row["ID"], "ID")
        if not _DATASET_ID.match(dataset_id):
            raise RecordError("ID", f"ID {dataset_id!r} is not a DON number like DON0123")
        source_id, url, slug = link_identity(required(row["Link"], "Link"))
        # 17 DONs of 2019 (the /csr/don/ links) were recorded without their text: the link
        # slug still names disease and country, so they land rather than being rejected.
        description = text(row["Description"]) or ""
        return Don(
            source_id=source_id,
            url=url,
            published=_day(row["Date"], "Date", exact=True),
            text=description,
            slug=extract.slug_text(slug),
            ids={"dataset_id": dataset_id},
        )

    # --------------------------------------------------------------------- API JSON

    # API responses are bounded by $top (about 1 MB for 100 DONs): read whole.
    def _api(self, content: bytes, since: object) -> Iterator[Parsed]:
        items = _api_items(content)
        cutoff = instant(since, "since") if since else None
        seen: set[str] = set()
        for index, item in enumerate(items, start=1):
            ref = f"item {index}"
            raw = json.dumps(item, ensure_ascii=False)
            try:
                if not isinstance(item, dict):
                    raise RecordError(None, "item is not an object")
                don = _api_don(item)
                if cutoff is not None and _published_at(item) < cutoff:
                    yield Skipped(1, "published before the cursor")
                    continue
            except RecordError as err:
                yield reject(ref, raw, err)
                continue
            if don.source_id in seen:
                yield Skipped(1, f"repeats {don.source_id} in one response")
                continue
            seen.add(don.source_id)
            yield interpret(don)

    # --------------------------------------------------------------------- live

    async def fetch(self, ctx: FetchContext) -> AsyncIterator[Payload]:
        """The newest DONs, one page of ``PAGE_SIZE`` (conditional); more only to catch up.

        Without a cursor (first run) one page is taken; ``--since`` backfills. With a cursor,
        pages continue while a whole page is still newer than it.
        """
        if not self.spec.url:
            return
        boundary = ctx.since.isoformat() if ctx.since else ctx.cursor.get(CURSOR_KEY)
        cutoff = instant(boundary, "cursor") if boundary else None
        for page in range(MAX_PAGES):
            params = {"$orderby": "PublicationDate desc", "$top": str(PAGE_SIZE)}
            if page:
                params["$skip"] = str(page * PAGE_SIZE)
            conditional = page == 0 and ctx.since is None
            payload = await ctx.http.get(
                self.spec.url,
                etag=ctx.etag if conditional else None,
                last_modified=ctx.last_modified if conditional else None,
                params=params,
            )
            if payload is None:  # 304 Not Modified
                return
            if page:  # only the first page's validators describe "the feed"
                payload = replace(payload, etag=None, last_modified=None)
            if boundary:
                payload = replace(payload, meta={**payload.meta, "since": boundary})
            dates = _published_dates(payload.content or b"")
            yield payload
            if cutoff is None or len(dates) < PAGE_SIZE or min(dates) < cutoff:
                return

    def advance_cursor(self, cursor: dict[str, Any], payload: Payload) -> dict[str, Any]:
        """Remember the newest PublicationDate landed, so the next run skips older DONs."""
        dates = _published_dates(payload.content or b"")
        if not dates:
            return cursor
        newest = max(dates)
        known = cursor.get(CURSOR_KEY)
        if known and instant(known, CURSOR_KEY) >= newest:
            return cursor
        return {**cursor, CURSOR_KEY: newest.isoformat()}


# ----------------------------------------------------------------------------- helpers


def _raw(record: list[str]) -> str:
    return ",".join(record)


def _ref(first: int, record: list[str]) -> str:
    """``line N`` (the record's first line), with the dataset's DON number when readable."""
    number = record[-1].strip()
    return f"line {first} ({number})" if _DATASET_ID.match(number) else f"line {first}"


def _bad_bytes(
    ref: str, raw: str, record: list[str], first: int, bad: list[Rejection]
) -> Rejection:
    """One rejection for a record holding undecodable lines, naming the field they fall in."""
    lines = [int(b.ref.split()[-1]) for b in bad]
    start = first
    field_name: str | None = None
    for name, value in zip(CSV_HEADER, record, strict=False):
        end = start + value.count("\n")
        if any(start <= line <= end for line in lines) and field_name is None:
            field_name = name
        start = end
    reasons = "; ".join(f"{b.ref}: {b.reason}" for b in bad)
    return reject(ref, raw, RecordError(field_name, f"{field_name or 'record'}: {reasons}"))


def _api_items(content: bytes) -> list[Any]:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceFormatError(f"not a WHO DON API response: {err}") from err
    items = document.get("value") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SourceFormatError("WHO DON API response without a value list")
    return items


def _published_field(item: Mapping[str, Any]) -> str:
    """PublicationDate, or PublicationDateAndTime when only that one is given."""
    if text(item.get("PublicationDate")) is None and text(item.get("PublicationDateAndTime")):
        return "PublicationDateAndTime"
    return "PublicationDate"


def _published_at(item: Mapping[str, Any]) -> datetime:
    field_name = _published_field(item)
    return instant(item.get(field_name), field_name)


def _published_dates(content: bytes) -> list[datetime]:
    """PublicationDate of every readable item of an API response (the cursor's input)."""
    try:
        items = _api_items(content)
    except SourceFormatError:
        return []
    dates = []
    for item in items:
        if isinstance(item, dict):
            try:
                dates.append(_published_at(item))
            except RecordError:
                continue
    return dates


def _api_don(item: Mapping[str, Any]) -> Don:
    slug = text(item.get("UrlName"))
    if slug is None and text(item.get("ItemDefaultUrl")):
        slug = str(item["ItemDefaultUrl"]).strip().rstrip("/").rsplit("/", 1)[-1] or None
    slug = slug or text(item.get("DonId"))
    if slug is None:
        raise RecordError("UrlName", "UrlName is missing (and no ItemDefaultUrl or DonId)")
    published_field = _published_field(item)
    published = _day(item.get(published_field), published_field)
    _published_at(item)  # a date the cursor can compare, or a RecordError now
    modified = text(item.get("LastModified"))
    blocks = [
        extract.html_text(str(item[name])) for name in _SITUATION_FIELDS if text(item.get(name))
    ]
    for name, heading in _BACKGROUND_FIELDS.items():
        if text(item.get(name)):
            blocks += [heading, extract.html_text(str(item[name]))]
    ids = {
        key: str(item[name])
        for key, name in (("don_id", "DonId"), ("api_id", "Id"))
        if text(item.get(name))
    }
    return Don(
        source_id=slug,
        url=ITEM_URL + slug,
        published=published,
        text="\n".join(blocks),
        slug=extract.slug_text(slug),
        title=text(item.get("OverrideTitle")) or text(item.get("Title")),
        reported_at=instant(modified, "LastModified") if modified else None,
        ids=ids,
    )
