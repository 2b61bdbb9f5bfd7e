"""UN Security Council consolidated list: the real 2018-10-29 XML from ../shared/data."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from allweather.connectors.errors import SourceFormatError
from allweather.connectors.registry import get_connector
from allweather.domain.events import EntityKind, ListedEntity, Rejection
from allweather.store.tables import listed_entities
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

SOURCE = "un_consolidated"
XML = "sanctions_lists/un_sc_consolidated_list_2018-10-29.xml"
FIXTURE = Path(__file__).parent / "fixtures" / "un_sample.xml"


@pytest.fixture(scope="module")
def real():
    """The recorded list, parsed once for the tests that only read it."""
    return parse_path(SOURCE, shared_file(XML))


def _entities(items):
    return [i for i in items if isinstance(i, ListedEntity)]


def _document(*records: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST dateGenerated="2018-10-29">'
        "<INDIVIDUALS>" + "".join(records) + "</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"
    ).encode()


def _individual(
    dataid: str, first: str = "JOHN", second: str = "DOE", listed: str = "2016-11-30"
) -> str:
    return (
        f"<INDIVIDUAL><DATAID>{dataid}</DATAID><FIRST_NAME>{first}</FIRST_NAME>"
        f"<SECOND_NAME>{second}</SECOND_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>"
        f"<LISTED_ON>{listed}</LISTED_ON></INDIVIDUAL>"
    )


def test_counts_match_the_list(real):
    items = real
    assert kinds(items) == {"ListedEntity": 1093}  # 703 individuals + 390 entities (README)
    entities = _entities(items)
    assert sum(e.kind is EntityKind.PERSON for e in entities) == 703
    assert sum(e.kind is EntityKind.ORGANIZATION for e in entities) == 390
    assert len({e.source_id for e in entities}) == 1093
    assert sum(1 for e in entities if e.aliases) == 802
    programmes = {p for e in entities for p in e.programs}
    assert programmes == {
        "Al-Qaida", "Iraq", "DPRK", "Taliban", "Iran", "DRC", "Libya", "Somalia", "CAR",
        "GB", "SouthSudan", "Yemen", "Sudan",
    }  # fmt: skip


def test_first_individual(real):
    first = _entities(real)[0]
    # <DATAID>6908555</DATAID><FIRST_NAME> RI </FIRST_NAME><SECOND_NAME>WON HO</SECOND_NAME>
    assert (first.source_id, first.name, first.kind) == ("6908555", "RI WON HO", EntityKind.PERSON)
    assert first.countries == ("KP",)  # Democratic People's Republic of Korea
    assert first.programs == ("DPRK",)
    assert first.listed_from == date(2016, 11, 30)
    assert first.listed_to is None
    assert first.aliases == ()  # an empty INDIVIDUAL_ALIAS
    assert first.reason == (
        "Ri Won Ho is a DPRK Ministry of State Security Official stationed in Syria "
        "supporting KOMID."
    )
    assert first.details["reference_number"] == "KPi.033"
    assert first.details["dates_of_birth"] == ["1964-07-17"]
    assert first.details["documents"] == ["Passport 381310014"]


def test_last_individual_with_aliases_and_original_script(real):
    entities = {e.source_id: e for e in _entities(real)}
    said = entities["2959427"]
    assert said.name == "SAID JAN ‘ABD AL-SALAM"
    assert said.aliases == (
        "سعید جان عبد السلام",  # NAME_ORIGINAL_SCRIPT
        "Sa'id Jan 'Abd-al-Salam",
        "Dilawar Khan Zain Khan",
        "Qazi 'Abdallah",
        "Qazi Abdullah",
        "Ibrahim Walid",
        "Qasi Sa'id Jan",
        "Said Jhan",
        "Farhan Khan",
        "Aziz Cairo",
        "Nangiali",
    )
    assert said.details["low_quality_aliases"][0] == "Qazi 'Abdallah"
    assert len(said.details["low_quality_aliases"]) == 8
    assert said.countries == ("AF",)
    assert said.programs == ("Al-Qaida",)
    assert said.listed_from == date(2011, 2, 9)
    assert said.details["dates_of_birth"] == ["1981-02-05", "1972-01-01"]
    # A Chinese original-script name is kept as given.
    assert entities["2854925"].aliases[0] == "阿不都·哈克"


def test_first_and_last_entity(real):
    entities = _entities(real)
    first = entities[703]
    assert (first.source_id, first.name) == ("6908629", "PROPAGANDA AND AGITATION DEPARTMENT (PAD)")
    assert first.kind is EntityKind.ORGANIZATION
    assert first.countries == ("KP",)  # from its address
    last = entities[-1]
    assert (last.source_id, last.name) == ("6908689", "YUK TUNG ENERGY PTE LTD")
    assert last.countries == ("SG",)
    assert last.listed_from == date(2018, 3, 30)
    assert last.details["addresses"] == [
        "17-22, UOB Plaza 2, Raffles Place, Singapore, 048624, Singapore"
    ]


def test_listing_dates_with_a_time_zone_and_unresolvable_countries(real):
    entities = {e.source_id: e for e in _entities(real)}
    assert entities["6908455"].listed_from == date(2015, 4, 14)  # <LISTED_ON>2015-04-14-04:00
    unresolved = [e for e in entities.values() if e.details.get("unresolved_countries")]
    assert [e.details["unresolved_countries"] for e in unresolved] == [["USSR (until 1991)"]]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>&lol9;</FIRST_NAME>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>&secret;</FIRST_NAME>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""


@pytest.mark.parametrize("content", [BOMB, EXTERNAL], ids=["billion_laughs", "external_entity"])
def test_entity_declarations_are_refused_never_expanded(content):
    items = []
    with pytest.raises(SourceFormatError, match="refused unsafe XML"):
        items.extend(get_connector(SOURCE).parse(_payload(content)))
    assert items == []  # nothing was read before the refusal


def _payload(content: bytes):
    from allweather.connectors.base import Payload

    return Payload.from_bytes("consolidated.xml", content)


@pytest.mark.parametrize(
    ("record", "ref", "field", "reason"),
    [
        (_individual("", "JOHN"), "INDIVIDUAL 2", "DATAID", "DATAID is missing"),
        (_individual("12x"), "INDIVIDUAL 2 (DATAID 12x)", "DATAID", "is not a number"),
        (
            _individual("1002", first=" ", second=""),
            "INDIVIDUAL 2 (DATAID 1002)",
            "FIRST_NAME",
            "no name",
        ),
        (
            _individual("1003", listed="2018-02-30"),
            "INDIVIDUAL 2 (DATAID 1003)",
            "LISTED_ON",
            "is not a date",
        ),
    ],
)
def test_malformed_records_are_quarantined_and_the_rest_lands(record, ref, field, reason):
    items = parse_bytes(
        SOURCE, "un.xml", _document(_individual("1001"), record, _individual("1004"))
    )
    assert [e.source_id for e in _entities(items)] == ["1001", "1004"]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert (rejected.ref, rejected.field) == (ref, field)
    assert reason in rejected.reason
    assert rejected.raw.startswith("<INDIVIDUAL>")


def test_invalid_utf8_costs_only_its_record():
    bad = _individual("1002", first="CAF\udce9").encode("utf-8", "surrogateescape")
    content = _document(_individual("1001"), "@@", _individual("1003")).replace(b"@@", bad)
    items = parse_bytes(SOURCE, "un.xml", content)
    assert [e.source_id for e in _entities(items)] == ["1001", "1003"]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert (rejected.ref, rejected.field) == ("INDIVIDUAL 2 (DATAID 1002)", "FIRST_NAME")
    assert "invalid UTF-8" in rejected.reason


def test_a_declared_legacy_encoding_is_honoured():
    content = (
        _document(_individual("1001", first="JOS\u00c9")).decode().replace("UTF-8", "ISO-8859-1")
    )
    (entity,) = _entities(parse_bytes(SOURCE, "un.xml", content.encode("latin-1")))
    assert entity.name == "JOS\u00c9 DOE"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><body>maintenance</body></html>", "is not <CONSOLIDATED_LIST>"),
        (_document(_individual("1001"))[:-40], "not well-formed"),
        (b"", "not well-formed"),
    ],
)
def test_not_the_consolidated_list_is_a_format_error(content, message):
    with pytest.raises(SourceFormatError, match=message):
        parse_bytes(SOURCE, "un.xml", content)


def test_a_truncated_download_fails_after_streaming_what_it_read():
    """Records stream out as they are read; a cut-off file then fails the run, so the runner
    never treats it as a complete snapshot (nothing is delisted)."""
    content = _document(_individual("1001"), _individual("1002"))
    items = []
    with pytest.raises(SourceFormatError, match="not well-formed"):
        items.extend(get_connector(SOURCE).parse(_payload(content[: content.index(b"1002") + 4])))
    assert [e.source_id for e in items] == ["1001"]


def _stored(platform):
    with platform.engine.connect() as conn:
        rows = conn.execute(select(listed_entities).where(listed_entities.c.source == SOURCE))
        return {row.source_id: row for row in rows}


def test_snapshots_end_to_end_twice_then_delisted_then_relisted(platform, tmp_path):
    connector, ingestor = get_connector(SOURCE), platform.ingestor()
    first = ingestor.ingest_file(connector, FIXTURE)
    assert (first.read, first.counts.new, first.counts.quarantined) == (3, 3, 0)
    again = ingestor.ingest_file(connector, FIXTURE)
    assert (again.counts.new, again.counts.updated, again.counts.deleted) == (0, 0, 0)
    stored = _stored(platform)
    assert stored["2959427"].aliases[0] == "سعید جان عبد السلام"
    assert stored["2959427"].listed_from == date(2011, 2, 9)

    text = FIXTURE.read_text(encoding="utf-8")
    start = text.index("<INDIVIDUAL><DATAID>6908555")
    later = tmp_path / "consolidated_later.xml"
    later.write_text(text[:start] + text[text.index("</INDIVIDUAL>", start) + 13 :], "utf-8")
    report = ingestor.ingest_file(connector, later)
    assert (report.counts.new, report.counts.updated, report.counts.deleted) == (0, 0, 1)
    stored = _stored(platform)
    assert stored["6908555"].delisted_at is not None
    assert stored["2959427"].delisted_at is None

    relisted = ingestor.ingest_file(connector, FIXTURE)
    assert (relisted.counts.new, relisted.counts.updated, relisted.counts.deleted) == (0, 1, 0)
    assert _stored(platform)["6908555"].delisted_at is None


def test_the_real_list_lands_once(sqlite_platform):
    connector, ingestor = get_connector(SOURCE), sqlite_platform.ingestor()
    first = ingestor.ingest_file(connector, shared_file(XML))
    assert (first.read, first.counts.new, first.counts.quarantined) == (1093, 1093, 0)
    second = ingestor.ingest_file(connector, shared_file(XML))
    assert (second.counts.new, second.counts.updated, second.counts.deleted) == (0, 0, 0)
