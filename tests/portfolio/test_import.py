"""Portfolio import on each backend: bad rows reported precisely, good rows land, idempotent."""

from datetime import date, datetime

import pytest
from openpyxl import Workbook

from allweather.domain.vocabulary import ProjectKind, ProjectStatus, Sector
from allweather.errors import InputError
from allweather.portfolio.importer import organization_code_for
from tests.factories import write_csv

HEADER = "code,name,name_zh,country,sector,kind,status,value_usd,start_date,end_date,latitude,longitude,wkt,staff_cn"

# The bad rows, one of each, between good ones.
BAD_FILE_ROWS = [
    'KE-SGR,Mombasa-Nairobi SGR,蒙内铁路,KE,transport,flagship,operating,3800000000,2014-12-12,2017-05-31,,,"LINESTRING(39.66 -4.05, 36.82 -1.29)",120',
    "KE-SGR,Mombasa-Nairobi SGR,,Kenya,,,,,,,-1.2921,36.8219,,",
    "BAD-LAT,Latitude 91,,KE,,,,,,,91,36.8,,",
    ",A row without a code,,KE,,,,,,,-1.3,36.8,,",
    "BAD-COUNTRY,Unknown country,,Atlantis,,,,,,,-1.3,36.8,,",
    'BAD-WKT,Malformed WKT,,KE,,,,,,,,,"POLYGON((1 2, 3 4",',
    "BAD-DATE,Impossible date,,KE,,,,,2021-13-45,,-1.3,36.8,,",
    "PK-GWADAR,Gwadar Port,瓜达尔港,巴基斯坦,交通运输,重大标志性工程,在建,,2016-01-01,,25.11,62.33,,",
]


@pytest.fixture
def bad_file(tmp_path):
    return write_csv(tmp_path / "portfolio.csv", HEADER, *BAD_FILE_ROWS)


def _errors(report):
    return {(e.row, e.column, e.code) for e in report.errors}


def test_bad_rows_are_reported_precisely_and_good_rows_land(platform, bad_file):
    report = platform.import_file(bad_file)
    assert _errors(report) == {
        (4, "latitude", "latitude"),
        (5, "code", "required"),
        (6, "country", "country_unknown"),
        (7, "wkt", "wkt"),
        (8, "start_date", "date"),
    }
    assert (report.rows_total, report.rows_landed, report.rows_rejected) == (8, 3, 5)
    assert report.exit_code == 1
    by_row = {e.row: e for e in report.errors}
    assert "91" in by_row[4].en
    assert "纬度" in by_row[4].zh
    assert "Atlantis" in by_row[6].en
    assert "month must be in 1..12" in by_row[8].en
    assert by_row[7].en.startswith("malformed WKT")

    sgr = platform.portfolio.get_project("KE-SGR")
    assert [s.kind.value for s in sgr.sites] == ["line", "point"]
    assert sgr.kind is ProjectKind.FLAGSHIP
    assert sgr.value_usd == 3.8e9
    assert sgr.staff.chinese == 120
    gwadar = platform.portfolio.get_project("PK-GWADAR")
    assert gwadar.country_code == "PK"
    assert gwadar.sector is Sector.TRANSPORT
    assert gwadar.status is ProjectStatus.UNDER_CONSTRUCTION
    assert gwadar.start_date == date(2016, 1, 1)
    assert platform.portfolio.counts()["projects"] == 2


def test_strict_lands_nothing_when_any_row_is_bad(platform, bad_file):
    report = platform.import_file(bad_file, strict=True)
    assert report.rows_landed == 0
    assert report.rows_rejected == 5
    assert report.exit_code == 1
    assert len(report.errors) == 5
    assert platform.portfolio.counts()["projects"] == 0


def test_strict_lands_everything_when_all_rows_are_good(platform, tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, BAD_FILE_ROWS[0], BAD_FILE_ROWS[-1])
    report = platform.import_file(path, strict=True)
    assert report.exit_code == 0
    assert report.rows_landed == 2
    assert platform.portfolio.counts()["projects"] == 2


