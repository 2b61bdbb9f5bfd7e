"""UN Security Council consolidated sanctions list (the XML the UN publishes).

INDIVIDUALS/INDIVIDUAL and ENTITIES/ENTITY records are streamed with defusedxml's ``iterparse``
and cleared once read. ``DATAID`` is the UN's own stable id. A document that declares entities
(a "billion laughs" bomb) or external references is refused before anything is expanded.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from functools import lru_cache
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from allweather.connectors.base import Connector, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    CountryNames,
    RecordError,
    buffered,
    fold_name,
    reject,
    required,
    unique_names,
)
from allweather.connectors.registry import register
from allweather.domain.events import EntityKind, ListedEntity

SOURCE = "un_consolidated"
_PACKAGE = __package__ or "allweather.connectors.un_consolidated"
ROOT = "CONSOLIDATED_LIST"
CONTAINERS = frozenset({"INDIVIDUALS", "ENTITIES"})
NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
LOW_QUALITY = "low"  # the UN's "Low" quality aliases: weak for matching, kept for recall
# xs:date, optionally with a time zone (the 2018 list has "2015-04-14-04:00").
_XS_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$")
_DECLARED_ENCODING = re.compile(rb"""encoding=["']([A-Za-z0-9._-]+)["']""")
REPLACEMENT = "\ufffd"


class _Utf8Repair:
    """A UTF-8 byte stream whose invalid sequences become U+FFFD.

    An XML parser must stop at the first invalid byte. Repaired, one bad byte costs only the
    record it is in: ``entity`` rejects a record holding U+FFFD, naming the field.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        return self.decoder.decode(chunk, final=not chunk).encode("utf-8")


def _utf8(head: bytes) -> bool:
    """Whether a document declares (or defaults to) UTF-8."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    declared = (
        _DECLARED_ENCODING.search(head.split(b"?>", 1)[0]) if head.startswith(b"<?xml") else None
    )
    return declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _collapse(value: str | None) -> str | None:
    if value is None:
        return None
    result = " ".join(value.split())
    return result or None


def _texts(element: Element, path: str) -> list[str]:
    return [v for v in (_collapse(e.text) for e in element.findall(path)) if v]


_COUNTRIES = CountryNames(_PACKAGE)
resolve_country = (
    _COUNTRIES.resolve
)  # the UN list's own forms (countries.csv), then the ISO catalog


@lru_cache(maxsize=1)
def _kinds() -> dict[str, EntityKind]:
    table = load_mapping(_PACKAGE, "record_types.csv")
    return {element: EntityKind(row["kind"]) for element, row in table.rows.items()}


def listed_on(value: str | None) -> date | None:
    """LISTED_ON as a date; the UN writes xs:date, sometimes with a time zone."""
    raw = _collapse(value)
    if raw is None:
        return None
    match = _XS_DATE.match(raw)
    try:
        if match is None:
            raise ValueError(raw)
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise RecordError("LISTED_ON", f"LISTED_ON {raw!r} is not a date") from None


def _address(element: Element) -> str | None:
    parts = [
        _collapse(element.findtext(tag))
        for tag in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY", "NOTE")
    ]
    return ", ".join(p for p in parts if p) or None


def _birth_date(element: Element) -> str | None:
    exact = _collapse(element.findtext("DATE")) or _collapse(element.findtext("YEAR"))
    if exact:
        return exact
    start, end = _collapse(element.findtext("FROM_YEAR")), _collapse(element.findtext("TO_YEAR"))
    return f"{start}/{end}" if start and end else None


def _document(element: Element) -> str | None:
    kind = _collapse(element.findtext("TYPE_OF_DOCUMENT"))
    number = _collapse(element.findtext("NUMBER"))
    if not number:
        return None
    issuer = _collapse(element.findtext("ISSUING_COUNTRY")) or _collapse(
        element.findtext("COUNTRY_OF_ISSUE")
    )
    return " ".join(p for p in (kind, number, f"({issuer})" if issuer else None) if p)


def _check_text(element: Element) -> None:
    for node in element.iter():
        if REPLACEMENT in (node.text or "") or REPLACEMENT in (node.tail or ""):
            raise RecordError(_local(node.tag), f"invalid UTF-8 in {_local(node.tag)}")


