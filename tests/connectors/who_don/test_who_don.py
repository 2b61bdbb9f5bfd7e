"""WHO DON: the recorded DON texts in ../shared/data, the API shape, fetch and the cursor.

The recorded data is Torres Munguia et al.'s compilation (update 13-05-2026): dons_raw holds
2,949 DON texts; dons_unique lists, per country, disease and year, the DONs that reported it —
used here only to cross-check what the parser reads from the texts.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from allweather.connectors.base import FetchContext, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.http import HttpClient
from allweather.connectors.mapping import load_mapping
from allweather.connectors.registry import get_connector
from allweather.connectors.who_don import extract
from allweather.connectors.who_don.connector import link_identity, severity
from allweather.domain.clock import FixedClock
from allweather.domain.events import EventPrecision, Rejection, RiskEvent, Skipped
from allweather.domain.taxonomy import EventClass, FineType, MofcomCategory, SeverityGrade
from tests.connectors.conftest import kinds, parse_bytes, parse_path, shared_file

RAW = "who_disease_outbreak_news/dons_raw_13052026.csv"
UNIQUE = "who_disease_outbreak_news/dons_unique_13052026.csv"
FIXTURES = Path(__file__).parent / "fixtures"
# Written for these tests in the shape of the DON API (OData value[]): six real DONs with their
# real UrlName, date and text (excerpts of the sections, as HTML paragraphs) from dons_raw.
# Titles follow WHO's "Disease – Country" style but were written by us, and Id and LastModified
# are made up: the recorded data has neither.
API_PAGE = FIXTURES / "api_page.json"
API_URL = "https://www.who.int/api/news/diseaseoutbreaknews"


def _events(items: list[Any]) -> list[RiskEvent]:
    return [i for i in items if isinstance(i, RiskEvent)]


@pytest.fixture(scope="module")
def recorded() -> list[Any]:
    return parse_path("who_don", shared_file(RAW))


@pytest.fixture(scope="module")
def by_dataset_id(recorded: list[Any]) -> dict[str, RiskEvent]:
    return {e.details["dataset_id"]: e for e in _events(recorded)}


@pytest.fixture(scope="module")
def reference() -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, int]]:
    """dons_unique: per DON number, the countries (ISO2), ICD-10 categories and year listed."""
    countries: dict[str, set[str]] = defaultdict(set)
    icd: dict[str, set[str]] = defaultdict(set)
    years: dict[str, int] = {}
    with shared_file(UNIQUE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            for don in filter(None, re.split(r"[,;\s]+", row["DONs"])):
                if row["iso2"] not in ("", "NA"):
                    countries[don].add(row["iso2"])
                icd[don].add(row["icd103c"])
                years[don] = int(row["Year"])
    return countries, icd, years


# ----------------------------------------------------------------------------- recorded texts


def test_every_don_lands_once(recorded: list[Any]) -> None:
    with shared_file(RAW).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2949
    # 2,949 rows: DON2767 and DON2768 are the same DON (same link 2022-DON412, same text).
    assert kinds(recorded) == {"RiskEvent": 2948, "Skipped": 1}
    skipped = next(i for i in recorded if isinstance(i, Skipped))
    assert skipped.reason == "repeats DON2768 (same DON link)"
    events = _events(recorded)
    assert len({e.source_id for e in events}) == 2948
    assert {e.details["dataset_id"] for e in events} == {r["ID"] for r in rows} - {"DON2767"}
    assert all(e.fine_type is FineType.EPIDEMIC_OUTBREAK for e in events)
    assert all(e.mofcom_category is MofcomCategory.NATURAL for e in events)
    assert all(e.national_class is EventClass.PUBLIC_HEALTH for e in events)
    assert all(e.geometry is None and e.language == "en" for e in events)


def test_first_record(by_dataset_id: dict[str, RiskEvent]) -> None:
    # 2026-05-13,"See all DONs related to this event … Read more about Hantavirus …",
    # https://www.who.int/emergencies/disease-outbreak-news/item/2026-DON601,DON2949
    first = by_dataset_id["DON2949"]
    assert first.source_id == "2026-DON601"
    assert first.url == "https://www.who.int/emergencies/disease-outbreak-news/item/2026-DON601"
    assert first.occurred_at == datetime(2026, 5, 13, tzinfo=UTC)
    assert first.reported_at is None  # the recorded texts carry no modification time
    assert first.details["disease"] == "Hantavirus disease"
    assert first.details["icd10"] == "B33.4"  # dons_unique: B334 for DON2949
    assert first.details["disease_from"] == "topic"  # "Read more about Hantavirus"
    # A cruise-ship cluster: the opening names France, Spain and the USA, none in the majority.
    assert first.country_code is None
    assert first.precision is EventPrecision.UNKNOWN
    assert first.details["countries"] == ["FR", "ES", "US"]
    assert first.title == "Hantavirus disease – Multi-country"
    assert first.details["title_derived"] is True
    assert (first.severity, first.severity_rule) == (
        SeverityGrade.III,
        "who_don.disease.hantavirus",
    )


def test_last_record(recorded: list[Any]) -> None:
    # 1996-01-22,"22 January 1996 Disease Outbreak Reported … cholera … Côte d'Ivoire …
    # 245 deaths", …/item/1996_01_22a-en,DON0001
    last = _events(recorded)[-1]
    assert last.details["dataset_id"] == "DON0001"
    assert last.source_id == "1996_01_22a-en"
    assert last.occurred_at == datetime(1996, 1, 22, tzinfo=UTC)
    assert (last.country_code, last.precision) == ("CI", EventPrecision.COUNTRY)
    assert last.title == "Cholera – Côte d'Ivoire"
    assert last.details["deaths_stated"] == 245
    # Cholera's base grade is Ⅲ; 245 stated deaths raise it to Ⅱ.
    assert (last.severity, last.severity_rule) == (SeverityGrade.II, "who_don.deaths_100")


@pytest.mark.parametrize(
    ("dataset_id", "source_id", "day", "disease", "country", "grade", "rule"),
    [
        # Marburg, Rwanda, 30 September 2024: a filovirus, Ⅱ by its disease row.
        ("DON2887", "2024-DON537", "2024-09-30", "marburg", "RW", "II", "who_don.disease.marburg"),
        # Haiti cholera 2022: 283 deaths this time; the 9,792 of 2010–2019 are history.
        ("DON2782", "2022-DON427", "2022-12-13", "cholera", "HT", "II", "who_don.deaths_100"),
        # cVDPV2 in Kenya, linked to Somalia: polio with the standing polio PHEIC cited.
        ("DON2833", "2023-DON479", "2023-07-28", "polio", None, "II", "who_don.pheic_ongoing"),
        # 17 July 2019: the DRC Ebola outbreak declared a PHEIC.
        ("DON2651", "2020-DON284", "2020-06-26", "ebola", "CD", "I", "who_don.pheic"),
        # Pre-2020 link form /csr/don/<slug>/en/, recorded without text: the slug tells.
        (
            "DON2598",
            "26-december-2019-mers-qatar-en",
            "2019-12-26",
            "mers",
            "QA",
            "II",
            "who_don.disease.mers",
        ),
        # Linked on ReliefWeb by the dataset.
        (
            "DON2596",
            "reliefweb/democratic-republic-congo/ebola-virus-disease-democratic-republic-congo-disease-outbreak-81",
            "2019-12-19",
            "ebola",
            "CD",
            "I",
            "who_don.deaths_1000",
        ),
        # Wuhan, 5 January 2020: pneumonia of unknown cause.
        (
            "DON2600",
            "2020-DON229",
            "2020-01-05",
            "undiagnosed",
            "CN",
            "II",
            "who_don.disease.undiagnosed",
        ),
        # Pandemic H1N1, 10 May 2009: 29 countries, so no single country.
        (
            "DON1395",
            "2009_05_10-en",
            "2009-05-10",
            "novel_influenza",
            None,
            "II",
            "who_don.disease.novel_influenza",
        ),
    ],
)
def test_spot_checks(
    by_dataset_id: dict[str, RiskEvent],
    dataset_id: str,
    source_id: str,
    day: str,
    disease: str,
    country: str | None,
    grade: str,
    rule: str,
) -> None:
    event = by_dataset_id[dataset_id]
    assert event.source_id == source_id
    assert event.occurred_at.date().isoformat() == day
    assert event.details["disease_key"] == disease
    assert event.country_code == country
    assert (event.severity, event.severity_rule) == (SeverityGrade(grade), rule)


def test_old_links_move_to_the_item_form() -> None:
    assert link_identity("https://www.who.int/csr/don/26-december-2019-mers-qatar/en/") == (
        "26-december-2019-mers-qatar-en",
        "https://www.who.int/emergencies/disease-outbreak-news/item/26-december-2019-mers-qatar-en",
        "26-december-2019-mers-qatar-en",
    )


def test_dons_land_in_the_years_the_dataset_lists_them(
    by_dataset_id: dict[str, RiskEvent],
    reference: tuple[dict[str, set[str]], dict[str, set[str]], dict[str, int]],
) -> None:
    _, _, years = reference
    assert len(years) == 2837  # DONs the dataset attributes to a country–disease–year
    listed = {don for don in years if don != "DON2767"}  # the duplicate, kept as DON2768
    assert listed <= set(by_dataset_id)
    assert all(by_dataset_id[don].occurred_at.year == years[don] for don in listed)
    per_year = Counter(e.occurred_at.year for e in by_dataset_id.values())
    assert (per_year[1996], per_year[2014], per_year[2026]) == (115, 192, 10)
    assert sum(per_year.values()) == 2948


def test_disease_agrees_with_the_dataset(
    by_dataset_id: dict[str, RiskEvent],
    reference: tuple[dict[str, set[str]], dict[str, set[str]], dict[str, int]],
) -> None:
    """Measured: disease found for 2,796 of 2,948 DONs (94.8%). Where the dataset codes the same
    DON, 2,435 of 2,697 share its ICD-10 category (90.3%); 225 more differ only by the
    dataset's unspecified codes (A99 for "Ebola haemorrhagic fever", A87 for meningitis…)."""
    _, icd, _ = reference
    events = list(by_dataset_id.values())
    found = [e for e in events if "disease_key" in e.details]
    assert len(found) == 2796
    compared = [e for e in found if e.details["dataset_id"] in icd]
    same = [e for e in compared if e.details["icd10"][:3] in icd[e.details["dataset_id"]]]
    assert len(compared) == 2697
    assert len(same) == 2435