def test_reimport_updates_and_never_duplicates(platform, bad_file, tmp_path):
    platform.import_file(bad_file)
    again = platform.import_file(bad_file)
    assert again.changes.projects_unchanged == 2
    assert (again.changes.projects_created, again.changes.sites_created) == (0, 0)
    counts = platform.portfolio.counts()
    assert (counts["projects"], counts["sites"]) == (2, 3)
    renamed = write_csv(
        tmp_path / "renamed.csv",
        HEADER,
        BAD_FILE_ROWS[-1].replace("Gwadar Port", "Gwadar Port Phase II"),
    )
    report = platform.import_file(renamed)
    assert report.changes.projects_updated == 1
    assert platform.portfolio.get_project("PK-GWADAR").name == "Gwadar Port Phase II"
    assert platform.portfolio.counts()["projects"] == 2


def test_rows_of_one_project_must_agree(platform, tmp_path):
    path = write_csv(
        tmp_path / "conflict.csv",
        "code,name,sector,latitude,longitude",
        "P1,Port,transport,-4.05,39.66",
        "P1,Port,energy,-4.06,39.67",
        "P1,Port,,-4.07,39.68",
    )
    report = platform.import_file(path)
    assert _errors(report) == {(3, "sector", "conflict")}
    assert "row 2" in report.errors[0].en
    project = platform.portfolio.get_project("P1")
    assert [s.key for s in project.sites] == ["1", "3"]  # positional keys stay stable
    assert project.sector is Sector.TRANSPORT


def test_project_with_a_rejected_row_keeps_its_stored_sites(platform, tmp_path):
    header = "code,name,site,latitude,longitude"
    platform.import_file(
        write_csv(tmp_path / "a.csv", header, "P1,Port,north,1,30", "P1,Port,south,-1,30")
    )
    report = platform.import_file(
        write_csv(tmp_path / "b.csv", header, "P1,Port,north,1,30", "P1,Port,south,-95,30")
    )
    assert report.rows_rejected == 1
    assert {s.key for s in platform.portfolio.get_project("P1").sites} == {"north", "south"}
    report = platform.import_file(write_csv(tmp_path / "c.csv", header, "P1,Port,north,1,30"))
    assert report.changes.sites_removed == 1
    assert {s.key for s in platform.portfolio.get_project("P1").sites} == {"north"}


def test_repeated_site_key_is_rejected(platform, tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        "code,name,site,latitude,longitude",
        "P1,Port,a,1,30",
        "P1,Port,a,2,30",
    )
    report = platform.import_file(path)
    assert _errors(report) == {(3, "site", "site_repeat")}


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        ("P1,Port,,36.8,,", "latitude", "coordinate_pair"),
        ("P1,Port,abc,36.8,,", "latitude", "coordinate"),
        ("P1,Port,-1,200,,", "longitude", "longitude"),
        ("P1,Port,,,,", None, "no_location"),
        ('P1,Port,-1,36,"POINT (36 -1)",', "wkt", "two_locations"),
        ("P1,Port,-1,36,,-5", "staff_cn", "integer"),
        ("P1,Port,-1,36,,2.5", "staff_cn", "integer"),
        ("P1 X,Port,-1,36,,", "code", "code_format"),
        ("P1,,-1,36,,", "name", "required"),
    ],
)
def test_each_field_is_validated(platform, tmp_path, cells, column, code):
    path = write_csv(tmp_path / "one.csv", "code,name,latitude,longitude,wkt,staff_cn", cells)
    report = platform.import_file(path)
    assert (report.errors[0].column, report.errors[0].code) == (column, code)
    assert report.rows_landed == 0


def test_end_date_before_start_date_is_rejected(platform, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        "code,name,latitude,longitude,start_date,end_date",
        "P1,Port,1,30,2020-05-01,2019-01-01",
    )
    report = platform.import_file(path)
    assert _errors(report) == {(2, "end_date", "date_order")}


