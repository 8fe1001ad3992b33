from __future__ import annotations

from datetime import timedelta

import pytest

from releasewise.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from releasewise.services import accounts, assessments, decisions, orgs, outbox, projects, reviews, tiers
from releasewise.services.runtime import Actor
from tests.conftest import PASSWORD, World
from tests.services.assessment_fixtures import (
    STANCES,
    expert,
    open_review,
    vote,
    with_submitted_assessment,
)


def login(w: World, username: str) -> Actor:
    return accounts.authenticate_password(w.rt, login=username, password=PASSWORD, ip="127.0.0.1")


@pytest.fixture
def reviewed(world: World) -> World:
    with_submitted_assessment(world)
    expert(world, "fiona", ["fraud", "security", "audio"])
    expert(world, "dmitri", ["disinformation", "elections"])
    expert(world, "pat", ["privacy"])
    return world


def test_suggestions_rank_by_expertise_and_flag_authors(reviewed: World) -> None:
    w = reviewed
    reviews.add_reviewer(w.rt, w.lead, "lab-a", email="rita@example.org", expertise=["audio", "fraud"])
    suggestions = reviews.suggest_reviewers(w.rt, w.lead, "lab-a", "echo", 1)
    assert suggestions[0].username == "fiona" and set(suggestions[0].matches) == {"audio", "fraud", "security"}
    assert suggestions[-1].username == "rita" and suggestions[-1].excluded_reason == "author of this project"


def test_external_expert_is_invited_and_joins_the_pool(reviewed: World) -> None:
    w = reviewed
    entry, link = reviews.add_reviewer(w.rt, w.owner, "lab-a", email="prof.k@uni.example", expertise=["ethics"])
    assert entry.status == "invited" and link and "/invitations/" in link
    assert outbox.deliver_pending(w.rt) >= 1
    with pytest.raises(Conflict):
        reviews.add_reviewer(w.rt, w.owner, "lab-a", email="prof.k@uni.example", expertise=["law"])
    accounts.sign_up(w.rt, username="profk", email="prof.k@uni.example", password=PASSWORD)
    prof = login(w, "profk")
    orgs.accept_invitation(w.rt, prof, link.rsplit("/", 1)[-1])
    pool = {p.email: p for p in reviews.list_pool(w.rt, w.lead, "lab-a")}
    assert pool["prof.k@uni.example"].status == "active" and pool["prof.k@uni.example"].username == "profk"


def test_bad_expertise_and_non_members(reviewed: World) -> None:
    with pytest.raises(InvalidInput, match="Unknown expertise"):
        reviews.add_reviewer(reviewed.rt, reviewed.lead, "lab-a", email="x@example.org", expertise=["vibes"])
    with pytest.raises(PermissionDenied):
        reviews.add_reviewer(reviewed.rt, reviewed.viewer, "lab-a", email="x@example.org", expertise=["law"])


def test_only_submitted_versions_and_pool_members_can_be_reviewed(reviewed: World) -> None:
    w = reviewed
    with pytest.raises(NotFound, match="Only submitted versions"):
        reviews.request_review(w.rt, w.lead, "lab-a", "echo", version=2, reviewers=["fiona"],
                               steps=["paper:public"], due_at=w.rt.clock.now() + timedelta(days=3))
    for bad, message in [({"reviewers": ["vic"]}, "not in the reviewer pool"),
                         ({"reviewers": []}, "at least one reviewer"),
                         ({"steps": ["paper:everyone"]}, "not one of"),
                         ({"steps": ["gpu:public"]}, "not an asset"),
                         ({"due_at": w.rt.clock.now() - timedelta(days=1)}, "in the future")]:
        kwargs = {"version": 1, "reviewers": ["fiona"], "steps": ["paper:public"],
                  "due_at": w.rt.clock.now() + timedelta(days=3), **bad}
        with pytest.raises(InvalidInput, match=message):
            reviews.request_review(w.rt, w.lead, "lab-a", "echo", **kwargs)  # type: ignore[arg-type]
    assert reviews.list_reviews(w.rt, w.lead, "lab-a") == []
    with pytest.raises(PermissionDenied):
        reviews.request_review(w.rt, w.researcher, "lab-a", "echo", version=1, reviewers=["fiona"],
                               steps=["paper:public"], due_at=w.rt.clock.now() + timedelta(days=3))


