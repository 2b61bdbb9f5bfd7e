"""World Bank debarred firms: the real 2025-01-07 download (CSV and XLSX) from ../shared/data."""

import io
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from allweather.connectors.errors import SourceFormatError
from allweather.connectors.registry import get_connector
from allweather.connectors.worldbank_debarred.connector import (
    entity_kind,
    listing_key,
    read_info,
    read_name,
)
from allweather.domain.events import EntityKind, ListedEntity, Rejection, Skipped
from allweather.store.tables import listed_entities
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

SOURCE = "worldbank_debarred"
CSV = "debarment_lists_mdb/world_bank_debarred_2025-01-07.csv"
XLSX = "debarment_lists_mdb/world_bank_listing_of_ineligible_firms_and_individuals_2025-01-07.xlsx"
FIXTURE = Path(__file__).parent / "fixtures" / "world_bank_sample.csv"
HEADER = "firm_name,additional_firm_info,address,country,ineligible_from,ineligible_to,grounds\n"
GOOD = "GRAND MOTORS LLC,*678,BAKU,Azerbaijan,2024-12-10,2027-08-09,Obstructive practices\n"


@pytest.fixture(scope="module")
def real():
    """The recorded CSV, parsed once for the tests that only read it."""
    return parse_path(SOURCE, shared_file(CSV))


def _entities(items):
    return [i for i in items if isinstance(i, ListedEntity)]


def _by_name(items):
    return {e.name: e for e in _entities(items)}


def test_csv_counts_every_row_and_merges_repeated_addresses(real):
    items = real
    # 1,285 rows: 1,228 listings; 57 rows repeat a listing for another address (43 listings).
    assert kinds(items) == {"ListedEntity": 1228, "Skipped": 43}
    assert sum(i.count for i in items if isinstance(i, Skipped)) == 57
    entities = _entities(items)
    assert len({e.source_id for e in entities}) == 1228
    assert sum(e.details.get("rows", 1) for e in entities) == 1285
    # China: 349 rows (README), 344 listings.
    chinese = [e for e in entities if e.countries == ("CN",)]
    assert sum(e.details.get("rows", 1) for e in chinese) == 349
    assert len(chinese) == 344
    assert not [e for e in entities if e.details.get("unresolved_countries")]


def test_first_and_last_entries(real):
    entities = _entities(real)
    first = entities[0]  # MR. RUFAT MAJIDOV,*677,"BINAGADI HIGHWAY, ...",Azerbaijan,2024-12-10,...
    assert first.name == "MR. RUFAT MAJIDOV"
    assert first.kind is EntityKind.PERSON
    assert first.details["kind_rule"] == "honorific:mr"
    assert first.countries == ("AZ",)
    assert (first.listed_from, first.listed_to) == (date(2024, 12, 10), date(2027, 8, 9))
    assert first.programs == ("Obstructive Practices",)
    assert first.details["footnotes"] == ["*677"]
    assert first.details["addresses"] == ["BINAGADI HIGHWAY, MADAN STREET 4 AZ1053, BAKU"]
    assert first.source_id == listing_key("MR. RUFAT MAJIDOV", "AZ", date(2024, 12, 10))
    last = entities[-1]  # CANADAX TECHNOLOGIES,,"VERDUN, QUEBEC",Canada,1999-03-16,2999-12-31,...
    assert last.name == "CANADAX TECHNOLOGIES"
    assert last.kind is EntityKind.ORGANIZATION
    assert last.countries == ("CA",)
    assert last.listed_from == date(1999, 3, 16)
    assert last.listed_to is None  # 2999-12-31: permanent
    assert last.details["ineligible_to_text"] == "2999-12-31"
    assert last.programs == ("Procurement Guidelines 1.15(a)(ii)",)


