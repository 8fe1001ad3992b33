"""A realistic demo organisation for first-time users: a voice-cloning lab.

Seeded through the same services users call, so the demo's audit log is a
real one and the demo exercises the code it shows off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from importlib import resources

from sqlalchemy import select

from releasewise.clock import FrozenClock
from releasewise.services import accounts, assessments, decisions, orgs, plans, projects, reviews
from releasewise.services.demo_precedents import seed_precedents
from releasewise.services.runtime import Actor, Runtime
from releasewise.store.models import Organization

DEMO_ORG_SLUG = "resonance-lab"
DEMO_PASSWORD = "releasewise-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    who: str


DEMO_PEOPLE = [
    DemoLogin("maya", "owner", "Maya Okafor, lab director"),
    DemoLogin("jonas", "release_lead", "Jonas Lindqvist, release and safety lead"),
    DemoLogin("priya", "researcher", "Priya Raman, speech synthesis researcher"),
    DemoLogin("sam", "reviewer", "Sam Whitfield, external fraud and security reviewer"),
    DemoLogin("lee", "viewer", "Lee Chen, communications"),
    DemoLogin("amara", "reviewer", "Amara Osei, election-integrity researcher (external reviewer)"),
]

# Not a member: trust-and-safety staff at a video platform, a detection partner of the lab.
DEMO_PARTNER = DemoLogin("tess", "detection partner", "Tess Nakamura, trust & safety at VideoShare (not a member)")

ECHO_ASSETS = [
    ("Launch blog post", "announcement", "Announcement with audio samples and a description of safeguards."),
    ("Echo-2 paper", "paper", "Zero-shot voice cloning from 3 seconds of reference audio; speaker-encoder details withheld."),
    ("Training recipe", "method_details", "Data pipeline, speaker-encoder training schedule and augmentation tricks."),
    ("Inference code", "code", "PyTorch inference code and the streaming vocoder."),
    ("Echo-2 small (120M)", "weights", "Smaller variant: noticeably synthetic prosody, English only."),
    ("Echo-2 large (1.1B)", "weights", "Full model: near-human similarity on unseen speakers, 14 languages."),
    ("Sample outputs", "outputs", "2,000 generated clips with speaker consent records, for detector builders."),
    ("Hosted demo", "demo", "Web demo restricted to a fixed set of consenting voices."),
    ("Echo-2 API", "api", "Structured access with consent verification and usage logs."),
    ("Echo-2 detector", "detector", "Classifier for Echo-2 outputs, robust to telephone-band compression."),
]


def seed_demo(rt: Runtime) -> list[DemoLogin]:
    """Create the demo organisation unless it exists; return its logins."""
    with rt.read() as session:
        if session.scalar(select(Organization.id).where(Organization.slug == DEMO_ORG_SLUG)) is not None:
            return DEMO_PEOPLE + [DEMO_PARTNER]
    actors = {}
    for person in DEMO_PEOPLE:
        accounts.sign_up(rt, username=person.username, email=f"{person.username}@resonance-lab.example",
                         password=DEMO_PASSWORD, display_name=person.who.split(",")[0])
        actors[person.username] = accounts.authenticate_password(
            rt, login=person.username, password=DEMO_PASSWORD, ip="127.0.0.1"
        )
    owner = actors["maya"]
    orgs.create_org(rt, owner, name="Resonance Voice Lab", slug=DEMO_ORG_SLUG,
                    description="An academic speech-synthesis lab building zero-shot voice cloning models.")
    for person in DEMO_PEOPLE[1:]:
        _, link = orgs.invite_member(rt, owner, DEMO_ORG_SLUG, email=f"{person.username}@resonance-lab.example",
                                     role=person.role)
        orgs.accept_invitation(rt, actors[person.username], link.rsplit("/", 1)[-1])
    lead = actors["jonas"]
    projects.create_project(
        rt, lead, DEMO_ORG_SLUG, name="Echo-2 voice cloning", slug="echo-2", modality="audio",
        description="Zero-shot multilingual voice cloning. High fraud and impersonation risk; "
        "strong benefits for accessibility (voice banking for people losing their voice).",
    )
    for name, kind, description in ECHO_ASSETS:
        projects.create_asset(rt, actors["priya"] if kind in ("code", "weights", "outputs") else lead,
                              DEMO_ORG_SLUG, "echo-2", name=name, kind=kind, description=description)
    projects.create_project(
        rt, lead, DEMO_ORG_SLUG, name="Prosody transfer dataset", slug="prosody-data", modality="audio",
        description="Emotional speech corpus recorded with informed consent from 240 speakers.",
    )
    projects.create_asset(rt, lead, DEMO_ORG_SLUG, "prosody-data", name="Corpus v1", kind="data",
                          description="180 hours, 48 kHz, with consent forms.")
    # The lab's release story started three days ago: run it on a clock set back, then catch up.
    clock = FrozenClock(rt.clock.now() - timedelta(days=3))
    past = replace(rt, clock=clock)
    echo_decision = _seed_review(past, actors)
    _seed_plan(past, clock, actors)
    _seed_disclosure(rt, actors)
    _seed_incidents(rt, actors)
    seed_precedents(rt, actors, DEMO_ORG_SLUG, echo_decision)
    _seed_provenance(rt, actors)
    from releasewise.services import release_page

    release_page.set_public_page(rt, actors["jonas"], DEMO_ORG_SLUG, "echo-2", enabled=True)
    return DEMO_PEOPLE + [DEMO_PARTNER]


def _seed_review(rt: Runtime, actors: dict[str, Actor]) -> int:
    """A submitted assessment, an external expert, a closed review and a first widening, as a lab would have."""
    text = (resources.files("releasewise.demo") / "echo-2-assessment.yaml").read_text(encoding="utf-8")
    assessments.import_document(rt, actors["priya"], DEMO_ORG_SLUG, "echo-2", text, submit_version=True)
    lead, sam, amara = actors["jonas"], actors["sam"], actors["amara"]
    reviews.add_reviewer(rt, lead, DEMO_ORG_SLUG, email="sam@resonance-lab.example",
                         expertise=["fraud", "security", "audio"], note="Former bank fraud investigator")
    reviews.add_reviewer(rt, lead, DEMO_ORG_SLUG, email="amara@resonance-lab.example",
                         expertise=["disinformation", "elections"], note="Election-integrity researcher")
    review = reviews.request_review(
        rt, lead, DEMO_ORG_SLUG, "echo-2", version=1, reviewers=["sam", "amara"],
        steps=["echo-2-paper:public", "echo-2-detector:trusted_partners", "echo-2-small-120m:vetted_researchers"],
        due_at=rt.clock.now() + timedelta(days=10),
        note="Stage 1: paper and detector first, the small model to vetted researchers.",
    )
    reviews.declare_conflict(rt, sam, DEMO_ORG_SLUG, review.id, has_conflict=False)
    reviews.vote(rt, sam, DEMO_ORG_SLUG, review.id, vote="approve_with_conditions",
                 conditions=["Share the detector with at least two platforms before the paper is public"],
                 comments="The small model's prosody is detectably synthetic; the large one must wait.",
                 stances={"misuse_risk": 2, "counterfactual_impact": 3, "value_of_openness": 4,
                          "who_should_decide": 3, "attention_effects": 2})
    reviews.declare_conflict(rt, amara, DEMO_ORG_SLUG, review.id, has_conflict=False)
    reviews.vote(rt, amara, DEMO_ORG_SLUG, review.id, vote="approve",
                 comments="Detection researchers need the paper and samples now; withholding them helps no one.",
                 stances={"misuse_risk": 4, "counterfactual_impact": 1, "value_of_openness": 5,
                          "who_should_decide": 4, "attention_effects": 3},
                 public_credit=True)  # Amara agreed to be named on public pages; Sam did not
    decision_id = reviews.close_review(rt, lead, DEMO_ORG_SLUG, review.id,
                                       rationale="Detector first; the paper and small model carry limited "
                                       "marginal risk given comparable open models within a year.")
    decisions.mark_condition_met(rt, lead, DEMO_ORG_SLUG, decision_id, 0)
    return decision_id


def _seed_plan(past: Runtime, clock: FrozenClock, actors: dict[str, Actor]) -> None:
    """A staged plan mid-flight: stage 1 opened, stage 2 waiting on a gate, stage 3 scheduled."""

    def at(delta: timedelta) -> str:
        return (clock.now() + delta).isoformat() + "Z"

    plans.apply_plan(past, actors["jonas"], DEMO_ORG_SLUG, "echo-2", {"template": "detector-first", "stages": [
        {"key": "partners", "title": "Detector to partners, paper public", "earliest": at(timedelta(hours=1)),
         "steps": ["echo-2-detector:trusted_partners", "echo-2-paper:public"]},
        {"key": "small-model", "title": "Small model to vetted researchers", "earliest": at(timedelta(days=1)),
         "steps": ["echo-2-small-120m:vetted_researchers"], "gates": {"min_days_since_previous": 14}},
        {"key": "large-model", "title": "Large model to vetted researchers", "earliest": at(timedelta(days=63)),
         "steps": ["echo-2-large-1-1b:vetted_researchers"],
         "gates": {"min_days_since_previous": 30, "max_open_incident_severity": 3}},
    ]})
    clock.advance(hours=2)
    plans.reconcile(past)


def _seed_disclosure(rt: Runtime, actors: dict[str, Actor]) -> None:
    """An open disclosure case with four parties in different states (ready, reviewing, concerns, silent so far)."""
    from datetime import UTC

    from releasewise.services import disclosure

    lead = actors["jonas"]
    partners = [
        ("StreamSafe Trust & Safety", "platform", ["audio", "fraud", "impersonation"], "Ines Moreau", "ines"),
        ("Deepfake Detection Consortium", "detection_research", ["audio", "video"], "Kofi Mensah", "kofi"),
        ("FactCheck Africa", "fact_checking", ["elections", "disinformation"], "Zanele Dube", "zanele"),
        ("Bank Fraud Alliance", "other", ["fraud"], "Tom Berg", "tom"),
    ]
    ids = []
    for name, kind, interests, person, handle in partners:
        domain = name.lower().split()[0] + ".example"
        view = disclosure.add_stakeholder(rt, lead, DEMO_ORG_SLUG, name=name, type=kind, interests=interests,
                                          shared=kind in ("platform", "detection_research"),
                                          contacts=[(person, f"{handle}@{domain}", "")])
        ids.append(view.id)
    now = rt.clock.now().replace(tzinfo=UTC)
    case = disclosure.open_case(
        rt, lead, DEMO_ORG_SLUG, "echo-2", title="Echo-2 small model: briefing before release",
        briefing_md=("## What we will release\nThe 120M Echo-2 model to vetted researchers, with the detector.\n\n"
                     "## What to prepare\n- Voice-clone fraud reports may rise; the detector flags Echo-2 audio "
                     "(EER 3.1% on telephone-band audio).\n- Consent checks apply to the hosted demo only."),
        embargo_ends_at=now + timedelta(days=14), stage_key="small-model", assets=["echo-2-detector", "sample-outputs"])
    links = [disclosure.invite(rt, lead, DEMO_ORG_SLUG, case.id, stakeholder_id=sid,
                               respond_by=now + timedelta(days=5))[1][0][1].rsplit("/", 1)[-1] for sid in ids]
    disclosure.party_set_state(rt, links[0], "accepted")
    disclosure.party_set_state(rt, links[0], "ready")
    disclosure.party_set_state(rt, links[1], "accepted")
    disclosure.party_set_state(rt, links[1], "reviewing")
    disclosure.party_request_time(rt, links[1], reason="Our detector retraining finishes in three weeks.",
                                  until=now + timedelta(days=21))
    disclosure.party_set_state(rt, links[2], "accepted")
    disclosure.party_message(rt, links[2], "Two national elections fall inside the embargo window; "
                                           "can the release wait until after them?")
    disclosure.party_set_state(rt, links[2], "concerns_raised")


def _seed_incidents(rt: Runtime, actors: dict[str, Actor]) -> None:
    """Three anonymous misuse reports about the public Echo-2 paper's samples: one incident, one duplicate, one new."""
    from releasewise.domain.incidents import solve
    from releasewise.services import incidents

    def report(text: str, harm: str, urls: list[str], ip: str) -> int:
        c = incidents.challenge(rt)
        return incidents.submit_report(rt, None, DEMO_ORG_SLUG, "echo-2", description=text, harm_category=harm,
                                       urls=urls, evidence=[("transcript.txt", "text/plain",
                                                             b"Caller: this is your CEO, wire 40,000 today.")],
                                       challenge=c.challenge, solution=solve(c.challenge), ip=ip).report_id

    first = report("A caller with our CEO's cloned voice asked finance staff to wire money urgently.", "fraud",
                   ["https://social.example/posts/991"], "203.0.113.10")
    second = report("Same scam call as last week, now with a different CEO.", "fraud", [], "203.0.113.11")
    report("A video puts words in a city councillor's mouth; the voice sounds like Echo-2 samples.",
           "impersonation", ["https://video.example/watch?v=councillor"], "203.0.113.12")
    lead = actors["jonas"]
    incident = incidents.open_incident(rt, lead, DEMO_ORG_SLUG, report_ids=[first], title="CEO voice-clone wire fraud",
                                       severity=3, description="Cloned executive voices used in payment scams.")
    incidents.merge_duplicate(rt, lead, DEMO_ORG_SLUG, second, duplicate_of=first)
    incidents.update_incident(rt, lead, DEMO_ORG_SLUG, incident.id,
                              note="Asked the bank fraud alliance for call recordings.")


