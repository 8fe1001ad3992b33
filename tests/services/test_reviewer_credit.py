"""Reviewers are named on public pages only when they agree, only by display name, and can withdraw."""

from __future__ import annotations

import pytest

from releasewise.errors import Conflict, PermissionDenied
from releasewise.services import precedent_search, precedents, release_page, reviews
from tests.conftest import World
from tests.services.assessment_fixtures import STANCES, expert, open_review, vote, with_submitted_assessment


def test_named_only_with_consent_and_withdrawal_is_immediate(world: World) -> None:
    w = world
    with_submitted_assessment(w)
    fiona = expert(w, "fiona", ["fraud"])
    gus = expert(w, "gus", ["elections"])
    review_id = open_review(w, ["fiona", "gus"], steps=["paper:public"])
    reviews.declare_conflict(w.rt, fiona, "lab-a", review_id, has_conflict=False)
    with pytest.raises(Conflict, match="Vote first"):
        reviews.set_public_credit(w.rt, fiona, "lab-a", review_id, named=True)
    reviews.vote(w.rt, fiona, "lab-a", review_id, vote="approve", stances=STANCES)
    vote(w, gus, review_id, "approve", stances={**STANCES, "misuse_risk": 1})
    with pytest.raises(PermissionDenied):
        reviews.set_public_credit(w.rt, w.lead, "lab-a", review_id, named=True)  # not the lead's to give
    decision_id = reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="Limited marginal risk.")
    release_page.set_public_page(w.rt, w.lead, "lab-a", "echo", enabled=True)
    precedents.publish(w.rt, w.lead, "lab-a", decision_id)

    def public() -> tuple[tuple[str, ...], int, tuple[str, ...], int]:
        page = release_page.public_page(w.rt, "lab-a", "echo").decisions[0]
        record = precedent_search.search(w.rt).items[0]
        return page.named_reviewers, page.unnamed_reviewers, record.named_reviewers, record.unnamed_reviewers

    assert public() == ((), 2, (), 2)
    reviews.set_public_credit(w.rt, fiona, "lab-a", review_id, named=True)
    assert public() == (("Fiona",), 1, ("Fiona",), 1)
    reviews.set_public_credit(w.rt, fiona, "lab-a", review_id, named=False)
    assert public() == ((), 2, (), 2)