def test_chinese_firms_keep_their_chinese_names_as_aliases(real):
    entities = _by_name(real)
    hebei = entities["HEBEI CONSTRUCTION GROUP CORPORATION LIMITED"]
    assert hebei.aliases == ("河北建设集团股份有限公司",)
    assert hebei.countries == ("CN",)
    assert hebei.kind is EntityKind.ORGANIZATION
    assert (hebei.listed_from, hebei.listed_to) == (date(2024, 8, 22), date(2027, 7, 22))
    assert hebei.programs == ("Cross Debarment: ADB",)
    assert hebei.details["cross_debarred_by"] == ["ADB"]
    # Name cut at 80 characters with an unclosed "(ALSO KNOWN AS ...", a Chinese name and the
    # unified social credit code in additional_firm_info.
    xccg = entities["XINJIANG JIAOTONG LOGISTICS CO., LTD."]
    assert xccg.aliases == ("XCCG LOGISTICS CO., LTD.", "新疆交建物流有限公司")
    assert xccg.details["identifiers"] == ["916501035688754161"]
    assert xccg.details["footnotes"] == ["*647"]
    # Two branches with one English name (清远 and 庆元) share a key: one listing, both names.
    qingyuan = entities["HEBEI CONSTRUCTION GROUP CORPORATION LIMITED QINGYUAN BRANCH"]
    assert qingyuan.aliases == (
        "河北建设集团股份有限公司清远分公司",
        "河北建设集团股份有限公司庆元分公司",
    )
    assert qingyuan.details["rows"] == 2


def test_rows_repeating_a_listing_for_other_addresses_merge(real):
    entities = _by_name(real)
    hoang_mai = entities["HOANG MAI CONSTRUCTION IMPORT AND EXPORT JOINT STOCK COMPANY"]
    assert hoang_mai.details["rows"] == 5
    assert len(hoang_mai.details["addresses"]) == 5
    assert hoang_mai.countries == ("VN",)
    assert hoang_mai.programs == ("Cross Debarment: ADB",)


def test_xlsx_export_gives_the_same_entities_as_the_csv(real):
    """The original export: a title row and a two-row header; its sheet claims A1:A1288."""
    assert parse_path(SOURCE, shared_file(XLSX)) == real


@pytest.mark.parametrize(
    ("info", "aliases", "identifiers", "footnotes", "notes"),
    [
        ("*677", [], [], ["*677"], []),
        ("(AKA AMANI B.P., LTD.)", ["AMANI B.P., LTD."], [], [], []),
        (
            "AKA LONESTAR SUPPLIES AND LOGISTICS (PVT) LTD",
            ["LONESTAR SUPPLIES AND LOGISTICS (PVT) LTD"],
            [],
            [],
            [],
        ),
        (
            "(f.k.a. XCCG Municipal Works Construction Co., Ltd.) (新疆交建市政工程有限责任公司) "
            "(91650104576202641Q) *647",
            ["XCCG Municipal Works Construction Co., Ltd.", "新疆交建市政工程有限责任公司"],
            ["91650104576202641Q"],
            ["*647"],
            [],
        ),
        (
            "SBD Service (FKA SAO BAC DAU TECHNOLOGY SERVICE JOINT STOCK COMPANY) "
            "(Reg. No.: 0305350288) *531",
            ["SAO BAC DAU TECHNOLOGY SERVICE JOINT STOCK COMPANY", "SBD Service"],
            ["Reg. No.: 0305350288"],
            ["*531"],
            [],
        ),
        ("*566, 576", [], [], ["*566", "*576"], []),
        ("* 43 and 45", [], [], ["*43", "*45"], []),
        (
            "*526   Currently doing business as Industrial Investment Group LLC",
            ["Industrial Investment Group LLC"],
            [],
            ["*526"],
            [],
        ),
        (
            ", also MR. PEDRO CÉSAR LAZO MONTEJO *340",
            ["MR. PEDRO CÉSAR LAZO MONTEJO"],
            [],
            ["*340"],
            [],
        ),
        (
            "(BUT ONLY FOR ITS BUSINESS OPERATIONS IN THE WATER AND SANITATION SECTOR)",
            [],
            [],
            [],
            ["(BUT ONLY FOR ITS BUSINESS OPERATIONS IN THE WATER AND SANITATION SECTOR)"],
        ),
        ("(Reg No. 16-00009045/4516/(F/1))", [], ["Reg No. 16-00009045/4516/(F/1)"], [], []),
        ("*90     Registration #00124199", [], ["Registration #00124199"], ["*90"], []),
        ("(MUE Group) (Reg. No. 1163) *662", [], ["Reg. No. 1163"], ["*662"], ["(MUE Group)"]),
    ],
)
def test_additional_firm_info_is_read_into_aliases_ids_footnotes_and_notes(
    info, aliases, identifiers, footnotes, notes
):
    read = read_info(info)
    assert (read.aliases, read.identifiers, read.footnotes, read.notes) == (
        aliases,
        identifiers,
        footnotes,
        notes,
    )