def test_country_agrees_with_the_dataset(
    by_dataset_id: dict[str, RiskEvent],
    reference: tuple[dict[str, set[str]], dict[str, set[str]], dict[str, int]],
) -> None:
    """Measured: one country for 2,007 DONs (68%); where the dataset lists countries for that DON,
    ours is among them for 1,871 of 1,950 (95.9%; the dataset files Hong Kong under China).
    From the link slug alone: 540 of 540 set, fewer than 2% off."""
    countries, _, _ = reference
    events = list(by_dataset_id.values())
    placed = [e for e in events if e.country_code]
    assert len(placed) == 2007
    compared = [e for e in placed if e.details["dataset_id"] in countries]
    agree = [
        e
        for e in compared
        if {e.country_code, {"HK": "CN", "MO": "CN", "TW": "CN"}.get(e.country_code)}
        & countries[e.details["dataset_id"]]
    ]
    assert len(compared) == 1950
    assert len(agree) == 1871
    assert all(e.precision is EventPrecision.COUNTRY for e in placed)


def test_grades_are_explained_by_their_rule(by_dataset_id: dict[str, RiskEvent]) -> None:
    events = list(by_dataset_id.values())
    diseases = load_mapping("allweather.connectors.who_don", "diseases.csv")
    signals = load_mapping("allweather.connectors.who_don", "severity.csv")
    for event in events:
        kind, _, key = event.severity_rule.removeprefix("who_don.").partition(".")
        row = diseases.rows[key] if kind == "disease" else signals.rows[kind]
        assert SeverityGrade(row["grade"]) is event.severity, event
    grades = Counter(e.severity for e in events)
    assert grades == {
        SeverityGrade.I: 119,
        SeverityGrade.II: 1778,
        SeverityGrade.III: 843,
        SeverityGrade.IV: 208,
    }


