"""Warnings reach people through real local receivers: an SMTP server and an HTTP server that
checks the DingTalk, WeCom and Feishu shapes and signatures. Channels that are down get every
warning once they are back, each exactly once; a process killed between committing a warning
and sending it delivers it after restart; bursts over a rate limit become digests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.notification import Notification
from allweather.domain.warnings.model import Disposition
from allweather.store import warnings as ws
from allweather.store.tables import deliveries, outbox
from allweather.warnings import actions
from tests.channels.receivers import HttpReceiver, SmtpReceiver
from tests.conftest import NOW
from tests.pipeline.test_scoring import at, clash, quake, setup


class Wall:
    """A wall clock the test moves (leases, back-off and rate windows follow it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def add_channel(platform, kind, target, secret=None, **scope):
    values = {
        "kind": kind,
        "target": target,
        "secret": secret,
        "name": None,
        "organization_id": None,
        "country_code": None,
        "project_id": None,
        "category": None,
        "min_level": int(WarningLevel.BLUE),
        "quiet_hours": None,
        "ladder_step": 0,
        "system": False,
        "enabled": True,
        "created_at": NOW,
    }
    values.update(scope)
    with platform.engine.begin() as conn:
        return ws.add_channel(conn, values)


@pytest.fixture
def http():
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp():
    with SmtpReceiver() as receiver:
        yield receiver


def wire(platform, wall=None):
    platform.dispatcher.clock = platform.clock
    if wall is not None:
        platform.dispatcher.wall = wall


def the_warning(platform, category="natural"):
    with platform.engine.connect() as conn:
        found = [w for w in ws.list_warnings(conn) if w.category == category]
    assert len(found) == 1
    return found[0]


def test_one_warning_reaches_every_kind_of_channel_signed_and_in_its_shape(
    platform, tmp_path, http, smtp
):
    from allweather.channels import ChannelConfig

    platform.dispatcher.config = ChannelConfig(
        smtp_url=smtp.url, mail_from="全天候预警 <alerts@example.com>", sms_gateway=http.sms_gateway
    )
    wire(platform)
    setup(platform)
    add_channel(platform, "webhook", http.webhook_url, http.webhook_secret)
    add_channel(platform, "wecom", http.wecom_url)
    add_channel(platform, "dingtalk", http.dingtalk_url, http.dingtalk_secret)
    add_channel(platform, "feishu", http.feishu_url, http.feishu_secret)
    add_channel(platform, "email", "duty@example.com")
    add_channel(platform, "sms", "+8613800000000")
    quake(platform, tmp_path, mag="7.1")
    report = platform.dispatcher.run_once()
    assert report.failed == 0, report.errors
    assert report.sent == 6
    w = the_warning(platform)
    got = {r.route: r for r in http.wait_for(5)}
    assert set(got) == {"webhook", "wecom", "dingtalk", "feishu", "sms"}
    assert http.rejected == []
    hook = got["webhook"].json
    assert hook["warning_id"] == w.id
    assert hook["level"] == w.level
    assert hook["title"]["zh"] == w.title["zh"]
    assert hook["data"]["key_points"]["zh"] == w.key_points["zh"]
    assert got["webhook"].headers["idempotency-key"] == hook["key"]
    assert w.title["zh"] in got["wecom"].json["markdown"]["content"]
    assert got["dingtalk"].json["msgtype"] == "markdown"
    assert "timestamp" in got["dingtalk"].query
    assert "sign" in got["dingtalk"].query
    assert got["feishu"].json["sign"]
    assert got["feishu"].json["timestamp"]
    sms_text = got["sms"].json["params"]["message"]
    assert len(sms_text) <= 70
    assert sms_text.startswith("【全天候】")
    mail = smtp.wait_for(1)[0]
    assert "预警" in mail.subject
    assert "Earthquake" in mail.text
    # The delivery log holds one successful attempt per channel.
    with platform.engine.connect() as conn:
        log = list(conn.execute(select(deliveries)))
    assert len(log) == 6
    assert all(d.ok for d in log)
    # Nothing left to send: a second pass sends nothing.
    assert platform.dispatcher.run_once().sent == 0


def test_subscriptions_filter_by_scope_and_minimum_level(platform, tmp_path, http):
    wire(platform)
    setup(platform)
    with platform.engine.connect() as conn:
        port = ws.project_id(conn, "KE-PORT")
    add_channel(
        platform, "webhook", http.webhook_url + "?to=port", http.webhook_secret, project_id=port
    )
    add_channel(
        platform,
        "webhook",
        http.webhook_url + "?to=political",
        http.webhook_secret,
        category="political",
    )
    add_channel(
        platform, "webhook", http.webhook_url + "?to=tz", http.webhook_secret, country_code="TZ"
    )
    add_channel(
        platform, "webhook", http.webhook_url + "?to=kenya", http.webhook_secret, country_code="KE"
    )
    quake(platform, tmp_path, mag="7.1")  # natural, KE-SGR only
    platform.dispatcher.run_once()
    assert [r.query["to"] for r in http.wait_for(1)] == ["kenya"]


def test_a_channel_down_for_a_while_gets_every_warning_once_back_each_exactly_once(
    platform, tmp_path, http
):
    wall = Wall()
    wire(platform, wall)
    setup(platform)
    add_channel(platform, "webhook", http.webhook_url, http.webhook_secret)
    http.fail_next(4, status=503)
    quake(platform, tmp_path, mag="7.1")
    clash(platform, tmp_path, best=40)
    for _ in range(4):  # two messages, each failing twice while the receiver is down
        report = platform.dispatcher.run_once()
        wall.advance(3600)  # past any back-off
    report = platform.dispatcher.run_once()
    assert report.failed == 0
    keys = [r.json["key"] for r in http.received]
    assert len(keys) == 2
    assert len(set(keys)) == 2
    with platform.engine.connect() as conn:
        rows = list(conn.execute(select(outbox)))
        log = list(conn.execute(select(deliveries).order_by(deliveries.c.id)))
    assert {r.status for r in rows} == {"sent"}
    assert [d.ok for d in log].count(False) == 4
    assert [d.ok for d in log].count(True) == 2
    assert all(r.attempts == 3 for r in rows)
    assert platform.dispatcher.run_once().sent == 0


def test_back_off_waits_before_the_next_try(platform, tmp_path, http):
    wall = Wall()
    wire(platform, wall)
    setup(platform)
    add_channel(platform, "webhook", http.webhook_url, http.webhook_secret)
    http.fail_next(1, status=503)
    quake(platform, tmp_path, mag="7.1")
    assert platform.dispatcher.run_once().failed == 1
    assert platform.dispatcher.run_once().sent == 0  # still backing off
    wall.advance(6)
    assert platform.dispatcher.run_once().sent == 1


def test_a_rejected_signature_is_not_retried(platform, tmp_path, http):
    wire(platform)
    setup(platform)
    add_channel(platform, "dingtalk", http.dingtalk_url, "SECwrong-secret")
    quake(platform, tmp_path, mag="7.1")
    report = platform.dispatcher.run_once()
    assert report.given_up == 1
    assert http.received == []
    with platform.engine.connect() as conn:
        assert [r.status for r in conn.execute(select(outbox))] == ["failed"]


def test_a_burst_over_the_wecom_limit_becomes_a_digest(platform, http):
    wall = Wall()
    wire(platform, wall)
    channel = add_channel(platform, "wecom", http.wecom_url)
    rows = []
    for i in range(25):
        note = Notification(
            key=f"burst-{i}",
            kind="warning",
            action="issued",
            level=WarningLevel.ORANGE,
            title=Label(f"预警 {i}", f"warning {i}"),
            body=Label("正文", "body"),
            sms="短信",
            created_at=NOW,
            warning_id=None,
        )
        rows.append(
            {
                "key": note.key,
                "channel_id": channel,
                "warning_id": None,
                "mode": "live",
                "level": 2,
                "payload": note.to_dict(),
                "created_at": NOW,
                "due_at": NOW,
                "attempts": 0,
                "status": "pending",
            }
        )
    with platform.engine.begin() as conn:
        ws.enqueue(conn, rows)
    report = platform.dispatcher.run_once()
    assert report.sent == 20
    assert report.items == 25
    contents = [r.json["markdown"]["content"] for r in http.wait_for(20)]
    assert sum("预警汇总：6 条" in c for c in contents) == 1
    with platform.engine.connect() as conn:
        statuses = [r.status for r in conn.execute(select(outbox))]
    assert statuses.count("sent") == 19
    assert statuses.count("digested") == 6


def test_yellow_and_blue_wait_for_the_digest_quiet_hours_hold_all_but_red(platform, tmp_path, http):
    from allweather.warnings.lifecycle import next_digest, quiet_until

    boundary = next_digest(NOW, timedelta(hours=1))
    assert boundary == NOW + timedelta(hours=1)  # NOW is on the hour
    late = datetime(2024, 8, 19, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
    assert quiet_until("22:00-07:00", late) == datetime(2024, 8, 19, 23, 0, tzinfo=UTC)
    assert quiet_until("22:00-07:00", NOW) is None  # 21:00 in Beijing
    wire(platform)
    setup(platform)
    add_channel(platform, "webhook", http.webhook_url, http.webhook_secret)
    actions.author(
        platform.engine,
        platform.warnings.rules,
        "KE-PORT",
        "economic",
        WarningLevel.YELLOW,
        "汇率大幅波动",
        "analyst",
        NOW,
    )
    with platform.engine.connect() as conn:
        draft = ws.list_warnings(conn, status="draft")[0].id
    actions.approve(platform.engine, draft, "director", NOW)
    actions.publish(platform.engine, platform.warnings.rules, draft, "director", NOW)
    assert platform.dispatcher.run_once().sent == 0  # yellow: the next digest
    at(platform, boundary)
    wire(platform)
    assert platform.dispatcher.run_once().sent == 1
    assert http.wait_for(1)[0].json["title"]["zh"].startswith("【三级（黄色）预警】")


def test_unacknowledged_warnings_climb_the_ladder_and_acknowledging_stops_it(
    platform, tmp_path, http
):
    wire(platform)
    setup(platform)
    add_channel(platform, "webhook", http.webhook_url + "?step=0", http.webhook_secret)
    add_channel(
        platform, "webhook", http.webhook_url + "?step=1", http.webhook_secret, ladder_step=1
    )
    add_channel(
        platform, "webhook", http.webhook_url + "?step=2", http.webhook_secret, ladder_step=2
    )
    quake(platform, tmp_path, mag="7.9")
    w = the_warning(platform)
    platform.dispatcher.run_once()
    delay = {1: 15, 2: 60}[w.level]  # minutes: red 15 min, orange 1 h
    at(platform, NOW + timedelta(minutes=delay - 1))
    platform.tick_warnings()
    wire(platform)
    platform.dispatcher.run_once()
    assert [r.query["step"] for r in http.received] == ["0"]
    at(platform, NOW + timedelta(minutes=delay + 1))
    platform.tick_warnings()
    wire(platform)
    platform.dispatcher.run_once()
    assert [r.query["step"] for r in http.received] == ["0", "1"]
    assert http.received[1].json["action"] == "escalated"
    actions.acknowledge(
        platform.engine,
        platform.warnings.rules,
        w.id,
        Disposition.RELEVANT,
        None,
        "pm",
        platform.clock.now(),
    )
    at(platform, NOW + timedelta(hours=5))
    platform.tick_warnings()
    wire(platform)
    platform.dispatcher.run_once()
    assert [r.query["step"] for r in http.received if r.json["action"] == "escalated"] == ["1"]


def test_a_process_killed_after_committing_a_warning_delivers_it_after_restart(tmp_path, http):
    """A real process commits the warning (and its outbox row), then is killed with SIGKILL
    before it sends; a new process on the same database delivers it."""
    db = tmp_path / "aw.db"
    env = {
        **os.environ,
        "ALLWEATHER_DATABASE_URL": f"sqlite:///{db}",
        "ALLWEATHER_NOW": NOW.isoformat(),
        "ALLWEATHER_VAR_DIR": str(tmp_path / "var"),
    }
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from allweather.platform import open_platform
        from allweather.settings import load_settings
        from allweather.store import warnings as ws
        from tests.pipeline.test_scoring import quake, setup
        from tests.warnings.test_delivery import add_channel
        platform = open_platform(load_settings())
        setup(platform)
        add_channel(platform, "webhook", {http.webhook_url!r}, {http.webhook_secret!r})
        quake(platform, Path({str(tmp_path)!r}))
        os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before any send
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=os.getcwd(), capture_output=True, timeout=120
    )
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    assert http.received == []
    from allweather.platform import open_platform
    from allweather.settings import Settings

    platform = open_platform(
        Settings(database_url=f"sqlite:///{db}", now=NOW, var_dir=tmp_path / "var")
    )
    try:
        report = platform.dispatcher.run_once()
    finally:
        platform.close()
    assert report.sent == 1
    assert http.wait_for(1)[0].json["action"] == "issued"
