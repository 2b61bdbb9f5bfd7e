"""Fixtures: the local SMTP and HTTP receivers, started per test, and a sample notification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allweather.domain.notification import Notification
from tests.channels.notes import make_note
from tests.channels.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def note() -> Notification:
    return make_note()
