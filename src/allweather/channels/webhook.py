"""Generic webhook: the notification's JSON, optionally signed with HMAC-SHA256.

Signature: ``X-Allweather-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``
with ``X-Allweather-Timestamp: <unix seconds>``. Signing the timestamp with the body lets a
receiver refuse replays of an old request (``verify_webhook_signature``).
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from allweather.channels.http import (
    IDEMPOTENCY_HEADER,
    JSON_UTF8,
    HttpSender,
    Post,
    header_value,
    json_bytes,
)
from allweather.channels.kinds import ChannelKind
from allweather.domain.notification import Notification

TIMESTAMP_HEADER = "X-Allweather-Timestamp"
SIGNATURE_HEADER = "X-Allweather-Signature"
_PREFIX = "sha256="


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Allweather-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return _PREFIX + digest.hexdigest()


def verify_webhook_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    now: float,
    tolerance_s: float = 300,
) -> bool:
    """Whether a received webhook is authentic and fresh.

    Args:
        secret: the shared secret configured for the target.
        timestamp: the ``X-Allweather-Timestamp`` header.
        body: the raw request body, byte for byte as received (not re-serialised JSON).
        signature: the ``X-Allweather-Signature`` header.
        now: the receiver's current time, unix seconds.
        tolerance_s: the accepted clock difference, either way.
    """
    text = str(timestamp).strip()
    if not text.isdigit() or not signature.startswith(_PREFIX):
        return False
    sent = int(text)
    if abs(now - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign_webhook(secret, sent, body), signature.strip())


class WebhookSender(HttpSender):
    """POSTs ``Notification.to_dict()`` as UTF-8 JSON; any 2xx means accepted."""

    kind = ChannelKind.WEBHOOK

    def build(self, note: Notification) -> Post:
        body = json_bytes(note.to_dict())
        headers = {"Content-Type": JSON_UTF8, IDEMPOTENCY_HEADER: header_value(note.key)}
        if self.target.secret:
            timestamp = int(self._now())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign_webhook(self.target.secret, timestamp, body)
        return Post(httpx.URL(self.target.target), body, headers)