@pytest.mark.parametrize(
    ("firm_name", "name", "aliases"),
    [
        (
            "ELMCREST GROUP LIMITED, FORMERLY KNOWN AS LANDMARC LIMITED",
            "ELMCREST GROUP LIMITED",
            ["LANDMARC LIMITED"],
        ),
        (
            "MULTISTAR HOLDINGS LIMITED (FORMERLY MULTI-CON SYSTEMS PTE LTD.)",
            "MULTISTAR HOLDINGS LIMITED",
            ["MULTI-CON SYSTEMS PTE LTD."],
        ),
        (
            "XINJIANG JIAOTONG LOGISTICS CO., LTD. (ALSO KNOWN AS XCCG LOGISTICS CO., LTD.",
            "XINJIANG JIAOTONG LOGISTICS CO., LTD.",
            ["XCCG LOGISTICS CO., LTD."],
        ),
        ("A.K.A. JOKO SESWANTO", "JOKO SESWANTO", []),
        ("URALKOTLOSERVICE PKF ZAO (TAMBOV)", "URALKOTLOSERVICE PKF ZAO (TAMBOV)", []),
    ],
)
def test_aliases_inside_names(firm_name, name, aliases):
    assert read_name(firm_name) == (name, aliases)


@pytest.mark.parametrize(
    ("name", "kind", "rule"),
    [
        ("MS. ZENG ZILING", EntityKind.PERSON, "honorific:ms"),
        ("DR.HANS PETER SCHÖNE", EntityKind.PERSON, "honorific:dr"),
        ("ODELGA MED GES.M.B.H.", EntityKind.ORGANIZATION, "marker:gesmbh"),
        ("M/S BELAL & BROTHER’S", EntityKind.ORGANIZATION, "marker:m s"),
        ("DATABAS & NATVERKSIDEER", EntityKind.ORGANIZATION, "ampersand"),
        ("COMPEQ", EntityKind.ORGANIZATION, "single_word"),
        ("PIERRE SAVIGNAC", EntityKind.PERSON, "no_firm_marker"),
    ],
)
def test_kind_is_read_from_the_name(name, kind, rule):
    assert entity_kind(name) == (kind, rule)