# ----------------------------------------------------------------------------- CSV input

HEADER = b"Date,Description,Link,ID\n"
ITEM = "https://www.who.int/emergencies/disease-outbreak-news/item/"


def _record(day: str, text: str, slug: str, dataset_id: str) -> bytes:
    quoted = text.replace('"', '""')
    return f'{day},"{quoted}",{ITEM}{slug},{dataset_id}\n'.encode()


# Two real records, shortened: DON2887 (Marburg, Rwanda) and DON2782 (cholera, Haiti), multi-line
# like the recorded file; the quoted last line of the first is ours, to exercise escaped quotes.
GOOD_1 = _record(
    "2024-09-30",
    "See all DONs related to this event\n\nRead more about Marburg virus disease\n"
    "Situation at a glance\nOn 27 September 2024, the Rwanda Ministry of Health announced the "
    'first confirmed cases of Marburg virus disease.\n"Rwanda" is in the title.',
    "2024-DON537",
    "DON2887",
)
GOOD_2 = _record(
    "2022-12-13",
    "Read more about Cholera\nSituation at a glance\nHaiti is experiencing a resurgence of "
    "cholera.\nDescription of the situation\n13 672 suspected cholera cases, including 283 "
    "deaths, have been reported by the Haiti Ministry of Public Health.",
    "2022-DON427",
    "DON2782",
)


