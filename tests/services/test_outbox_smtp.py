"""Invitations travel through the outbox to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from releasewise.notify.mail import SmtpMailer
from releasewise.services import orgs, outbox
from releasewise.services.runtime import Runtime
from tests.conftest import make_user
from tests.services.conftest import Inbox, free_port


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