def _seed_provenance(rt: Runtime, actors: dict[str, Actor]) -> None:
    """A marked, signed sample clip; VideoShare's analyst as detection partner, who has traced it once."""
    try:
        import numpy as np

        from releasewise.provenance import media
    except ImportError:  # an install without the provenance extra has no marking to show
        return
    from releasewise.services import detection, provenance

    accounts.sign_up(rt, username=DEMO_PARTNER.username, email="tess@videoshare.example", password=DEMO_PASSWORD,
                     display_name="Tess Nakamura")
    tess = accounts.authenticate_password(rt, login=DEMO_PARTNER.username, password=DEMO_PASSWORD, ip="127.0.0.1")
    detection.add_partner(rt, actors["maya"], DEMO_ORG_SLUG, DEMO_PARTNER.username, note="VideoShare trust & safety")
    rate = 16000
    t = np.arange(rate * 3) / rate
    voice = 0.3 * np.sin(2 * np.pi * 180 * t + 2 * np.sin(2 * np.pi * 4 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    voice += np.random.default_rng(7).normal(0, 0.01, t.size)
    clip = provenance.mark_output(rt, actors["priya"], DEMO_ORG_SLUG, "echo-2", "sample-outputs", release="v2.0",
                                  data=media.encode_wav(voice, rate))
    detection.detect(rt, tess, clip.data, filename="viral-clip.wav")