def test_site_outside_its_declared_country_is_a_warning_not_a_rejection(platform, tmp_path):
    path = write_csv(
        tmp_path / "out.csv",
        "code,name,country,latitude,longitude",
        "UG-1,Declared Kenya but in Kampala,KE,0.35,32.58",
        "KE-PORT,Mombasa port just offshore,KE,-4.07,39.69",
    )
    report = platform.import_file(path)
    assert report.rows_landed == 2
    assert report.exit_code == 0
    assert [(w.row, w.code) for w in report.warnings] == [(2, "outside_country")]
    assert "Uganda" in report.warnings[0].en
    assert "乌干达" in report.warnings[0].zh
    assert platform.portfolio.get_project("UG-1").sites[0].country_code == "KE"


def test_country_is_taken_from_the_geometry_when_not_given(platform, tmp_path):
    path = write_csv(
        tmp_path / "g.csv", "code,name,latitude,longitude", "LA-1,Vientiane station,17.97,102.6"
    )
    platform.import_file(path)
    project = platform.portfolio.get_project("LA-1")
    assert project.country_code == "LA"
    assert project.sites[0].country_code == "LA"


def test_chinese_headers_and_gb18030_encoding(platform, tmp_path):
    text = "项目编码,项目名称,国家,纬度,经度,状态\nPK-1,瓜达尔港,巴基斯坦,25.11,62.33,在建\n"
    path = tmp_path / "台账.csv"
    path.write_bytes(text.encode("gb18030"))
    report = platform.import_file(path)
    assert report.rows_landed == 1
    assert platform.portfolio.get_project("PK-1").status is ProjectStatus.UNDER_CONSTRUCTION


def test_semicolon_separated_csv_with_ignored_columns(platform, tmp_path):
    path = write_csv(tmp_path / "s.csv", "code;name;latitude;longitude;notes", "P1;Port;1;30;ours")
    report = platform.import_file(path)
    assert report.rows_landed == 1
    assert [w.code for w in report.warnings] == ["ignored_columns"]
    assert "notes" in report.warnings[0].en


def test_xlsx_import_with_native_dates_and_numbers(platform, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "code",
            "name",
            "country",
            "latitude",
            "longitude",
            "start_date",
            "value_usd",
            "staff_local",
        ]
    )
    sheet.append(
        [
            "LK-HAMB",
            "Hambantota Port",
            "Sri Lanka",
            6.12,
            81.11,
            datetime(2008, 1, 15),  # noqa: DTZ001 — a spreadsheet date cell has no zone
            361000000,
            250.0,
        ]
    )
    sheet.append(["LK-BAD", "Bad latitude", "LK", -91, 81.11, None, None, None])
    sheet.append([None, None, None, None, None, None, None, None])  # blank rows are skipped
    path = tmp_path / "portfolio.xlsx"
    book.save(path)
    report = platform.import_file(path)
    assert _errors(report) == {(3, "latitude", "latitude")}
    project = platform.portfolio.get_project("LK-HAMB")
    assert project.start_date == date(2008, 1, 15)
    assert project.value_usd == 361e6
    assert project.staff.local == 250
    assert project.country_code == "LK"