def test_the_stable_id_survives_cosmetic_changes_between_downloads():
    key = listing_key("HEBEI CONSTRUCTION GROUP CO., LTD.", "CN", date(2024, 8, 22))
    assert key == listing_key("Hebei  Construction Group Co. Ltd", "CN", date(2024, 8, 22))
    assert key != listing_key("HEBEI CONSTRUCTION GROUP CO., LTD.", "CN", date(2024, 8, 23))
    # Country spellings that resolve to one ISO code give one id ("Turkey" became "Turkiye").
    rows = [
        HEADER + f"ACME INSAAT A.S.,,ANKARA,{c},2020-01-02,2025-01-01,Fraud\n"
        for c in ("Turkey", "Turkiye", "Türkiye")
    ]
    ids = {_entities(parse_bytes(SOURCE, "wb.csv", r.encode()))[0].source_id for r in rows}
    assert len(ids) == 1
    # Reordering the list or adding entries does not move an id.
    one = _entities(parse_bytes(SOURCE, "wb.csv", (HEADER + GOOD).encode()))
    other = "CNN CAUCASIA LLC,*679,POTI,Georgia,2024-12-10,2026-12-09,Fraudulent Practices\n"
    two = _entities(parse_bytes(SOURCE, "wb.csv", (HEADER + other + GOOD).encode()))
    assert one[0].source_id == two[1].source_id
    # A new address, end date or grounds updates the listing; it does not re-key it.
    revised = "GRAND MOTORS LLC,*678,GANJA,Azerbaijan,2024-12-10,2029-01-01,Fraudulent Practices\n"
    three = _entities(parse_bytes(SOURCE, "wb.csv", (HEADER + revised).encode()))
    assert three[0].source_id == one[0].source_id
    assert three[0] != one[0]
    # Pinned: changing the rule would re-key (delist and re-add) every stored listing.
    # sha256("grand motors llc|AZ|2024-12-10")[:20], as docs/sources/worldbank_debarred.md says.
    assert one[0].source_id == "f89873f08cd68659f124"


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (",*1,BAKU,Azerbaijan,2024-12-10,2027-08-09,Fraud\n", "firm_name", "firm_name is missing"),
        (
            "BAD DATE LLC,,BAKU,Azerbaijan,2024-02-30,2027-08-09,Fraud\n",
            "ineligible_from",
            "is not a date",
        ),
        (
            "BAD END LLC,,BAKU,Azerbaijan,2024-02-03,next year,Fraud\n",
            "ineligible_to",
            "is not a date",
        ),
        ("BACKWARDS LLC,,BAKU,Azerbaijan,2024-02-03,2023-01-01,Fraud\n", "ineligible_to", "before"),
        ("SHORT LLC,,BAKU,Azerbaijan,2024-02-03\n", None, "5 fields, expected 7"),
        ("CAF\xc9 LLC,,BAKU,Azerbaijan,2024-02-03,2027-08-09,Fraud\n", None, "invalid utf-8"),
    ],
)
def test_malformed_rows_are_quarantined_and_the_rest_lands(line, field, reason):
    bad = line.encode("latin-1") if "\xc9" in line else line.encode()
    first = "MR. RUFAT MAJIDOV,*677,BAKU,Azerbaijan,2024-12-10,2027-08-09,Obstructive Practices\n"
    items = parse_bytes(SOURCE, "wb.csv", (HEADER + first).encode() + bad + GOOD.encode())
    assert [e.name for e in _entities(items)] == ["MR. RUFAT MAJIDOV", "GRAND MOTORS LLC"]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert len(rejected) == 1
    assert rejected[0].ref == "line 3"
    assert rejected[0].field == field
    assert reason in rejected[0].reason


@pytest.mark.parametrize("end", ["Ongoing", "Permanent", "2999-12-31"])
def test_open_ended_ineligibility_has_no_end_date(end):
    row = f"OPEN LLC,,BAKU,Azerbaijan,2024-02-03,{end},Fraud\n"
    (entity,) = _entities(parse_bytes(SOURCE, "wb.csv", (HEADER + row).encode()))
    assert entity.listed_to is None
    assert entity.details["ineligible_to_text"] == end


def _workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPORT_HEADER = [
    ["Downloaded on: 07/01/2025 10:37"],
    [
        "Firm Name",
        "Additional Firm Info",
        "Address",
        "Country",
        "Ineligibility Period",
        None,
        "Grounds",
    ],
    [None, None, None, None, "From Date", "To Date", None],
]