def _lines_before(content: bytes, needle: bytes) -> int:
    return content[: content.index(needle)].count(b"\n") + 1


def test_multi_line_records_keep_their_first_line() -> None:
    content = HEADER + GOOD_1 + GOOD_2
    items = parse_bytes("who_don", "dons.csv", content)
    assert [e.source_id for e in _events(items)] == ["2024-DON537", "2022-DON427"]
    marburg, cholera = _events(items)
    assert (marburg.country_code, marburg.details["disease_key"]) == ("RW", "marburg")
    assert (cholera.country_code, cholera.details["deaths_stated"]) == ("HT", 283)
    # A broken record after two multi-line ones is named by its own first line.
    broken = _record("2023-02-30", "Cholera in Malawi.\nMore.", "2023-DON440", "DON2790")
    items = parse_bytes("who_don", "dons.csv", content + broken)
    rejection = next(i for i in items if isinstance(i, Rejection))
    assert rejection.ref == f"line {_lines_before(content + broken, b'2023-02-30')} (DON2790)"
    assert rejection.ref == "line 13 (DON2790)"


@pytest.mark.parametrize(
    ("bad", "ref", "field", "reason"),
    [
        (  # no ID
            _record("2023-01-01", "Cholera in Malawi.\nSecond line.", "2023-DON440", "")[:-1]
            + b"\n",
            "line 13",
            "ID",
            "ID is missing",
        ),
        (  # no link
            b'2023-01-01,"Cholera in Malawi.\nSecond line.",,DON2790\n',
            "line 13 (DON2790)",
            "Link",
            "Link is missing",
        ),
        (  # not a DON link
            b'2023-01-01,"Cholera.",https://example.org/news/1,DON2790\n',
            "line 13 (DON2790)",
            "Link",
            "not a WHO DON",
        ),
        (  # an impossible date
            _record("2023-02-30", "Cholera in Malawi.\nSecond line.", "2023-DON440", "DON2790"),
            "line 13 (DON2790)",
            "Date",
            "is not a valid date",
        ),
        (  # not a date at all
            _record("30/01/2023", "Cholera in Malawi.", "2023-DON440", "DON2790"),
            "line 13 (DON2790)",
            "Date",
            "is not a date",
        ),
        (  # a wrong column count
            b'2023-01-01,"Cholera in Malawi.\nSecond line.",DON2790\n',
            "line 13 (DON2790)",
            None,
            "3 fields, expected 4",
        ),
        (  # invalid UTF-8 on the third line of a multi-line Description
            b'2023-01-01,"Cholera in Malawi.\nSecond line.\nCaf\xe9 \xff third.\nFourth.",'
            + ITEM.encode()
            + b"2023-DON440,DON2790\n",
            "line 13 (DON2790)",
            "Description",
            "line 15: invalid utf-8",
        ),
        (  # a truncated ID
            _record("2023-01-01", "Cholera in Malawi.", "2023-DON440", "DON27"),
            "line 13",
            "ID",
            "is not a DON number",
        ),
    ],
)
def test_malformed_records_are_quarantined_and_the_rest_lands(
    bad: bytes, ref: str, field: str | None, reason: str
) -> None:
    content = HEADER + GOOD_1 + GOOD_2 + bad + GOOD_1.replace(b"DON537", b"DON999")
    items = parse_bytes("who_don", "dons.csv", content)
    assert [e.source_id for e in _events(items)] == ["2024-DON537", "2022-DON427", "2024-DON999"]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert len(rejected) == 1
    assert rejected[0].ref == ref
    assert rejected[0].field == field
    assert reason in rejected[0].reason