def test_geojson_import_with_features_as_rows(platform, tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text(
        """{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "LA-RAIL", "name": "China-Laos Railway", "site": "line"},
         "geometry": {"type": "LineString", "coordinates": [[102.6, 17.97], [101.4, 20.0]]}},
        {"type": "Feature", "properties": {"code": "BAD", "name": "Bowtie"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}},
        {"type": "Feature", "properties": {"code": "BAD2", "name": "No coordinates"},
         "geometry": {"type": "Point"}}
        ]}""",
        encoding="utf-8",
    )
    report = platform.import_file(path)
    assert _errors(report) == {(2, "geometry", "geometry"), (3, "geometry", "geometry")}
    assert report.errors[0].where == "feature 2"
    assert "Self-intersection" in report.errors[0].en
    assert platform.portfolio.get_project("LA-RAIL").sites[0].kind.value == "line"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "cannot read"),
        ("empty.csv", b"", "empty"),
        ("nocode.csv", b"name,latitude,longitude\nX,1,2\n", "required column"),
        ("table.ods", b"whatever", "unsupported file type"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a readable XLSX"),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
        ("list.geojson", b"[1, 2]", "FeatureCollection"),
        ("dup.csv", b"code,name,code\n", "appears twice"),
    ],
)
def test_unreadable_files_raise_input_errors(platform, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        platform.import_file(path)
    assert platform.portfolio.counts()["projects"] == 0


def test_organizations_are_matched_by_code_or_name_and_created_once(platform, tmp_path):
    header = "code,name,organization,latitude,longitude"
    platform.import_file(
        write_csv(tmp_path / "a.csv", header, "P1,Port,China Road & Bridge Corporation (CRBC),1,30")
    )
    platform.import_file(
        write_csv(
            tmp_path / "b.csv",
            header,
            "P2,Rail,china road & bridge corporation (crbc),1,31",
            "P3,Road,CHINA-ROAD-BRIDGE-CORPORATION-CRBC,1,32",
            "P4,Dam,中国电建,1,33",
        )
    )
    orgs = platform.portfolio.organizations()
    assert sorted(o.code for o in orgs) == sorted(
        ["CHINA-ROAD-BRIDGE-CORPORATION-CRBC", organization_code_for("中国电建")]
    )
    assert {platform.portfolio.get_project(c).organization_code for c in ("P1", "P2", "P3")} == {
        "CHINA-ROAD-BRIDGE-CORPORATION-CRBC"
    }


def test_organization_codes():
    assert organization_code_for("China Road & Bridge Corp.") == "CHINA-ROAD-BRIDGE-CORP"
    assert organization_code_for("CRBC") == "CRBC"
    assert organization_code_for("中国电建").startswith("ORG-")
    assert organization_code_for("中国电建") == organization_code_for("中国电建")


def test_every_import_is_logged(platform, bad_file):
    platform.import_file(bad_file)
    platform.import_file(bad_file, strict=True)
    from sqlalchemy import select

    from allweather.store.tables import portfolio_imports

    with platform.engine.connect() as conn:
        rows = conn.execute(select(portfolio_imports).order_by(portfolio_imports.c.id)).all()
    assert [(r.rows_landed, r.rows_rejected, r.strict) for r in rows] == [
        (3, 5, False),
        (0, 5, True),
    ]
    assert rows[0].summary["errors"][0]["row"] == 4


def test_later_rows_of_a_project_may_leave_the_name_blank(platform, tmp_path):
    header = "code,name,latitude,longitude"
    report = platform.import_file(
        write_csv(tmp_path / "n.csv", header, "P1,Port,1,30", "P1,,2,30", "P2,,3,30")
    )
    assert _errors(report) == {(4, "name", "required")}
    assert len(platform.portfolio.get_project("P1").sites) == 2


def test_a_site_off_its_own_coast_is_not_flagged(platform, tmp_path):
    # Tarawa atoll, Kiribati: 1:10m boundaries miss the atoll, but its nearest land is Kiribati.
    path = write_csv(
        tmp_path / "ki.csv", "code,name,country,latitude,longitude", "KI-1,Tarawa,KI,1.45,173.0"
    )
    report = platform.import_file(path)
    assert report.warnings == []
    assert platform.portfolio.get_project("KI-1").sites[0].country_code == "KI"


def test_unchanged_content_is_skipped_only_after_a_clean_import(platform, tmp_path, bad_file):
    header = "code,name,latitude,longitude"
    good = write_csv(tmp_path / "g.csv", header, "P1,Port,1,30", "P2,Dock,2,30")
    assert not platform.import_file(good, skip_if_unchanged=True).skipped_as_unchanged
    again = platform.import_file(good, skip_if_unchanged=True)
    assert again.skipped_as_unchanged
    assert (again.rows_total, again.rows_landed, again.changes) == (2, 2, None)
    # A file with rejected rows is never skipped: its good rows may be fixed up later.
    platform.import_file(bad_file)
    assert not platform.import_file(bad_file, skip_if_unchanged=True).skipped_as_unchanged
    changed = write_csv(tmp_path / "g.csv", header, "P1,Port,1,30", "P2,Dock,3,30")
    report = platform.import_file(changed, skip_if_unchanged=True)
    assert not report.skipped_as_unchanged
    assert report.changes.sites_updated == 1
