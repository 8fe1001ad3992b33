"""Invitations travel through the outbox to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from releasewise.notify.mail import SmtpMailer
from releasewise.services import orgs, outbox
from releasewise.services.runtime import Runtime
from tests.conftest import make_user


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_invitation_is_delivered_over_smtp_exactly_once(rt: Runtime, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    rt.mailer = SmtpMailer("127.0.0.1", port, "releasewise <noreply@lab.example>")
    alice = make_user(rt, "alice")
    orgs.create_org(rt, alice, name="Lab", slug="lab")
    _, link = orgs.invite_member(rt, alice, "lab", email="bob@example.org", role="researcher")
    assert outbox.deliver_pending(rt) == 1
    assert outbox.deliver_pending(rt) == 0
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "bob@example.org"
    assert "invited to join Lab" in message["Subject"]
    assert link in message.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_unreachable_smtp_is_retried_later_without_losing_the_message(rt: Runtime, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    rt.mailer = SmtpMailer("127.0.0.1", free_port(), "noreply@lab.example", timeout=2)
    alice = make_user(rt, "alice")
    orgs.create_org(rt, alice, name="Lab", slug="lab")
    orgs.invite_member(rt, alice, "lab", email="bob@example.org", role="researcher")
    assert outbox.deliver_pending(rt) == 0
    rt.mailer = SmtpMailer("127.0.0.1", port, "noreply@lab.example")
    assert outbox.deliver_pending(rt) == 0  # backing off
    rt.clock.advance(minutes=3)  # type: ignore[attr-defined]
    assert outbox.deliver_pending(rt) == 1
    assert len(inbox.messages) == 1
