from __future__ import annotations

import socket

import pytest

from allweather.channels import (
    ChannelConfig,
    ChannelConfigError,
    DeliveryError,
    parse_target,
    sender_for,
)
from tests.channels.notes import make_note
from tests.channels.receivers import SmtpReceiver

FROM = "全天候预警 <alerts@allweather.example>"


def _sender(smtp_url, to="li.ming@example.com", mail_from=FROM):
    return sender_for(
        parse_target("email", to), ChannelConfig(smtp_url=smtp_url, mail_from=mail_from)
    )


def test_a_plain_text_utf8_mail_arrives_through_plain_smtp(smtp_receiver, note):
    sender = _sender(smtp_receiver.url)
    delivery = sender.send(note)
    assert delivery.status is None
    assert delivery.target == "li***@example.com"
    [mail] = smtp_receiver.wait_for(1)
    assert mail.rcpt_tos == ["li.ming@example.com"]
    assert mail.mail_from == "alerts@allweather.example"
    assert mail.subject == f"{note.title.zh} / {note.title.en}"
    assert mail.text.rstrip("\n") == note.text()
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message.get_content_charset() == "utf-8"
    assert str(mail.message["From"]) == FROM
    assert mail.message["Idempotency-Key"] == note.key


def test_the_idempotency_key_survives_url_quoting(smtp_receiver):
    # apprise unquotes header values twice; "%41" would come out as "A" if quoted once.
    key = "warning-7:upgraded:2 %41+&=/?"
    _sender(smtp_receiver.url).send(make_note(key=key))
    [mail] = smtp_receiver.wait_for(1)
    assert mail.message["Idempotency-Key"] == key


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_auth_with_awkward_credentials():
    with SmtpReceiver(user="alerts@corp.example", password="p@ss/w?rd#%41 :+") as receiver:
        _sender(receiver.url).send(make_note())
        assert len(receiver.wait_for(1)) == 1
        bad = receiver.url.replace("p%40ss", "nope")
        with pytest.raises(DeliveryError) as err:
            _sender(bad).send(make_note())
    assert err.value.retryable is True
    assert "127.0.0.1" in err.value.detail


def test_a_temporary_smtp_refusal_is_retryable(smtp_receiver, note):
    smtp_receiver.fail_next(1)
    sender = _sender(smtp_receiver.url)
    with pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is True
    assert "failed" in err.value.detail
    sender.send(note)
    assert len(smtp_receiver.wait_for(1)) == 1


def test_an_unreachable_server_is_retryable_with_a_reason(note):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryError) as err:
        _sender(f"smtp://127.0.0.1:{port}").send(note)
    assert err.value.retryable is True
    assert f"SMTP 127.0.0.1:{port}" in err.value.detail
    assert "Connection error" in err.value.detail


def test_no_smtp_server_configured_refuses_each_send_for_good(note):
    sender = sender_for(parse_target("email", "li@example.com"), ChannelConfig())
    with pytest.raises(DeliveryError) as err:
        sender.send(note)
    assert err.value.retryable is False
    assert "smtp_url" in err.value.detail


def test_bad_mail_settings_fail_when_the_sender_is_built():
    with pytest.raises(ChannelConfigError) as err:
        _sender("smtp://h:25", mail_from="alerts")
    assert err.value.field == "mail_from"
    with pytest.raises(ChannelConfigError) as err:
        _sender("imap://h")
    assert err.value.field == "smtp_url"