def test_authors_cannot_review_unless_the_org_allows_it(reviewed: World) -> None:
    w = reviewed
    reviews.add_reviewer(w.rt, w.lead, "lab-a", email="rita@example.org", expertise=["audio"])
    with pytest.raises(InvalidInput, match="author of this project"):
        open_review(w, ["rita"])
    assessments.update_policy(w.rt, w.owner, "lab-a", allow_author_review=True)
    assert open_review(w, ["rita"]) > 0


def test_reviewers_see_only_what_they_were_asked_to_review(reviewed: World) -> None:
    w = reviewed
    fiona, dmitri = login(w, "fiona"), login(w, "dmitri")
    with pytest.raises(NotFound):
        assessments.get_version(w.rt, fiona, "lab-a", "echo", 1)
    review_id = open_review(w, ["fiona"])
    assert assessments.get_version(w.rt, fiona, "lab-a", "echo", 1).number == 1
    with pytest.raises(NotFound):
        assessments.get_version(w.rt, dmitri, "lab-a", "echo", 1)
    with pytest.raises(NotFound):
        reviews.get_review(w.rt, dmitri, "lab-a", review_id)
    assert [r.id for r in reviews.my_assignments(w.rt, fiona)] == [review_id]
    assert reviews.list_reviews(w.rt, dmitri, "lab-a") == []


def test_voting_rules(reviewed: World) -> None:
    w = reviewed
    fiona = login(w, "fiona")
    pat = login(w, "pat")
    review_id = open_review(w, ["fiona", "pat"])
    with pytest.raises(Conflict, match="Declare whether you have a conflict"):
        reviews.vote(w.rt, fiona, "lab-a", review_id, vote="approve", stances=STANCES)
    reviews.declare_conflict(w.rt, pat, "lab-a", review_id, has_conflict=True, note="I advise a competitor")
    with pytest.raises(PermissionDenied, match="declared a conflict"):
        reviews.vote(w.rt, pat, "lab-a", review_id, vote="approve", stances=STANCES)
    with pytest.raises(Conflict, match="already declared"):
        reviews.declare_conflict(w.rt, pat, "lab-a", review_id, has_conflict=False)
    reviews.declare_conflict(w.rt, fiona, "lab-a", review_id, has_conflict=False)
    with pytest.raises(InvalidInput, match="needs at least one condition"):
        reviews.vote(w.rt, fiona, "lab-a", review_id, vote="approve_with_conditions", stances=STANCES)
    with pytest.raises(InvalidInput, match="missing: attention_effects"):
        reviews.vote(w.rt, fiona, "lab-a", review_id, vote="approve",
                     stances={k: v for k, v in STANCES.items() if k != "attention_effects"})
    with pytest.raises(InvalidInput, match="1 to 5"):
        reviews.vote(w.rt, fiona, "lab-a", review_id, vote="approve", stances={**STANCES, "misuse_risk": 9})
    reviews.vote(w.rt, fiona, "lab-a", review_id, vote="approve", stances=STANCES)
    with pytest.raises(Conflict, match="already voted"):
        reviews.vote(w.rt, fiona, "lab-a", review_id, vote="reject", stances=STANCES)
    with pytest.raises(PermissionDenied):
        reviews.vote(w.rt, w.lead, "lab-a", review_id, vote="approve", stances=STANCES)
    reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="One approval, one recusal.")
    with pytest.raises(Conflict, match="closed"):
        reviews.declare_conflict(w.rt, pat, "lab-a", review_id, has_conflict=False)
    view = reviews.get_review(w.rt, w.lead, "lab-a", review_id)
    assert view.status == "closed" and view.decision_id


