from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from allweather.channels import ChannelConfig, DeliveryError, parse_target, sender_for
from allweather.channels.dingtalk import dingtalk_sign
from tests.channels.receivers import HttpReceiver

SECRET = "SECdingtalk-secret-0001"


def _sender(url, secret=SECRET, now=time.time):
    return sender_for(parse_target("dingtalk", url, secret), ChannelConfig(), now=now)


def test_a_signed_markdown_message_is_accepted(http_receiver, note):
    with _sender(http_receiver.dingtalk_url) as sender:
        assert sender.send(note).status == 200
    [got] = http_receiver.wait_for(1)
    assert got.route == "dingtalk"
    assert got.json == {
        "msgtype": "markdown",
        "markdown": {"title": note.title.zh, "text": note.markdown()},
    }
    timestamp = got.query["timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # milliseconds
    assert got.query["access_token"] == http_receiver.dingtalk_token


def test_the_sign_matches_dingtalks_published_recipe():
    # HmacSHA256(key=secret, msg=timestamp + "\n" + secret), Base64.
    mac = hmac.new(SECRET.encode(), f"1700000000000\n{SECRET}".encode(), hashlib.sha256)
    assert dingtalk_sign(SECRET, 1_700_000_000_000) == base64.b64encode(mac.digest()).decode()


def test_the_sign_is_url_encoded_on_the_wire(http_receiver, note):
    # A sign with + / = must survive the query string; try until one contains them.
    sent = 0
    with _sender(http_receiver.dingtalk_url, now=lambda: 1_700_000_000 + sent) as sender:
        http_receiver.now = lambda: 1_700_000_000 + sent
        while sent < 50:
            if set(dingtalk_sign(SECRET, (1_700_000_000 + sent) * 1000)) & set("+/="):
                sender.send(note)
                break
            sent += 1
    assert len(http_receiver.wait_for(1)) == 1


def test_a_wrong_secret_is_refused_for_good(http_receiver, note):
    with (
        _sender(http_receiver.dingtalk_url, secret="SECwrong") as sender,
        pytest.raises(DeliveryError) as err,
    ):
        sender.send(note)
    assert err.value.retryable is False
    assert "310000" in err.value.detail
    assert "SECwrong" not in err.value.detail
    assert http_receiver.received == []


def test_a_timestamp_older_than_an_hour_is_refused(http_receiver, note):
    with (
        _sender(http_receiver.dingtalk_url, now=lambda: time.time() - 3700) as sender,
        pytest.raises(DeliveryError) as err,
    ):
        sender.send(note)
    assert err.value.retryable is False
    assert "expired" in err.value.detail


def test_an_unsigned_robot_takes_messages_without_a_secret(note):
    with HttpReceiver(dingtalk_secret=None) as receiver:
        with _sender(receiver.dingtalk_url, secret=None) as sender:
            sender.send(note)
        [got] = receiver.wait_for(1)
    assert "sign" not in got.query
    assert "timestamp" not in got.query


def test_a_signed_robot_refuses_an_unsigned_message(http_receiver, note):
    with (
        _sender(http_receiver.dingtalk_url, secret=None) as sender,
        pytest.raises(DeliveryError) as err,
    ):
        sender.send(note)
    assert err.value.retryable is False


def test_throttling_waits_ten_minutes(http_receiver, note):
    http_receiver.fail_next(1, errcode=130101)
    http_receiver.fail_next(1, status=429)
    with _sender(http_receiver.dingtalk_url) as sender:
        for _ in range(2):
            with pytest.raises(DeliveryError) as err:
                sender.send(note)
            assert err.value.retryable is True
            assert err.value.retry_after_s == 600


def test_503_is_retryable(http_receiver, note):
    http_receiver.fail_next(1, status=503)
    with _sender(http_receiver.dingtalk_url) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is True
    assert err.value.status == 503


def test_an_answer_without_errcode_is_not_taken_for_success(http_receiver, note):
    # Point the robot at the Feishu route: HTTP 200 and JSON, but no errcode (a relay that
    # is not DingTalk). Whether anything was delivered is unknown, so no blind retry either.
    url = http_receiver.feishu_url + "?access_token=x"
    with _sender(url, secret=None) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.status == 200
    assert err.value.retryable is False
    assert "without a result code" in err.value.detail
