from __future__ import annotations

import pytest

from allweather.channels import ChannelConfigError, ChannelKind, RateLimit


def test_every_kind_has_a_chinese_first_label():
    assert [k.label for k in ChannelKind] == [
        ("电子邮件", "E-mail"),
        ("通用 Webhook", "Webhook"),
        ("企业微信", "WeCom"),
        ("钉钉", "DingTalk"),
        ("飞书", "Feishu"),
        ("短信", "SMS"),
    ]


def test_rate_limits_follow_the_providers():
    assert ChannelKind.WECOM.rate_limits == ((20, 60),)
    assert ChannelKind.DINGTALK.rate_limits == ((20, 60),)
    assert ChannelKind.FEISHU.rate_limits == (RateLimit(5, 1), RateLimit(100, 60))
    assert ChannelKind.SMS.rate_limits == ((1, 60),)
    assert ChannelKind.EMAIL.rate_limits == ()
    assert ChannelKind.WEBHOOK.rate_limits == ()
    assert ChannelKind.FEISHU.rate_limits[0].max_messages == 5
    assert ChannelKind.FEISHU.rate_limits[0].window_s == 1


def test_dingtalk_blocks_for_ten_minutes_after_an_overrun():
    assert ChannelKind.DINGTALK.throttle_s == 600
    assert ChannelKind.WECOM.throttle_s == 60


def test_parse_accepts_any_case_and_rejects_unknown_kinds():
    assert ChannelKind.parse(" DingTalk ") is ChannelKind.DINGTALK
    with pytest.raises(ChannelConfigError) as err:
        ChannelKind.parse("telegram")
    assert err.value.field == "kind"
    assert "telegram" in str(err.value)
