from __future__ import annotations

import pytest

from allweather.channels import ChannelConfig, DeliveryError, parse_target, sender_for
from allweather.domain.labels import Label
from tests.channels.notes import make_note


def _sender(url):
    return sender_for(parse_target("wecom", url), ChannelConfig())


def test_markdown_arrives_in_wecom_shape(http_receiver, note):
    with _sender(http_receiver.wecom_url) as sender:
        delivery = sender.send(note)
    assert delivery.status == 200
    assert "errcode" in delivery.response
    assert "key=weco…" in delivery.target
    [got] = http_receiver.wait_for(1)
    assert got.route == "wecom"
    assert got.json == {"msgtype": "markdown", "markdown": {"content": note.markdown()}}
    assert "蒙内铁路" in got.json["markdown"]["content"]


def test_a_wrong_key_is_refused_for_good(http_receiver, note):
    bad = http_receiver.wecom_url.replace("wecom-key-0001", "wrong-key")
    with _sender(bad) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is False
    assert "93000" in err.value.detail
    assert "wrong-key" not in err.value.detail


def test_throttling_is_retryable_after_a_minute(http_receiver, note):
    http_receiver.fail_next(1, errcode=45009)
    with _sender(http_receiver.wecom_url) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is True
    assert err.value.retry_after_s == 60


def test_system_busy_and_503_are_retryable(http_receiver, note):
    http_receiver.fail_next(1, errcode=-1)
    http_receiver.fail_next(1, status=503)
    with _sender(http_receiver.wecom_url) as sender:
        for _ in range(2):
            with pytest.raises(DeliveryError) as err:
                sender.send(note)
            assert err.value.retryable is True
            assert err.value.retry_after_s is None
        sender.send(note)
    assert len(http_receiver.wait_for(1)) == 1


@pytest.mark.parametrize("offset", ["", "a", "ab"])
def test_long_chinese_content_is_cut_to_4096_bytes_on_a_character_boundary(http_receiver, offset):
    # 3-byte characters after 0, 1 or 2 ASCII bytes: two of the three cuts fall mid-character.
    body = Label(offset + "预警内容" * 800, "x" * 5000)
    with _sender(http_receiver.wecom_url) as sender:
        sender.send(make_note(body=body))
    [got] = http_receiver.wait_for(1)
    content = got.json["markdown"]["content"]
    raw = content.encode("utf-8")
    assert 4096 - 3 <= len(raw) <= 4096
    assert raw.decode("utf-8") == content
    assert content.endswith("…")
    # Cut, not mangled: everything before the ellipsis is the start of the full text.
    assert make_note(body=body).markdown().startswith(content[:-1])
    assert content.startswith("### " + make_note().title.zh)
