"""飞书自定义机器人 (Feishu custom robot): an interactive card, signed when a secret is set.

签名校验: ``sign = base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b""))`` with
``timestamp`` in seconds, both sent as strings in the JSON body. The key and message are the
other way round from DingTalk's 加签, and the message is empty. Feishu refuses a timestamp
more than an hour away (code 19021). Code 11232 means the robot's rate limit was hit. The
answer is ``{"code": 0, …}``; the older API answers ``{"StatusCode": 0, …}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx

from allweather.channels.http import JSON_UTF8, Post, RobotSender, int_code, json_bytes
from allweather.channels.kinds import ChannelKind
from allweather.channels.text import cut, fit_bytes
from allweather.domain.notification import Notification

# Feishu's request body limit ("20 KB"), read as 20 000 bytes to stay clear of either meaning.
FEISHU_MAX_BYTES = 20_000
# Card header colours for levels without one (digests, system messages).
_NO_LEVEL_TEMPLATE = "grey"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The Base64 ``sign`` for ``timestamp_s``."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


class FeishuSender(RobotSender):
    """Posts ``{"msg_type": "interactive", "card": …}`` with the level colour in the header."""

    kind = ChannelKind.FEISHU
    throttle_codes = frozenset({11232})

    def build(self, note: Notification) -> Post:
        signature: dict[str, Any] = {}
        if self.target.secret:
            timestamp = int(self._now())
            signature = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(self.target.secret, timestamp),
            }

        def render(chars: int) -> bytes:
            return json_bytes({**signature, "msg_type": "interactive", "card": _card(note, chars)})

        longest = max(len(note.body.zh), len(note.body.en))
        body = fit_bytes(render, longest, FEISHU_MAX_BYTES)
        return Post(httpx.URL(self.target.target), body, {"Content-Type": JSON_UTF8})

    def result_code(self, payload: dict[str, Any]) -> tuple[int, str] | None:
        for code_field, message_field in (("code", "msg"), ("StatusCode", "StatusMessage")):
            code = int_code(payload.get(code_field))
            if code is not None:
                return code, str(payload.get(message_field, ""))
        return None


def _card(note: Notification, chars: int) -> dict[str, Any]:
    """The message card with both bodies cut to ``chars`` characters."""
    elements: list[dict[str, Any]] = [
        {"tag": "markdown", "content": cut(note.body.zh, chars)},
        {"tag": "hr"},
        {"tag": "markdown", "content": f"**{note.title.en}**\n{cut(note.body.en, chars)}"},
    ]
    if note.url:
        elements.append({"tag": "markdown", "content": f"[详情 Details]({note.url})"})
    template = _NO_LEVEL_TEMPLATE if note.level is None else note.level.colour
    return {
        "config": {"wide_screen_mode": True},
        "header": {"template": template, "title": {"tag": "plain_text", "content": note.title.zh}},
        "elements": elements,
    }
