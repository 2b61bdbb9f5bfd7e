"""``allweather channels`` and ``allweather warnings``: add and list channels, list warnings as
JSON and CSV, acknowledge with a disposition, issue by hand; bad input exits 2 naming the field."""

from __future__ import annotations

import csv
import io
import json

from allweather.cli import main
from tests.channels.receivers import HttpReceiver
from tests.pipeline.test_matching import HEADER, QUAKE


def quake_file(tmp_path):
    path = tmp_path / "quake.csv"
    row = QUAKE.format(mag="7.1", updated="2024-08-18T06:00:00Z").replace(
        "2020-06-01T03:51:13.000Z", "2024-08-18T03:51:13.000Z"
    )
    path.write_text(HEADER + row)
    return path


def test_a_channel_receives_the_warning_an_ingest_raises_and_ack_closes_the_loop(runner, tmp_path):
    with HttpReceiver() as http:
        added = runner.invoke(
            main,
            [
                "channels",
                "add",
                "webhook",
                http.webhook_url,
                "--secret",
                http.webhook_secret,
                "--country",
                "KE",
                "--min-level",
                "orange",
            ],
        )
        assert added.exit_code == 0, added.output
        listed = json.loads(runner.invoke(main, ["channels", "list"]).stdout)
        assert [(c["kind"], c["country"], c["min_level"]) for c in listed] == [
            ("webhook", "KE", "二级（橙色） Level 2 (orange)")
        ]
        ingested = runner.invoke(
            main, ["ingest", "usgs_earthquakes", "--file", str(quake_file(tmp_path))]
        )
        assert ingested.exit_code == 0, ingested.output
        got = http.wait_for(1)
    assert got[0].json["data"]["subject"] == "KE-1"
    out = runner.invoke(main, ["warnings", "list", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["project"], r["category"], r["status"]) for r in rows] == [
        ("KE-1", "natural", "active")
    ]
    for field in (
        "title_zh",
        "affected_area_zh",
        "key_points_zh",
        "measures_zh",
        "issuer_zh",
        "issued_at",
        "started_at",
    ):
        assert rows[0][field], field
    warning_id = rows[0]["id"]
    bad = runner.invoke(main, ["warnings", "ack", warning_id, "--disposition", "maybe"])
    assert bad.exit_code == 2
    assert "disposition" in bad.stderr
    ok = runner.invoke(
        main, ["warnings", "ack", warning_id, "--disposition", "误报", "--comment", "rumour"]
    )
    assert ok.exit_code == 0, ok.output
    assert "lifted" in ok.stderr
    shown = json.loads(runner.invoke(main, ["warnings", "show", warning_id]).stdout)
    assert [h["action"] for h in shown["history"]] == ["issued", "acknowledged", "lifted"]
    assert shown["acknowledgements"][0]["disposition"] == "false_report"
    assert shown["deliveries"][0]["status"] == "sent"
    assert runner.invoke(main, ["warnings", "list"]).stdout.strip() == "[]"


def test_bad_channels_exit_2_naming_the_field(runner):
    bad_url = runner.invoke(main, ["channels", "add", "wecom", "not a url"])
    assert bad_url.exit_code == 2
    assert "target" in bad_url.stderr
    bad_level = runner.invoke(
        main, ["channels", "add", "email", "a@example.com", "--min-level", "purple"]
    )
    assert bad_level.exit_code == 2
    assert "level" in bad_level.stderr
    bad_quiet = runner.invoke(
        main, ["channels", "add", "email", "a@example.com", "--quiet-hours", "25:00-07:00"]
    )
    assert bad_quiet.exit_code == 2
    assert "quiet-hours" in bad_quiet.stderr
    bad_org = runner.invoke(main, ["channels", "add", "email", "a@example.com", "--org", "NOPE"])
    assert bad_org.exit_code == 2
    assert "org" in bad_org.stderr
    assert json.loads(runner.invoke(main, ["channels", "list"]).stdout) == []


def test_hand_written_warning_needs_a_second_person(runner):
    drafted = runner.invoke(
        main,
        [
            "warnings",
            "author",
            "--project",
            "NO-1",
            "--category",
            "policy",
            "--level",
            "yellow",
            "--points",
            "新的外资审查规定",
            "--by",
            "analyst",
        ],
    )
    assert drafted.exit_code == 0, drafted.output
    warning_id = drafted.stdout.strip()
    same = runner.invoke(main, ["warnings", "approve", warning_id, "--by", "analyst"])
    assert same.exit_code == 2
    assert (
        runner.invoke(main, ["warnings", "approve", warning_id, "--by", "director"]).exit_code == 0
    )
    assert (
        runner.invoke(main, ["warnings", "publish", warning_id, "--by", "director"]).exit_code == 0
    )
    active = json.loads(runner.invoke(main, ["warnings", "list"]).stdout)
    assert [(w["project"], w["level"], w["triggers"]) for w in active] == [("NO-1", 3, ["manual"])]
