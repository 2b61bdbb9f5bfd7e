"""企业微信群机器人 (WeCom group robot): a markdown message to the robot's webhook URL.

The robot answers HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``; errcode 45009 means the
20-a-minute limit was hit, -1 that the service is busy. WeCom robots have no signing: the
``key`` in the URL is the credential, so ``ChannelTarget.masked()`` hides it.
"""

from __future__ import annotations

from typing import Any

import httpx

from allweather.channels.http import JSON_UTF8, Post, RobotSender, int_code, json_bytes
from allweather.channels.kinds import ChannelKind
from allweather.channels.text import truncate_utf8
from allweather.domain.notification import Notification

# The markdown content limit, in UTF-8 bytes, of WeCom's robot API.
WECOM_MARKDOWN_MAX_BYTES = 4096


class WeComSender(RobotSender):
    """Posts ``{"msgtype": "markdown", "markdown": {"content": …}}``."""

    kind = ChannelKind.WECOM
    throttle_codes = frozenset({45009})
    transient_codes = frozenset({-1})

    def build(self, note: Notification) -> Post:
        content = truncate_utf8(note.markdown(), WECOM_MARKDOWN_MAX_BYTES)
        body = json_bytes({"msgtype": "markdown", "markdown": {"content": content}})
        return Post(httpx.URL(self.target.target), body, {"Content-Type": JSON_UTF8})

    def result_code(self, payload: dict[str, Any]) -> tuple[int, str] | None:
        code = int_code(payload.get("errcode"))
        return None if code is None else (code, str(payload.get("errmsg", "")))