def test_truncated_last_record_is_quarantined() -> None:
    truncated = GOOD_2[:120]  # the file ends inside the quoted Description
    items = parse_bytes("who_don", "dons.csv", HEADER + GOOD_1 + truncated)
    assert kinds(items) == {"RiskEvent": 1, "Rejection": 1}
    rejection = next(i for i in items if isinstance(i, Rejection))
    assert rejection.ref == f"line {_lines_before(HEADER + GOOD_1 + truncated, truncated)}"
    assert rejection.ref == "line 8"
    assert "2 fields, expected 4" in rejection.reason


def test_a_real_record_broken_in_the_full_file(tmp_path: Path) -> None:
    """An impossible date in the middle of the real file: one rejection at the right line."""
    content = shared_file(RAW).read_bytes()
    needle = b"\n2019-12-26,,https://www.who.int/csr/don/26-december-2019-mers-qatar/en/,DON2598"
    assert content.count(needle) == 1
    broken = content.replace(needle, needle.replace(b"2019-12-26", b"2019-13-26"))
    path = tmp_path / "dons_raw_broken.csv"
    path.write_bytes(broken)
    items = parse_path("who_don", path)
    assert kinds(items) == {"RiskEvent": 2947, "Rejection": 1, "Skipped": 1}
    rejection = next(i for i in items if isinstance(i, Rejection))
    line = content[: content.index(needle) + 1].count(b"\n") + 1
    assert rejection.ref == f"line {line} (DON2598)"
    assert rejection.field == "Date"


