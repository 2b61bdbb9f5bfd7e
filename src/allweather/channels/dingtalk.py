"""钉钉自定义机器人 (DingTalk custom robot): a markdown message, 加签 when a secret is set.

加签: ``sign = urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}")))`` with
``timestamp`` in milliseconds, both sent as query parameters; DingTalk refuses a timestamp
more than an hour away from its clock (errcode 310000). Errcode 130101 means the 20-a-minute
limit was hit, after which DingTalk blocks the robot for 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx

from allweather.channels.http import JSON_UTF8, Post, RobotSender, int_code, json_bytes
from allweather.channels.kinds import ChannelKind
from allweather.domain.notification import Notification


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The Base64 ``sign`` for ``timestamp_ms`` (httpx URL-encodes it as a query value)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkSender(RobotSender):
    """Posts ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``."""

    kind = ChannelKind.DINGTALK
    throttle_codes = frozenset({130101})
    transient_codes = frozenset({-1})

    def build(self, note: Notification) -> Post:
        url = httpx.URL(self.target.target)
        if self.target.secret:
            timestamp_ms = int(self._now() * 1000)
            url = url.copy_set_param("timestamp", str(timestamp_ms)).copy_set_param(
                "sign", dingtalk_sign(self.target.secret, timestamp_ms)
            )
        body = json_bytes(
            {"msgtype": "markdown", "markdown": {"title": note.title.zh, "text": note.markdown()}}
        )
        return Post(url, body, {"Content-Type": JSON_UTF8})

    def result_code(self, payload: dict[str, Any]) -> tuple[int, str] | None:
        code = int_code(payload.get("errcode"))
        return None if code is None else (code, str(payload.get("errmsg", "")))
