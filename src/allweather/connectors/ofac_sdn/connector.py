"""OFAC Specially Designated Nationals list: SDN.CSV, the legacy delimited file.

Twelve columns in a fixed order and no header (a header row, as some re-exports add, is
recognized and skipped; the official positions are used either way), ``-0-`` for null, and a
Ctrl-Z (0x1A) line at the end. ``ent_num`` is OFAC's stable id.

Aliases and countries are published in ALT.CSV and ADD.CSV; SDN.CSV repeats some of them in
Remarks, which is read for: ``a.k.a. 'X'`` and ``f.k.a. 'X'`` (aliases), ``nationality X``,
``citizen X`` (also with ``alt.``) and ``Nationality of Registration X`` (countries), and
``Linked To: X``. OFAC cuts Remarks at 1,000 characters; the cut segment is not read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from allweather.connectors.base import Connector, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import load_mapping
from allweather.connectors.normalize import (
    CountryNames,
    LineDecoder,
    RecordError,
    fold_name,
    reject,
    required,
    text,
    unique_names,
)
from allweather.connectors.registry import register
from allweather.domain.events import EntityKind, ListedEntity

SOURCE = "ofac_sdn"
_PACKAGE = __package__ or "allweather.connectors.ofac_sdn"
COLUMNS = (
    "ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign",
    "Vess_type", "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks",
)  # fmt: skip
REMARKS_LIMIT = 1000  # OFAC cuts Remarks at this length in SDN.CSV
END_OF_FILE = "\x1a"

_ALIAS = re.compile(r"^(?P<kind>[af])\.k\.a\.\s+'(?P<name>.+)'\.?$")
_ALIAS_START = re.compile(r"^[a-z]\.k\.a\.")
_NATIONALITY = re.compile(r"^(?:alt\.\s+)?(?P<what>nationality|citizen)\s+(?P<country>.+?)\.?$")
_REGISTRATION = re.compile(
    r"^(?:alt\.\s+)?nationality\s+of\s+registration\s+(?P<country>.+?)\.?$", re.IGNORECASE
)
_LINKED = re.compile(r"^Linked To:\s*(?P<name>.+?)\.?$")


@dataclass
class Remarks:
    """What Remarks says that a screen can use, and how much of it could be read."""

    aliases: list[str] = field(default_factory=list)
    former_names: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    citizenships: list[str] = field(default_factory=list)
    registrations: list[str] = field(default_factory=list)
    linked_to: list[str] = field(default_factory=list)
    unread_aliases: list[str] = field(default_factory=list)  # a.k.a. segments not in quotes
    truncated: bool = False


def read_remarks(value: str | None) -> Remarks:
    """Aliases, nationality/citizenship/registration countries and links from Remarks."""
    found = Remarks()
    raw = text(value)
    if raw is None:
        return found
    segments = [s.strip() for s in raw.split(";")]
    if len(value or "") >= REMARKS_LIMIT:  # the last segment is cut off: not read
        found.truncated = True
        segments = segments[:-1]
    for segment in segments:
        if alias := _ALIAS.match(segment):
            target = found.aliases if alias["kind"] == "a" else found.former_names
            target.append(" ".join(alias["name"].split()))
        elif _ALIAS_START.match(segment):
            found.unread_aliases.append(segment)
        elif registration := _REGISTRATION.match(segment):
            found.registrations.append(registration["country"])
        elif nationality := _NATIONALITY.match(segment):
            target = (
                found.nationalities
                if nationality["what"] == "nationality"
                else (found.citizenships)
            )
            target.append(nationality["country"])
        elif linked := _LINKED.match(segment):
            found.linked_to.append(linked["name"])
    return found


_COUNTRIES = CountryNames(_PACKAGE)
resolve_country = _COUNTRIES.resolve  # OFAC's own forms (countries.csv), then the ISO catalog


@lru_cache(maxsize=1)
def _kinds() -> dict[str, EntityKind]:
    table = load_mapping(_PACKAGE, "sdn_types.csv")
    return {sdn_type: EntityKind(row["kind"]) for sdn_type, row in table.rows.items()}


def programs(value: str | None) -> tuple[str, ...]:
    """OFAC writes several programs as "NPWMD] [IFSR" (the outer brackets dropped)."""
    return tuple(dict.fromkeys(p.strip() for p in re.split(r"[\[\]]", value or "") if p.strip()))


def entity(row: dict[str, str]) -> ListedEntity:
    """One SDN.CSV row → a listed entity; RecordError names the bad field."""
    ent_num = required(row["ent_num"], "ent_num")
    if not ent_num.isdigit():
        raise RecordError("ent_num", f"ent_num {ent_num!r} is not a number")
    name = " ".join(required(row["SDN_Name"], "SDN_Name").split())
    sdn_type = (text(row["SDN_Type"]) or "entity").lower()
    kind = _kinds().get(sdn_type)
    if kind is None:
        raise RecordError("SDN_Type", f"unknown SDN_Type {sdn_type!r}")
    remarks = read_remarks(row["Remarks"])
    flag = text(row["Vess_flag"])
    countries: list[str] = []
    unresolved: list[str] = []
    for value in (
        *remarks.nationalities,
        *remarks.citizenships,
        *remarks.registrations,
        *([flag] if flag else []),
    ):
        codes = resolve_country(value)
        if codes is None:
            unresolved.append(value)
        else:
            countries.extend(codes)
    details: dict[str, Any] = {
        "title": text(row["Title"]),
        "call_sign": text(row["Call_Sign"]),
        "vessel_type": text(row["Vess_type"]),
        "tonnage": text(row["Tonnage"]),
        "grt": text(row["GRT"]),
        "vessel_flag": flag,
        "vessel_owner": text(row["Vess_owner"]),
        "former_names": unique_names(remarks.former_names),
        "nationalities": remarks.nationalities,
        "citizenships": remarks.citizenships,
        "registration_countries": remarks.registrations,
        "unresolved_countries": unique_names(unresolved),
        "linked_to": remarks.linked_to,
        "remarks": text(row["Remarks"]),
        "remarks_truncated": remarks.truncated,
    }
    name_key = fold_name(name)
    aliases = unique_names([*remarks.aliases, *remarks.former_names])
    return ListedEntity(
        source=SOURCE,
        source_id=ent_num,
        name=name,
        kind=kind,
        aliases=tuple(a for a in aliases if fold_name(a) != name_key),
        countries=tuple(dict.fromkeys(countries)),
        programs=programs(row["Program"]),
        details={k: v for k, v in details.items() if v},
    )


@register(SOURCE)
class OfacSdn(Connector):
    """OFAC's SDN list (SDN.CSV)."""

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        with payload.open() as raw:
            lines = LineDecoder(raw)
            reader = csv.reader(lines)
            first = True
            for record in reader:
                yield from lines.drain()
                if not any(cell.strip() for cell in record):
                    continue
                if record[0].strip() == END_OF_FILE and not any(c.strip() for c in record[1:]):
                    continue  # OFAC's end-of-file mark
                if first:
                    first = False
                    record[0] = record[0].lstrip("\ufeff")
                    if not record[0].strip().isdigit():
                        if len(record) != len(COLUMNS) or not any(
                            "name" in cell.lower() for cell in record
                        ):
                            raise SourceFormatError(
                                f"{payload.name}: not an OFAC SDN.CSV (the first row is "
                                f"neither an entry nor a {len(COLUMNS)}-column header)"
                            )
                        continue  # a header row added by a re-export
                ref, raw_row = f"line {reader.line_num}", ",".join(record)
                try:
                    if len(record) != len(COLUMNS):
                        raise RecordError(None, f"{len(record)} fields, expected {len(COLUMNS)}")
                    yield entity(dict(zip(COLUMNS, record, strict=True)))
                except RecordError as err:
                    entry = record[0].strip() if record and record[0].strip().isdigit() else None
                    yield reject(ref, raw_row, err, entry)
            yield from lines.drain()
