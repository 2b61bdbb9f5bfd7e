"""World Bank listing of ineligible (debarred and cross-debarred) firms and individuals.

Files: the Bank's XLSX export (a "Downloaded on" title row, a two-row header, then one row per
entry and address) or a CSV of the same columns. The list has no id column: an entry's stable id
hashes its normalized firm name, country and first day of ineligibility (``listing_key``).

The Bank repeats an entry once per known address. Rows sharing a key are one listing and become
one entity. The file is read twice: the first pass counts rows per key, the second emits each
entity at its last row, so only repeated rows are held in memory.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from allweather.connectors.base import Connector, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    CountryNames,
    LineDecoder,
    RecordError,
    buffered,
    reject,
    text,
    unique_names,
)
from allweather.connectors.registry import register
from allweather.domain.events import EntityKind, ListedEntity, Rejection, Skipped

SOURCE = "worldbank_debarred"
_PACKAGE = __package__ or "allweather.connectors.worldbank_debarred"
PERMANENT_YEAR = 2999  # the Bank ends a permanent debarment on 2999-12-31
OPEN_ENDED = frozenset({"ongoing", "permanent", "indefinite", "indefinitely"})
HEADER_SEARCH_ROWS = 10
XLSX_MAGIC = b"PK\x03\x04"

# Header cells, lower-cased with non-alphanumerics as "_", to fields. The XLSX export has a
# two-row header: "Ineligibility Period" spans the columns its second row names From and To.
_HEADERS = {
    "firm_name": "firm_name",
    "name_of_firm": "firm_name",
    "additional_firm_info": "additional_firm_info",
    "address": "address",
    "country": "country",
    "ineligible_from": "ineligible_from",
    "ineligibility_period": "ineligible_from",
    "from_date": "ineligible_from",
    "ineligible_to": "ineligible_to",
    "to_date": "ineligible_to",
    "grounds": "grounds",
}
_REQUIRED = ("firm_name", "country", "ineligible_from", "ineligible_to", "grounds")

# "also known as" and its many spellings on the list, in names and in additional_firm_info.
_ALIAS_MARKER = re.compile(
    r"(?<![\w.])(?:"
    r"also\s+known\s+as|(?:formerly|previously|now|currently)\s+known\s+as"
    r"|(?:formerly|currently)\s+operating\s+as"
    r"|(?:also\s+|currently\s+)?doing\s+business\s+(?:as|under)"
    r"|(?:also\s+|currently\s+)?d\s*/\s*b\s*/\s*a|(?:also\s+|currently\s+)?dba"
    r"|a\.\s?k\.\s?a\.?|aka|f\.\s?k\.\s?a\.?|f\s*/\s*k\s*/\s*a|fka|formerly"
    r")(?!\w)",
    re.IGNORECASE,
)
_LEADING_ALSO = re.compile(r"^also\s+", re.IGNORECASE)
# Footnote markers (*677, "*566, 576", "* 43 and 45") that point at notes on the Bank's page.
_FOOTNOTES = re.compile(r"\*\s*\d+(?:\s*(?:,|and)\s*\*?\s*\d+)*")
_IDENTIFIER = re.compile(
    r"^(?:reg(?:istration)?\b|tin\b|tax\b|(?:national\s+)?id\b|cnpj\b)", re.IGNORECASE
)
_USCC = re.compile(r"^[0-9A-Z]{18}$")  # China's unified social credit code
_CROSS_DEBARMENT = re.compile(r"cross[\s-]*deb\w*\s*:\s*(\w+)", re.IGNORECASE)
_PUNCTUATION = " \t\r\n,;:-–"


@dataclass
class _Info:
    """What additional_firm_info (or a name) adds: aliases, ids, footnotes, other notes."""

    aliases: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Row:
    """One row of the list, normalized."""

    key: str
    name: str
    kind: EntityKind
    kind_rule: str
    countries: tuple[str, ...]
    country_name: str | None
    country_resolved: bool
    listed_from: date
    listed_to: date | None
    open_ended: str | None  # the source's text when ineligible_to is Ongoing/Permanent/2999
    grounds: str | None
    address: str | None
    additional_info: str | None
    info: _Info


def fold(value: str) -> str:
    """Case, accents, punctuation and spacing folded away: the name part of a listing key."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", bare.casefold()).split())


