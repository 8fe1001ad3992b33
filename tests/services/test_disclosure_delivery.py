"""Real parts: invitations read back from an aiosmtpd server; webhooks POSTed to a uvicorn receiver
on loopback, signatures verified; a dead endpoint retried with backoff, then marked failed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from releasewise.domain import disclosure as rules
from releasewise.notify.mail import SmtpMailer
from releasewise.services import outbox
from releasewise.services import disclosure as svc
from tests.conftest import World
from tests.services.test_disclosure import BRIEFING, aware, setup_case, token
from tests.services.conftest import Inbox, free_port
from tests.support.live import LiveServer


class Receiver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            self.calls.append((name, dict(request.headers), await request.body()))
            return Response(status_code=204)

    def named(self, name: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [(h, json.loads(b)) for n, h, b in self.calls if n == name]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    r = Receiver()
    server = LiveServer(r.app).start()
    try:
        yield r, server.url
    finally:
        server.stop()


def test_invitation_emails_over_smtp_carry_only_the_recipients_part(world: World, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    rt = world.rt
    rt.mailer = SmtpMailer("127.0.0.1", port, "releasewise <noreply@lab.example>")
    c = setup_case(world)
    svc.party_set_state(rt, token(c.detector_link), "accepted")
    svc.lab_message(rt, world.lead, "lab-a", c.id, party_id=svc.party_view(rt, token(c.detector_link)).party_id,
                    body="DETECTOR-ONLY: here is the eval set")
    outbox.deliver_pending(rt)
    by_recipient: dict[str, list[str]] = {}
    for message in inbox.messages:
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        by_recipient.setdefault(str(message["To"]), []).append(str(message["Subject"]) + "\n" + payload.decode())
    tina = "\n".join(by_recipient["tina@platform.example"])
    dan = "\n".join(by_recipient["dan@detect.example"])
    assert c.platform_link in tina and c.detector_link not in tina
    assert c.detector_link in dan and "DETECTOR-ONLY" in dan
    for secret in ("DETECTOR-ONLY", "Detect Lab", "SECRET-DETAIL-7731"):
        assert secret not in tina
    assert BRIEFING not in dan  # the briefing stays behind the link, never in clear email


def verify(secret: str, headers: dict[str, str], body: dict[str, Any]) -> bool:
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return rules.verify(secret, headers["x-releasewise-signature"], raw, now=int(time.time()), tolerance=10**9)


def test_webhooks_are_signed_scoped_to_what_each_party_may_see(world: World,
                                                               receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    rt = world.rt
    c = setup_case(world, invite=False)
    _, lab_secret = svc.add_webhook(rt, world.lead, "lab-a", url=f"{url}/hooks/lab")
    _, platform_secret = svc.add_webhook(rt, world.lead, "lab-a", url=f"{url}/hooks/platform",
                                         stakeholder_id=c.platform)
    # Another lab registers an endpoint for the same shared stakeholder: it must hear nothing of Lab A's case.
    svc.add_webhook(rt, world.outsider, "lab-b", url=f"{url}/hooks/other-lab", stakeholder_id=c.platform)
    _, pairs = svc.invite(rt, world.lead, "lab-a", c.id, stakeholder_id=c.platform,
                          respond_by=aware(rt, days=2))
    svc.invite(rt, world.lead, "lab-a", c.id, stakeholder_id=c.detector,
               respond_by=aware(rt, days=2))
    svc.party_set_state(rt, token(pairs[0][1]), "accepted")
    assert svc.reconcile(rt) >= 4
    platform = r.named("platform")
    lab = r.named("lab")
    assert r.named("other-lab") == []
    assert {b["type"] for _, b in platform} == {"disclosure.invited", "disclosure.party_state"}
    assert all(verify(platform_secret, h, b) for h, b in platform)
    assert not any(verify(lab_secret, h, b) for h, b in platform)
    assert all(verify(lab_secret, h, b) for h, b in lab)
    assert all("Detect Lab" not in json.dumps(b) and "SECRET-DETAIL" not in json.dumps(b) for _, b in platform)
    assert {b["party"]["name"] for _, b in lab if b["type"] == "disclosure.party_invited"} == {"Moderate Platform",
                                                                                             "Detect Lab"}
    keys = [h["idempotency-key"] for h, _ in platform + lab]
    assert all(h["idempotency-key"] == b["id"] for h, b in platform + lab)
    assert len(keys) == len(r.calls)
    svc.reconcile(rt)
    assert len(r.calls) == len(keys)  # delivered once
    log = svc.list_deliveries(rt, world.lead, "lab-a")
    assert {d.status for d in log} == {"delivered"} and all(d.last_status_code == 204 for d in log)
    with rt.read() as session:
        dump = " ".join(str(row) for row in session.execute(text("SELECT * FROM webhook_endpoints")).all())
    assert lab_secret not in dump and platform_secret not in dump and lab_secret[6:] not in dump


def test_a_dead_endpoint_blocks_nothing_is_retried_then_fails(world: World, receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    rt = world.rt
    c = setup_case(world, invite=False)
    svc.add_webhook(rt, world.lead, "lab-a", url=f"http://127.0.0.1:{free_port()}/down")
    svc.add_webhook(rt, world.lead, "lab-a", url=f"{url}/hooks/lab")
    svc.extend_embargo(rt, world.lead, "lab-a", c.id, new_end=svc.get_case(rt, world.lead, "lab-a", c.id)
                       .embargo_ends_at.replace(tzinfo=UTC) + timedelta(days=1), reason="Detector retraining")
    started = time.monotonic()
    assert svc.deliver_webhooks(rt) == 1
    assert time.monotonic() - started < 5
    assert len(r.named("lab")) == 1
    down = [d for d in svc.list_deliveries(rt, world.lead, "lab-a") if d.url.endswith("/down")]
    assert down[0].status == "pending" and down[0].attempts == 1 and "Connect" in down[0].last_error
    assert svc.deliver_webhooks(rt) == 0  # backing off: not retried before its time
    for minutes in (1, 4, 16, 64):
        rt.clock.advance(minutes=minutes)  # type: ignore[attr-defined]
        svc.deliver_webhooks(rt)
    down = [d for d in svc.list_deliveries(rt, world.lead, "lab-a") if d.url.endswith("/down")]
    assert down[0].status == "failed" and down[0].attempts == rt.settings.webhook_max_attempts
    assert len(r.named("lab")) == 1



def test_endpoints_that_hang_cost_one_timeout_per_pass(world: World, receiver: tuple[Receiver, str]) -> None:
    import socket

    r, url = receiver
    rt = world.rt
    rt.settings = rt.settings.model_copy(update={"webhook_timeout_seconds": 1.0})
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)  # accepts TCP connections, never answers
    try:
        port = hang.getsockname()[1]
        for n in range(3):
            svc.add_webhook(rt, world.lead, "lab-a", url=f"http://127.0.0.1:{port}/hang{n}")
        svc.add_webhook(rt, world.lead, "lab-a", url=f"{url}/hooks/lab")
        setup_case(world, invite=True)
        started = time.monotonic()
        delivered = svc.deliver_webhooks(rt)
        elapsed = time.monotonic() - started
    finally:
        hang.close()
    assert delivered == len(r.named("lab")) == 2  # two invitations, told to the lab's working endpoint
    assert elapsed < 2.5, elapsed  # 6 hanging deliveries in parallel, not 6 × 1 s
    hanging = [d for d in svc.list_deliveries(rt, world.lead, "lab-a") if "/hang" in d.url]
    assert len(hanging) == 6 and all(d.status == "pending" and "Timeout" in d.last_error for d in hanging)