def entity(tag: str, element: Element) -> ListedEntity:
    """One INDIVIDUAL or ENTITY element → a listed entity; RecordError names a bad field."""
    _check_text(element)
    dataid = required(element.findtext("DATAID"), "DATAID")
    if not dataid.isdigit():
        raise RecordError("DATAID", f"DATAID {dataid!r} is not a number")
    parts = NAME_PARTS if tag == "INDIVIDUAL" else NAME_PARTS[:1]
    name = " ".join(p for p in (_collapse(element.findtext(n)) for n in parts) if p)
    if not name:
        raise RecordError("FIRST_NAME", "the record has no name")
    aliases: list[str] = _texts(element, "NAME_ORIGINAL_SCRIPT")
    weak: list[str] = []
    for alias in element.findall(f"{tag}_ALIAS"):
        alias_name = _collapse(alias.findtext("ALIAS_NAME"))
        if alias_name:
            aliases.append(alias_name)
            if (_collapse(alias.findtext("QUALITY")) or "").lower() == LOW_QUALITY:
                weak.append(alias_name)
    nationalities = _texts(element, "NATIONALITY/VALUE")
    address_countries = _texts(element, f"{tag}_ADDRESS/COUNTRY")
    countries: list[str] = []
    unresolved: list[str] = []
    for value in (*nationalities, *address_countries):
        codes = resolve_country(value)
        if codes is None:
            unresolved.append(value)
        else:
            countries.extend(codes)
    addresses = [a for a in map(_address, element.findall(f"{tag}_ADDRESS")) if a]
    documents = [d for d in map(_document, element.findall(f"{tag}_DOCUMENT")) if d]
    births = [b for b in map(_birth_date, element.findall(f"{tag}_DATE_OF_BIRTH")) if b]
    places = [p for p in map(_address, element.findall(f"{tag}_PLACE_OF_BIRTH")) if p]
    programme = _collapse(element.findtext("UN_LIST_TYPE"))
    details: dict[str, Any] = {
        "reference_number": _collapse(element.findtext("REFERENCE_NUMBER")),
        "version": _collapse(element.findtext("VERSIONNUM")),
        "nationalities": nationalities,
        "unresolved_countries": unique_names(unresolved),
        "low_quality_aliases": unique_names(weak),
        "titles": _texts(element, "TITLE/VALUE"),
        "designations": _texts(element, "DESIGNATION/VALUE"),
        "addresses": addresses,
        "dates_of_birth": births,
        "places_of_birth": places,
        "documents": documents,
        "gender": _collapse(element.findtext("GENDER")),
        "last_updated": _texts(element, "LAST_DAY_UPDATED/VALUE"),
    }
    name_key = fold_name(name)
    return ListedEntity(
        source=SOURCE,
        source_id=dataid,
        name=name,
        kind=_kinds()[tag],
        aliases=tuple(a for a in unique_names(aliases) if fold_name(a) != name_key),
        countries=tuple(dict.fromkeys(countries)),
        programs=(programme,) if programme else (),
        listed_from=listed_on(element.findtext("LISTED_ON")),
        listed_to=None,
        reason=_collapse(element.findtext("COMMENTS1")),
        details={k: v for k, v in details.items() if v},
    )


@register(SOURCE)
class UnConsolidated(Connector):
    """The UN Security Council consolidated list."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        counts: Counter[str] = Counter()
        with payload.open() as raw:
            stream = buffered(raw)
            source = _Utf8Repair(stream) if _utf8(stream.peek(256)[:256]) else stream
            try:
                container: Element | None = None
                started = False
                for event, element in iterparse(source, events=("start", "end")):
                    tag = _local(element.tag)
                    if event == "start":
                        if not started and tag != ROOT:
                            raise SourceFormatError(f"{payload.name}: root <{tag}> is not <{ROOT}>")
                        started = True
                        if tag in CONTAINERS:
                            container = element
                        continue
                    if tag not in _kinds() or container is None:
                        continue
                    counts[tag] += 1
                    dataid = _collapse(element.findtext("DATAID"))
                    ref = f"{tag} {counts[tag]}" + (f" (DATAID {dataid})" if dataid else "")
                    try:
                        yield entity(tag, element)
                    except RecordError as err:
                        yield reject(
                            ref, tostring(element, encoding="unicode"), err, dataid or None
                        )
                    element.clear()  # streaming: drop what has been read
                    if len(container) and container[-1] is element:
                        del container[-1]
            except DefusedXmlException as err:
                raise SourceFormatError(
                    f"{payload.name}: refused unsafe XML ({type(err).__name__}: {err})"
                ) from err
            except ParseError as err:
                raise SourceFormatError(f"{payload.name}: not well-formed XML ({err})") from err
        if not started:
            raise SourceFormatError(f"{payload.name}: empty document")