def test_not_a_don_file_is_a_format_error() -> None:
    with pytest.raises(SourceFormatError):
        parse_bytes("who_don", "x.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(SourceFormatError):
        parse_bytes("who_don", "x.json", b'{"items": []}')
    with pytest.raises(SourceFormatError):
        parse_bytes("who_don", "x.json", b'{"value": [')


# ----------------------------------------------------------------------------- API JSON


def test_api_page_fixture() -> None:
    items = parse_path("who_don", API_PAGE)
    events = _events(items)
    assert len(events) == len(items) == 6
    hanta, sudan, marburg, h5n1, polio, cholera = events
    assert hanta.source_id == "2026-DON601"
    assert hanta.url == "https://www.who.int/emergencies/disease-outbreak-news/item/2026-DON601"
    assert hanta.occurred_at == datetime(2026, 5, 13, tzinfo=UTC)
    assert hanta.reported_at == datetime(2026, 5, 14, 8, 30, tzinfo=UTC)  # LastModified
    assert hanta.title == "Hantavirus – Multi-country"
    assert (hanta.country_code, hanta.details["regional"]) == (None, True)
    assert hanta.precision is EventPrecision.UNKNOWN
    assert hanta.details["don_id"] == "2026-DON601"
    # Sudan virus disease names a disease, not a country.
    assert (sudan.country_code, sudan.details["disease_key"]) == ("UG", "sudan_virus")
    assert (marburg.country_code, marburg.place) == ("RW", "Rwanda")
    assert (h5n1.country_code, h5n1.details["disease_key"]) == ("KH", "novel_influenza")
    assert h5n1.details["disease_from"] == "title"
    assert (polio.country_code, polio.severity_rule) == ("KE", "who_don.pheic_ongoing")
    assert (cholera.country_code, cholera.severity, cholera.details["deaths_stated"]) == (
        "HT",
        SeverityGrade.II,
        283,
    )
    # The same DONs from the recorded texts carry the same keys: live and files converge.
    assert [e.source_id for e in events] == [
        "2026-DON601",
        "2025-DON566",
        "2024-DON537",
        "2024-DON533",
        "2023-DON479",
        "2022-DON427",
    ]


def _api(*items: dict[str, Any]) -> bytes:
    return json.dumps({"value": list(items)}).encode()


def _item(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "UrlName": "2024-DON537",
        "Title": "Marburg virus disease – Rwanda",
        "PublicationDate": "2024-09-30T00:00:00Z",
        "LastModified": "2024-10-01T07:45:00Z",
        "Summary": "<p>On 27 September 2024, the Rwanda Ministry of Health announced the first "
        "confirmed cases of Marburg virus disease&nbsp;(MVD) &hellip;</p>",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_api_items_are_read_robustly() -> None:
    items = parse_bytes(
        "who_don",
        "diseaseoutbreaknews",
        _api(
            _item(UrlName=None, ItemDefaultUrl="/2024-DON537"),  # slug from ItemDefaultUrl
            _item(UrlName=None, DonId="2024-DON538", Title=None, LastModified=None),
            _item(UrlName=None),  # no id at all
            _item(UrlName="2024-DON539", PublicationDate="2024-02-30T00:00:00Z"),
            _item(UrlName="2024-DON540", PublicationDate=None),
            "not an object",
            _item(UrlName="2024-DON537"),  # the first one again
        ),
    )
    assert [type(i).__name__ for i in items] == [
        "RiskEvent",
        "RiskEvent",
        "Rejection",
        "Rejection",
        "Rejection",
        "Rejection",
        "Skipped",
    ]
    first, second = _events(items)
    assert (first.source_id, first.country_code) == ("2024-DON537", "RW")
    # Without a title the text decides: the summary names Rwanda.
    assert (second.source_id, second.reported_at, second.country_code) == (
        "2024-DON538",
        None,
        "RW",
    )
    assert second.title == "Marburg virus disease – Rwanda"  # derived
    rejections = [i for i in items if isinstance(i, Rejection)]
    assert [(r.ref, r.field) for r in rejections] == [
        ("item 3", "UrlName"),
        ("item 4", "PublicationDate"),
        ("item 5", "PublicationDate"),
        ("item 6", None),
    ]


def test_items_older_than_the_cursor_are_skipped() -> None:
    content = API_PAGE.read_bytes()
    payload = Payload.from_bytes("diseaseoutbreaknews", content, meta={"since": "2024-09-30"})
    items = list(get_connector("who_don").parse(payload))
    assert [e.source_id for e in _events(items)] == ["2026-DON601", "2025-DON566", "2024-DON537"]
    assert sum(i.count for i in items if isinstance(i, Skipped)) == 3


# ----------------------------------------------------------------------------- fetch and cursor


async def _no_sleep(_: float) -> None:
    return None


def _page(dates: list[str], start: int = 0) -> bytes:
    return _api(
        *(
            _item(UrlName=f"2025-DON{start + n:03d}", PublicationDate=f"{day}T00:00:00Z")
            for n, day in enumerate(dates)
        )
    )


def _fetch(
    handler: Any, cursor: dict[str, Any] | None = None, **ctx: Any
) -> tuple[list[Payload], list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response: httpx.Response = handler(request)
        return response

    async def run() -> list[Payload]:
        http = HttpClient(
            client=httpx.AsyncClient(transport=httpx.MockTransport(record)), sleep=_no_sleep
        )
        context = FetchContext(
            http, FixedClock(datetime(2026, 5, 14, tzinfo=UTC)), dict(cursor or {}), **ctx
        )
        try:
            return [p async for p in get_connector("who_don").fetch(context)]
        finally:
            await http.aclose()

    return asyncio.run(run()), seen


def test_first_run_takes_one_page_conditionally() -> None:
    page = API_PAGE.read_bytes()
    payloads, requests = _fetch(
        lambda r: httpx.Response(200, content=page, headers={"ETag": '"v2"'}), etag='"v1"'
    )
    assert len(requests) == 1
    request = requests[0]
    assert request.url.path == "/api/news/diseaseoutbreaknews"
    assert request.url.params["$top"] == "100"
    assert request.url.params["$orderby"] == "PublicationDate desc"
    assert request.headers["If-None-Match"] == '"v1"'
    assert [p.etag for p in payloads] == ['"v2"']
    assert "since" not in payloads[0].meta
    cursor = get_connector("who_don").advance_cursor({}, payloads[0])
    assert cursor == {"newest_published": "2026-05-13T00:00:00+00:00"}


def test_not_modified_yields_nothing() -> None:
    payloads, requests = _fetch(lambda r: httpx.Response(304), etag='"v1"')
    assert (payloads, len(requests)) == ([], 1)


def test_a_run_with_a_cursor_lands_only_newer_dons() -> None:
    page = API_PAGE.read_bytes()
    cursor = {"newest_published": "2024-09-30T00:00:00+00:00"}
    payloads, requests = _fetch(lambda r: httpx.Response(200, content=page), cursor)
    assert len(requests) == 1  # the page reaches below the cursor: no second page
    items = list(get_connector("who_don").parse(payloads[0]))
    # ≥ the cursor: the boundary DON comes again and is an idempotent update.
    assert [e.source_id for e in _events(items)] == ["2026-DON601", "2025-DON566", "2024-DON537"]
    advanced = get_connector("who_don").advance_cursor(cursor, payloads[0])
    assert advanced == {"newest_published": "2026-05-13T00:00:00+00:00"}
    # The cursor never moves back.
    assert get_connector("who_don").advance_cursor(advanced, payloads[0]) == advanced


def test_catch_up_pages_until_the_cursor() -> None:
    full = _page(["2025-06-01"] * 100)
    rest = _page(["2025-05-01", "2025-04-01"], start=100)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=rest if request.url.params.get("$skip") else full)

    cursor = {"newest_published": "2025-04-15T00:00:00+00:00"}
    payloads, requests = _fetch(handler, cursor, etag='"v1"')
    assert [r.url.params.get("$skip") for r in requests] == [None, "100"]
    assert "If-None-Match" not in requests[1].headers  # only the first page is conditional
    assert len(payloads) == 2
    items = [i for p in payloads for i in get_connector("who_don").parse(p)]
    assert kinds(items) == {"RiskEvent": 101, "Skipped": 1}


def test_since_backfills_by_paging() -> None:
    pages = {
        None: _page(["2025-06-01"] * 100),
        "100": _page(["2025-03-01"] * 100, start=100),
        "200": _page(["2025-01-01"] * 10, start=200),
    }
    payloads, requests = _fetch(
        lambda r: httpx.Response(200, content=pages[r.url.params.get("$skip")]),
        since=datetime(2025, 2, 1, tzinfo=UTC),
    )
    assert [r.url.params.get("$skip") for r in requests] == [None, "100", "200"]
    assert "If-None-Match" not in requests[0].headers
    items = [i for p in payloads for i in get_connector("who_don").parse(p)]
    assert kinds(items) == {"RiskEvent": 200, "Skipped": 10}


# ----------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a total of 13 672 suspected cases, including 283 deaths (CFR 2.05%)", 283),
        ("1,210 associated deaths and 75 new deaths", 1210),
        ("Of the 3191 cases, 2136 cases died", 2136),
        ("12 people have died", 12),
        ("including three deaths", None),  # numbers in words are not read
        ("estimated 2.9 million cases, and 95,000 deaths occur annually", None),  # background
        ("a total of 820 000 cases including 9792 deaths between October 2010 and 2019", None),
        ("Conakry 38 148 274 132 554 deaths", None),  # a table row
        ("Since 1 August 2020, 2136 cases died", 2136),  # an open period: the event's toll
    ],
)
def test_stated_deaths(text: str, count: int | None) -> None:
    deaths = extract.stated_deaths(text, 2022)
    assert (deaths.count if deaths else None) == count


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        (
            "On 17 July 2019, the WHO Director-General declared the outbreak a Public Health "
            "Emergency of International Concern.",
            "pheic",
        ),
        ("It was the view of the Committee that this event still constitutes a PHEIC.", "pheic"),
        (
            "The risk of international spread of poliovirus remains a Public Health Emergency of "
            "International Concern.",
            "pheic_ongoing",
        ),
        ("MERS-CoV does not currently meet the conditions to be classified as a PHEIC.", None),
        ("The Committee will discuss whether the event constitutes a PHEIC.", None),
        (
            "WHO has twice declared a PHEIC for mpox. The second PHEIC for mpox was lifted on "
            "5 September 2025.",
            None,
        ),
    ],
)
def test_pheic_status(text: str, signal: str | None) -> None:
    status = extract.pheic_status(text)
    assert (status.signal if status else None) == signal


