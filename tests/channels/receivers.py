"""Real local receivers for channel tests: an SMTP server and an HTTP server playing the providers.

``HttpReceiver`` serves, on 127.0.0.1 and a free port, the routes of WeCom, DingTalk, Feishu, a
generic webhook receiver and an SMSEagle SMS gateway. Each route checks the request against the
provider's documented shape and signature scheme (implemented here independently of
``allweather.channels``, so a sender that signs wrongly is refused, as the real service would)
and answers the way the provider does. ``SmtpReceiver`` is an aiosmtpd server.

Both record what they accepted in ``received``, can be told to fail the next requests
(``fail_next``), and can be waited on (``wait_for``). Used by tests/channels and the warning
engine's tests::

    from tests.channels.receivers import HttpReceiver, SmtpReceiver
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from allweather.channels.webhook import verify_webhook_signature

WECOM_MARKDOWN_MAX_BYTES = 4096
FEISHU_MAX_BYTES = 20 * 1024
ONE_HOUR_S = 3600


class Received(NamedTuple):
    """One request a route accepted (or, in ``rejected``, refused)."""

    route: str  # wecom, dingtalk, feishu, webhook, sms
    json: Any  # the parsed body (None when it was not JSON)
    headers: dict[str, str]  # lower-case names
    body: bytes  # the raw body
    query: dict[str, str]
    reason: str = ""  # why it was refused, for ``rejected``


@dataclass
class _Failure:
    status: int
    errcode: int | None
    retry_after: float | None


@dataclass(frozen=True)
class _Answer:
    status: int
    payload: dict[str, Any]
    reason: str = ""  # non-empty when the request was refused


class HttpReceiver:
    """Plays WeCom, DingTalk, Feishu, a webhook receiver and an SMSEagle gateway.

    Routes (``url`` + …):

    - ``/cgi-bin/webhook/send?key=K`` — WeCom: markdown content ≤ 4096 bytes; errcode 93000
      for a wrong key.
    - ``/robot/send?access_token=T&timestamp=&sign=`` — DingTalk: 加签 checked against
      ``dingtalk_secret`` (None = robot without signing); errcode 310000 when wrong or more
      than an hour off, 300001 for a wrong token.
    - ``/open-apis/bot/v2/hook/<token>`` — Feishu: signature checked against ``feishu_secret``;
      code 19021 when wrong or stale. ``feishu_legacy`` answers ``{"StatusCode": 0}``.
    - ``/hook`` — generic webhook: HMAC checked with ``verify_webhook_signature`` when
      ``webhook_secret`` is set (HTTP 401 otherwise).
    - ``/jsonrpc/sms`` — SMSEagle JSON-RPC ``sms.send_sms`` with ``sms_token``.

    Args:
        now: the receiver's clock (unix seconds), for the timestamp windows.
    """

    def __init__(
        self,
        *,
        wecom_key: str = "wecom-key-0001",
        dingtalk_token: str = "dingtalk-token-0001",
        dingtalk_secret: str | None = "SECdingtalk-secret-0001",
        feishu_token: str = "0f1e2d3c-feishu-token",
        feishu_secret: str | None = "feishu-secret-0001",
        webhook_secret: str | None = "webhook-secret-0001",
        sms_token: str = "sms-token-0001",
        feishu_legacy: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.wecom_key = wecom_key
        self.dingtalk_token = dingtalk_token
        self.dingtalk_secret = dingtalk_secret
        self.feishu_token = feishu_token
        self.feishu_secret = feishu_secret
        self.webhook_secret = webhook_secret
        self.sms_token = sms_token
        self.feishu_legacy = feishu_legacy
        self.now = now
        self.received: list[Received] = []
        self.rejected: list[Received] = []
        self._failures: list[_Failure] = []
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``received``, not the access log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("receiver not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def wecom_url(self) -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={self.wecom_key}"

    @property
    def dingtalk_url(self) -> str:
        return f"{self.url}/robot/send?access_token={self.dingtalk_token}"

    @property
    def feishu_url(self) -> str:
        return f"{self.url}/open-apis/bot/v2/hook/{self.feishu_token}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/hook"

    @property
    def sms_gateway(self) -> str:
        """An apprise SMSEagle URL for ``ChannelConfig.sms_gateway`` (plain http, this port)."""
        return f"smseagle://{self.sms_token}@127.0.0.1:{self.port}"

    # --- control ---------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int | None = None,
        errcode: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``n`` requests (any route) with a failure.

        ``status`` alone: that HTTP status (503 by default). ``errcode``: HTTP ``status`` (200 by
        default) with the route's error body (``errcode`` for WeCom/DingTalk, ``code`` for
        Feishu, an SMSEagle error result). ``retry_after`` adds a Retry-After header.
        """
        failure = _Failure(
            status if status is not None else (200 if errcode is not None else 503),
            errcode,
            retry_after,
        )
        with self._changed:
            self._failures.extend([failure] * n)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """``received`` once it holds at least ``count`` entries; AssertionError on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"expected {count} deliveries within {timeout} s, got {len(self.received)}; "
                    f"rejected: {[r.reason for r in self.rejected]}"
                )
            return list(self.received)

    # --- request handling ------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        parts = urlsplit(request.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        headers = {name.lower(): value for name, value in request.headers.items()}
        route = _route(parts.path)
        try:
            parsed: Any = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        record = Received(route or parts.path, parsed, headers, body, query)

        with self._changed:
            failure = self._failures.pop(0) if self._failures else None
        if route is None:
            answer = _Answer(404, {"error": "no such route"}, "unknown route")
        elif failure is not None:
            answer = _failure_answer(route, failure)
        else:
            answer = getattr(self, f"_{route}")(record, parts.path)

        with self._changed:
            if answer.reason:
                self.rejected.append(record._replace(reason=answer.reason))
            else:
                self.received.append(record)
            self._changed.notify_all()

        out = json.dumps(answer.payload, ensure_ascii=False).encode("utf-8")
        request.send_response(answer.status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(out)))
        if failure is not None and failure.retry_after is not None:
            request.send_header("Retry-After", f"{failure.retry_after:g}")
        request.end_headers()
        request.wfile.write(out)

    def _wecom(self, record: Received, path: str) -> _Answer:
        if record.query.get("key") != self.wecom_key:
            return _errcode(93000, "invalid webhook url")
        payload = record.json
        if not isinstance(payload, dict) or payload.get("msgtype") != "markdown":
            return _errcode(40008, "invalid message type")
        content = (payload.get("markdown") or {}).get("content")
        if not isinstance(content, str) or not content:
            return _errcode(44004, "empty content")
        if len(content.encode("utf-8")) > WECOM_MARKDOWN_MAX_BYTES:
            return _errcode(40058, "markdown.content exceed max length 4096")
        return _Answer(200, {"errcode": 0, "errmsg": "ok"})

    def _dingtalk(self, record: Received, path: str) -> _Answer:
        if record.query.get("access_token") != self.dingtalk_token:
            return _errcode(300001, "token is not exist")
        if self.dingtalk_secret is not None:
            timestamp = record.query.get("timestamp", "")
            sign = record.query.get("sign", "")
            if not timestamp.isdigit():
                return _errcode(310000, "sign not match, timestamp missing")
            if abs(self.now() * 1000 - int(timestamp)) > ONE_HOUR_S * 1000:
                return _errcode(310000, "sign not match, timestamp is expired")
            # 加签 as DingTalk documents it: HmacSHA256(key=secret, msg=timestamp + "\n" + secret).
            mac = hmac.new(
                self.dingtalk_secret.encode(),
                (timestamp + "\n" + self.dingtalk_secret).encode(),
                hashlib.sha256,
            )
            if not hmac.compare_digest(base64.b64encode(mac.digest()).decode(), sign):
                return _errcode(310000, "sign not match")
        payload = record.json
        if not isinstance(payload, dict) or payload.get("msgtype") != "markdown":
            return _errcode(40035, "缺少参数 msgtype")
        markdown = payload.get("markdown") or {}
        if not markdown.get("title") or not markdown.get("text"):
            return _errcode(40035, "缺少参数 markdown")
        return _Answer(200, {"errcode": 0, "errmsg": "ok"})

    def _feishu(self, record: Received, path: str) -> _Answer:
        if path.rstrip("/").rsplit("/", 1)[-1] != self.feishu_token:
            return _code(19001, "param invalid: incoming webhook access token invalid")
        if len(record.body) > FEISHU_MAX_BYTES:
            return _code(9499, "request body exceeds 20KB")
        payload = record.json
        if not isinstance(payload, dict):
            return _code(9499, "Bad Request")
        if self.feishu_secret is not None:
            timestamp = str(payload.get("timestamp", ""))
            # 签名校验 as Feishu documents it: HmacSHA256 keyed with timestamp + "\n" + secret
            # over an empty message.
            key = (timestamp + "\n" + self.feishu_secret).encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            fresh = timestamp.isdigit() and abs(self.now() - int(timestamp)) <= ONE_HOUR_S
            if not fresh or not hmac.compare_digest(expected, str(payload.get("sign", ""))):
                return _code(
                    19021,
                    "sign match fail or timestamp is not within one hour from current time",
                )
        if payload.get("msg_type") == "interactive":
            card = payload.get("card") or {}
            title = ((card.get("header") or {}).get("title") or {}).get("content")
            if not title or not card.get("elements"):
                return _code(9499, "card header title and elements are required")
        elif payload.get("msg_type") not in ("text", "post"):
            return _code(9499, "invalid msg_type")
        if self.feishu_legacy:
            return _Answer(200, {"Extra": None, "StatusCode": 0, "StatusMessage": "success"})
        return _Answer(200, {"code": 0, "data": {}, "msg": "success"})

    def _webhook(self, record: Received, path: str) -> _Answer:
        if not record.headers.get("content-type", "").startswith("application/json"):
            return _Answer(415, {"error": "expected JSON"}, "not JSON")
        if not record.headers.get("idempotency-key"):
            return _Answer(400, {"error": "Idempotency-Key missing"}, "no idempotency key")
        if self.webhook_secret is not None:
            ok = verify_webhook_signature(
                self.webhook_secret,
                record.headers.get("x-allweather-timestamp", ""),
                record.body,
                record.headers.get("x-allweather-signature", ""),
                now=self.now(),
            )
            if not ok:
                return _Answer(401, {"error": "bad signature"}, "bad signature")
        if not isinstance(record.json, dict):
            return _Answer(400, {"error": "invalid JSON"}, "invalid JSON")
        return _Answer(200, {"ok": True})

    def _sms(self, record: Received, path: str) -> _Answer:
        payload = record.json
        params = payload.get("params") if isinstance(payload, dict) else None
        if not isinstance(params, dict) or payload.get("method") != "sms.send_sms":
            return _Answer(400, {"error": "expected JSON-RPC sms.send_sms"}, "bad JSON-RPC")
        if params.get("access_token") != self.sms_token:
            return _sms_error("Invalid login or password")
        if not re.fullmatch(r"\+?[0-9]{8,15}", str(params.get("to", ""))):
            return _sms_error("Invalid phone number")
        if not isinstance(params.get("message"), str) or not params["message"]:
            return _sms_error("Empty message")
        return _Answer(200, {"result": [{"message_id": len(self.received) + 1, "status": "ok"}]})


def _route(path: str) -> str | None:
    if path == "/cgi-bin/webhook/send":
        return "wecom"
    if path == "/robot/send":
        return "dingtalk"
    if re.fullmatch(r"/open-apis/bot/v2/hook/[^/]+/?", path):
        return "feishu"
    if path == "/hook":
        return "webhook"
    if path == "/jsonrpc/sms":
        return "sms"
    return None


def _errcode(code: int, message: str) -> _Answer:
    return _Answer(200, {"errcode": code, "errmsg": message}, f"errcode {code} {message}")


def _code(code: int, message: str) -> _Answer:
    return _Answer(200, {"code": code, "data": {}, "msg": message}, f"code {code} {message}")


def _sms_error(message: str) -> _Answer:
    return _Answer(200, {"result": {"error_text": message, "status": "error"}}, message)


def _failure_answer(route: str, failure: _Failure) -> _Answer:
    reason = f"told to fail: HTTP {failure.status} errcode {failure.errcode}"
    if failure.errcode is None:
        return _Answer(failure.status, {"error": "Service Unavailable"}, reason)
    if route == "feishu":
        payload: dict[str, Any] = {"code": failure.errcode, "data": {}, "msg": "failure"}
    elif route == "sms":
        payload = {"result": {"error_text": f"error {failure.errcode}", "status": "error"}}
    else:
        payload = {"errcode": failure.errcode, "errmsg": "failure"}
    return _Answer(failure.status, payload, reason)


# --- SMTP ------------------------------------------------------------------------------------


class ReceivedMail(NamedTuple):
    """One accepted e-mail."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        if part is None:
            raise AssertionError("no text/plain part")
        # SMTP carries CRLF line ends; a mail client shows plain newlines.
        return str(part.get_content()).replace("\r\n", "\n")


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 and a free port, without TLS.

    With ``user`` and ``password`` it requires AUTH (allowed without TLS, as on a test box).
    """

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.user = user
        self.password = password
        self.received: list[ReceivedMail] = []
        self.rejected: list[str] = []
        self._failures: list[str] = []
        self._changed = threading.Condition()
        self._controller: Controller | None = None
        self.port = 0

    def start(self) -> SmtpReceiver:
        # aiosmtpd's Controller needs a concrete port; a just-freed one is good enough here.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        options: dict[str, Any] = {}
        if self.user is not None:
            options = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
                "auth_required": True,
            }
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **options
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """A ``ChannelConfig.smtp_url`` for this server (plain SMTP, no STARTTLS)."""
        userinfo = ""
        if self.user is not None:
            userinfo = f"{quote(self.user, safe='')}:{quote(self.password or '', safe='')}@"
        return f"smtp://{userinfo}127.0.0.1:{self.port}?starttls=no"

    def fail_next(self, n: int = 1, reply: str = "451 4.3.0 Temporary failure, try again") -> None:
        """Answer DATA of the next ``n`` messages with ``reply`` instead of 250."""
        with self._changed:
            self._failures.extend([reply] * n)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """``received`` once it holds at least ``count`` mails; AssertionError on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"expected {count} mails within {timeout} s, got {len(self.received)}"
                )
            return list(self.received)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        # handled=False: aiosmtpd answers 535 itself (True would leave the client waiting).
        return AuthResult(success=ok, handled=False)

    def _accept(self, envelope: Envelope) -> str:
        with self._changed:
            if self._failures:
                reply = self._failures.pop(0)
                self.rejected.append(reply)
                return reply
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
            message = message_from_bytes(raw, policy=policy.default)
            if not isinstance(message, EmailMessage):
                raise TypeError("expected an EmailMessage")
            self.received.append(
                ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw)
            )
            self._changed.notify_all()
        return "250 Message accepted for delivery"


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.receiver._accept(envelope)