def listing_key(firm_name: str, country: str, listed_from: date) -> str:
    """The stable id of a listing: 20 hex digits of SHA-256 over "name|country|from".

    ``firm_name`` is folded (``fold``); ``country`` is the ISO alpha-2 code(s) when the name
    resolves, else the folded name, so "Turkey" and "Turkiye" give the same id.
    """
    basis = f"{fold(firm_name)}|{country}|{listed_from.isoformat()}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:20]


def _collapse(value: str) -> str:
    return " ".join(value.split())


def _clean_alias(value: str) -> str:
    alias = _collapse(value).strip(_PUNCTUATION)
    if alias.startswith("[") and alias.endswith("]"):
        alias = alias[1:-1].strip()
    return alias


def _has_other_script(value: str) -> bool:
    """Letters outside the Latin script (Chinese, Khmer, Arabic, ...)."""
    return any(c.isalpha() and not unicodedata.name(c, "").startswith("LATIN") for c in value)


def _top_level(value: str) -> list[tuple[bool, str]]:
    """Split text into bare runs and top-level (parenthesized) groups; an unclosed group runs
    to the end (the list truncates long names)."""
    parts: list[tuple[bool, str]] = []
    depth = 0
    current: list[str] = []
    for char in value:
        if char == "(":
            if depth == 0:
                if current:
                    parts.append((False, "".join(current)))
                current = []
            else:
                current.append(char)
            depth += 1
        elif char == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                parts.append((True, "".join(current)))
                current = []
            else:
                current.append(char)
        else:
            current.append(char)
    if current:
        parts.append((depth > 0, "".join(current)))
    return parts


def _standalone(content: str, info: _Info) -> bool:
    """Take a parenthesized group that is an alias, an id or a name in another script."""
    stripped = content.strip(_PUNCTUATION)
    marker = _ALIAS_MARKER.match(stripped)
    if marker:
        info.aliases.append(_clean_alias(stripped[marker.end() :]))
        return True
    if _IDENTIFIER.match(stripped) or _USCC.match(stripped):
        info.identifiers.append(_collapse(stripped))
        return True
    if _has_other_script(stripped):
        info.aliases.extend(_clean_alias(part) for part in re.split(r"[,，、;]", stripped))
        return True
    return False


def _looks_like_name(value: str) -> bool:
    return not value.startswith("(") and not value[:1].islower() and ":" not in value


def read_info(value: str | None) -> _Info:
    """Aliases, identifiers, footnotes and notes from additional_firm_info."""
    info = _Info()
    if not value:
        return info
    for marker in _FOOTNOTES.findall(value):
        info.footnotes.extend(f"*{n}" for n in re.findall(r"\d+", marker))
    remainder = " ".join(
        f"({content})" if grouped else content
        for grouped, content in _top_level(_FOOTNOTES.sub(" ", value))
        if not (grouped and _standalone(content, info))
    )
    remainder = _collapse(remainder).strip(_PUNCTUATION)
    if not remainder:
        return info
    if remainder.isdigit():  # a footnote number without its asterisk
        info.footnotes.append(f"*{remainder}")
    elif _IDENTIFIER.match(remainder):
        info.identifiers.append(remainder)
    elif marker := _ALIAS_MARKER.search(remainder):
        before = remainder[: marker.start()].strip(_PUNCTUATION)
        if before and _looks_like_name(before):
            info.aliases.append(_clean_alias(before))
        info.aliases.append(_clean_alias(remainder[marker.end() :]))
    elif also := _LEADING_ALSO.match(remainder):
        info.aliases.append(_clean_alias(remainder[also.end() :]))
    elif _looks_like_name(remainder):
        info.aliases.append(_clean_alias(remainder))
    else:
        info.notes.append(remainder)
    return info