def test_xlsx_rows_with_bad_fields_are_quarantined_by_row_number():
    content = _workbook(
        [
            *EXPORT_HEADER,
            [
                "GRAND MOTORS LLC",
                "*678",
                "BAKU",
                "Azerbaijan",
                "2024-12-10",
                "2027-08-09",
                "Obstructive practices",
            ],
            ["BAD DATE LLC", None, "BAKU", "Azerbaijan", "2024-13-01", "2027-08-09", "Fraud"],
            [None, "*1", "BAKU", "Azerbaijan", "2024-12-10", "2027-08-09", "Fraud"],
            ["DATED LLC", None, "BAKU", "Azerbaijan", date(2024, 12, 10), "Ongoing", "Fraud"],
        ]
    )
    items = parse_bytes(SOURCE, "wb.xlsx", content)
    assert [e.name for e in _entities(items)] == ["GRAND MOTORS LLC", "DATED LLC"]
    assert _entities(items)[1].listed_from == date(2024, 12, 10)
    rejected = [(r.ref, r.field) for r in items if isinstance(r, Rejection)]
    assert rejected == [("row 5", "ineligible_from"), ("row 6", "firm_name")]


def test_xlsx_with_an_entity_bomb_is_refused():
    content = _workbook(
        [*EXPORT_HEADER, ["A LLC", None, "X", "Kenya", "2024-01-01", "2025-01-01", "F"]]
    )
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = bomb + data[data.index(b"<worksheet") :]
            target.writestr(item, data)
    with pytest.raises(SourceFormatError, match="refused unsafe XML"):
        parse_bytes(SOURCE, "wb.xlsx", out.getvalue())


@pytest.mark.parametrize(
    "content",
    [b"a,b,c\n1,2,3\n", b"", b"PK\x03\x04not really a zip"],
)
def test_not_a_world_bank_list_is_a_format_error(content):
    with pytest.raises(SourceFormatError):
        parse_bytes(SOURCE, "x.csv", content)


def test_a_header_without_the_period_columns_is_a_format_error():
    with pytest.raises(SourceFormatError, match="ineligible_from"):
        parse_bytes(SOURCE, "x.csv", b"firm_name,country,grounds\nA LLC,Kenya,Fraud\n")


def _stored(platform):
    with platform.engine.connect() as conn:
        rows = conn.execute(select(listed_entities).where(listed_entities.c.source == SOURCE))
        return {row.name: row for row in rows}


def test_snapshots_end_to_end_twice_then_delisted_then_relisted(platform, tmp_path):
    connector, ingestor = get_connector(SOURCE), platform.ingestor()
    first = ingestor.ingest_file(connector, FIXTURE)
    assert (first.read, first.skipped, first.counts.new, first.counts.quarantined) == (9, 1, 8, 0)
    again = ingestor.ingest_file(connector, FIXTURE)
    assert (again.counts.new, again.counts.updated, again.counts.deleted) == (0, 0, 0)
    stored = _stored(platform)
    assert len(stored) == 8
    assert stored["HEBEI CONSTRUCTION GROUP CORPORATION LIMITED"].aliases == [
        "河北建设集团股份有限公司"
    ]

    lines = FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)
    later = tmp_path / "world_bank_later.csv"
    later.write_text(
        "".join(x for x in lines if not x.startswith("CNN CAUCASIA")), encoding="utf-8"
    )
    report = ingestor.ingest_file(connector, later)
    assert (report.counts.new, report.counts.updated, report.counts.deleted) == (0, 0, 1)
    stored = _stored(platform)
    assert stored["CNN CAUCASIA LLC"].delisted_at is not None
    assert all(r.delisted_at is None for n, r in stored.items() if n != "CNN CAUCASIA LLC")

    relisted = ingestor.ingest_file(connector, FIXTURE)
    assert (relisted.counts.new, relisted.counts.updated, relisted.counts.deleted) == (0, 1, 0)
    assert _stored(platform)["CNN CAUCASIA LLC"].delisted_at is None


def test_the_real_list_lands_once(sqlite_platform):
    connector, ingestor = get_connector(SOURCE), sqlite_platform.ingestor()
    first = ingestor.ingest_file(connector, shared_file(CSV))
    assert (first.read, first.counts.new, first.counts.quarantined) == (1285, 1228, 0)
    # The XLSX of the same download changes nothing.
    second = ingestor.ingest_file(connector, shared_file(XLSX))
    assert (second.counts.new, second.counts.updated, second.counts.deleted) == (0, 0, 0)
