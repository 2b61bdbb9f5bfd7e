"""OFAC SDN list: the real 2023 SDN.CSV (with a header a re-export added) from ../shared/data."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from allweather.connectors.errors import SourceFormatError
from allweather.connectors.ofac_sdn.connector import programs, read_remarks, resolve_country
from allweather.connectors.registry import get_connector
from allweather.domain.events import EntityKind, ListedEntity, Rejection
from allweather.store.tables import listed_entities
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

SOURCE = "ofac_sdn"
CSV = "sanctions_lists/ofac_sdn_2023_with_header.csv"
FIXTURE = Path(__file__).parent / "fixtures" / "sdn_sample.csv"  # official layout, 6 entries
GOOD = b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'


@pytest.fixture(scope="module")
def real():
    """The recorded file, parsed once for the tests that only read it."""
    return parse_path(SOURCE, shared_file(CSV))


def _entities(items):
    return [i for i in items if isinstance(i, ListedEntity)]


def _by_id(items):
    return {e.source_id: e for e in _entities(items)}


def test_counts_match_the_file(real):
    items = real
    # 11,443 rows after the added header; the last line is OFAC's 0x1A end-of-file mark.
    assert kinds(items) == {"ListedEntity": 11443}
    entities = _entities(items)
    assert {k: sum(e.kind is k for e in entities) for k in EntityKind} == {
        EntityKind.PERSON: 5890,
        EntityKind.ORGANIZATION: 4575,
        EntityKind.VESSEL: 685,
        EntityKind.AIRCRAFT: 293,
        EntityKind.OTHER: 0,
    }
    assert len({e.source_id for e in entities}) == 11443
    assert len({p for e in entities for p in e.programs}) == 72


def test_first_and_last_entries(real):
    entities = _entities(real)
    first = entities[0]  # 36,AEROCARIBBEAN AIRLINES,-0- ,CUBA,-0- ,...
    assert (first.source_id, first.name, first.kind) == (
        "36",
        "AEROCARIBBEAN AIRLINES",
        EntityKind.ORGANIZATION,
    )
    assert first.programs == ("CUBA",)
    assert (first.aliases, first.countries, first.details) == ((), (), {})
    last = entities[-1]  # 40421,"SIAVASH, Nader Khoon",individual,NPWMD] [IFSR,...
    assert (last.source_id, last.name, last.kind) == (
        "40421",
        "SIAVASH, Nader Khoon",
        EntityKind.PERSON,
    )
    assert last.programs == ("NPWMD", "IFSR")
    assert last.countries == ("IR",)  # "nationality Iran"
    assert last.details["linked_to"] == ["AEROSPACE INDUSTRIES ORGANIZATION"]
    assert (last.listed_from, last.listed_to) == (None, None)  # SDN.CSV carries no dates


def test_a_vessel_an_aircraft_and_an_individual_with_aliases(real):
    entities = _by_id(real)
    vessel = entities["15036"]
    assert (vessel.name, vessel.kind, vessel.programs) == ("ARTAVIL", EntityKind.VESSEL, ("IRAN",))
    assert vessel.countries == ("IR",)  # Vess_flag Iran
    assert vessel.aliases == ("ALPHA",)  # f.k.a. 'ALPHA'
    assert vessel.details["former_names"] == ["ALPHA"]
    assert vessel.details["call_sign"] == "T2EU4"
    assert vessel.details["vessel_type"] == "Crude/Oil Products Tanker"
    assert (vessel.details["tonnage"], vessel.details["grt"]) == ("99,144", "56,068")
    assert vessel.details["linked_to"] == ["NATIONAL IRANIAN TANKER COMPANY"]
    aircraft = entities["15431"]
    assert (aircraft.name, aircraft.kind) == ("EP-GOM", EntityKind.AIRCRAFT)
    person = entities["6924"]  # ... citizen Egypt; alt. citizen Kenya; ... a.k.a. 'HUSSEIN'; ...
    assert person.name == "FADHIL, Mustafa Mohamed"
    assert person.aliases == ("HUSSEIN", "ANIS, Abu", "YUSSRR, Abu", "KHALID")
    assert person.countries == ("EG", "KE")
    assert entities["306"].aliases == ("BNC",)  # BANCO NACIONAL DE CUBA, a.k.a. 'BNC'.


def test_remarks_extraction_rate_on_the_real_file(real):
    """What Remarks yields, measured: every quoted a.k.a./f.k.a. outside a cut-off segment, and
    every nationality/citizen/registration country, through the catalog and countries.csv."""
    entities = _entities(real)
    remarks = [e.details.get("remarks", "") for e in entities]
    alias_segments = sum(len(re.findall(r"(?:^|; )[af]\.k\.a\. ", r)) for r in remarks)
    assert alias_segments == 2772
    assert sum(len(e.aliases) for e in entities) == 2770  # 2 cut off at 1,000 characters
    assert sum(1 for e in entities if e.aliases) == 1487
    assert sum(1 for e in entities if e.details.get("remarks_truncated")) == 14
    country_values = [
        v
        for e in entities
        for key in ("nationalities", "citizenships", "registration_countries")
        for v in e.details.get(key, [])
    ]
    assert len(country_values) == 4703
    assert all(resolve_country(v) is not None for v in country_values)
    assert not [e for e in entities if e.details.get("unresolved_countries")]
    assert sum(1 for e in entities if e.countries) == 4754


@pytest.mark.parametrize(
    ("remarks", "aliases", "former", "nationalities", "citizenships", "registrations"),
    [
        ("a.k.a. 'BNC'.", ["BNC"], [], [], [], []),
        ("a.k.a. ''ABD-AL-'IZ'", ["'ABD-AL-'IZ"], [], [], [], []),
        ("f.k.a. 'SAND SWAN'.", [], ["SAND SWAN"], [], [], []),
        (
            "DOB 1960; nationality Palestinian; alt. nationality Germany.",
            [],
            [],
            ["Palestinian", "Germany"],
            [],
            [],
        ),
        ("citizen Saudi Arabia.; alt. citizen Kenya", [], [], [], ["Saudi Arabia", "Kenya"], []),
        ("Nationality of Registration Korea, North", [], [], [], [], ["Korea, North"]),
        ("Citizen's Card Number 211226197812154256 (China)", [], [], [], [], []),
        ("a.k.a. WITHOUT QUOTES", [], [], [], [], []),
    ],
)
def test_remarks_are_read(remarks, aliases, former, nationalities, citizenships, registrations):
    read = read_remarks(remarks)
    assert (
        read.aliases,
        read.former_names,
        read.nationalities,
        read.citizenships,
        read.registrations,
    ) == (aliases, former, nationalities, citizenships, registrations)
    assert read.unread_aliases == (["a.k.a. WITHOUT QUOTES"] if "WITHOUT" in remarks else [])


def test_remarks_cut_at_1000_characters_lose_only_their_last_segment():
    remarks = "nationality Iran; a.k.a. 'KEPT'; " + "x" * 945 + "; a.k.a. 'WHOIS HACKING'"
    assert remarks[:1000].endswith("'WHOIS HACKIN")  # as OFAC cuts it
    read = read_remarks(remarks[:1000])
    assert read.truncated
    assert (read.aliases, read.nationalities, read.unread_aliases) == (["KEPT"], ["Iran"], [])


@pytest.mark.parametrize(
    ("name", "codes"),
    [("Korea, North", ("KP",)), ("Burma", ("MM",)), ("None Identified", ()), ("Iran", ("IR",))],
)
def test_ofac_country_names(name, codes):
    assert resolve_country(name) == codes


def test_programs_joined_by_brackets():
    assert programs("NPWMD] [IFSR") == ("NPWMD", "IFSR")
    assert programs("CAATSA - RUSSIA") == ("CAATSA - RUSSIA",)


def test_the_official_headerless_file_reads_like_the_re_export(real):
    """SDN.CSV as OFAC publishes it has no header; the same rows read the same."""
    with_header = shared_file(CSV).read_bytes()
    official = with_header[with_header.index(b"\n") + 1 :]
    assert parse_bytes(SOURCE, "sdn.csv", official) == real


def test_the_official_layout_fixture():
    items = parse_path(SOURCE, FIXTURE)  # quoted text, "-0- " nulls, CRLF, a final 0x1A
    assert [e.source_id for e in _entities(items)] == [
        "36",
        "306",
        "6924",
        "15036",
        "15431",
        "40421",
    ]
    assert kinds(items) == {"ListedEntity": 6}


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (
            b'-0- ,"NO NUMBER",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            "ent_num",
            "ent_num is missing",
        ),
        (
            b'12a,"BAD NUMBER",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            "ent_num",
            "is not a number",
        ),
        (
            b'37,-0- ,-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            "SDN_Name",
            "SDN_Name is missing",
        ),
        (
            b'38,"ODD TYPE","submarine","CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            "SDN_Type",
            "unknown SDN_Type",
        ),
        (b'39,"SHORT ROW","individual","CUBA"\r\n', None, "4 fields, expected 12"),
        (
            b'40,"CAF\xc9",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            None,
            "invalid utf-8",
        ),
    ],
)
def test_malformed_rows_are_quarantined_and_the_rest_lands(line, field, reason):
    last = GOOD.replace(b"36,", b"41,")
    items = parse_bytes(SOURCE, "sdn.csv", GOOD + line + last + b"\x1a")
    assert [e.source_id for e in _entities(items)] == ["36", "41"]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert (rejected.ref, rejected.field) == ("line 2", field)
    assert reason in rejected.reason


@pytest.mark.parametrize(
    "content",
    [b"a,b,c\n1,2,3\n", b"<html>Service unavailable</html>\n"],
)
def test_not_an_sdn_file_is_a_format_error(content):
    with pytest.raises(SourceFormatError, match="not an OFAC SDN.CSV"):
        parse_bytes(SOURCE, "sdn.csv", content)


def _stored(platform):
    with platform.engine.connect() as conn:
        rows = conn.execute(select(listed_entities).where(listed_entities.c.source == SOURCE))
        return {row.source_id: row for row in rows}


def test_snapshots_end_to_end_twice_then_delisted_then_relisted(platform, tmp_path):
    connector, ingestor = get_connector(SOURCE), platform.ingestor()
    first = ingestor.ingest_file(connector, FIXTURE)
    assert (first.read, first.counts.new, first.counts.quarantined) == (6, 6, 0)
    again = ingestor.ingest_file(connector, FIXTURE)
    assert (again.counts.new, again.counts.updated, again.counts.deleted) == (0, 0, 0)
    assert _stored(platform)["15036"].kind == "vessel"

    later = tmp_path / "sdn_later.csv"
    later.write_bytes(
        b"".join(
            x for x in FIXTURE.read_bytes().splitlines(keepends=True) if not x.startswith(b"306,")
        )
    )
    report = ingestor.ingest_file(connector, later)
    assert (report.counts.new, report.counts.updated, report.counts.deleted) == (0, 0, 1)
    stored = _stored(platform)
    assert stored["306"].delisted_at is not None
    assert all(r.delisted_at is None for k, r in stored.items() if k != "306")

    relisted = ingestor.ingest_file(connector, FIXTURE)
    assert (relisted.counts.new, relisted.counts.updated, relisted.counts.deleted) == (0, 1, 0)
    assert _stored(platform)["306"].delisted_at is None


def test_the_real_list_lands_once(sqlite_platform):
    connector, ingestor = get_connector(SOURCE), sqlite_platform.ingestor()
    first = ingestor.ingest_file(connector, shared_file(CSV))
    assert (first.read, first.counts.new, first.counts.quarantined) == (11443, 11443, 0)
    second = ingestor.ingest_file(connector, shared_file(CSV))
    assert (second.counts.new, second.counts.updated, second.counts.deleted) == (0, 0, 0)
