from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from allweather.channels import ChannelConfig, DeliveryError, parse_target, sender_for
from allweather.channels.feishu import feishu_sign
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from tests.channels.notes import make_note
from tests.channels.receivers import HttpReceiver

SECRET = "feishu-secret-0001"


def _sender(url, secret=SECRET, now=time.time):
    return sender_for(parse_target("feishu", url, secret), ChannelConfig(), now=now)


def test_a_signed_card_is_accepted_with_the_level_colour(http_receiver, note):
    with _sender(http_receiver.feishu_url) as sender:
        assert sender.send(note).status == 200
    [got] = http_receiver.wait_for(1)
    assert got.route == "feishu"
    body = got.json
    assert body["msg_type"] == "interactive"
    assert isinstance(body["timestamp"], str)
    assert abs(int(body["timestamp"]) - time.time()) < 60  # seconds
    header = body["card"]["header"]
    assert header["title"] == {"tag": "plain_text", "content": note.title.zh}
    assert header["template"] == "orange"
    contents = [e.get("content", "") for e in body["card"]["elements"]]
    assert contents[0] == note.body.zh
    assert body["card"]["elements"][1] == {"tag": "hr"}
    assert contents[2] == f"**{note.title.en}**\n{note.body.en}"
    assert contents[3] == f"[详情 Details]({note.url})"


@pytest.mark.parametrize(
    ("level", "colour"),
    [
        (WarningLevel.RED, "red"),
        (WarningLevel.YELLOW, "yellow"),
        (WarningLevel.BLUE, "blue"),
        (None, "grey"),
    ],
)
def test_header_colour_follows_the_level(http_receiver, level, colour):
    with _sender(http_receiver.feishu_url) as sender:
        sender.send(make_note(level=level))
    [got] = http_receiver.wait_for(1)
    assert got.json["card"]["header"]["template"] == colour


def test_the_sign_matches_feishus_published_recipe():
    # Key = timestamp + "\n" + secret, message empty: the reverse of DingTalk.
    mac = hmac.new(f"1700000000\n{SECRET}".encode(), b"", hashlib.sha256)
    assert feishu_sign(SECRET, 1_700_000_000) == base64.b64encode(mac.digest()).decode()
    swapped = hmac.new(SECRET.encode(), f"1700000000\n{SECRET}".encode(), hashlib.sha256)
    assert feishu_sign(SECRET, 1_700_000_000) != base64.b64encode(swapped.digest()).decode()


def test_a_wrong_secret_is_refused_for_good(http_receiver, note):
    with (
        _sender(http_receiver.feishu_url, secret="wrong-secret") as sender,
        pytest.raises(DeliveryError) as err,
    ):
        sender.send(note)
    assert err.value.retryable is False
    assert "19021" in err.value.detail
    assert "wrong-secret" not in err.value.detail


def test_a_stale_timestamp_is_refused(http_receiver, note):
    with (
        _sender(http_receiver.feishu_url, now=lambda: time.time() + 3700) as sender,
        pytest.raises(DeliveryError) as err,
    ):
        sender.send(note)
    assert err.value.retryable is False


def test_throttling_and_503_are_retryable(http_receiver, note):
    http_receiver.fail_next(1, errcode=11232)
    http_receiver.fail_next(1, status=503)
    with _sender(http_receiver.feishu_url) as sender:
        with pytest.raises(DeliveryError) as throttled:
            sender.send(note)
        with pytest.raises(DeliveryError) as unavailable:
            sender.send(note)
    assert throttled.value.retryable is True
    assert throttled.value.retry_after_s == 60
    assert unavailable.value.retryable is True
    assert unavailable.value.retry_after_s is None


def test_the_older_statuscode_answer_counts_as_success(note):
    with HttpReceiver(feishu_legacy=True) as receiver:
        with _sender(receiver.feishu_url) as sender:
            assert "StatusCode" in sender.send(note).response
        assert len(receiver.wait_for(1)) == 1


def test_a_long_body_is_cut_to_fit_20_kb(http_receiver):
    body = Label(
        "事件经过：" + "武装人员袭击营地，" * 2000,
        "Account: " + "armed men attacked the camp; " * 1500,
    )
    with _sender(http_receiver.feishu_url) as sender:
        sender.send(make_note(body=body))
    [got] = http_receiver.wait_for(1)
    assert 19_000 < len(got.body) <= 20_000
    elements = got.json["card"]["elements"]
    assert elements[0]["content"].endswith("…")
    assert elements[0]["content"].startswith("事件经过：武装人员袭击营地")
