"""``allweather scores``: show as JSON and CSV, overrides, ratings, history; bad input exits 2."""

from __future__ import annotations

import csv
import io
import json

import pytest

from allweather.cli import main
from allweather.domain.scoring.index import CATEGORIES


def test_show_json_has_every_category_with_its_parts(runner):
    result = runner.invoke(main, ["scores", "show", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [(r["project"], r["category"]) for r in records] == [
        (p, c) for p in ("KE-1", "NO-1") for c in CATEGORIES
    ]
    for r in records:
        assert r["method_version"].startswith("aw-score/")
        assert r["confidence"] in {"high", "medium", "low"}
        assert r["top_contributors"]
        assert r["level_zh"].endswith("）")
    kenya = {r["category"]: r for r in records if r["project"] == "KE-1"}
    norway = {r["category"]: r for r in records if r["project"] == "NO-1"}
    assert kenya["political"]["score"] > norway["political"]["score"]
    assert "评分" in result.stderr


def test_show_csv_for_one_project_and_an_unknown_project(runner):
    result = runner.invoke(main, ["scores", "show", "--project", "NO-1", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["category"] for r in rows] == list(CATEGORIES)
    assert {r["project"] for r in rows} == {"NO-1"}
    missing = runner.invoke(main, ["scores", "show", "--project", "XX-9"])
    assert missing.exit_code == 2
    assert "XX-9" in missing.stderr


def test_override_shows_beside_the_computed_value_and_can_be_revoked(runner):
    result = runner.invoke(
        main,
        [
            "scores",
            "override",
            "--project",
            "KE-1",
            "--category",
            "political",
            "--level",
            "红色",
            "--reason",
            "使馆提醒 embassy reminder",
            "--expires",
            "30d",
            "--by",
            "analyst",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(main, ["scores", "show", "--project", "KE-1"]).stdout)
    political = next(r for r in shown if r["category"] == "political")
    assert political["level"] == 1
    assert political["override_level"] == 1
    assert political["override_reason"] == "使馆提醒 embassy reminder"
    assert political["computed_level"] != 1
    assert political["override_expires_at"].startswith("2024-09-18")
    revoke = runner.invoke(main, ["scores", "unoverride", "1"])
    assert revoke.exit_code == 0, revoke.output
    assert runner.invoke(main, ["scores", "unoverride", "1"]).exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "purple"], "--level"),
        (["--score", "11"], "11"),
        (["--level", "1", "--expires", "yesterday"], "--expires"),
        (["--level", "1", "--expires", "2020-01-01T00:00:00Z"], "future"),
        ([], "--score, --level"),
        (["--level", "1", "--project", "NOPE"], "NOPE"),
    ],
)
def test_bad_overrides_exit_2_and_name_the_field(runner, args, message):
    base = {
        "--project": "KE-1",
        "--category": "political",
        "--reason": "r",
        "--expires": "1d",
        "--by": "me",
    }
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for kv in base.items() for x in kv]
    result = runner.invoke(main, ["scores", "override", *flat])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_rating_raises_the_baseline_and_bad_ratings_exit_2(runner):
    before = json.loads(runner.invoke(main, ["scores", "show", "--project", "NO-1"]).stdout)
    ok = runner.invoke(
        main,
        [
            "scores",
            "rate",
            "--country",
            "挪威",
            "--scale",
            "sinosure",
            "--value",
            "9",
            "--source",
            "中国信保《国家风险分析报告》",
            "--as-of",
            "2024-06-01",
            "--by",
            "admin",
        ],
    )
    assert ok.exit_code == 0, ok.output
    after = json.loads(runner.invoke(main, ["scores", "show", "--project", "NO-1"]).stdout)
    raised = [
        c
        for c in CATEGORIES[:-1]
        if next(r for r in after if r["category"] == c)["baseline"]
        > next(r for r in before if r["category"] == c)["baseline"]
    ]
    assert raised  # Sinosure feeds at least one category
    for value, scale in (("10", "sinosure"), ("pink", "mfa_travel"), ("1", "moodys")):
        bad = runner.invoke(
            main,
            [
                "scores",
                "rate",
                "--country",
                "NO",
                "--scale",
                scale,
                "--value",
                value,
                "--source",
                "x",
                "--as-of",
                "2024-06-01",
                "--by",
                "a",
            ],
        )
        assert bad.exit_code == 2, (value, scale, bad.output)


def test_recompute_and_history(runner):
    result = runner.invoke(main, ["scores", "recompute", "--history-since", "2024-08-15"])
    assert result.exit_code == 0, result.output
    history = runner.invoke(main, ["scores", "history", "--project", "KE-1", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(history.stdout)))
    assert {r["day"] for r in rows} == {f"2024-08-{d}" for d in range(15, 19)}
    assert {r["category"] for r in rows} == set(CATEGORIES)
