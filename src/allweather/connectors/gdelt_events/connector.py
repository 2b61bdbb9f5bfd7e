"""GDELT: 2.0 15-minute event exports (live and backfill) and 1.0 daily event files.

GDELT is the one high-volume source (a million rows a week), so it takes the bulk path: pyarrow
reads the tab-separated file in blocks, every column is normalized at once, and each block
leaves as one ``EventColumns`` batch — no Python object per row. Only material-conflict CAMEO
codes are kept (cameo.csv); the rest is counted as skipped.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from allweather.connectors.base import Connector, FetchContext, Parsed, Payload
from allweather.connectors.errors import SourceFormatError
from allweather.connectors.mapping import MappingTable, load_mapping
from allweather.connectors.normalize import RAW_LIMIT, buffered
from allweather.connectors.registry import register
from allweather.domain.events import SOURCE_BITS, EventColumns, Rejection

_PACKAGE = __package__ or "allweather.connectors.gdelt_events"
SOURCE = "gdelt_events"
BLOCK_BYTES = (
    8 << 20
)  # ~20,000 GDELT 2.0 rows per batch: one transaction, parsed while the last commits
MASTER_LIST = "http://data.gdeltproject.org/gdeltv2/masterfilelist.txt"

# Column positions of the fields we read (0-based), per format.
V2_FIELDS = {
    "id": 0, "sqldate": 1, "actor1": 6, "actor2": 16, "code": 26, "root": 28, "quad": 29,
    "goldstein": 30, "mentions": 31, "sources": 32, "articles": 33, "tone": 34,
    "geo_type": 51, "geo_name": 52, "geo_cc": 53, "geo_adm1": 54, "lat": 56, "lon": 57,
    "feature": 58, "added": 59, "url": 60,
}  # fmt: skip
V1_FIELDS = {
    "id": 0, "sqldate": 1, "actor1": 6, "actor2": 16, "code": 26, "root": 28, "quad": 29,
    "goldstein": 30, "mentions": 31, "sources": 32, "articles": 33, "tone": 34,
    "geo_type": 49, "geo_name": 50, "geo_cc": 51, "geo_adm1": 52, "lat": 53, "lon": 54,
    "feature": 55, "added": 56, "url": 57,
}  # fmt: skip
V2_COLUMNS, V1_COLUMNS = 61, 58

_NUMBER = r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"
_NUMERIC_FIELDS = ("goldstein", "mentions", "sources", "articles", "tone", "lat", "lon")


@lru_cache(maxsize=1)
def _tables() -> tuple[MappingTable, MappingTable, MappingTable, MappingTable, MappingTable]:
    return (
        load_mapping(_PACKAGE, "cameo.csv"),
        load_mapping(_PACKAGE, "severity.csv"),
        load_mapping(_PACKAGE, "fips_countries.csv"),
        load_mapping(_PACKAGE, "precision.csv"),
        load_mapping(_PACKAGE, "cameo_labels.csv"),
    )


def cameo_row(code: str) -> dict[str, str] | None:
    """The cameo.csv row for a code: the code itself, its 3-digit base, or its 2-digit root."""
    cameo = _tables()[0]
    for key in (code, code[:3], code[:2]):
        row = cameo.get(key)
        if row is not None:
            return row
    return None


def _lookup(values: pa.Array, mapping: dict[str, Any]) -> pa.Array:
    """Map a string array through a dict, evaluating the dict once per distinct value."""
    uniques = pc.unique(values)
    mapped = pa.array([mapping.get(v) for v in uniques.to_pylist()])
    return mapped.take(pc.index_in(values, value_set=uniques))


def _nullify_empty(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


@register(SOURCE)
class GdeltEvents(Connector):
    """GDELT event files → EventColumns batches."""

    # ------------------------------------------------------------------ input

    def file_payloads(self, path: Path) -> Iterator[Payload]:
        """A zip (as GDELT publishes them) yields each member; a plain file is itself."""
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield Payload.from_bytes(member, archive.read(member))
            return
        yield Payload.from_path(path)

    async def fetch(self, ctx: FetchContext) -> AsyncIterator[Payload]:
        """Live: the export named by lastupdate.txt, if new. Backfill (``since``): every export
        of masterfilelist.txt from that instant on that is newer than the cursor."""
        if ctx.since is not None:
            listing = await ctx.http.get(MASTER_LIST)
            urls = self._exports(listing.read().decode("utf-8") if listing else "")
            floor = ctx.since.strftime("%Y%m%d%H%M%S")
            wanted = [u for u in urls if _stamp(u) >= floor]
        else:
            if not self.spec.url:
                return
            listing = await ctx.http.get(self.spec.url)
            wanted = self._exports(listing.read().decode("utf-8") if listing else "")[-1:]
        last = str(ctx.cursor.get("last_export", ""))
        for url in wanted:
            if _stamp(url) <= last:
                continue
            payload = await ctx.http.get(url)
            if payload is None:
                continue
            with zipfile.ZipFile(io.BytesIO(payload.read())) as archive:
                for member in archive.namelist():
                    yield Payload.from_bytes(
                        member,
                        archive.read(member),
                        url=url,
                        fetched_at=payload.fetched_at,
                        meta={"stamp": _stamp(url)},
                    )

    @staticmethod
    def _exports(listing: str) -> list[str]:
        """Export URLs of a lastupdate.txt or masterfilelist.txt (``size md5 url`` lines)."""
        urls = [line.split()[-1] for line in listing.splitlines() if line.strip()]
        return sorted(u for u in urls if u.endswith(".export.CSV.zip"))

    def advance_cursor(self, cursor: dict[str, Any], payload: Payload) -> dict[str, Any]:
        stamp = payload.meta.get("stamp")
        if stamp and stamp > str(cursor.get("last_export", "")):
            return {**cursor, "last_export": stamp}
        return cursor

    # ------------------------------------------------------------------ parse

    def parse(self, payload: Payload) -> Iterator[Parsed]:
        with payload.open() as raw:
            stream = buffered(raw)
            first = stream.peek(1 << 16).split(b"\n", 1)[0]
            columns = first.count(b"\t") + 1
            header = not first.split(b"\t", 1)[0].strip().isdigit()
            if columns == V2_COLUMNS:
                yield from self._v2(stream, header)
            elif columns in (V1_COLUMNS - 1, V1_COLUMNS):
                yield from self._v1(stream, header)
            else:
                raise SourceFormatError(
                    f"{payload.name}: {columns} columns; GDELT 2.0 has 61, GDELT 1.0 has 57 or 58"
                )

    def _v2(self, stream: IO[bytes], header: bool) -> Iterator[Parsed]:
        invalid: list[Rejection] = []

        def on_invalid(row: Any) -> str:
            first_field = row.text.split("\t", 1)[0]
            invalid.append(
                Rejection(
                    ref=f"GLOBALEVENTID {first_field}" if first_field.isdigit() else "record",
                    raw=row.text[:RAW_LIMIT],
                    reason=f"{row.actual_columns} fields, expected {row.expected_columns}",
                )
            )
            return "skip"

        names = [f"c{i}" for i in range(V2_COLUMNS)]
        wanted = {f"c{i}": field for field, i in V2_FIELDS.items()}
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(
                column_names=names, block_size=BLOCK_BYTES, skip_rows=1 if header else 0
            ),
            parse_options=pcsv.ParseOptions(
                delimiter="\t", quote_char=False, invalid_row_handler=on_invalid
            ),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(wanted),
                column_types=dict.fromkeys(wanted, pa.string()),
                strings_can_be_null=False,
                check_utf8=False,  # checked per column below, so one bad byte costs one row
            ),
        )
        for batch in reader:
            fields = {wanted[name]: batch.column(name) for name in batch.schema.names}
            columns = normalize(fields, "%Y%m%d%H%M%S", self.spec.number)
            columns.rejections[:0] = invalid
            invalid = []
            yield columns
        if invalid:
            yield _empty(invalid)

    def _v1(self, stream: IO[bytes], header: bool) -> Iterator[Parsed]:
        """GDELT 1.0 daily files: 57 columns before April 2013, 58 (with SOURCEURL) after.

        Daily files are modest (tens of thousands of rows), so lines are split in Python and
        normalized by the same columnar code in batches.
        """
        rows: list[list[str]] = []
        rejections: list[Rejection] = []
        if header:
            stream.readline()
        for raw in stream:
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                rejections.append(
                    Rejection(
                        "record",
                        raw.decode("utf-8", "replace")[:RAW_LIMIT],
                        f"invalid utf-8: {err.reason}",
                    )
                )
                continue
            if not line:
                continue
            cells = line.split("\t")
            if len(cells) == V1_COLUMNS - 1:
                cells.append("")  # files before April 2013 have no SOURCEURL
            if len(cells) != V1_COLUMNS:
                ref = f"GLOBALEVENTID {cells[0]}" if cells[0].isdigit() else "record"
                rejections.append(
                    Rejection(ref, line[:RAW_LIMIT], f"{len(cells)} fields, expected 57 or 58")
                )
                continue
            rows.append(cells)
            if len(rows) >= 20_000:
                yield self._v1_batch(rows, rejections)
                rows, rejections = [], []
        if rows or rejections:
            yield self._v1_batch(rows, rejections)

    def _v1_batch(self, rows: list[list[str]], rejections: list[Rejection]) -> EventColumns:
        fields = {
            field: pa.array([row[i] for row in rows], pa.string()) for field, i in V1_FIELDS.items()
        }
        columns = normalize(fields, "%Y%m%d", self.spec.number)
        columns.rejections[:0] = rejections
        return columns


def _stamp(url: str) -> str:
    """The YYYYMMDDHHMMSS time of a GDELT file URL."""
    match = re.search(r"(\d{14})\.export", url)
    return match.group(1) if match else ""


def _utf8_problems(fields: dict[str, pa.Array]) -> dict[int, tuple[str, str]]:
    """Rows with invalid UTF-8, by field: checked column-wise, located row-wise only if needed."""
    bad: dict[int, tuple[str, str]] = {}
    for field, values in fields.items():
        try:
            values.validate(full=True)
        except pa.ArrowInvalid:
            for i, raw in enumerate(values.view(pa.binary()).to_pylist()):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    bad.setdefault(i, (field, f"invalid utf-8 in {field}"))
    return bad


def _flags(values: pa.Array) -> np.ndarray:
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def normalize(fields: dict[str, pa.Array], added_format: str, number: int) -> EventColumns:
    """Normalize one block of GDELT rows, all columns at once.

    The CAMEO code decides first: rows whose code is not a risk event are counted as skipped
    without checking their other fields (they are never stored). The candidates are then
    checked field by field; a failing row becomes a Rejection naming the first failing field.
    """
    n = len(fields["id"])
    problems: dict[int, tuple[str, str]] = _utf8_problems(fields)
    if problems:  # blank the bad rows so the checks below see valid strings
        clean = pa.array([i not in problems for i in range(n)])
        fields = {k: pc.if_else(clean, v, pa.scalar("", pa.string())) for k, v in fields.items()}
    readable = np.ones(n, dtype=bool)
    readable[list(problems)] = False
    code_ok = _flags(pc.match_substring_regex(fields["code"], r"^\d{2,4}$"))
    for i in np.flatnonzero(readable & ~code_ok):
        problems[int(i)] = ("code", "EventCode is not CAMEO")
    cameo = {code: cameo_row(code) for code in pc.unique(fields["code"]).to_pylist()}
    fine_all = _lookup(fields["code"], {c: r["fine_type"] for c, r in cameo.items() if r})
    mapped = _flags(pc.is_valid(fine_all))
    candidate = readable & code_ok & mapped
    skipped = int((readable & code_ok & ~mapped).sum())
    rows = np.flatnonzero(candidate)  # original row numbers of the candidates
    pick = {k: pc.filter(v, pa.array(candidate)) for k, v in fields.items()} if len(rows) else {}

    def check(ok: pa.Array, field: str, reason: str) -> None:
        for j in np.flatnonzero(~_flags(ok)):
            problems.setdefault(int(rows[j]), (field, reason))

    numbers: dict[str, pa.Array] = {}
    occurred = None
    if len(rows):
        check(
            pc.match_substring_regex(pick["id"], r"^\d{1,16}$"),
            "id",
            "GLOBALEVENTID missing or not a number",
        )
        occurred = pc.strptime(pick["sqldate"], format="%Y%m%d", unit="s", error_is_null=True)
        check(pc.is_valid(occurred), "sqldate", "SQLDATE is not a YYYYMMDD date")
        for field in _NUMERIC_FIELDS:
            values = pick[field]
            numeric = pc.match_substring_regex(values, _NUMBER)
            check(pc.or_kleene(pc.equal(values, ""), numeric), field, f"{field} is not a number")
            numbers[field] = pc.cast(
                pc.if_else(numeric, values, pa.scalar(None, pa.string())), pa.float64()
            )
        lat, lon = numbers["lat"], numbers["lon"]
        # Kleene logic: an empty coordinate (null) is allowed, not "out of range".
        in_range = pc.and_kleene(pc.greater_equal(lat, -90), pc.less_equal(lat, 90))
        check(pc.or_kleene(pc.is_null(lat), in_range), "lat", "latitude outside [-90, 90]")
        in_range = pc.and_kleene(pc.greater_equal(lon, -180), pc.less_equal(lon, 180))
        check(pc.or_kleene(pc.is_null(lon), in_range), "lon", "longitude outside [-180, 180]")
        check(pc.equal(pc.is_null(lat), pc.is_null(lon)), "lat", "one coordinate without the other")

    rejections = [
        Rejection(
            ref=f"GLOBALEVENTID {value}"
            if (value := fields["id"][i].as_py()).isdigit()
            else f"row {i + 1} of block",
            raw="\t".join(f"{k}={v[i].as_py()}" for k, v in fields.items())[:RAW_LIMIT],
            reason=problems[i][1],
            field=problems[i][0],
        )
        for i in sorted(problems)
    ]
    keep = ~np.isin(rows, np.fromiter(problems, dtype=np.int64, count=len(problems)))
    if not keep.any() or occurred is None:
        return _empty(rejections, skipped)

    mask = pa.array(keep)
    pick = {k: pc.filter(v, mask) for k, v in pick.items()}
    numbers = {k: pc.filter(v, mask) for k, v in numbers.items()}
    occurred = pc.filter(occurred, mask)
    fine = _lookup(pick["code"], {c: r["fine_type"] for c, r in cameo.items() if r})
    labels = _tables()[4]
    label = _lookup(pick["code"], {c: (labels.get(c) or {}).get("label", c) for c in cameo})

    ids = pc.cast(pick["id"], pa.int64()).to_numpy() | np.int64(number << SOURCE_BITS)
    reported = pc.strptime(pick["added"], format=added_format, unit="s", error_is_null=True)
    grades, rules = _severity(pick["root"], numbers)
    _, _, fips, precision, _ = _tables()
    country = _lookup(pick["geo_cc"], {k: r["iso2"] or None for k, r in fips.rows.items()})
    where = _lookup(pick["geo_type"], {k: r["precision"] for k, r in precision.rows.items()})
    actors = pc.binary_join_element_wise(
        _nullify_empty(pick["actor1"]), _nullify_empty(pick["actor2"]), " / ", null_handling="skip"
    )
    title = pc.binary_join_element_wise(label, _nullify_empty(actors), " — ", null_handling="skip")
    return EventColumns(
        source=SOURCE,
        ids=ids.tolist(),
        source_ids=pick["id"].to_pylist(),
        occurred_at=pc.cast(occurred, pa.int64()).to_pylist(),
        reported_at=pc.cast(reported, pa.int64()).to_pylist(),
        fine_type=fine.to_pylist(),
        severity=grades,
        severity_rule=rules,
        country_code=country.to_pylist(),
        place=_nullify_empty(pick["geo_name"]).to_pylist(),
        lon=numbers["lon"].to_pylist(),
        lat=numbers["lat"].to_pylist(),
        precision=pc.fill_null(where, "unknown").to_pylist(),
        title=title.to_pylist(),
        url=_nullify_empty(pick["url"]).to_pylist(),
        details=_details(pick, numbers).to_pylist(),
        rejections=rejections,
        skipped=skipped,
    )


def _empty(rejections: list[Rejection], skipped: int = 0) -> EventColumns:
    return EventColumns(
        SOURCE, [], [], [], [], [], [], [], [], [], [], [], [], [], [], [],
        rejections=rejections, skipped=skipped,
    )  # fmt: skip


def _severity(root: pa.Array, numbers: dict[str, pa.Array]) -> tuple[list[str], list[str]]:
    """severity.csv, first matching row, evaluated over the whole block."""

    def values(array: pa.Array, default: float) -> np.ndarray:
        return np.asarray(array.fill_null(default).to_numpy(zero_copy_only=False), dtype=float)

    roots = values(pc.cast(pc.if_else(pc.equal(root, ""), None, root), pa.float64()), 0.0)
    goldstein = values(numbers["goldstein"], 0.0)
    sources, articles = values(numbers["sources"], 0.0), values(numbers["articles"], 0.0)
    evidence = {
        "widely": (sources >= 3) & (articles >= 10),
        "confirmed": (sources >= 2) | (articles >= 3),
    }
    grade = np.full(len(roots), "", dtype=object)
    rule = np.full(len(roots), "", dtype=object)
    for row in _tables()[1].rows.values():
        match = grade == ""
        if row["roots"]:
            match &= np.isin(roots, [float(r) for r in row["roots"].split("|")])
        if row["max_goldstein"]:
            match &= goldstein <= float(row["max_goldstein"])
        if row["evidence"]:
            match &= evidence[row["evidence"]]
        grade[match] = row["grade"]
        rule[match] = f"gdelt.{row['rule']}"
    return grade.tolist(), rule.tolist()


def _details(pick: dict[str, pa.Array], numbers: dict[str, pa.Array]) -> pa.Array:
    """The source's codes and numbers as JSON text, built column-wise.

    Numbers were checked above; codes are stripped of quotes and backslashes, so every value is
    JSON-safe without per-row encoding.
    """

    def num(field: str, decimals: int | None = None) -> pa.Array:
        values = numbers[field] if decimals is None else pc.round(numbers[field], decimals)
        return pc.fill_null(pc.cast(values, pa.string()), "null")

    def code(field: str) -> pa.Array:
        return pc.replace_substring_regex(pick[field], r'["\\]', "")

    quad = pc.if_else(pc.match_substring_regex(pick["quad"], r"^\d$"), pick["quad"], "null")
    parts: list[str | pa.Array] = [
        '{"cameo":"', code("code"), '","quad":', quad, ',"goldstein":', num("goldstein"),
        ',"mentions":', num("mentions"), ',"sources":', num("sources"),
        ',"articles":', num("articles"), ',"tone":', num("tone", 2),
        ',"adm1":"', code("geo_adm1"), '","feature":"', code("feature"), '"}',
    ]  # fmt: skip
    return pc.binary_join_element_wise(*parts, "")  # the literal parts broadcast