def test_severity_takes_the_most_severe_rule() -> None:
    cholera = extract.disease_by_key("cholera")
    ebola = extract.disease_by_key("ebola")
    assert severity(cholera, None, None) == (SeverityGrade.III, "who_don.disease.cholera")
    assert severity(cholera, None, extract.Deaths(9, "9 deaths")) == (
        SeverityGrade.III,
        "who_don.disease.cholera",
    )
    assert severity(cholera, None, extract.Deaths(150, "150 deaths")) == (
        SeverityGrade.II,
        "who_don.deaths_100",
    )
    # A signal equal to the base grade names the disease row.
    assert severity(ebola, None, extract.Deaths(150, "150 deaths")) == (
        SeverityGrade.II,
        "who_don.disease.ebola",
    )
    assert severity(ebola, extract.Pheic("pheic", "declared a PHEIC"), None) == (
        SeverityGrade.I,
        "who_don.pheic",
    )
    assert severity(None, None, None) == (SeverityGrade.IV, "who_don.unclassified")


@pytest.mark.parametrize(
    ("text", "codes", "country"),
    [
        ("Sudan virus disease in Uganda", ("UG",), "UG"),
        ("Crimean-Congo haemorrhagic fever in Iraq", ("IQ",), "IQ"),
        ("the Democratic Republic of the Congo and the Republic of the Congo", ("CD", "CG"), None),
        ("Côte d’Ivoire reported cases", ("CI",), "CI"),
        ("cases in Papua New Guinea", ("PG",), "PG"),
        ("Bolivia (Plurinational State of) reported", ("BO",), "BO"),
        ("Médecins sans Frontières (Belgium) supports Guinea", ("GN",), "GN"),
        ("samples were sent to the Institut Pasteur in Dakar, Senegal. Mali", ("ML",), "ML"),
        ("in 2019, no cases to report", (), None),
    ],
)
def test_places_in_prose(text: str, codes: tuple[str, ...], country: str | None) -> None:
    places = extract.find_places(text)
    assert places.codes == codes
    assert places.country == country


