"""The warning engine on both backends: rules fire (or say why not), one open warning per
project and category is issued, adjusted and lifted with history, replays repeat nothing, a
backfill warns nobody, people acknowledge, dismiss and issue by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from allweather.domain.levels import WarningLevel
from allweather.domain.scoring.baseline import CountryRating, RatingScale
from allweather.domain.warnings.model import Disposition
from allweather.store import warnings as ws
from allweather.store.tables import rule_evaluations, warning_history, warnings
from allweather.warnings import actions
from allweather.warnings.actions import WarningActionError
from tests.conftest import NOW
from tests.pipeline.test_scoring import at, clash, quake, setup


def rows(platform, status="active"):
    with platform.engine.connect() as conn:
        return ws.list_warnings(conn, status=status)


def one(platform, project="KE-SGR", category="natural"):
    found = [
        r for r in rows(platform, None) if r.project_code == project and r.category == category
    ]
    assert len(found) == 1, found
    return found[0]


def history_actions(platform, warning_id):
    with platform.engine.connect() as conn:
        return [h.action for h in ws.history(conn, warning_id)]


def test_a_large_nearby_earthquake_issues_one_red_or_orange_warning_at_once(platform, tmp_path):
    setup(platform)
    assert rows(platform) == []  # the baseline alone warns nobody
    quake(platform, tmp_path, mag="7.1")  # 11 km from the SGR terminus, 33 h before NOW
    w = one(platform)
    assert w.status == "active"
    assert WarningLevel(w.level) in (WarningLevel.RED, WarningLevel.ORANGE)
    assert "event" in w.triggers
    # The eight Art. 64 fields, in both languages.
    assert w.title["zh"].startswith(
        f"【{WarningLevel(w.level).label.zh}预警】自然风险 · 肯尼亚 · 蒙内铁路"
    )
    assert "地震" in w.key_points["zh"]
    assert "Earthquake" in w.key_points["en"]
    assert "公里" in w.key_points["zh"]
    assert "km" in w.key_points["en"]
    assert "肯尼亚" in w.affected_area["zh"]
    assert "KE-SGR" in w.affected_area["en"]
    assert w.measures["zh"].startswith("1. ")
    assert w.measures["en"].startswith("1. ")
    assert w.issuer["zh"]
    assert w.issuer["en"]
    assert w.issued_at == NOW
    assert w.started_at == NOW.replace(day=18, hour=3, minute=51, second=13)
    with platform.engine.connect() as conn:
        evidence = ws.evidence_rows(conn, w.id, platform.warnings.source_name)
    assert [e["source"] for e in evidence] == ["usgs_earthquakes"]
    nearest = min(
        x["distance_km"]
        for x in platform.matching.iter_exposures()
        if x["project_code"] == "KE-SGR"
    )
    assert evidence[0]["distance_km"] == pytest.approx(nearest, abs=0.01)
    assert evidence[0]["url"].startswith("https://earthquake.usgs.gov/")
    assert history_actions(platform, w.id) == ["issued"]
    # Only the project it reached, only the natural category.
    assert {(r.project_code, r.category) for r in rows(platform)} == {("KE-SGR", "natural")}


def test_replaying_the_same_feed_repeats_nothing(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="7.1")
    platform.warn()
    before = one(platform)
    quake(platform, tmp_path, mag="7.1")  # the same record again
    platform.warn()
    platform.tick_warnings()
    after = one(platform)
    assert (after.id, after.revision, after.level) == (before.id, before.revision, before.level)
    assert history_actions(platform, after.id) == ["issued"]
    with platform.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(warnings)).scalar_one()
    assert total == 1


def test_a_backfill_of_old_history_warns_nobody_but_a_replay_as_if_live_does(platform, tmp_path):
    setup(platform)
    at(platform, NOW + timedelta(days=400))  # the live clock, long after the event
    quake(platform, tmp_path, mag="7.1")
    platform.tick_warnings()
    assert rows(platform, None) == []
    with platform.engine.connect() as conn:
        reasons = [
            r.reason["en"]
            for r in conn.execute(
                select(rule_evaluations).where(rule_evaluations.c.rule == "event")
            )
        ]
    assert reasons == [] or not any("met the rule" in r for r in reasons)
    at(platform, NOW)  # the same data replayed on a clock set to then
    with platform.engine.begin() as conn:
        ws.mark_all_dirty(conn)
    platform.refresh_scores(max_age=timedelta(0))
    platform.warn()
    assert one(platform).status == "active"


def test_the_warning_stands_while_the_event_holds_then_is_downgraded_or_lifted(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="7.1")
    first = one(platform)
    at(platform, NOW + timedelta(days=10))  # past the 72 h hold; the score has decayed
    platform.tick_warnings()
    later = one(platform)
    assert later.id == first.id
    with platform.engine.connect() as conn:
        latest = {
            r.rule: r.fired
            for r in conn.execute(
                select(rule_evaluations)
                .where(rule_evaluations.c.warning_id == first.id)
                .order_by(rule_evaluations.c.id)
            )
        }
    assert latest["event"] is False  # the 72 h hold is over
    if later.status == "active":
        assert latest["score"] is True  # what still holds it: the decayed but high score
    at(platform, NOW + timedelta(days=200))
    platform.tick_warnings()
    assert one(platform).status == "lifted"
    # Lifted: the next event opens a new warning, the old one keeps its history.
    quake(platform, tmp_path, mag="7.2", when="2025-03-06T10:00:00.000Z")
    at(platform, NOW + timedelta(days=200))
    platform.warn()
    found = [r for r in rows(platform, None) if r.category == "natural"]
    assert len(found) == 2
    assert sum(r.status == "active" for r in found) == 1


def test_a_second_stronger_event_upgrades_the_open_warning(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="6.3")
    first = one(platform)
    quake(platform, tmp_path, mag="7.9")  # USGS revises the same event's magnitude
    later = one(platform)
    assert later.id == first.id
    if WarningLevel(first.level) is WarningLevel.RED:
        pytest.skip("the first quake already set the highest level")
    assert later.level == int(WarningLevel.RED)
    assert history_actions(platform, first.id)[-1] == "upgraded"
    with platform.engine.connect() as conn:
        hist = ws.history(conn, first.id)
    assert hist[-1].previous_level == first.level


def test_dismissing_a_warning_lifts_it_and_its_events_raise_it_no_more(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="7.1")
    w = one(platform)
    result = actions.acknowledge(
        platform.engine,
        platform.warnings.rules,
        w.id,
        Disposition.FALSE_REPORT,
        "USGS retracted it by phone",
        "duty officer",
        NOW,
    )
    assert result.lifted
    assert result.suppressed == 1
    assert one(platform).status == "lifted"
    with platform.engine.begin() as conn:
        ws.mark_all_dirty(conn)
    platform.warn()
    assert rows(platform) == []  # the suppressed event does not raise it again
    with platform.engine.connect() as conn:
        acks = ws.acks(conn, w.id)
    assert [(a.disposition, a.by) for a in acks] == [("false_report", "duty officer")]
    assert history_actions(platform, w.id) == ["issued", "acknowledged", "lifted"]
    with platform.engine.connect() as conn:
        reasons = [
            r.reason["en"]
            for r in conn.execute(
                select(rule_evaluations).where(rule_evaluations.c.rule == "score")
            )
        ]
    assert any("judged" in r for r in reasons)  # the score rule says why it stays quiet


def test_acknowledging_stops_escalation_and_rejects_a_lifted_warning(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="7.1")
    w = one(platform)
    assert w.escalate_at is not None
    assert w.acknowledged_at is None
    actions.acknowledge(
        platform.engine, platform.warnings.rules, w.id, Disposition.ACTION_TAKEN, None, "pm", NOW
    )
    acked = one(platform)
    assert acked.escalate_at is None
    assert acked.acknowledged_at == NOW
    assert acked.status == "active"  # action taken: the warning still stands
    actions.lift_by_hand(platform.engine, platform.warnings.rules, w.id, "all clear", "pm", NOW)
    with pytest.raises(WarningActionError, match="only active"):
        actions.acknowledge(
            platform.engine, platform.warnings.rules, w.id, Disposition.RELEVANT, None, "pm", NOW
        )


def test_a_deadly_clash_warns_political_and_a_red_mfa_level_requires_a_decision(platform, tmp_path):
    setup(platform)
    clash(platform, tmp_path, best=40)
    political = one(platform, category="political")
    assert "event" in political.triggers or "score" in political.triggers
    rating = CountryRating("KE", RatingScale.MFA_TRAVEL, "red", "MFA 中国领事服务网", NOW.date())
    platform.scores.set_rating(rating, "admin", NOW)
    platform.warn()
    for code in ("KE-SGR", "KE-PORT"):
        w = one(platform, project=code, category="political")
        assert w.level == int(WarningLevel.RED)
        assert w.decision_required
        assert "停工/撤离/转移" in w.key_points["zh"]
        assert "travel" in w.triggers
        assert "停工、撤离或转移" in w.measures["zh"]


def test_hand_written_warnings_go_author_approve_publish(platform):
    setup(platform)
    draft = actions.author(
        platform.engine,
        platform.warnings.rules,
        "KE-PORT",
        "political",
        WarningLevel.ORANGE,
        "港区周边计划举行大规模游行",
        "analyst",
        NOW,
    )
    assert rows(platform) == []
    assert rows(platform, "draft")[0].id == draft
    with pytest.raises(WarningActionError, match="approved first"):
        actions.publish(platform.engine, platform.warnings.rules, draft, "analyst", NOW)
    with pytest.raises(WarningActionError, match="author cannot approve"):
        actions.approve(platform.engine, draft, "analyst", NOW)
    actions.approve(platform.engine, draft, "security director", NOW)
    actions.publish(platform.engine, platform.warnings.rules, draft, "security director", NOW)
    w = one(platform, project="KE-PORT", category="political")
    assert w.status == "active"
    assert w.triggers == ["manual"]
    assert history_actions(platform, draft) == ["authored", "approved", "issued"]
    # The rules do not lift a warning issued by hand.
    platform.tick_warnings()
    assert one(platform, project="KE-PORT", category="political").status == "active"


def test_every_evaluation_is_recorded_with_whether_it_fired_and_why(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="7.1")
    with platform.engine.connect() as conn:
        found = list(conn.execute(select(rule_evaluations)))
    fired = [r for r in found if r.fired]
    assert {r.rule for r in fired} >= {"event"}
    assert all(r.reason["zh"] and r.reason["en"] for r in found)
    assert all(r.warning_id is not None for r in fired)
    assert any(not r.fired for r in found)  # the rules that did not fire say so too


def test_a_stale_source_warns_the_administrators_once(platform):
    platform.warnings.tick(NOW, [("usgs_earthquakes", "USGS earthquakes", True)])
    platform.warnings.tick(NOW, [("usgs_earthquakes", "USGS earthquakes", True)])
    system = [r for r in rows(platform) if r.category == "system"]
    assert len(system) == 1
    assert system[0].source == "usgs_earthquakes"
    assert system[0].project_id is None
    platform.warnings.tick(NOW, [("usgs_earthquakes", "USGS earthquakes", False)])
    assert [r.status for r in rows(platform, None) if r.category == "system"] == ["lifted"]


def test_rules_file_per_organisation_overrides(platform, tmp_path):
    from allweather.domain.warnings.rules import WarningRules

    text = WarningRules.default().source_text.replace(
        "organizations: {}",
        "organizations:\n  CRBC:\n    rules:\n      event:\n        enabled: false",
    )
    rules = WarningRules.from_yaml(text)
    assert rules.for_org("CRBC").rules.event.enabled is False
    assert rules.for_org("OTHER").rules.event.enabled is True
    assert rules.for_org(None).escalation[WarningLevel.RED] == "15m"


def test_the_history_keeps_a_snapshot_of_every_issued_revision(platform, tmp_path):
    setup(platform)
    quake(platform, tmp_path, mag="7.1")
    w = one(platform)
    with platform.engine.connect() as conn:
        snap = conn.execute(
            select(warning_history.c.snapshot).where(warning_history.c.warning_id == w.id)
        ).scalar_one()
    assert snap["level"] == w.level
    assert snap["key_points"] == w.key_points


def test_a_surge_of_clashes_raises_a_warning_the_single_events_do_not(platform, tmp_path):
    from allweather.connectors.registry import get_connector
    from tests.pipeline.test_scoring import CLASH, UCDP_HEADER

    setup(platform)
    lines = []
    for i in range(6):  # six small clashes (1 death each) in the last week, none before
        day = f"2024-08-{13 + i:02d}"
        lines.append(
            CLASH.format(id=995000 + i, best=1, civ=0)
            .replace("2024-08-18,x,x", f"{day},x,x")
            .replace("2024-08-18,2024-08-18", f"{day},{day}")
        )
    path = tmp_path / "surge.csv"
    path.write_text(UCDP_HEADER + "".join(lines))
    platform.ingestor().ingest_file(get_connector("ucdp_ged"), path)
    w = one(platform, category="political")
    assert "surge" in w.triggers
    assert "event" not in w.triggers  # no single clash was severe enough
    assert "6 in the last 7 days" in w.key_points["en"]
    assert "冲突/动乱事件激增" in w.key_points["zh"]
