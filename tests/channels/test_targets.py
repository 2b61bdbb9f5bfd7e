from __future__ import annotations

import pytest

from allweather.channels import ChannelConfigError, ChannelKind, parse_target
from allweather.channels.config import SmtpSecurity, parse_mail_from, parse_smtp_url

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=1f2e3d4c5b6a79880112233445566778"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/ab12cd34-5678-90ef-abcd-1234567890ab"


def _error(kind: str, target: str, secret: str | None = None) -> ChannelConfigError:
    with pytest.raises(ChannelConfigError) as err:
        parse_target(kind, target, secret)
    return err.value


def test_email_is_trimmed_and_its_domain_lowercased():
    target = parse_target("email", "  Li.Ming@Example.COM ")
    assert target.kind is ChannelKind.EMAIL
    assert target.target == "Li.Ming@example.com"
    assert target.secret is None


@pytest.mark.parametrize(
    "address",
    [
        "li",
        "li@",
        "@example.com",
        "li@example",
        "a@b.com, c@d.com",
        "Li <li@example.com>",
        "li@exa mple.com",
        "li@example.com\r\nBcc: x@y.com",
    ],
)
def test_bad_email_addresses_name_the_target_field(address):
    err = _error("email", address)
    assert err.field == "target"
    assert str(err).startswith("target: ")
    assert "e-mail" in str(err)


def test_phone_numbers_are_normalised_to_e164():
    assert parse_target("sms", "+86 138-0013-8000").target == "+8613800138000"
    assert parse_target("sms", "+254 (700) 000 000").target == "+254700000000"


@pytest.mark.parametrize(
    "number", ["13800138000", "+0123456789", "+1234567", "+1234567890123456", "+86 138 abc"]
)
def test_bad_phone_numbers_are_refused(number):
    err = _error("sms", number)
    assert err.field == "target"
    assert "E.164" in str(err)


def test_robot_urls_need_their_credentials():
    assert parse_target("wecom", WECOM).target == WECOM
    assert parse_target("dingtalk", DINGTALK, "SECabc").secret == "SECabc"
    assert parse_target("feishu", FEISHU + "/").kind is ChannelKind.FEISHU
    # Any host: an enterprise relay or a local test receiver.
    assert parse_target("wecom", "http://relay.corp:8080/cgi-bin/webhook/send?key=k").target

    assert "key" in str(_error("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"))
    assert "access_token" in str(_error("dingtalk", "https://oapi.dingtalk.com/robot/send?x=1"))
    assert "/open-apis/bot/v2/hook/" in str(_error("feishu", "https://open.feishu.cn/hook/abc"))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "example.com/hook",
        "https://",
        "https://ex ample.com/h",
        "http://h:99999/x",
    ],
)
def test_webhook_must_be_an_http_url(url):
    err = _error("webhook", url)
    assert err.field == "target"


def test_secrets_are_refused_where_the_kind_cannot_sign():
    err = _error("wecom", WECOM, "some-secret")
    assert err.field == "secret"
    assert "企业微信" in str(err)
    assert _error("email", "li@example.com", "x").field == "secret"
    assert _error("dingtalk", DINGTALK, "SEC with space").field == "secret"
    # Blank means none.
    assert parse_target("webhook", "https://example.com/h", "  ").secret is None


def test_empty_target_and_unknown_kind():
    assert _error("webhook", "   ").field == "target"
    assert _error("pager", "x").field == "kind"


def test_masked_hides_keys_tokens_and_most_of_personal_data():
    assert parse_target("wecom", WECOM).masked() == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…"
    )
    assert parse_target("dingtalk", DINGTALK).masked().endswith("access_token=1f2e…")
    assert parse_target("feishu", FEISHU).masked() == (
        "https://open.feishu.cn/open-apis/bot/v2/hook/ab12…"
    )
    hook = parse_target("webhook", "https://user:pw@example.com/in?token=abcdef&team=ops")
    assert hook.masked() == "https://***@example.com/in?token=abcd…&team=ops"
    assert parse_target("email", "li.ming@example.com").masked() == "li***@example.com"
    assert parse_target("sms", "+8613800138000").masked() == "+8613****8000"


def test_repr_never_shows_the_secret_or_the_key():
    target = parse_target("dingtalk", DINGTALK, "SECtop-secret-value")
    text = repr(target)
    assert "SECtop-secret-value" not in text
    assert "1f2e3d4c5b6a79880112233445566778" not in text
    assert "signed" in text


def test_smtp_url_forms():
    plain = parse_smtp_url("smtp://relay.local")
    assert (plain.host, plain.port, plain.security, plain.user) == (
        "relay.local",
        25,
        SmtpSecurity.PLAIN,
        None,
    )
    # A password switches STARTTLS on unless told otherwise.
    auth = parse_smtp_url("smtp://alerts%40corp.cn:p%40ss@mail.corp.cn")
    assert (auth.user, auth.password, auth.port, auth.security) == (
        "alerts@corp.cn",
        "p@ss",
        587,
        SmtpSecurity.STARTTLS,
    )
    assert parse_smtp_url("smtp://u:p@h:2525?starttls=no").security is SmtpSecurity.PLAIN
    assert parse_smtp_url("smtp://h?starttls=yes").security is SmtpSecurity.STARTTLS
    tls = parse_smtp_url("smtps://u:p@smtp.exmail.qq.com")
    assert (tls.port, tls.security) == (465, SmtpSecurity.TLS)


@pytest.mark.parametrize(
    "url",
    [
        "http://h",
        "smtp://",
        "smtp://h:0x",
        "smtp://h?starttls=maybe",
        "smtps://h?starttls=yes",
        "smtp://h?tls=1",
    ],
)
def test_bad_smtp_urls_name_the_field(url):
    with pytest.raises(ChannelConfigError) as err:
        parse_smtp_url(url)
    assert err.value.field == "smtp_url"


def test_mail_from_accepts_a_display_name():
    assert parse_mail_from("全天候预警 <alerts@example.com>") == (
        "全天候预警",
        "alerts@example.com",
    )
    with pytest.raises(ChannelConfigError) as err:
        parse_mail_from("alerts")
    assert err.value.field == "mail_from"
