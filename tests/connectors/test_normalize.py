"""The shared record helpers every connector leans on."""

from __future__ import annotations

import io

import pytest

from allweather.connectors.errors import SourceFormatError
from allweather.connectors.normalize import (
    CsvRecords,
    RecordError,
    fold_name,
    place_label,
    precision,
    unique_names,
)
from allweather.domain.events import EventPrecision, Rejection


def test_fold_name_ignores_case_width_and_spacing():
    assert fold_name("  Islamic   Republic OF Iran ") == "islamic republic of iran"
    assert fold_name("ＡＢＣ Ltd") == fold_name("abc ltd")  # full-width forms fold (NFKC)


def test_unique_names_keeps_first_spelling_and_order():
    names = unique_names(["Al Qaida", None, " ", "AL  QAIDA", "Al-Qa'ida", "al qaida"])
    assert names == ["Al Qaida", "Al-Qa'ida"]


def test_place_label_runs_finest_to_coarsest_without_repeats():
    assert place_label("Minakulu", "Oyam", "Northern") == "Minakulu, Oyam, Northern"
    assert place_label("Homs", "homs", "", None, "Homs Governorate") == "Homs, Homs Governorate"
    assert place_label(None, " ") is None


def _records(data: bytes) -> list:
    return list(CsvRecords(io.BytesIO(data), "test.csv", "event"))


def test_csv_records_yield_rows_and_reject_bad_ones_with_their_text():
    data = b'id,name\n1,"two\nlines"\n2,a,extra\n3,ok\n4,"unterminated\n'
    out = _records(data)
    assert out[0] == ("line 2", '1,"two\nlines"', {"id": "1", "name": "two\nlines"})
    assert isinstance(out[1], Rejection)
    assert out[1].ref == "line 4"
    assert "3 fields, expected 2" in out[1].reason
    assert out[1].raw == "2,a,extra"
    assert out[2] == ("line 5", "3,ok", {"id": "3", "name": "ok"})
    assert isinstance(out[3], Rejection)
    assert "malformed CSV" in out[3].reason
    assert len(out) == 4


def test_csv_records_reject_an_undecodable_line_and_keep_going():
    out = _records(b"id,name\n1,caf\xff\n2,ok\n")
    rejected = [r for r in out if isinstance(r, Rejection)]
    rows = [r[2] for r in out if not isinstance(r, Rejection)]
    assert len(rejected) == 1
    assert rejected[0].ref == "line 2"
    assert rows == [{"id": "2", "name": "ok"}]


def test_csv_records_without_header_is_a_format_error():
    with pytest.raises(SourceFormatError, match="test.csv: no event header"):
        CsvRecords(io.BytesIO(b""), "test.csv", "event")


def test_precision_reads_the_source_table_and_names_an_unknown_code():
    package = "allweather.connectors.ucdp_ged"
    assert precision(package, "1", "where_prec") is EventPrecision.EXACT
    assert precision(package, "", "where_prec") is EventPrecision.UNKNOWN
    with pytest.raises(RecordError, match="unknown where_prec 9") as err:
        precision(package, "9", "where_prec")
    assert err.value.field == "where_prec"
