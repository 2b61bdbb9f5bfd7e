"""Real events against the real demo portfolio: the 2023-02-06 Kahramanmaraş earthquakes (USGS
ComCat recording bundled for the demo) warn the projects they reached, with the right fields,
levels, evidence and texts, and no duplicates; the same file as a backfill warns nobody."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from allweather.connectors.registry import get_connector
from allweather.domain.clock import FixedClock
from allweather.domain.levels import WarningLevel
from allweather.platform import demo_portfolio_path
from allweather.store import warnings as ws

RECORDING = (
    Path(__file__).parents[2] / "src/allweather/data/replay/usgs_comcat_m5plus_2013-2023.csv.gz"
)
DAY_AFTER = datetime(2023, 2, 7, 12, 0, tzinfo=UTC)
PAZARCIK = "us6000jllz"  # M 7.8, 2023-02-06 01:17 UTC


def _run(platform, now: datetime):
    platform.clock = FixedClock(now)
    platform.dispatcher.clock = platform.clock
    platform.import_file(demo_portfolio_path())
    report = platform.ingestor().ingest_file(get_connector("usgs_earthquakes"), RECORDING)
    assert report.counts.new > 10_000
    with platform.engine.connect() as conn:
        return ws.list_warnings(conn, status=None), conn


def test_the_kahramanmaras_earthquakes_warn_the_projects_they_reached(platform):
    found, _ = _run(platform, DAY_AFTER)
    active = [w for w in found if w.status == "active"]
    # One open warning per project and category.
    assert max(Counter((w.project_id, w.category) for w in active).values()) == 1
    turkey_syria = [w for w in active if w.country_code in ("TR", "SY") and w.category == "natural"]
    assert turkey_syria, "the M7.8 reached no project"
    with platform.engine.connect() as conn:
        for w in turkey_syria:
            evidence = ws.evidence_rows(conn, w.id, platform.warnings.source_name)
            ids = {e["source_id"] for e in evidence}
            if PAZARCIK not in ids:
                continue
            pazarcik = next(e for e in evidence if e["source_id"] == PAZARCIK)
            assert w.level == int(WarningLevel.RED)  # Ⅰ 特别重大 within reach
            assert pazarcik["severity"] == "I"
            assert 0 <= pazarcik["distance_km"] <= pazarcik["reach_km"]
            assert (
                pazarcik["url"] == f"https://earthquake.usgs.gov/earthquakes/eventpage/{PAZARCIK}"
            )
            assert w.started_at <= datetime(2023, 2, 6, 1, 17, 35, tzinfo=UTC)
            assert w.issued_at == DAY_AFTER
            assert "地震（特别重大）" in w.key_points["zh"]
            assert "Pazarcik earthquake" in w.key_points["en"]
            country = "土耳其" if w.country_code == "TR" else "叙利亚"
            assert w.title["zh"].startswith(f"【一级（红色）预警】自然风险 · {country}")
            assert "全面停工" in w.measures["zh"]
            assert "evacuate" in w.measures["en"]
    reached = [
        w
        for w in turkey_syria
        if PAZARCIK in str(w.key_points["en"]) or "Pazarcik" in w.key_points["en"]
    ]
    assert len(reached) >= 2
    # Nothing natural raised far from any 2023 event: every active natural warning cites an
    # event from the live window (the 72 h before DAY_AFTER) or a score its events moved.
    for w in active:
        assert set(w.triggers) <= {"event", "score", "surge", "travel"}


def test_replaying_the_recording_adds_no_warning_and_a_late_backfill_adds_none(platform):
    found, _ = _run(platform, DAY_AFTER)
    again = platform.ingestor().ingest_file(get_connector("usgs_earthquakes"), RECORDING)
    assert again.counts.new == 0
    platform.warn()
    with platform.engine.connect() as conn:
        after = ws.list_warnings(conn, status=None)
    assert [(w.id, w.revision) for w in after] == [(w.id, w.revision) for w in found]


def test_a_backfill_on_the_live_clock_warns_nobody(sqlite_platform):
    found, _ = _run(sqlite_platform, datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    assert found == []
