"""The mail port: a real SMTP sender, a folder sender for the embedded mode,
and an in-memory sender for unit tests.

Messages are not sent from inside service transactions: services write them
to the outbox table, and ``services.outbox.deliver_pending`` hands them to a
``Mailer`` after commit (see docs/architecture.md).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str
    idempotency_key: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver ``mail`` or raise an exception describing why not."""
        ...


def build_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    domain = sender.rsplit("@", 1)[-1].strip(">") or "localhost"
    message["Message-ID"] = make_msgid(idstring=mail.idempotency_key.replace(":", "."), domain=domain)
    message.set_content(mail.body)
    return message


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout = timeout

    def send(self, mail: Mail) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(build_message(mail, self.sender))


class FolderMailer:
    """Writes each message as an .eml file; the embedded default with no SMTP set."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, mail: Mail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in mail.idempotency_key)
        (self.folder / f"{safe}.eml").write_bytes(bytes(build_message(mail, self.sender)))


@dataclass
class MemoryMailer:
    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)
