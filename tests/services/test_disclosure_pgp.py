"""Disclosure mail to contacts with a PGP key is encrypted to it (real GnuPG; decrypted as the contact would)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from releasewise.errors import InvalidInput
from releasewise.services import disclosure as svc
from releasewise.store.models import OutboxMessage
from tests.conftest import World
from tests.services.test_disclosure import BRIEFING, aware, mails, token
from tests.support.gpg import Keypair, keypair


@pytest.fixture(scope="module")
def tina() -> Iterator[Keypair]:
    with keypair("Tina Platform <tina@platform.example>") as pair:
        yield pair


def test_invitation_and_case_mail_are_encrypted_to_the_contacts_key(world: World, tina: Keypair) -> None:
    rt = world.rt
    platform = svc.add_stakeholder(rt, world.lead, "lab-a", name="Moderate Platform", type="platform",
                                   contacts=[("Tina", "tina@platform.example", tina.public_key),
                                             ("Ops", "ops@platform.example", "")])
    case = svc.open_case(rt, world.lead, "lab-a", "echo", title="Echo-1 voice cloning", briefing_md=BRIEFING,
                         embargo_ends_at=aware(rt, days=10))
    _, links = svc.invite(rt, world.lead, "lab-a", case.id, stakeholder_id=platform.id, respond_by=aware(rt, days=3))
    tina_link = dict(links)["tina@platform.example"]
    with rt.read() as session:  # the private link is never stored in clear for the contact with a key
        stored = [m.body for m in session.scalars(select(OutboxMessage)) if m.recipient == "tina@platform.example"]
    assert stored and all(tina_link not in body for body in stored)

    sent = {recipient: (subject, body) for recipient, subject, body in mails(rt)}
    subject, body = sent["tina@platform.example"]
    assert body.startswith("-----BEGIN PGP MESSAGE-----") and "Echo-1" not in subject + body
    assert subject == "Encrypted message from Lab A (releasewise)"
    clear = tina.decrypt(body)
    assert tina_link in clear and "Echo-1 voice cloning" in clear
    ops_subject, ops_body = sent["ops@platform.example"]  # no key: plain mail, as before
    assert "Embargoed briefing" in ops_subject and "BEGIN PGP" not in ops_body

    svc.party_set_state(rt, token(tina_link), "accepted")
    party = svc.get_case(rt, world.lead, "lab-a", case.id).parties[0]
    svc.lab_message(rt, world.lead, "lab-a", case.id, party_id=party.id, body="The embargo may move by a week.")
    later = [b for r, _, b in mails(rt) if r == "tina@platform.example"]
    assert "The embargo may move by a week." in tina.decrypt(later[-1])


def test_unusable_keys_are_refused_when_saved(world: World, tina: Keypair) -> None:
    rt = world.rt
    broken = tina.public_key.replace(tina.public_key.splitlines()[3], "AAAA" * 16)
    for key in (broken, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----"):
        with pytest.raises(InvalidInput, match="cannot be used"):
            svc.add_stakeholder(rt, world.lead, "lab-a", name="Broken", type="platform",
                                contacts=[("B", "b@platform.example", key)])
    assert svc.list_stakeholders(rt, world.lead, "lab-a") == []