def test_decision_records_tally_conditions_and_disagreement(reviewed: World) -> None:
    w = reviewed
    fiona = login(w, "fiona")
    dmitri = login(w, "dmitri")
    review_id = open_review(w, ["fiona", "dmitri"])
    vote(w, fiona, review_id, "approve_with_conditions", ["Watermark all API outputs"],
         {**STANCES, "misuse_risk": 1})
    vote(w, dmitri, review_id, "approve", stances={**STANCES, "misuse_risk": 4})
    with pytest.raises(PermissionDenied):
        reviews.close_review(w.rt, w.researcher, "lab-a", review_id, rationale="x")
    decision_id = reviews.close_review(w.rt, w.lead, "lab-a", review_id,
                                       rationale="Benefits for voice banking outweigh residual risk.")
    decision = decisions.get_decision(w.rt, w.viewer, "lab-a", decision_id)
    assert decision.outcome == "approved" and decision.status == "in_force"
    assert decision.tally == {"approve": 1, "approve_with_conditions": 1, "reject": 0, "not_voted": 0}
    assert [c["text"] for c in decision.conditions] == ["Watermark all API outputs"]
    risk = next(d for d in decision.disagreement if d["dimension"] == "misuse_risk")
    assert risk["diverges"] and risk["spread"] == 3 and risk["stances"] == {"fiona": 1, "dmitri": 4}
    md = decisions.to_markdown(decision)
    assert "Watermark all API outputs" in md and "⚠ diverges" in md and "weights-1b → vetted_researchers" in md
    assert '"schema": "releasewise.decision/1"' in decisions.to_json(decision)
    assert "## Release considerations" in decisions.to_model_card(decision)
    # Reviewers of the decided review may read it; other reviewers may not.
    assert decisions.get_decision(w.rt, fiona, "lab-a", decision_id).id == decision_id
    pat = login(w, "pat")
    with pytest.raises(NotFound):
        decisions.get_decision(w.rt, pat, "lab-a", decision_id)


def test_tie_is_a_rejection_and_no_votes_cannot_close(reviewed: World) -> None:
    w = reviewed
    fiona = login(w, "fiona")
    dmitri = login(w, "dmitri")
    review_id = open_review(w, ["fiona", "dmitri"])
    with pytest.raises(InvalidInput, match="No reviewer has voted"):
        reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="too early")
    vote(w, fiona, review_id, "approve")
    vote(w, dmitri, review_id, "reject")
    decision_id = reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="Split panel.")
    assert decisions.get_decision(w.rt, w.lead, "lab-a", decision_id).outcome == "rejected"


def test_the_ratchet_needs_a_covering_decision_with_conditions_met(reviewed: World) -> None:
    w = reviewed
    with pytest.raises(PermissionDenied, match="no decision names this step"):
        tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "vetted_researchers", reason="go")
    fiona = login(w, "fiona")
    review_id = open_review(w, ["fiona"])
    vote(w, fiona, review_id, "approve_with_conditions", ["Detector shared with platforms first"])
    decision_id = reviews.close_review(w.rt, w.lead, "lab-a", review_id, rationale="ok")
    with pytest.raises(PermissionDenied, match="1 condition"):
        tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "vetted_researchers", reason="go")
    decisions.mark_condition_met(w.rt, w.lead, "lab-a", decision_id, 0)
    with pytest.raises(PermissionDenied, match="no decision names this step"):
        tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "public", reason="too far")
    with pytest.raises(PermissionDenied):
        tiers.set_asset_tier(w.rt, w.researcher, "lab-a", "echo", "weights-1b", "vetted_researchers", reason="go")
    asset = tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "vetted_researchers", reason="go")
    assert (asset.current_tier, asset.high_water_tier) == ("vetted_researchers", "vetted_researchers")
    narrowed = tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "team", reason="incident")
    assert (narrowed.current_tier, narrowed.high_water_tier) == ("team", "vetted_researchers")
    with pytest.raises(InvalidInput, match="Unknown tier"):
        tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "everyone", reason="x")
    w.rt.clock.advance(days=366)  # type: ignore[attr-defined]
    with pytest.raises(PermissionDenied, match="expired"):
        tiers.set_asset_tier(w.rt, w.lead, "lab-a", "echo", "weights-1b", "trusted_partners", reason="again")
    assert projects.list_assets(w.rt, w.lead, "lab-a", "echo")[0].high_water_tier == "vetted_researchers"


def test_reminders_before_due_and_when_overdue_are_sent_once(reviewed: World) -> None:
    w = reviewed
    open_review(w, ["fiona", "dmitri"])
    outbox.deliver_pending(w.rt)
    w.rt.mailer.sent.clear()  # type: ignore[attr-defined]
    assert reviews.send_reminders(w.rt) == 0  # due in 7 days
    w.rt.clock.advance(days=6)  # type: ignore[attr-defined]
    assert reviews.send_reminders(w.rt) == 2
    assert reviews.send_reminders(w.rt) == 0
    w.rt.clock.advance(days=2)  # type: ignore[attr-defined]
    assert reviews.send_reminders(w.rt) == 2
    assert reviews.list_reviews(w.rt, w.lead, "lab-a")[0].status == "overdue"
    outbox.deliver_pending(w.rt)
    subjects = [m.subject for m in w.rt.mailer.sent]  # type: ignore[attr-defined]
    assert sum("is due" in s for s in subjects) == 2 and sum("was due" in s for s in subjects) == 2
