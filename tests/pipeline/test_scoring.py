"""Scoring in the pipeline: events raise the right category of the right project, decay, overrides
stick and lapse, history rebuilds, replays change nothing. Both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import delete, func, select

from allweather.connectors.registry import get_connector
from allweather.domain.clock import FixedClock
from allweather.domain.events import Retraction
from allweather.domain.levels import WarningLevel
from allweather.domain.scoring.index import CATEGORIES, combine, pressure
from allweather.domain.scoring.method import ScoringMethod
from allweather.store.base import Chunk
from allweather.store.scores import SqlScoreStore, day_end
from allweather.store.tables import score_history, score_inputs, scores
from tests.factories import make_project, make_site, make_update
from tests.pipeline.test_matching import HEADER, QUAKE

MOMBASA = make_site("quay", geometry=Point(39.66, -4.04))
UCDP_HEADER = (
    "id,year,active_year,type_of_violence,conflict_new_id,conflict_name,dyad_new_id,dyad_name,"
    "side_a_new_id,side_a,side_b_new_id,gwnob,side_b,number_of_sources,source_article,"
    "source_office,source_date,source_headline,source_original,where_prec,where_coordinates,"
    "adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,country_id,region,"
    "event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,"
    "deaths_unknown,low,best,high\n"
)
# A real UCDP record layout, placed 10 km south of Nairobi (made-up location; only the
# distance and the death toll matter here).
CLASH = (
    "{id},2024.0,1.0,1.0,299.0,Kenya: test,1.0,A - B,1.0,A,2.0,,B,1.0,x,x,2024-08-18,x,x,1.0,"
    "Nairobi,Nairobi,Nairobi,-1.3821,36.8219,POINT (36.8219 -1.3821),1.0,Kenya,501.0,Africa,"
    "1.0,1.0,2024-08-18,2024-08-18,10.0,10.0,{civ}.0,0.0,{best}.0,{best}.0,{best}.0\n"
)


def setup(platform):
    platform.portfolio.apply_portfolio(
        [
            make_update(make_project()),
            make_update(make_project("KE-PORT", name="Mombasa quay", sites=(MOMBASA,))),
        ],
        [],
        platform.clock.now(),
    )
    platform.rematch_if_due()
    platform.refresh_scores()


def quake(platform, tmp_path, mag="7.1", when="2024-08-18T03:51:13.000Z"):
    path = tmp_path / "quake.csv"
    row = QUAKE.format(mag=mag, updated="2024-08-18T06:00:00Z").replace(
        "2020-06-01T03:51:13.000Z", when
    )
    path.write_text(HEADER + row)
    return platform.ingestor().ingest_file(get_connector("usgs_earthquakes"), path)


def clash(platform, tmp_path, best=40, event_id="990001"):
    path = tmp_path / "ged.csv"
    path.write_text(UCDP_HEADER + CLASH.format(id=event_id, best=best, civ=best - 20))
    return platform.ingestor().ingest_file(get_connector("ucdp_ged"), path)


def current(platform) -> dict[tuple[str, str], dict]:
    return {(r["project_code"], r["category"]): r for r in platform.scores.current()}


def at(platform, when: datetime) -> None:
    platform.clock = FixedClock(when)


def test_every_project_gets_a_score_level_and_explanation_per_category(platform):
    setup(platform)
    found = current(platform)
    assert set(found) == {(p, c) for p in ("KE-SGR", "KE-PORT") for c in CATEGORIES}
    for row in found.values():
        assert 0 <= row["score"] <= 10
        assert WarningLevel(row["level"])
        assert row["method_version"] == ScoringMethod.default().label
        if row["category"] != "overall":
            assert row["explanation"]["baseline_detail"]["inputs"], row["category"]
        assert row["pressure"] == 0.0  # no events yet: the baseline alone
    overall = found[("KE-SGR", "overall")]
    worst = max(found[("KE-SGR", c)]["score"] for c in CATEGORIES[:-1])
    assert overall["score"] == pytest.approx(worst)


def test_a_large_earthquake_raises_natural_for_that_project_only(platform, tmp_path):
    setup(platform)
    before = current(platform)
    report = quake(platform, tmp_path)
    assert report.counts.new == 1
    after = current(platform)  # re-scored as the chunk landed, no explicit refresh
    raised = after[("KE-SGR", "natural")]
    assert raised["pressure"] > 5
    assert raised["score"] > before[("KE-SGR", "natural")]["score"] + 1
    assert WarningLevel(raised["level"]).is_higher_than(
        WarningLevel(before[("KE-SGR", "natural")]["level"])
    )
    top = raised["explanation"]["events"][0]
    assert top["fine_type"] == "earthquake"
    nearest = min(
        x["distance_km"]
        for x in platform.matching.iter_exposures()
        if x["project_code"] == "KE-SGR"
    )
    assert top["strongest_distance_km"] == pytest.approx(nearest, abs=0.01)  # the nearest site
    for key, row in after.items():
        if key not in {("KE-SGR", "natural"), ("KE-SGR", "overall")}:
            assert row["score"] == pytest.approx(before[key]["score"]), key


def test_a_deadly_clash_raises_political_only(platform, tmp_path):
    setup(platform)
    before = current(platform)
    clash(platform, tmp_path)
    after = current(platform)
    assert after[("KE-SGR", "political")]["score"] > before[("KE-SGR", "political")]["score"] + 1
    assert after[("KE-SGR", "political")]["explanation"]["events"][0]["fine_type"] in {
        "armed_clash",
        "battle",
    }
    for category in ("economic", "policy", "natural", "other"):
        assert after[("KE-SGR", category)]["score"] == pytest.approx(
            before[("KE-SGR", category)]["score"]
        )
    assert after[("KE-PORT", "political")]["score"] == pytest.approx(
        before[("KE-PORT", "political")]["score"]
    )


def test_scores_decay_back_to_the_baseline_with_no_new_events(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path)
    fresh = current(platform)[("KE-SGR", "natural")]
    seen = []
    for days in (7, 30, 90, 365):
        at(platform, platform.clock.now() + timedelta(days=days))
        platform.refresh_scores()
        seen.append(current(platform)[("KE-SGR", "natural")])
    pressures = [fresh["pressure"], *(r["pressure"] for r in seen)]
    assert pressures == sorted(pressures, reverse=True)
    assert len(set(pressures)) == len(pressures)
    assert seen[-1]["score"] == pytest.approx(seen[-1]["baseline"], abs=0.01)
    assert seen[-1]["level"] >= fresh["level"]  # a lower level is a larger number


def test_seeing_a_threat_again_resets_its_decay(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path)
    fresh = current(platform)[("KE-SGR", "natural")]["pressure"]
    at(platform, platform.clock.now() + timedelta(days=40))
    platform.refresh_scores()
    faded = current(platform)[("KE-SGR", "natural")]["pressure"]
    quake(platform, tmp_path, when="2024-09-27T10:00:00.000Z")  # the same place, seen again
    again = current(platform)[("KE-SGR", "natural")]["pressure"]
    assert faded < fresh * 0.5
    assert again >= fresh - 1e-9


def test_incremental_equals_full_recompute_and_replays_change_nothing(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path)
    clash(platform, tmp_path)
    incremental = {k: (r["computed_score"], r["level"]) for k, r in current(platform).items()}
    inputs = _count(platform, score_inputs)
    quake(platform, tmp_path)  # the same records again
    clash(platform, tmp_path)
    assert _count(platform, score_inputs) == inputs
    platform.scores.refresh(platform.clock.now())
    full = {k: (r["computed_score"], r["level"]) for k, r in current(platform).items()}
    assert full.keys() == incremental.keys()
    for key, (score, level) in full.items():
        assert score == pytest.approx(incremental[key][0], abs=1e-9), key
        assert level == incremental[key][1]


def test_a_retraction_takes_the_event_out_of_the_score(platform, tmp_path):
    setup(platform)
    before = current(platform)[("KE-SGR", "natural")]["score"]
    quake(platform, tmp_path)
    chunk = Chunk(
        "usgs_earthquakes",
        1,
        0,
        retractions=[Retraction("usgs_earthquakes", "us7000abcd", platform.clock.now())],
    )
    platform.sources.commit_chunk(chunk, platform.clock.now())
    platform.rescore()
    assert current(platform)[("KE-SGR", "natural")]["score"] == pytest.approx(before)


def test_an_override_survives_recompute_and_expires_on_time(platform, tmp_path):
    setup(platform)
    now = platform.clock.now()
    computed = current(platform)[("KE-SGR", "political")]
    override_id = platform.scores.set_override(
        "KE-SGR",
        "political",
        None,
        WarningLevel.RED,
        "使馆通报：内罗毕示威 / embassy notice: Nairobi protests",
        "analyst@example.org",
        now + timedelta(days=3),
        now,
    )
    shown = current(platform)[("KE-SGR", "political")]
    assert shown["level"] == WarningLevel.RED
    assert shown["computed_level"] == computed["computed_level"]  # kept beside it
    assert shown["override"].reason.startswith("使馆通报")
    clash(platform, tmp_path)  # events arrive: re-scored, override holds
    platform.scores.refresh(platform.clock.now())  # and a full recompute
    assert current(platform)[("KE-SGR", "political")]["level"] == WarningLevel.RED
    assert current(platform)[("KE-SGR", "political")]["override_id"] == override_id
    at(platform, now + timedelta(days=3) - timedelta(seconds=1))
    platform.refresh_scores()
    assert current(platform)[("KE-SGR", "political")]["override_id"] == override_id
    at(platform, now + timedelta(days=3))
    platform.refresh_scores()
    lapsed = current(platform)[("KE-SGR", "political")]
    assert lapsed["override_id"] is None
    assert lapsed["level"] == lapsed["computed_level"]


def test_a_revoked_override_stops_at_once(platform):
    setup(platform)
    now = platform.clock.now()
    override_id = platform.scores.set_override(
        "KE-SGR", "natural", 9.5, None, "test", "me", now + timedelta(days=30), now
    )
    assert current(platform)[("KE-SGR", "natural")]["score"] == 9.5
    assert platform.scores.revoke_override(override_id, now)
    assert current(platform)[("KE-SGR", "natural")]["override_id"] is None
    assert not platform.scores.revoke_override(override_id, now)


def test_history_is_daily_and_a_rebuild_reproduces_it(platform, tmp_path):
    setup(platform)
    start = platform.clock.now()
    platform.scores.close_days(start)
    for days, step in ((1, "quake"), (3, "clash"), (6, None)):
        at(platform, start + timedelta(days=days))
        if step == "quake":
            quake(platform, tmp_path, when=(start + timedelta(days=days)).isoformat())
        elif step == "clash":
            clash(platform, tmp_path)
        platform.refresh_scores()
    recorded = _history(platform)
    days = sorted({d for _, _, d in recorded})
    assert len(days) == 7  # the day before the start, then every ended day
    assert {(p, c) for p, c, _ in recorded} == {
        (p, c) for p in ("KE-SGR", "KE-PORT") for c in CATEGORIES
    }
    natural = [recorded[("KE-SGR", "natural", d)]["score"] for d in days]
    assert max(natural) > natural[0]  # the quake shows in the trend
    with platform.engine.begin() as conn:
        conn.execute(delete(score_history))
    platform.scores.close_days(platform.clock.now(), since=days[0])
    rebuilt = _history(platform)
    assert rebuilt.keys() == recorded.keys()
    for key, row in recorded.items():
        assert rebuilt[key]["score"] == pytest.approx(row["score"], abs=1e-9), key
        assert rebuilt[key]["level"] == row["level"], key


def test_a_day_is_scored_as_known_at_its_end(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, when="2024-08-10T00:00:00Z")  # learned of on 2024-08-19
    store: SqlScoreStore = platform.scores
    store.close_days(platform.clock.now(), since=date(2024, 8, 12))
    rows = _history(platform)
    early = rows[("KE-SGR", "natural", date(2024, 8, 12))]
    assert early["pressure"] == 0.0  # not known on the 12th, though it had happened
    method = ScoringMethod.default()
    assert early["score"] == pytest.approx(combine(early["baseline"], pressure(method, 0.0)))
    assert day_end(date(2024, 8, 12)) == int(
        datetime(2024, 8, 12, 15, 59, 59, tzinfo=UTC).timestamp()
    )


def test_a_changed_method_rescores_everything_under_its_version(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path)
    text = ScoringMethod.default().source_text.replace("earthquake: 21", "earthquake: 3")
    changed = ScoringMethod.from_yaml(text)
    assert changed.label != ScoringMethod.default().label
    platform.scores.method = changed
    at(platform, platform.clock.now() + timedelta(minutes=5))
    platform.rescore()
    rows = platform.scores.current()
    assert {r["method_version"] for r in rows} == {changed.label}


def test_a_country_rating_raises_the_baseline(platform):
    from allweather.domain.scoring.baseline import CountryRating, RatingScale

    setup(platform)
    before = current(platform)[("KE-SGR", "political")]
    platform.scores.set_rating(
        CountryRating("KE", RatingScale.MFA_TRAVEL, "red", "中国领事服务网", date(2024, 8, 1)),
        "admin",
        platform.clock.now(),
    )
    after = current(platform)[("KE-SGR", "political")]
    assert after["baseline"] > before["baseline"]
    assert any(
        i["indicator"] == "rating.mfa_travel"
        for i in after["explanation"]["baseline_detail"]["inputs"]
    )


def _count(platform, table) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _history(platform) -> dict[tuple[str, str, date], dict]:
    return {(r["project_code"], r["category"], r["day"]): r for r in platform.scores.history()}


def test_scores_table_has_one_row_per_project_and_category(platform):
    setup(platform)
    assert _count(platform, scores) == 2 * len(CATEGORIES)


def test_the_parallel_full_scan_equals_one_scan(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path)
    clash(platform, tmp_path)
    store: SqlScoreStore = platform.scores
    stamp = int(platform.clock.now().timestamp())
    found = []
    for workers in (1, 3):
        store.scan_workers = workers
        with platform.engine.begin() as conn:
            found.append(store.pressures(conn, stamp))
    assert found[0] == found[1]
    assert set(found[0]) == {_project_id(platform, "KE-SGR")}  # the port is out of reach


def test_a_changed_method_reweighs_before_any_parallel_scan(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path)
    before = current(platform)[("KE-SGR", "natural")]["pressure"]
    text = ScoringMethod.default().source_text.replace("half_reach: 0.5", "half_reach: 0.1")
    platform.scores.method = ScoringMethod.from_yaml(text)
    platform.scores.scan_workers = 2
    platform.refresh_scores()
    after = current(platform)[("KE-SGR", "natural")]["pressure"]
    assert after < before  # the new method, not the weights stored under the old one


def _project_id(platform, code: str) -> int:
    from allweather.store.tables import projects

    with platform.engine.connect() as conn:
        return int(conn.execute(select(projects.c.id).where(projects.c.code == code)).scalar_one())