def test_places_in_slugs_and_titles() -> None:
    assert extract.find_places("polio somalia kenya", prose=False).codes == ("SO", "KE")
    assert extract.find_places("yellow fever west and central africa", prose=False).regional
    assert extract.find_places("ebola drc", prose=False).country == "CD"
    assert extract.slug_text("06-june-2019-polio-cameroon-en") == "polio cameroon"
    assert extract.split_title("Avian Influenza A(H5N1) - Cambodia") == (
        "Avian Influenza A(H5N1)",
        "Cambodia",
    )
    assert extract.split_title("Rabies") == ("Rabies", None)


def test_disease_prefers_a_specific_name() -> None:
    found = extract.find_disease(
        "Turkey's national influenza centre confirmed H5N1 avian influenza"
    )
    assert found == extract.disease_by_key("novel_influenza")
    mers = extract.find_disease("a novel coronavirus infection in Qatar (2012)")
    covid = extract.find_disease("Novel Coronavirus (2019-nCoV) in China")
    assert mers == extract.disease_by_key("mers")
    assert covid == extract.disease_by_key("covid19")


def test_mapping_tables_load_with_reasons() -> None:
    for table in ("diseases.csv", "severity.csv", "countries.csv"):
        rows = load_mapping("allweather.connectors.who_don", table).rows
        assert rows, table
        assert all(row["reason"] for row in rows.values()), table


def test_spec() -> None:
    spec = get_connector("who_don").spec
    assert (spec.number, spec.url, spec.output) == (5, API_URL, "events")