def read_name(value: str) -> tuple[str, list[str]]:
    """The primary name and the aliases a firm_name carries ("X, FORMERLY KNOWN AS Y")."""
    info = _Info()
    kept = []
    for grouped, content in _top_level(value):
        stripped = content.strip(_PUNCTUATION)
        if grouped and (marker := _ALIAS_MARKER.match(stripped)):
            info.aliases.append(_clean_alias(stripped[marker.end() :]))
        else:
            kept.append(f"({content})" if grouped else content)
    name = _collapse(" ".join(kept)).strip(_PUNCTUATION)
    if marker := _ALIAS_MARKER.search(name):
        before = name[: marker.start()].strip(_PUNCTUATION)
        after = _clean_alias(name[marker.end() :])
        if before:
            name = before
            info.aliases.insert(0, after)
        else:  # "A.K.A. JOKO SESWANTO": the alias is all the row names
            name = after
    return name, [a for a in info.aliases if a]


@lru_cache(maxsize=1)
def _kind_markers() -> tuple[dict[tuple[str, ...], str], dict[tuple[str, ...], str]]:
    """(honorifics, firm markers): word tuples → kind, from kind_markers.csv."""
    first: dict[tuple[str, ...], str] = {}
    anywhere: dict[tuple[str, ...], str] = {}
    for marker, row in load_mapping(_PACKAGE, "kind_markers.csv").rows.items():
        words = tuple(_words(marker))
        (first if row["where"] == "first" else anywhere)[words] = row["kind"]
    return first, anywhere


def _words(value: str) -> list[str]:
    return fold(value.replace(".", "")).split()


def entity_kind(name: str) -> tuple[EntityKind, str]:
    """Person or organization from the name (the list has no type column), and the rule used."""
    words = _words(name)
    first, anywhere = _kind_markers()
    opening = fold(name.replace(".", " ")).split()[:1]  # "DR.HANS" opens with "dr"
    if opening and (opening[0],) in first:
        return EntityKind(first[(opening[0],)]), f"honorific:{opening[0]}"
    for size in (1, 2, 3):
        for start in range(len(words) - size + 1):
            window = tuple(words[start : start + size])
            if window in anywhere:
                return EntityKind(anywhere[window]), f"marker:{' '.join(window)}"
    if "&" in name:
        return EntityKind.ORGANIZATION, "ampersand"
    if len(words) <= 1:
        return EntityKind.ORGANIZATION, "single_word"
    return EntityKind.PERSON, "no_firm_marker"


_COUNTRIES = CountryNames(_PACKAGE, fold=fold)
resolve_country = _COUNTRIES.resolve  # the list's own forms (countries.csv), then the ISO catalog


