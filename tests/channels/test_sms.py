from __future__ import annotations

import time

import pytest

from allweather.channels import (
    ChannelConfig,
    ChannelConfigError,
    DeliveryError,
    parse_target,
    sender_for,
)
from allweather.channels.sms import with_recipient
from tests.channels.notes import make_note
from tests.channels.receivers import HttpReceiver

PHONE = "+8613800138000"


def _sender(gateway, phone=PHONE):
    return sender_for(parse_target("sms", phone), ChannelConfig(sms_gateway=gateway, timeout_s=5))


def test_a_chinese_sms_reaches_the_smseagle_gateway(http_receiver, note):
    delivery = _sender(http_receiver.sms_gateway).send(note)
    assert delivery.target == "+8613****8000"
    [got] = http_receiver.wait_for(1)
    assert got.route == "sms"
    assert got.json["method"] == "sms.send_sms"
    params = got.json["params"]
    assert params["access_token"] == http_receiver.sms_token
    assert params["to"] == PHONE
    assert params["message"] == note.sms
    assert params["unicode"] == 1


def test_a_long_chinese_sms_is_cut_to_one_70_character_segment(http_receiver):
    long = "【全天候】一级红色预警：" + "项目营地附近发生爆炸，全体人员立即撤离至安全区域。" * 5
    _sender(http_receiver.sms_gateway).send(make_note(sms=long))
    [got] = http_receiver.wait_for(1)
    message = got.json["params"]["message"]
    assert len(message) == 70
    assert message.endswith("…")
    assert message.startswith("【全天候】一级红色预警：")


def test_a_latin_sms_keeps_160_characters(http_receiver):
    text = "Allweather RED warning: " + "x" * 200
    _sender(http_receiver.sms_gateway).send(make_note(sms=text))
    [got] = http_receiver.wait_for(1)
    assert len(got.json["params"]["message"]) == 160


def test_a_wrong_token_is_refused_for_good(http_receiver, note):
    gateway = http_receiver.sms_gateway.replace(http_receiver.sms_token, "wrong-token")
    with pytest.raises(DeliveryError) as err:
        _sender(gateway).send(note)
    assert err.value.retryable is False
    assert "wrong-token" not in err.value.detail
    assert http_receiver.received == []
    assert http_receiver.rejected[0].reason == "Invalid login or password"


def test_503_is_retryable(http_receiver, note):
    http_receiver.fail_next(1, status=503)
    sender = _sender(http_receiver.sms_gateway)
    with pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is True
    assert err.value.status == 503
    sender.send(note)
    assert len(http_receiver.wait_for(1)) == 1


def test_back_to_back_sends_do_not_wait_on_apprises_throttle(http_receiver, note):
    # apprise pauses 5.5 s between sends of one plugin unless told not to; pacing is the
    # dispatcher's job.
    sender = _sender(http_receiver.sms_gateway)
    started = time.monotonic()
    for _ in range(3):
        sender.send(note)
    assert time.monotonic() - started < 3
    assert len(http_receiver.wait_for(3)) == 3


def test_no_gateway_refuses_each_send_for_good(note):
    sender = sender_for(parse_target("sms", PHONE), ChannelConfig())
    with pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is False
    assert "sms_gateway" in err.value.detail


def test_an_unknown_gateway_scheme_fails_when_the_sender_is_built():
    with pytest.raises(ChannelConfigError) as err:
        _sender("nosuchsms://token@host")
    assert err.value.field == "sms_gateway"


def test_the_phone_number_is_appended_to_the_gateway_path():
    assert with_recipient("smseagle://tok@gw:8080", PHONE, 10) == (
        "smseagle://tok@gw:8080/+8613800138000?cto=10&rto=10"
    )
    assert with_recipient("smseagle://tok@gw/?priority=high&rto=3", PHONE, 10) == (
        "smseagle://tok@gw/+8613800138000?priority=high&rto=3&cto=10"
    )


def test_the_receiver_refuses_a_malformed_json_rpc_call():
    import httpx

    with HttpReceiver() as receiver:
        answer = httpx.post(receiver.url + "/jsonrpc/sms", json={"method": "sms.send_togroup"})
    assert answer.status_code == 400
    assert receiver.received == []
