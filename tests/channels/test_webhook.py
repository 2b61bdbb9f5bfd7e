from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time

import pytest

from allweather.channels import (
    ChannelConfig,
    DeliveryError,
    parse_target,
    sender_for,
    sign_webhook,
    verify_webhook_signature,
)


def _sender(receiver, secret="webhook-secret-0001", **config):
    return sender_for(
        parse_target("webhook", receiver.webhook_url, secret), ChannelConfig(**config)
    )


def test_a_signed_webhook_arrives_with_the_notification_json(http_receiver, note):
    with _sender(http_receiver) as sender:
        delivery = sender.send(note)
    assert delivery.status == 200
    assert delivery.latency_s > 0
    [got] = http_receiver.wait_for(1)
    assert got.route == "webhook"
    assert got.json == note.to_dict()
    assert got.json["title"]["zh"] == note.title.zh
    # UTF-8 on the wire, Chinese not \u-escaped.
    assert note.title.zh.encode("utf-8") in got.body
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    assert got.headers["idempotency-key"] == note.key
    # The documented scheme, recomputed independently of sign_webhook.
    timestamp = got.headers["x-allweather-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(b"webhook-secret-0001", f"{timestamp}.".encode() + got.body, hashlib.sha256)
    assert got.headers["x-allweather-signature"] == "sha256=" + expected.hexdigest()


def test_without_a_secret_no_signature_is_sent(note):
    from tests.channels.receivers import HttpReceiver

    with HttpReceiver(webhook_secret=None) as receiver, _sender(receiver, secret=None) as sender:
        sender.send(note)
        [got] = receiver.wait_for(1)
    assert "x-allweather-signature" not in got.headers
    assert "x-allweather-timestamp" not in got.headers


def test_a_wrong_secret_is_refused_for_good(http_receiver, note):
    with (
        _sender(http_receiver, secret="not-the-secret") as sender,
        pytest.raises(DeliveryError) as err,
    ):
        sender.send(note)
    assert err.value.retryable is False
    assert err.value.status == 401
    assert http_receiver.received == []
    assert http_receiver.rejected[0].reason == "bad signature"
    assert "not-the-secret" not in err.value.detail


def test_503_is_retryable_and_the_next_attempt_goes_through(http_receiver, note):
    http_receiver.fail_next(1, status=503)
    with _sender(http_receiver) as sender:
        with pytest.raises(DeliveryError) as err:
            sender.send(note)
        assert err.value.retryable is True
        assert err.value.status == 503
        assert err.value.retry_after_s is None
        sender.send(note)
    assert len(http_receiver.wait_for(1)) == 1


def test_429_is_retryable_after_the_retry_after_header(http_receiver, note):
    http_receiver.fail_next(1, status=429, retry_after=42)
    with _sender(http_receiver) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is True
    assert err.value.retry_after_s == 42


def test_other_4xx_are_final(http_receiver, note):
    http_receiver.fail_next(1, status=404)
    with _sender(http_receiver) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is False
    assert err.value.status == 404


def test_a_refused_connection_is_retryable(note):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = parse_target("webhook", f"http://127.0.0.1:{port}/hook")
    with sender_for(target, ChannelConfig()) as sender, pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is True
    assert "connection failed" in err.value.detail


def test_a_server_that_never_answers_times_out_retryably(note):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
        thread.start()
        target = parse_target("webhook", f"http://127.0.0.1:{port}/hook")
        with (
            sender_for(target, ChannelConfig(timeout_s=0.3)) as sender,
            pytest.raises(DeliveryError) as err,
        ):
            sender.send(note)
        for conn in accepted:
            conn.close()
    assert err.value.retryable is True
    assert "no answer within 0.3 s" in err.value.detail


def test_verify_webhook_signature_checks_body_secret_and_age():
    body = json.dumps({"title": "二级预警"}, ensure_ascii=False).encode()
    signature = sign_webhook("s3cret", 1_700_000_000, body)
    assert signature.startswith("sha256=")
    assert verify_webhook_signature("s3cret", "1700000000", body, signature, now=1_700_000_100)
    assert verify_webhook_signature("s3cret", 1_700_000_000, body, signature, now=1_699_999_800)
    assert not verify_webhook_signature("other", "1700000000", body, signature, now=1_700_000_000)
    assert not verify_webhook_signature(
        "s3cret", "1700000000", body + b" ", signature, now=1_700_000_000
    )
    assert not verify_webhook_signature("s3cret", "1700000001", body, signature, now=1_700_000_000)
    # Too old, or from the future beyond the tolerance: a replay.
    assert not verify_webhook_signature("s3cret", "1700000000", body, signature, now=1_700_000_301)
    assert not verify_webhook_signature("s3cret", "1700000000", body, signature, now=1_699_999_600)
    assert verify_webhook_signature(
        "s3cret", "1700000000", body, signature, now=1_700_000_900, tolerance_s=1000
    )
    assert not verify_webhook_signature("s3cret", "17e8", body, signature, now=1_700_000_000)
    assert not verify_webhook_signature(
        "s3cret", "1700000000", body, signature[7:], now=1_700_000_000
    )


def test_a_stale_timestamp_is_refused_by_the_receiver(note):
    from tests.channels.receivers import HttpReceiver

    with HttpReceiver() as receiver:
        target = parse_target("webhook", receiver.webhook_url, "webhook-secret-0001")
        stale = sender_for(target, ChannelConfig(), now=lambda: time.time() - 600)
        with stale, pytest.raises(DeliveryError) as err:
            stale.send(note)
    assert err.value.retryable is False