def _day(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if raw is None:
        raise RecordError(name, f"{name} is missing")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d-%b-%Y"):
        try:
            return datetime.strptime(raw, pattern).date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            continue
    raise RecordError(name, f"{name} {raw!r} is not a date")


def _cell(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return text(value)


def parse_row(cells: dict[str, object]) -> _Row:
    """One row → a normalized row; RecordError names the field that cannot be read."""
    raw_name = _cell(cells.get("firm_name"))
    if raw_name is None:
        raise RecordError("firm_name", "firm_name is missing")
    name, aliases = read_name(raw_name)
    if not name:
        raise RecordError("firm_name", f"firm_name {raw_name!r} holds no name")
    listed_from = _day(cells.get("ineligible_from"), "ineligible_from")
    to_text = _cell(cells.get("ineligible_to"))
    open_ended: str | None = None
    listed_to: date | None = None
    if to_text is None or to_text.casefold() in OPEN_ENDED:
        open_ended = to_text
    else:
        listed_to = _day(cells.get("ineligible_to"), "ineligible_to")
        if listed_to.year >= PERMANENT_YEAR:
            open_ended, listed_to = to_text, None
        elif listed_to < listed_from:
            raise RecordError(
                "ineligible_to", f"ineligible_to {listed_to} is before ineligible_from"
            )
    country_name = _cell(cells.get("country"))
    countries = resolve_country(country_name) if country_name else ()
    key_country = " ".join(countries) if countries else fold(country_name or "")
    additional = _cell(cells.get("additional_firm_info"))
    info = read_info(additional)
    info.aliases[:0] = aliases
    kind, rule = entity_kind(name)
    grounds = _cell(cells.get("grounds"))
    return _Row(
        key=listing_key(raw_name, key_country, listed_from),
        name=name,
        kind=kind,
        kind_rule=rule,
        countries=countries or (),
        country_name=country_name,
        country_resolved=countries is not None,
        listed_from=listed_from,
        listed_to=listed_to,
        open_ended=open_ended,
        grounds=_collapse(grounds) if grounds else None,
        address=_cell(cells.get("address")),
        additional_info=additional,
        info=info,
    )


def merge(rows: Sequence[_Row]) -> ListedEntity:
    """The entity of one listing: its rows (one per address) merged, in file order."""
    first = rows[0]
    name_key = _collapse(first.name).casefold()
    aliases = [
        a for a in unique_names(a for r in rows for a in r.info.aliases) if a.casefold() != name_key
    ]
    programs = unique_names(r.grounds for r in rows)
    open_ended = next((r.open_ended for r in rows if r.listed_to is None), None)
    ends = [r.listed_to for r in rows if r.listed_to is not None]
    details: dict[str, Any] = {
        "addresses": unique_names(r.address for r in rows),
        "country_name": first.country_name,
        "unresolved_countries": unique_names(
            r.country_name for r in rows if r.country_name and not r.country_resolved
        ),
        "additional_info": unique_names(r.additional_info for r in rows),
        "identifiers": unique_names(i for r in rows for i in r.info.identifiers),
        "footnotes": unique_names(f for r in rows for f in r.info.footnotes),
        "notes": unique_names(n for r in rows for n in r.info.notes),
        "cross_debarred_by": unique_names(
            m.upper() for p in programs for m in _CROSS_DEBARMENT.findall(p)
        ),
        "ineligible_to_text": open_ended,
        "kind_rule": first.kind_rule,
        "rows": len(rows) if len(rows) > 1 else None,
    }
    return ListedEntity(
        source=SOURCE,
        source_id=first.key,
        name=first.name,
        kind=first.kind,
        aliases=tuple(aliases),
        countries=tuple(dict.fromkeys(c for r in rows for c in r.countries)),
        programs=tuple(programs),
        listed_from=first.listed_from,
        listed_to=None if any(r.listed_to is None for r in rows) else max(ends),
        reason="; ".join(programs) or None,
        details={k: v for k, v in details.items() if v},
    )


def _header_key(value: object) -> str:
    raw = (_cell(value) or "").replace("\ufeff", "")
    return re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")


class _Columns:
    """Finds the header below the title rows and maps fields to column positions."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.width = 0
        self.seen = 0
        self.ready = False

    def consume(self, cells: Sequence[object]) -> bool:
        """True when ``cells`` is a title or header row (nothing to parse)."""
        if self.ready:
            return False
        keys = [_header_key(c) for c in cells]
        if not self.positions:
            self.seen += 1
            if "firm_name" in keys or "name_of_firm" in keys:
                for position, key in enumerate(keys):
                    if key in _HEADERS:
                        self.positions.setdefault(_HEADERS[key], position)
                self.width = len(cells)
            elif self.seen >= HEADER_SEARCH_ROWS:
                raise SourceFormatError("no World Bank list header (Firm Name, Country, ...)")
            return True
        if "from_date" in keys or "to_date" in keys:  # second row of the export's header
            for position, key in enumerate(keys):
                if key in ("from_date", "to_date"):
                    self.positions[_HEADERS[key]] = position
            return True
        self.check()
        self.ready = True
        return False

    def check(self) -> None:
        if not self.positions:
            raise SourceFormatError("no World Bank list header (Firm Name, Country, ...)")
        missing = [name for name in _REQUIRED if name not in self.positions]
        if missing:
            raise SourceFormatError(f"World Bank list without columns {missing}")

    def record(self, cells: Sequence[object]) -> dict[str, object]:
        return {
            name: cells[position] if position < len(cells) else None
            for name, position in self.positions.items()
        }


def _csv_rows(stream: IO[bytes]) -> Iterator[tuple[str, str, dict[str, object]] | Rejection]:
    lines = LineDecoder(stream)
    reader = csv.reader(lines)
    columns = _Columns()
    for record in reader:
        yield from lines.drain()
        if not any(cell.strip() for cell in record) or columns.consume(record):
            continue
        ref, raw = f"line {reader.line_num}", ",".join(record)
        if len(record) != columns.width:
            yield reject(
                ref, raw, RecordError(None, f"{len(record)} fields, expected {columns.width}")
            )
            continue
        yield ref, raw, columns.record(record)
    yield from lines.drain()
    columns.check()


_WORKBOOK_ERRORS = (
    zipfile.BadZipFile,
    InvalidFileException,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    DefusedXmlException,
    ParseError,
)


def _workbook_error(err: Exception) -> SourceFormatError:
    """openpyxl wraps what its XML parser (defusedxml) raised: name a refused bomb as such."""
    cause = err if isinstance(err, DefusedXmlException) else err.__cause__
    if isinstance(cause, DefusedXmlException):
        return SourceFormatError(f"refused unsafe XML in the workbook ({type(cause).__name__})")
    return SourceFormatError(f"not a readable XLSX workbook: {err}")


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[str, str, dict[str, object]] | Rejection]:
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except _WORKBOOK_ERRORS as err:
        raise _workbook_error(err) from err
    try:
        sheet = book.worksheets[0]
        if not isinstance(sheet, ReadOnlyWorksheet):
            raise SourceFormatError("the workbook's first sheet holds no cells")
        sheet.reset_dimensions()  # the export declares A1:A1288: only column A would be read
        columns = _Columns()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(values)
            if not any(_cell(c) for c in cells) or columns.consume(cells):
                continue
            yield f"row {number}", ",".join(_cell(c) or "" for c in cells), columns.record(cells)
        columns.check()
    except (DefusedXmlException, ParseError, zipfile.BadZipFile) as err:
        raise _workbook_error(err) from err
    finally:
        book.close()


@register(SOURCE)
class WorldBankDebarred(Connector):
    """The World Bank's listing of ineligible firms and individuals."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        rows_per_key = Counter(item.key for item in self._rows(payload) if isinstance(item, _Row))
        pending: dict[str, list[_Row]] = {}
        for item in self._rows(payload):
            if isinstance(item, Rejection):
                yield item
                continue
            group = pending.setdefault(item.key, [])
            group.append(item)
            if len(group) == rows_per_key[item.key]:
                del pending[item.key]
                if len(group) > 1:
                    yield Skipped(len(group) - 1, "further addresses of a listing, merged")
                yield merge(group)

    def _rows(self, payload: Payload) -> Iterator[_Row | Rejection]:
        with payload.open() as raw:
            stream = buffered(raw)
            reader = _xlsx_rows if stream.peek(4)[:4] == XLSX_MAGIC else _csv_rows
            for item in reader(stream):
                if isinstance(item, Rejection):
                    yield item
                    continue
                ref, text_row, cells = item
                try:
                    yield parse_row(cells)
                except RecordError as err:
                    yield reject(ref, text_row, err)
